//! Gateway responses over real sockets (behaviour.md §18): the built-in
//! default body byte for byte, a group's overrides of its `default` set, a
//! named set chosen by an API with every `$context` variable of the §18.1
//! custom example, status overrides, backend failures rendered through the
//! set, and the response framing (JSON, `Content-Type`, `Server`,
//! `Content-Length`).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::disallowed_methods
)] // test code: failing loudly is the point; deadlines read the real clock

mod common;
use std::net::SocketAddr;

use common::*;

/// The §18.1 custom example, with stage, source IP and type added (§18.3).
const CUSTOM_BODY: &str = r#"{"errorcode": "$context.error.code", "errormsg": "$context.error.message", "requestid": "$context.requestId", "apiId": "$context.apiId", "stage": "$context.stage", "ip": "$context.sourceIp", "type": "$context.error.type"}"#;

/// `CUSTOM_BODY` as rendered.
fn custom(code: &str, msg: &str, rid: &str, api_id: &str, stage: &str, kind: &str) -> String {
    format!(
        r#"{{"errorcode": "{code}", "errormsg": "{msg}", "requestid": "{rid}", "apiId": "{api_id}", "stage": "{stage}", "ip": "127.0.0.1", "type": "{kind}"}}"#
    )
}

/// A DEFAULT group (plus the TEST stage) whose `default` set overrides
/// NOT_FOUND (410) and whose set `custom` renders REQUEST_PARAMETERS_FAILURE
/// and BACKEND_UNAVAILABLE with [`CUSTOM_BODY`], the latter as 503. APIs:
/// `PUT /simple` (set `custom`, id `api-simple-01`, required query `q`,
/// backend `upstream`, published in RELEASE and TEST), `GET /plain`
/// (set `default`, required query `q`, backend `upstream`) and
/// `GET /slow` (set `custom`, 200 ms timeout).
fn model(upstream: SocketAddr) -> String {
    format!(
        r#"[[stage]]
name = "TEST"

[[group]]
name = "DEFAULT"
[group.responses.default.NOT_FOUND]
status = 410
body = '{{"msg": "$context.error.message", "id": "$context.requestId"}}'
[group.responses.custom.REQUEST_PARAMETERS_FAILURE]
body = '{CUSTOM_BODY}'
[group.responses.custom.BACKEND_UNAVAILABLE]
status = 503
body = '{CUSTOM_BODY}'

[[group.api]]
name = "simple"
id = "api-simple-01"
method = "PUT"
path = "/simple"
stages = ["RELEASE", "TEST"]
gateway_response = "custom"
[[group.api.param]]
name = "q"
location = "QUERY"
required = true
[group.api.backend]
type = "http"
address = "{upstream}"
timeout_ms = 2000

[[group.api]]
name = "plain"
method = "GET"
path = "/plain"
[[group.api.param]]
name = "q"
location = "QUERY"
required = true
[group.api.backend]
type = "http"
address = "{upstream}"
timeout_ms = 2000

[[group.api]]
name = "slow"
method = "GET"
path = "/slow"
gateway_response = "custom"
[group.api.backend]
type = "http"
address = "{upstream}"
timeout_ms = 200
"#
    )
}

/// Sends `raw` (which must ask for `Connection: close`) and returns the
/// response with its body read to EOF, so a wrong `Content-Length` shows.
fn request_to_eof(addr: SocketAddr, raw: &str) -> Response {
    let mut c = Conn::open(addr);
    c.send(raw.as_bytes());
    let bytes = c.read_to_end();
    let end = find(&bytes, b"\r\n\r\n").expect("a response head") + 4;
    let text = String::from_utf8(bytes[..end].to_vec()).unwrap();
    let mut lines = text.split("\r\n");
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    Response {
        status,
        headers,
        body: bytes[end..].to_vec(),
    }
}

/// The §18.1 framing of every error response: JSON, `Content-Type:
/// application/json`, `Server: api-gateway`, a `Content-Length` equal to
/// the body read to EOF. Returns the parsed body.
fn assert_error_framing(r: &Response) -> serde_json::Value {
    assert_eq!(
        r.header("content-type"),
        Some("application/json"),
        "{:?}",
        r.headers
    );
    assert_eq!(r.header("server"), Some("api-gateway"));
    let rid = r.header("x-request-id").expect("X-Request-Id");
    assert!(
        rid.len() == 32 && rid.bytes().all(|b| b.is_ascii_hexdigit()),
        "{rid}"
    );
    let len: usize = r
        .header("content-length")
        .expect("Content-Length")
        .parse()
        .unwrap();
    assert_eq!(len, r.body.len(), "Content-Length vs body {:?}", r.text());
    serde_json::from_slice(&r.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", r.text()))
}

driver_tests! {
    fn builtin_default_body_is_byte_exact(driver) {
        // §18.1 default content, §20 codes and messages.
        let up = TestUpstream::ok();
        let gw = TestGateway::one(
            driver,
            &format!(
                "[[group]]\nname = \"DEFAULT\"\n[[group.api]]\nname = \"a\"\nmethod = \"GET\"\npath = \"/a\"\n[[group.api.param]]\nname = \"q\"\nlocation = \"QUERY\"\nrequired = true\n[group.api.backend]\ntype = \"http\"\naddress = \"{}\"\n",
                up.addr
            ),
        );
        let r = request_to_eof(gw.addr, "GET /nothing HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
        r.assert_apig(
            404,
            "APIG.0101",
            "The API does not exist or has not been published in the environment.",
        );
        let json = assert_error_framing(&r);
        assert_eq!(json["request_id"], r.header("x-request-id").unwrap());

        let r = request_to_eof(gw.addr, "GET /a HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
        r.assert_apig(400, "APIG.0201", "API request error.");
        let json = assert_error_framing(&r);
        assert_eq!(json["error_code"], "APIG.0201");
        assert_eq!(json.as_object().unwrap().len(), 3, "exactly the three default fields");
        assert!(up.seen.try_recv().is_err(), "a rejected request never reaches the backend");
    }

    fn group_override_of_not_found_changes_status_and_body(driver) {
        // §18.1: the group's `default` set is editable; a route miss in a
        // known group uses it.
        let up = TestUpstream::ok();
        let gw = TestGateway::one(driver, &model(up.addr));
        for (raw, msg) in [
            (
                "GET /nothing HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
                "The API does not exist or has not been published in the environment.",
            ),
            // The path exists, the method does not: also NOT_FOUND (§6.7).
            ("GET /simple HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n", "The API does not exist."),
            // Published nowhere in TEST: NOT_FOUND in the TEST stage.
            (
                "GET /plain?q=1 HTTP/1.1\r\nHost: t\r\nX-Stage: TEST\r\nConnection: close\r\n\r\n",
                "The API does not exist or has not been published in the environment.",
            ),
        ] {
            let r = request_to_eof(gw.addr, raw);
            assert_eq!(r.status, 410, "{raw:?}: {}", r.text());
            let rid = r.header("x-request-id").unwrap().to_string();
            assert_eq!(r.text(), format!(r#"{{"msg": "{msg}", "id": "{rid}"}}"#));
            let json = assert_error_framing(&r);
            assert_eq!(json["id"], rid.as_str(), "$context.requestId equals X-Request-Id");
        }
        // Other types of the `default` set keep the built-in entry.
        let r = request_to_eof(gw.addr, "GET /plain HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
        r.assert_apig(400, "APIG.0201", "API request error.");
        assert_error_framing(&r);
    }

    fn request_without_a_group_uses_the_builtin_default(driver) {
        // §18.1: responses belong to groups; a request no group takes gets
        // the built-in default, not some group's override.
        let body = r#"[[group]]
name = "shop"
domains = ["shop.example.com"]
[group.responses.default.NOT_FOUND]
status = 410
body = '{"shop": "$context.error.code"}'
[[group.api]]
name = "x"
method = "GET"
path = "/x"
[group.api.backend]
type = "mock"
"#;
        let gw = TestGateway::one(driver, body);
        let r = request_to_eof(gw.addr, "GET /nothing HTTP/1.1\r\nHost: other\r\nConnection: close\r\n\r\n");
        r.assert_apig(
            404,
            "APIG.0101",
            "The API does not exist or has not been published in the environment.",
        );
        assert_error_framing(&r);
        let r = request_to_eof(
            gw.addr,
            "GET /nothing HTTP/1.1\r\nHost: shop.example.com\r\nConnection: close\r\n\r\n",
        );
        assert_eq!(r.status, 410);
        assert_eq!(r.text(), r#"{"shop": "APIG.0101"}"#);
        assert_error_framing(&r);
    }

    fn named_set_renders_the_custom_example(driver) {
        // §18.1 custom example, §18.3 variables; the API picks the set with
        // `gateway_response`.
        let up = TestUpstream::ok();
        let gw = TestGateway::one(driver, &model(up.addr));
        for (stage_header, stage) in [("", "RELEASE"), ("X-Stage: TEST\r\n", "TEST")] {
            let r = request_to_eof(
                gw.addr,
                &format!("PUT /simple HTTP/1.1\r\nHost: t\r\n{stage_header}Content-Length: 0\r\nConnection: close\r\n\r\n"),
            );
            assert_eq!(r.status, 400, "{}", r.text());
            let rid = r.header("x-request-id").unwrap();
            assert_eq!(
                r.text(),
                custom("APIG.0201", "API request error.", rid, "api-simple-01", stage, "REQUEST_PARAMETERS_FAILURE")
            );
            let json = assert_error_framing(&r);
            assert_eq!(json["stage"], stage);
            assert_eq!(json["ip"], "127.0.0.1");
        }
        // The same failure on an API using the `default` set: built-in body.
        let r = request_to_eof(gw.addr, "GET /plain HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
        r.assert_apig(400, "APIG.0201", "API request error.");
        assert!(up.seen.try_recv().is_err());
    }

    fn unlisted_types_of_a_named_set_keep_the_builtin_default(driver) {
        // §18.1: a new set starts from the defaults; `custom` does not list
        // BACKEND_TIMEOUT.
        let up = TestUpstream::start(|_| Reply::Delay(std::time::Duration::from_secs(2), Box::new(Reply::Ok("late".into()))));
        let gw = TestGateway::one(driver, &model(up.addr));
        let r = request_to_eof(gw.addr, "GET /slow HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
        r.assert_apig(504, "APIG.0201", "Backend timeout.");
        assert_error_framing(&r);
    }

    fn status_override_on_a_type(driver) {
        // §18.1: only status and content can change; §18.2 Suggestion: the
        // configured status overrides the APIG table's.
        let body = r#"[[group]]
name = "DEFAULT"
[group.responses.default.REQUEST_PARAMETERS_FAILURE]
status = 422
[[group.api]]
name = "a"
method = "GET"
path = "/a"
[[group.api.param]]
name = "n"
location = "QUERY"
type = "NUMBER"
required = true
[group.api.backend]
type = "mock"
body = "ok"
"#;
        let gw = TestGateway::one(driver, body);
        for target in ["/a", "/a?n=abc"] {
            let r = request_to_eof(gw.addr, &format!("GET {target} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"));
            // Status changed, content still the built-in default.
            r.assert_apig(422, "APIG.0201", "API request error.");
            assert_error_framing(&r);
        }
        assert_eq!(request(gw.addr, "GET /a?n=12 HTTP/1.1\r\nHost: t\r\n\r\n").text(), "ok");
    }

    fn backend_unavailable_is_rendered_through_the_set(driver) {
        // §18.2: Backend Unavailable (502) is a gateway response too; here
        // the set makes it 503 with the custom content.
        let gw = TestGateway::one(driver, &model(dead_addr()));
        let r = request_to_eof(
            gw.addr,
            "PUT /simple?q=1 HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi",
        );
        assert_eq!(r.status, 503, "{}", r.text());
        let rid = r.header("x-request-id").unwrap();
        assert_eq!(
            r.text(),
            custom("APIG.0201", "Backend unavailable.", rid, "api-simple-01", "RELEASE", "BACKEND_UNAVAILABLE")
        );
        assert_error_framing(&r);
        // An API on the `default` set gets the built-in 502.
        let r = request_to_eof(gw.addr, "GET /plain?q=1 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
        r.assert_apig(502, "APIG.0201", "Backend unavailable.");
        assert_error_framing(&r);
    }

    fn substituted_values_are_json_escaped(driver) {
        // §18.3 Suggestion: values substituted inside quotes are
        // JSON-escaped, so the content stays JSON whatever the API ID holds.
        let body = r#"[[group]]
name = "DEFAULT"
[group.responses.default.REQUEST_PARAMETERS_FAILURE]
body = '{"api": "$context.apiId", "code": "$context.error.code"}'
[[group.api]]
name = "a"
id = 'we"ird\id'
method = "GET"
path = "/a"
[[group.api.param]]
name = "q"
location = "QUERY"
required = true
[group.api.backend]
type = "mock"
"#;
        let gw = TestGateway::one(driver, body);
        let r = request_to_eof(gw.addr, "GET /a HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
        assert_eq!(r.status, 400);
        let json = assert_error_framing(&r);
        assert_eq!(json["api"], "we\"ird\\id");
        assert_eq!(json["code"], "APIG.0201");
    }

    fn error_on_a_kept_alive_connection_is_framed_right(driver) {
        // The Content-Length of a rendered template is exact: the next
        // response on the same connection parses.
        let up = TestUpstream::ok();
        let gw = TestGateway::one(driver, &model(up.addr));
        let mut c = Conn::open(gw.addr);
        c.send(b"PUT /simple HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\nGET /nothing HTTP/1.1\r\nHost: t\r\n\r\nPUT /simple?q=1 HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n");
        let r = c.read();
        assert_eq!(r.status, 400);
        assert_error_framing(&r);
        let r = c.read();
        assert_eq!(r.status, 410);
        assert_error_framing(&r);
        let r = c.read();
        assert_eq!((r.status, r.text().as_str()), (200, "ok"));
    }

    fn head_request_error_has_length_but_no_body(driver) {
        // RFC 9110 §9.3.2: HEAD gets the GET head; the length is the
        // rendered template's.
        let body = r#"[[group]]
name = "DEFAULT"
[[group.api]]
name = "a"
method = "HEAD"
path = "/a"
[[group.api.param]]
name = "q"
location = "QUERY"
required = true
[group.api.backend]
type = "mock"
"#;
        let gw = TestGateway::one(driver, body);
        let mut c = Conn::open(gw.addr);
        c.send(b"HEAD /a HTTP/1.1\r\nHost: t\r\n\r\nHEAD /a?q=1 HTTP/1.1\r\nHost: t\r\n\r\n");
        let r = c.read_for(true);
        assert_eq!(r.status, 400);
        let len: usize = r.header("content-length").unwrap().parse().unwrap();
        let rid = r.header("x-request-id").unwrap();
        let expected = format!(
            "{{\"error_code\": \"APIG.0201\", \"error_msg\": \"API request error.\", \"request_id\": \"{rid}\"}}"
        );
        assert_eq!(len, expected.len());
        assert_eq!(c.read_for(true).status, 200, "no body bytes were left on the wire");
    }

    fn unknown_stage_is_named_in_the_error_context(driver) {
        // regression: `$context.stage` read RELEASE for an unknown X-Stage;
        // it names the stage the request asked for (§18.3), JSON-escaped.
        let body = r#"[[group]]
name = "DEFAULT"
[group.responses.default.NOT_FOUND]
body = '{"stage": "$context.stage"}'
[[group.api]]
name = "x"
method = "GET"
path = "/x"
[group.api.backend]
type = "mock"
"#;
        let gw = TestGateway::one(driver, body);
        let r = request_to_eof(gw.addr, "GET /x HTTP/1.1\r\nHost: t\r\nX-Stage: QA\"1\r\nConnection: close\r\n\r\n");
        assert_eq!(r.status, 404);
        assert_eq!(r.text(), r#"{"stage": "QA\"1"}"#);
    }
}
