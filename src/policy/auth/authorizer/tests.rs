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
    assert_eq!(
        out.context,
        vec![
            ("authstatus1".into(), "false".into()),
            ("num".into(), "1001".into()),
            ("test".into(), "123".into()),
        ]
    );
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
    assert_eq!(out.context, vec![("code".into(), "1001".into())]);
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
    let mut key = Vec::new();
    a.cache_key(7, &head, &mut key).unwrap();
    assert_eq!(key, b"\x07\0\0\0\x02\0\0\0t1\x03\0\0\0abc");
    let other = head_for_tests("GET /x?test=abc HTTP/1.1\r\nHost: h\r\nToken: t2\r\n\r\n");
    let mut key2 = Vec::new();
    a.cache_key(7, &other, &mut key2).unwrap();
    assert_ne!(key, key2);
}

#[test]
fn a_missing_or_empty_identity_source_is_refused() {
    let a = authorizer(Kind::Frontend);
    let mut key = Vec::new();
    for raw in [
        "GET /x?test=abc HTTP/1.1\r\nHost: h\r\n\r\n",
        "GET /x HTTP/1.1\r\nHost: h\r\nToken: t\r\n\r\n",
        "GET /x?test= HTTP/1.1\r\nHost: h\r\nToken: t\r\n\r\n",
    ] {
        let head = head_for_tests(raw);
        assert_eq!(
            a.cache_key(0, &head, &mut key),
            Err(GatewayError::IdentitySourceMissing),
            "{raw}"
        );
    }
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
    assert!(head_part.contains(&format!("Content-Length: {}", body.len())));
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
