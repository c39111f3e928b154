//! Custom authorizers on arbitrary bytes (behaviour.md §11.9): the result
//! contract parser and the event writer. Parsing never panics and yields
//! only valid context keys; an event built from any request head that
//! parses is a well-formed HTTP request whose body is valid JSON.
#![no_main]

use std::time::Duration;

use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use tollgate::http::{HeadLimits, parse_request};
use tollgate::policy::auth::authorizer::{
    Authorizer, Facts, IdentitySource, Kind, context_key_ok, parse_result,
};

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    if mode & 1 == 0 {
        if let Ok(outcome) = parse_result(rest, mode & 2 != 0, mode & 4 != 0) {
            assert!(outcome.context.iter().all(|(k, _)| context_key_ok(k)));
        }
        return;
    }
    let mut buf = BytesMut::from(rest);
    let limits = HeadLimits {
        max_uri_bytes: 4096,
        max_header_bytes: 4096,
        max_headers_total_bytes: 16384,
        max_body_bytes: 4096,
    };
    let Ok(Some(head)) = parse_request(&mut buf, &limits) else {
        return;
    };
    let az = Authorizer {
        name: "fuzz".into(),
        kind: if mode & 2 == 0 {
            Kind::Frontend
        } else {
            Kind::Backend
        },
        upstream: 0,
        host: "127.0.0.1:9".into(),
        path: "/auth".into(),
        timeout: Duration::from_secs(1),
        cache_ttl: Duration::ZERO,
        identity: vec![
            IdentitySource::Header("authorization".into()),
            IdentitySource::Query("test".into()),
        ],
        send_body: true,
        max_body: 4096,
        user_data: Some("u\"d".into()),
        relaxed: false,
        num_bool: true,
        deny_status: false,
    };
    let _ = az.cache_key(0, &head);
    let facts = Facts {
        head: &head,
        body: Some(&buf),
        source_ip: b"127.0.0.1",
        request_id: "rid",
        stage: "RELEASE",
        api_id: "api",
    };
    let mut out = BytesMut::new();
    az.write_request(&facts, &mut out);
    let split = out
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a head ends the request");
    let body = &out[split + 4..];
    let value: serde_json::Value = serde_json::from_slice(body).expect("the event is JSON");
    assert!(value.is_object());
});
