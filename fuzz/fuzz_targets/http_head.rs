//! Request and response head parsers never panic; a parsed head's spans
//! all lie inside its bytes, and the body bytes stay in the buffer.
#![no_main]

use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use tollgate::http::{HeadLimits, Method, parse_request, parse_response};

const LIMITS: HeadLimits = HeadLimits {
    max_uri_bytes: 32 * 1024,
    max_header_bytes: 32 * 1024,
    max_headers_total_bytes: 128 * 1024,
    max_body_bytes: 12 * 1024 * 1024,
};

fuzz_target!(|data: &[u8]| {
    let mut buf = BytesMut::from(data);
    if let Ok(Some(head)) = parse_request(&mut buf, &LIMITS) {
        let spans = [head.method_span, head.target, head.path];
        let all = spans.into_iter().chain(head.query).chain(head.host);
        let headers = head.headers.iter().flat_map(|h| [h.name, h.value]);
        assert!(
            all.chain(headers)
                .all(|s| s.start <= s.end && s.end as usize <= head.buf.len())
        );
        // Only leading empty lines are dropped: head then rest end the input.
        assert!(data.ends_with(&buf) && data[..data.len() - buf.len()].ends_with(&head.buf));
    }
    let mut buf = BytesMut::from(data);
    if let Ok(Some(head)) = parse_response(&mut buf, 64 * 1024, Method::Get) {
        let headers = head.headers.iter().flat_map(|h| [h.name, h.value]);
        assert!(
            headers
                .chain([head.reason])
                .all(|s| s.start <= s.end && s.end as usize <= head.buf.len())
        );
    }
});
