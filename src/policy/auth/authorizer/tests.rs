use super::*;
use crate::http::parse::head_for_tests;

fn authorizer(kind: Kind) -> Authorizer {
    Authorizer {
        name: "basic".into(),
        kind,
        upstream: 0,
        host: "127.0.0.1:9000".into(),
        path: "/auth".into(),
        timeout: Duration::from_secs(5),
        cache_ttl: Duration::ZERO,
        identity: vec![
            IdentitySource::Header("token".into()),
            IdentitySource::Query("test".into()),
        ],
        send_body: false,
        max_body: 1024,
        user_data: Some("ud \"quoted\"".into()),
        relaxed: false,
        num_bool: true,
        deny_status: false,
    }
}

fn result(status: u16, body: &str) -> String {
    serde_json::json!({ "statusCode": status, "body": body }).to_string()
}

#[test]
fn allow_with_context_of_every_type() {
    let r = result(
        200,
        r#"{"status":"allow","context":{"test":"123","authstatus1":false,"num":1001}}"#,
    );
    let out = parse_result(r.as_bytes(), true, false).unwrap();
    assert!(out.allow);
    let expected: Vec<(Box<str>, Box<str>)> = vec![
        ("authstatus1".into(), "false".into()),
        ("num".into(), "1001".into()),
        ("test".into(), "123".into()),
    ];
    assert_eq!(&*out.context, &expected[..]);
}

#[test]
fn numbers_and_booleans_need_the_feature_switch() {
    let r = result(200, r#"{"status":"allow","context":{"n":1}}"#);
    assert!(matches!(
        parse_result(r.as_bytes(), false, false),
        Err(Fault::Invalid(_))
    ));
}

#[test]
fn a_json_encoded_result_string_is_accepted() {
    // `return json.dumps(resp)` (S001 §10).
    let inner = result(200, r#"{"status":"deny","context":{"code":"1001"}}"#);
    let outer = serde_json::to_string(&inner).unwrap();
    let out = parse_result(outer.as_bytes(), true, false).unwrap();
    assert!(!out.allow);
    assert_eq!(&*out.context, &[("code".into(), "1001".into())][..]);
}

#[test]
fn contract_violations_are_invalid() {
    let cases = [
        "not json".to_string(),
        "[]".into(),
        r#"{"body":"{\"status\":\"allow\"}"}"#.into(),
        result(200, "not json"),
        result(200, r#"{"status":"maybe"}"#),
        result(200, r#"{"status":"allow","context":{"o":{"a":1}}}"#),
        result(200, r#"{"status":"allow","context":{"1bad":"x"}}"#),
        result(
            200,
            r#"{"status":"allow","context":{"a-very-long-key-over-thirty-two-c":"x"}}"#,
        ),
        result(200, r#"{"status":"allow","context":[1]}"#),
        result(401, r#"{"status":"deny"}"#),
        // A value that would split a backend header (§9.3).
        result(
            200,
            r#"{"status":"allow","context":{"user":"abc\r\nX-Injected: yes"}}"#,
        ),
        result(
            200,
            &format!(
                r#"{{"status":"allow","context":{{"big":"{}"}}}}"#,
                "x".repeat(MAX_CONTEXT_BYTES)
            ),
        ),
    ];
    for case in cases {
        assert!(
            matches!(
                parse_result(case.as_bytes(), true, false),
                Err(Fault::Invalid(_))
            ),
            "{case}"
        );
    }
}

#[test]
fn a_5xx_status_code_is_unavailable_and_relaxed_mode_forgives_it() {
    let r = result(503, r#"{"status":"allow"}"#);
    assert_eq!(
        parse_result(r.as_bytes(), true, false),
        Err(Fault::Unavailable)
    );
    let mut a = authorizer(Kind::Frontend);
    assert_eq!(a.settle(Ok((200, r.as_bytes()))), Err(Fault::Unavailable));
    assert_eq!(a.settle(Err(Fault::Unavailable)), Err(Fault::Unavailable));
    assert!(matches!(a.settle(Ok((404, b""))), Err(Fault::Invalid(_))));
    a.relaxed = true;
    assert_eq!(a.settle(Ok((200, r.as_bytes()))), Ok(Settled::Forgiven));
    assert_eq!(a.settle(Ok((502, b"oops"))), Ok(Settled::Forgiven));
    assert_eq!(a.settle(Err(Fault::Unavailable)), Ok(Settled::Forgiven));
    // Relaxed mode never forgives a broken contract (§11.9.5).
    assert!(matches!(
        a.settle(Ok((200, b"nope"))),
        Err(Fault::Invalid(_))
    ));
}

#[test]
fn a_crashed_function_is_unavailable_whatever_its_body() {
    // §27 C7: any 5xx statusCode, even without a usable body.
    for r in [
        r#"{"statusCode":500,"body":"Internal error"}"#,
        r#"{"statusCode":502}"#,
    ] {
        assert_eq!(
            parse_result(r.as_bytes(), true, false),
            Err(Fault::Unavailable),
            "{r}"
        );
    }
}

#[test]
fn a_401_deny_is_a_deny_only_with_the_switch() {
    // S001 §7 returns statusCode 401 with deny (§27 C6).
    let r = result(401, r#"{"status":"deny"}"#);
    assert!(!parse_result(r.as_bytes(), true, true).unwrap().allow);
    let r = result(401, r#"{"status":"allow"}"#);
    assert!(parse_result(r.as_bytes(), true, true).is_err());
}

#[test]
fn the_cache_key_holds_every_identity_source() {
    let a = authorizer(Kind::Frontend);
    let head = head_for_tests("GET /x?test=abc HTTP/1.1\r\nHost: h\r\nToken: t1\r\n\r\n");
    let key = a.cache_key(7, &head).unwrap();
    assert_eq!(key, a.cache_key(7, &head).unwrap());
    assert_ne!(key, a.cache_key(8, &head).unwrap(), "per authorizer");
    let other = head_for_tests("GET /x?test=abc HTTP/1.1\r\nHost: h\r\nToken: t2\r\n\r\n");
    assert_ne!(key, a.cache_key(7, &other).unwrap());
}

/// The key covers exactly what the event shows the endpoint: a repeated
/// header counts joined, a query key only with its exact (decoded) name.
#[test]
fn the_cache_key_follows_what_the_event_carries() {
    let a = authorizer(Kind::Frontend);
    let key = |raw: &str| a.cache_key(0, &head_for_tests(raw)).unwrap();
    let plain = key("GET /x?test=victim HTTP/1.1\r\nHost: h\r\nToken: victim\r\n\r\n");
    let repeated =
        key("GET /x?test=victim HTTP/1.1\r\nHost: h\r\nToken: victim\r\nToken: good\r\n\r\n");
    assert_ne!(plain, repeated);
    let other_case =
        key("GET /x?TEST=victim&test=good HTTP/1.1\r\nHost: h\r\nToken: victim\r\n\r\n");
    assert_ne!(plain, other_case);
    let encoded = key("GET /x?t%65st=vi%63tim HTTP/1.1\r\nHost: h\r\nToken: victim\r\n\r\n");
    assert_eq!(plain, encoded, "the event decodes keys and values too");
    let head = head_for_tests(
        "GET /x?TEST=victim&test=good HTTP/1.1\r\nHost: h\r\nToken: a\r\nToken: b\r\n\r\n",
    );
    let value = |s: &IdentitySource| identity_value(s, &head).unwrap().into_owned();
    assert_eq!(value(&a.identity[0]), b"a,b");
    assert_eq!(value(&a.identity[1]), b"good");
}

#[test]
fn the_frontend_event_carries_headers_queries_and_context() {
    let mut a = authorizer(Kind::Frontend);
    a.send_body = true;
    let head = head_for_tests(
        "POST /p?test=abc&test=zzz&b=%20x HTTP/1.1\r\nHost: h\r\nAuthorization: Basic dXNlcjE6cGFzc3dvcmQ=\r\nX-A: 1\r\nx-a: 2\r\nContent-Length: 3\r\n\r\n",
    );
    let facts = Facts {
        head: &head,
        body: Some(b"a\"b"),
        source_ip: b"10.0.0.1",
        request_id: "rid",
        stage: "RELEASE",
        api_id: "api1",
    };
    let mut out = BytesMut::new();
    a.write_request(&facts, &mut out);
    let text = std::str::from_utf8(&out).unwrap();
    let (head_part, body) = text.split_once("\r\n\r\n").unwrap();
    assert!(head_part.starts_with("POST /auth HTTP/1.1\r\nHost: 127.0.0.1:9000\r\n"));
    let length = head_part.split("Content-Length: ").nth(1).unwrap();
    assert_eq!(length.trim().parse::<usize>().unwrap(), body.len());
    let event: Value = serde_json::from_str(body).unwrap();
    assert_eq!(
        event["headers"]["authorization"],
        "Basic dXNlcjE6cGFzc3dvcmQ="
    );
    assert_eq!(event["headers"]["x-a"], "1,2");
    assert_eq!(event["queryStringParameters"]["test"], "abc");
    assert_eq!(event["queryStringParameters"]["b"], " x");
    assert_eq!(event["user_data"], "ud \"quoted\"");
    assert_eq!(event["body"], "a\"b");
    assert_eq!(event["isBase64Encoded"], false);
    assert_eq!(event["httpMethod"], "POST");
    assert_eq!(event["requestContext"]["sourceIp"], "10.0.0.1");
}

#[test]
fn a_binary_body_is_base64_and_a_backend_event_holds_only_user_data() {
    let mut a = authorizer(Kind::Frontend);
    a.send_body = true;
    let head = head_for_tests("POST /p HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\n");
    let facts = Facts {
        head: &head,
        body: Some(&[0xff, 0x00]),
        source_ip: b"10.0.0.1",
        request_id: "rid",
        stage: "RELEASE",
        api_id: "api1",
    };
    let mut out = BytesMut::new();
    a.write_request(&facts, &mut out);
    let body = std::str::from_utf8(&out)
        .unwrap()
        .split_once("\r\n\r\n")
        .unwrap()
        .1;
    let event: Value = serde_json::from_str(body).unwrap();
    assert_eq!(event["body"], "/wA=");
    assert_eq!(event["isBase64Encoded"], true);

    let b = authorizer(Kind::Backend);
    let mut out = BytesMut::new();
    b.write_request(&facts, &mut out);
    let body = std::str::from_utf8(&out)
        .unwrap()
        .split_once("\r\n\r\n")
        .unwrap()
        .1;
    assert_eq!(body, r#"{"user_data":"ud \"quoted\""}"#);
}

#[test]
fn context_keys_follow_the_documented_rules() {
    for ok in ["a", "user_name", "A-1", &"k".repeat(32)] {
        assert!(context_key_ok(ok), "{ok}");
    }
    for bad in ["", "1a", "_a", "a.b", "a b", &"k".repeat(33)] {
        assert!(!context_key_ok(bad), "{bad}");
    }
}
