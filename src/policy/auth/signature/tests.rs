//! app-signing.md §12 vectors (output of both official signers) and the
//! §2 canonicalisation rules.

use super::*;
use crate::http::framing::{ChunkedScanner, FramingError, Scan};

/// Headers as a test request carries them (name as sent, value).
fn lookup<'a>(headers: &'a [(&'a str, &'a str)]) -> impl Fn(&[u8]) -> HeaderValue<'a> + 'a {
    move |name: &[u8]| {
        HeaderValue::of(
            headers
                .iter()
                .filter(|(n, _)| n.as_bytes().eq_ignore_ascii_case(name))
                .map(|(_, v)| v.as_bytes()),
        )
    }
}

struct Vector {
    method: &'static str,
    path: &'static str,
    query: Option<&'static str>,
    headers: &'static [(&'static str, &'static str)],
    body: &'static [u8],
    secret: &'static str,
    authorization: &'static str,
    canonical: &'static str,
}

fn check(v: &Vector) {
    let auth = parse_authorization(v.authorization.as_bytes()).unwrap();
    let req = RequestParts {
        method: v.method.as_bytes(),
        path: v.path.as_bytes(),
        query: v.query.map(str::as_bytes),
        headers: lookup(v.headers),
    };
    let mut cr = bytes::BytesMut::new();
    canonical_request(&mut cr, &req, &auth, &sha256_hex(v.body)).unwrap();
    assert_eq!(String::from_utf8(cr.to_vec()).unwrap(), v.canonical);
    let date = v
        .headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("x-sdk-date"))
        .unwrap()
        .1
        .as_bytes();
    assert!(matches(v.secret.as_bytes(), date, &cr, auth.signature));
    let expect = signature_hex(v.secret.as_bytes(), date, &cr).unwrap();
    assert_eq!(&expect[..], auth.signature);
    // One changed digit of the claimed signature fails.
    let mut wrong = auth.signature.to_vec();
    wrong[0] = if wrong[0] == b'0' { b'1' } else { b'0' };
    assert!(!matches(v.secret.as_bytes(), date, &cr, &wrong));
    // So does another secret.
    assert!(!matches(b"another secret", date, &cr, auth.signature));
}

#[test]
fn v0_huawei_documentation_example() {
    check(&Vector {
        method: "GET",
        path: "/v1/77b6a44cba5143ab91d13ab9a8ff44fd/vpcs",
        query: Some("limit=2&marker=13551d6b-755d-4757-b956-536f674975c0"),
        headers: &[
            ("Content-Type", "application/json"),
            ("Host", "service.region.example.com"),
            ("X-Sdk-Date", "20191115T033655Z"),
        ],
        body: b"",
        secret: "MFyfvK41ba2giqM7Uio6PznpdUKGpownRZlmVmHc",
        authorization: "SDK-HMAC-SHA256 Access=QTWAOYTTINDUT2QVKYUC, SignedHeaders=content-type;host;x-sdk-date, Signature=7be6668032f70418fcc22abc52071e57aff61b84a1d2381bb430d6870f4f6ebe",
        canonical: "GET\n/v1/77b6a44cba5143ab91d13ab9a8ff44fd/vpcs/\nlimit=2&marker=13551d6b-755d-4757-b956-536f674975c0\ncontent-type:application/json\nhost:service.region.example.com\nx-sdk-date:20191115T033655Z\n\ncontent-type;host;x-sdk-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    });
}

#[test]
fn v1_get_unsorted_query_host_with_port() {
    check(&Vector {
        method: "GET",
        path: "/app1",
        // The wire carries the sorted query; an unsorted one must verify too.
        query: Some("b=2&a=1"),
        headers: &[
            ("x-stage", "RELEASE"),
            ("X-Sdk-Date", "20240315T083000Z"),
            ("Host", "127.0.0.1:8080"),
        ],
        body: b"",
        secret: "9d8c7b6a5f4e3d2c1b0a9f8e7d6c5b4a",
        authorization: "SDK-HMAC-SHA256 Access=4f5b0d2a8c1e4b7f9a3d6e2c1b0a9f8e, SignedHeaders=host;x-sdk-date;x-stage, Signature=2ca6e896e882fa8802bb2982b111b8c603cfaa5e056a8de40daeb317609def28",
        canonical: "GET\n/app1/\na=1&b=2\nhost:127.0.0.1:8080\nx-sdk-date:20240315T083000Z\nx-stage:RELEASE\n\nhost;x-sdk-date;x-stage\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    });
}

#[test]
fn v2_post_json_encoded_path_repeated_empty_and_plus_values() {
    check(&Vector {
        method: "POST",
        path: "/v1/orders/caf%C3%A9%20menu",
        query: Some("empty=&plus=a%2Bb&q=hello%20world&tag=a&tag=z&tilde=~x%2Ay"),
        headers: &[
            ("Content-Type", "application/json; charset=utf-8"),
            ("X-Custom-Header", "padded value"),
            ("Host", "api.example.com"),
            ("X-Sdk-Date", "20240315T083000Z"),
        ],
        body: "{\"id\":1,\"name\":\"测试\"}".as_bytes(),
        secret: "9d8c7b6a5f4e3d2c1b0a9f8e7d6c5b4a",
        authorization: "SDK-HMAC-SHA256 Access=4f5b0d2a8c1e4b7f9a3d6e2c1b0a9f8e, SignedHeaders=content-type;host;x-custom-header;x-sdk-date, Signature=b1521e159d220070c989124541cc55b9e3efeb1880475b1da27c9a3e67c8f50d",
        canonical: "POST\n/v1/orders/caf%C3%A9%20menu/\nempty=&plus=a%2Bb&q=hello%20world&tag=a&tag=z&tilde=~x%2Ay\ncontent-type:application/json; charset=utf-8\nhost:api.example.com\nx-custom-header:padded value\nx-sdk-date:20240315T083000Z\n\ncontent-type;host;x-custom-header;x-sdk-date\nad8a1c6752721411c9ab637262f17191a01b3d8d1e08afe9ff563020701e5759",
    });
}

#[test]
fn v2_padded_header_and_raw_query_verify_too() {
    // The header as the client had it (two spaces each side) and the query
    // as the original URL wrote it: both canonicalise to V2.
    check(&Vector {
        method: "POST",
        path: "/v1/orders/caf%C3%A9%20menu",
        query: Some("tag=z&tag=a&q=hello%20world&empty=&plus=a+b&tilde=~x*y"),
        headers: &[
            ("Content-Type", "application/json; charset=utf-8"),
            ("X-Custom-Header", "  padded value  "),
            ("Host", "api.example.com"),
            ("X-Sdk-Date", "20240315T083000Z"),
        ],
        body: "{\"id\":1,\"name\":\"测试\"}".as_bytes(),
        secret: "9d8c7b6a5f4e3d2c1b0a9f8e7d6c5b4a",
        authorization: "SDK-HMAC-SHA256 Access=4f5b0d2a8c1e4b7f9a3d6e2c1b0a9f8e, SignedHeaders=content-type;host;x-custom-header;x-sdk-date, Signature=b1521e159d220070c989124541cc55b9e3efeb1880475b1da27c9a3e67c8f50d",
        canonical: "POST\n/v1/orders/caf%C3%A9%20menu/\nempty=&plus=a%2Bb&q=hello%20world&tag=a&tag=z&tilde=~x%2Ay\ncontent-type:application/json; charset=utf-8\nhost:api.example.com\nx-custom-header:padded value\nx-sdk-date:20240315T083000Z\n\ncontent-type;host;x-custom-header;x-sdk-date\nad8a1c6752721411c9ab637262f17191a01b3d8d1e08afe9ff563020701e5759",
    });
}

#[test]
fn v2_body_hash_matches_the_vector_when_streamed() {
    let body = "{\"id\":1,\"name\":\"测试\"}".as_bytes();
    assert_eq!(body.len(), 24);
    let mut h = BodyHash::default();
    h.update(&body[..7]);
    h.update(&body[7..]);
    assert_eq!(
        &h.finish(),
        b"ad8a1c6752721411c9ab637262f17191a01b3d8d1e08afe9ff563020701e5759"
    );
    assert_eq!(&sha256_hex(b""), EMPTY_BODY_SHA256);
}

fn uri(path: &str) -> String {
    let mut out = bytes::BytesMut::new();
    canonical_uri(&mut out, path.as_bytes());
    String::from_utf8(out.to_vec()).unwrap()
}

fn query(q: &str) -> String {
    let mut out = bytes::BytesMut::new();
    canonical_query(&mut out, q.as_bytes());
    String::from_utf8(out.to_vec()).unwrap()
}

#[test]
fn canonical_uri_follows_section_2_2() {
    assert_eq!(
        uri("/v1/orders/caf%C3%A9%20menu"),
        "/v1/orders/caf%C3%A9%20menu/"
    );
    assert_eq!(uri("/%7Euser/x%2by"), "/~user/x%2By/");
    assert_eq!(uri("/a%2Fb"), "/a/b/");
    assert_eq!(uri("/%FF"), "/%EF%BF%BD/");
    assert_eq!(uri("/"), "/");
    assert_eq!(uri("/upload/files/"), "/upload/files/");
    assert_eq!(uri("/a//b"), "/a//b/");
    assert_eq!(uri("/a/./b/../c"), "/a/./b/../c/");
    assert_eq!(uri("/100%"), "/100%25/");
    assert_eq!(uri(""), "/");
}

#[test]
fn canonical_query_follows_section_2_3() {
    assert_eq!(query("b=2&a=1"), "a=1&b=2");
    assert_eq!(
        query("tag=z&tag=a&q=hello%20world&empty=&plus=a+b&tilde=~x*y"),
        "empty=&plus=a%2Bb&q=hello%20world&tag=a&tag=z&tilde=~x%2Ay"
    );
    // Sorted by decoded text: `~` (0x7e) before `é` (0xc3 0xa9).
    assert_eq!(query("%C3%A9=1&~=2"), "~=2&%C3%A9=1");
    assert_eq!(query("B=1&a=2"), "B=1&a=2");
    assert_eq!(query("flag&=x&k=a=b"), "flag=&k=a%3Db");
    assert_eq!(query(""), "");
}

#[test]
fn long_queries_sort_the_same_off_the_stack() {
    // 15 `&` sort on the stack, 16 and more in a Vec: same rule either way.
    for n in [15, 16, 17, 40] {
        let items: Vec<String> = (0..n).rev().map(|i| format!("k{i:02}={i}")).collect();
        let mut sorted = items.clone();
        sorted.sort();
        assert_eq!(query(&items.join("&")), sorted.join("&"), "{n} pairs");
    }
    // Empty keys are dropped, so 16 items may hold fewer pairs.
    let sparse = format!("{}b=2&a=1", "&".repeat(20));
    assert_eq!(query(&sparse), "a=1&b=2");
}

#[test]
fn signs_answers_from_the_names_list() {
    let a = parse_authorization(
        b"SDK-HMAC-SHA256 Access=k, SignedHeaders=content-type;host;x-sdk-date, Signature=ab",
    )
    .unwrap();
    assert!(a.signs(b"host") && a.signs(b"x-sdk-date") && a.signs(b"content-type"));
    assert!(!a.signs(b"x-sdk-content-sha256") && !a.signs(b"x-stage"));
    assert!(!a.signs(b"hos") && !a.signs(b"x-sdk-date;"));
    let b = parse_authorization(
        b"SDK-HMAC-SHA256 Access=k, SignedHeaders=x-sdk-content-sha256, Signature=ab",
    )
    .unwrap();
    assert!(b.signs(b"x-sdk-content-sha256") && !b.signs(b"host") && !b.signs(b"x-sdk-date"));
}

#[test]
fn a_mac_key_made_once_signs_like_one_made_per_call() {
    let key = MacKey::try_new(b"s3cret").unwrap();
    let cr = b"GET\n/\n\nhost:a\n\nhost\nx";
    let sig = key.signature_hex(b"20240315T083000Z", cr);
    assert_eq!(Some(sig), signature_hex(b"s3cret", b"20240315T083000Z", cr));
    // Reused: cloning leaves the keyed state untouched.
    assert!(key.matches(b"20240315T083000Z", cr, &sig));
    assert!(key.matches(b"20240315T083000Z", cr, &sig));
    assert!(!key.matches(b"20240315T083001Z", cr, &sig));
    // Keys longer than SHA-256's block are hashed first (RFC 2104).
    let long = [7u8; 100];
    let long_key = MacKey::try_new(&long).unwrap();
    assert_eq!(
        Some(long_key.signature_hex(b"d", cr)),
        signature_hex(&long, b"d", cr)
    );
    assert_eq!(format!("{key:?}"), "MacKey(..)");
}

#[test]
fn authorization_parsing_is_strict_about_items_and_lenient_about_spaces() {
    let a = parse_authorization(
        b"SDK-HMAC-SHA256   Access=k ,SignedHeaders=host;x-sdk-date,  Signature=ab",
    )
    .unwrap();
    assert_eq!(a.access, b"k");
    assert_eq!(
        a.header_names().collect::<Vec<_>>(),
        vec![&b"host"[..], b"x-sdk-date"]
    );
    assert_eq!(a.signature, b"ab");
    for bad in [
        &b"SDK-HMAC-SHA256"[..],
        b"SDK-HMAC-SHA1 Access=k, SignedHeaders=host, Signature=ab",
        b"SDK-HMAC-SHA256Access=k, SignedHeaders=host, Signature=ab",
        b"SDK-HMAC-SHA256 Access=k, SignedHeaders=host",
        b"SDK-HMAC-SHA256 Access=k, Access=j, SignedHeaders=host, Signature=ab",
        b"SDK-HMAC-SHA256 Access=k, SignedHeaders=Host, Signature=ab",
        b"SDK-HMAC-SHA256 Access=k, SignedHeaders=host;;x, Signature=ab",
        b"SDK-HMAC-SHA256 Access=, SignedHeaders=host, Signature=ab",
        b"SDK-HMAC-SHA256 Access=k, SignedHeaders=host, Signature=ab, Extra",
    ] {
        assert!(
            parse_authorization(bad).is_err(),
            "{}",
            String::from_utf8_lossy(bad)
        );
    }
}

#[test]
fn a_missing_or_repeated_signed_header_fails() {
    let auth = parse_authorization(
        b"SDK-HMAC-SHA256 Access=k, SignedHeaders=host;x-sdk-date, Signature=00",
    )
    .unwrap();
    let twice = [
        ("Host", "a"),
        ("host", "b"),
        ("X-Sdk-Date", "20240315T083000Z"),
    ];
    let req = RequestParts {
        method: &b"GET"[..],
        path: &b"/"[..],
        query: None,
        headers: lookup(&twice),
    };
    let err =
        canonical_request(&mut bytes::BytesMut::new(), &req, &auth, EMPTY_BODY_SHA256).unwrap_err();
    assert_eq!(err, SignatureError::SignedHeaderNotSingle("host".into()));
    let none = [("X-Sdk-Date", "20240315T083000Z")];
    let req = RequestParts {
        method: &b"GET"[..],
        path: &b"/"[..],
        query: None,
        headers: lookup(&none),
    };
    assert!(
        canonical_request(&mut bytes::BytesMut::new(), &req, &auth, EMPTY_BODY_SHA256).is_err()
    );
}

#[test]
fn the_clock_window_is_fifteen_minutes_both_ways() {
    let t = parse_sdk_date(b"20240315T083000Z").unwrap();
    assert_eq!(t, 1_710_491_400);
    assert_eq!(format_sdk_date(t), "20240315T083000Z");
    assert!(check_date(b"20240315T083000Z", t + WINDOW_SECS).is_ok());
    assert!(check_date(b"20240315T083000Z", t - WINDOW_SECS).is_ok());
    let late = check_date(b"20240315T083000Z", t + WINDOW_SECS + 1).unwrap_err();
    assert_eq!(
        late.to_string(),
        "signature expired, signature time:20240315T083000Z,server time:20240315T084501Z"
    );
    assert!(check_date(b"20240315T083000Z", t - WINDOW_SECS - 1).is_err());
    for bad in [
        &b"20240315T083000"[..],
        b"2024-03-15T08:30:00Z",
        b"20241315T083000Z",
        b"20240230T083000Z",
        b"20240315T253000Z",
        b"20240315 083000Z",
    ] {
        assert_eq!(
            parse_sdk_date(bad),
            None,
            "{}",
            String::from_utf8_lossy(bad)
        );
    }
}

#[test]
fn a_chunked_body_hashes_as_its_payload_however_it_arrives() {
    let raw = b"5\r\nhello\r\n6;x=y\r\n world\r\n0\r\nT: 1\r\n\r\nGET / HTTP/1.1\r\n";
    let want = sha256_hex(b"hello world");
    let end = raw.len() - b"GET / HTTP/1.1\r\n".len();
    for cut in 0..=raw.len() {
        let mut scanner = ChunkedScanner::new();
        let mut hash = BodyHash::default();
        let (a, b) = raw.split_at(cut);
        let done = match scanner.scan_payload(a, |p| hash.update(p)).unwrap() {
            Scan::Done(n) => n,
            Scan::NeedMore => match scanner.scan_payload(b, |p| hash.update(p)).unwrap() {
                Scan::Done(n) => cut + n,
                Scan::NeedMore => panic!("cut {cut}: the body ends"),
            },
        };
        assert_eq!(done, end, "cut {cut}");
        assert_eq!(scanner.declared_bytes(), 11);
        assert_eq!(hash.finish(), want, "cut {cut}");
    }
    // The announced size counts before its data arrives; bad framing fails.
    let mut scanner = ChunkedScanner::new();
    assert_eq!(scanner.scan(b"10000\r\nab"), Ok(Scan::NeedMore));
    assert_eq!(scanner.declared_bytes(), 0x10000);
    let mut bad = ChunkedScanner::new();
    assert_eq!(bad.scan(b"5\nhello"), Err(FramingError::BadLineEnding));
}
