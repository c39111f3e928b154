//! CORS over real sockets (behaviour.md §17.3): `Access-Control-Allow-Origin:
//! *` on simple and actual requests, the backend's own header winning, the
//! documented preflight headers byte for byte, nothing without `Origin` or
//! with CORS off, and the header on gateway error responses.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::disallowed_methods
)] // test code: failing loudly is the point; deadlines read the real clock

mod common;
use std::net::SocketAddr;

use common::*;

/// The §17.3 backend answer: no CORS header.
const BACKEND_PLAIN: &str = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 16\r\n\r\n{\"status\":\"200\"}";

/// The §17.3 preflight request, byte for byte.
const PREFLIGHT: &str = "OPTIONS / HTTP/1.1\r\nUser-Agent: curl/7.29.0\r\nHost: localhost\r\nAccept: */*\r\nOrigin: http://www.cors.com\r\nAccess-Control-Request-Method: PUT\r\nAccess-Control-Request-Headers: X-Sdk-Date\r\n\r\n";

/// The five preflight headers of §17.3, exactly as documented.
const PREFLIGHT_HEADERS: [(&str, &str); 5] = [
    ("Access-Control-Allow-Origin", "*"),
    (
        "Access-Control-Allow-Headers",
        "X-Stage,X-Sdk-Date,X-Sdk-Nonce,X-Proxy-Signed-Headers,X-Sdk-Content-Sha256,X-Forwarded-For,Authorization,Content-Type,Accept,Accept-Ranges,Cache-Control,Range",
    ),
    (
        "Access-Control-Expose-Headers",
        "X-Request-Id,X-Apig-Latency,X-Apig-Upstream-Latency,X-Apig-RateLimit-Api,X-Apig-RateLimit-User,X-Apig-RateLimit-App,X-Apig-RateLimit-Ip,X-Apig-RateLimit-Api-Allenv",
    ),
    (
        "Access-Control-Allow-Methods",
        "GET,POST,PUT,DELETE,HEAD,OPTIONS,PATCH",
    ),
    ("Access-Control-Max-Age", "172800"),
];

/// A DEFAULT group: `GET /simple` and `PUT /simple` proxied to `upstream`
/// with CORS `cors`, the PUT one with a required query parameter `q`, and
/// the §17.2 preflight API (`OPTIONS /` prefix, mock, CORS on).
fn cors_group(upstream: SocketAddr, cors: bool) -> String {
    format!(
        r#"[[group]]
name = "DEFAULT"

[[group.api]]
name = "simple-get"
method = "GET"
path = "/simple"
cors = {cors}
[group.api.backend]
type = "http"
address = "{upstream}"
path = "/simple"
timeout_ms = 2000

[[group.api]]
name = "simple-put"
method = "PUT"
path = "/simple"
cors = {cors}
[[group.api.param]]
name = "q"
location = "QUERY"
required = true
[group.api.backend]
type = "http"
address = "{upstream}"
path = "/simple"
timeout_ms = 2000

[[group.api]]
name = "preflight"
method = "OPTIONS"
path = "/"
match = "prefix"
cors = true
[group.api.backend]
type = "mock"
"#
    )
}

/// How many header lines named `name` (lower-case) the response has.
fn count(r: &Response, name: &str) -> usize {
    r.headers.iter().filter(|(n, _)| n == name).count()
}

/// Names of the `Access-Control-*` headers of `r`.
fn cors_headers(r: &Response) -> Vec<String> {
    r.headers
        .iter()
        .filter(|(n, _)| n.starts_with("access-control-"))
        .map(|(n, _)| n.clone())
        .collect()
}

/// Sends `raw` and returns the response head exactly as written (up to and
/// including the blank line), for byte-exact header checks.
fn raw_head(addr: SocketAddr, raw: &str) -> String {
    use std::io::Read;
    let mut c = Conn::open(addr);
    c.send(raw.as_bytes());
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    while find(&buf, b"\r\n\r\n").is_none() {
        let n = c.stream.read(&mut chunk).expect("read within the deadline");
        assert!(n > 0, "closed early: {:?}", String::from_utf8_lossy(&buf));
        buf.extend_from_slice(&chunk[..n]);
    }
    let end = find(&buf, b"\r\n\r\n").unwrap() + 4;
    String::from_utf8(buf[..end].to_vec()).unwrap()
}

driver_tests! {
    fn simple_request_gets_allow_origin_star(driver) {
        // §17.3 "Simple request, backend response has no CORS header".
        let up = TestUpstream::start(|_| Reply::Raw(BACKEND_PLAIN.as_bytes().to_vec()));
        let gw = TestGateway::one(driver, &cors_group(up.addr, true));
        let r = request(
            gw.addr,
            "GET /simple HTTP/1.1\r\nHost: www.test.com\r\nOrigin: http://www.cors.com\r\nContent-Type: application/x-www-form-urlencoded; charset=utf-8\r\nAccept: application/json\r\n\r\n",
        );
        assert_eq!(r.status, 200);
        assert_eq!(r.text(), "{\"status\":\"200\"}");
        assert_eq!(r.header("content-type"), Some("application/json"));
        assert_eq!(r.header("content-length"), Some("16"));
        assert_eq!(r.header("server"), Some("api-gateway"));
        let rid = r.header("x-request-id").expect("X-Request-Id");
        assert!(rid.len() == 32 && rid.bytes().all(|b| b.is_ascii_hexdigit()), "{rid}");
        assert_eq!(r.header("access-control-allow-origin"), Some("*"));
        assert_eq!(count(&r, "access-control-allow-origin"), 1);
        assert_eq!(cors_headers(&r), ["access-control-allow-origin"], "a simple request gets no preflight headers");
        let seen = up.next();
        assert_eq!(seen.header("origin"), Some("http://www.cors.com"), "Origin is passed on");
    }

    fn backend_allow_origin_replaces_the_gateways(driver) {
        // §17.3: "The header will overwrite that added by API Gateway." The
        // header name is matched without regard to case.
        for name in ["Access-Control-Allow-Origin", "access-control-allow-origin"] {
            let reply = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n{name}: http://www.cors.com\r\nContent-Length: 2\r\n\r\n{{}}"
            );
            let up = TestUpstream::start(move |_| Reply::Raw(reply.clone().into_bytes()));
            let gw = TestGateway::one(driver, &cors_group(up.addr, true));
            let r = request(
                gw.addr,
                "GET /simple HTTP/1.1\r\nHost: t\r\nOrigin: http://www.cors.com\r\n\r\n",
            );
            assert_eq!(r.status, 200);
            assert_eq!(count(&r, "access-control-allow-origin"), 1, "{:?}", r.headers);
            assert_eq!(r.header("access-control-allow-origin"), Some("http://www.cors.com"));
            assert_eq!(r.text(), "{}");
        }
    }

    fn preflight_returns_the_documented_headers_byte_for_byte(driver) {
        // §17.3 preflight: OPTIONS API on `/` (prefix), mock backend, CORS on.
        let up = TestUpstream::ok();
        let gw = TestGateway::one(driver, &cors_group(up.addr, true));
        let head = raw_head(gw.addr, PREFLIGHT);
        assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
        for (name, value) in PREFLIGHT_HEADERS {
            let line = format!("\r\n{name}: {value}\r\n");
            assert_eq!(head.matches(&line).count(), 1, "{name} once, exactly {value:?}:\n{head}");
        }
        assert!(head.contains("\r\nContent-Type: application/json\r\n"), "{head}");
        assert!(head.contains("\r\nServer: api-gateway\r\n"), "{head}");
        assert!(head.contains("\r\nX-Request-Id: "), "{head}");

        let r = request(gw.addr, PREFLIGHT);
        assert_eq!(r.status, 200);
        assert!(r.body.is_empty(), "the mock sends no body: {:?}", r.text());
        assert_eq!(cors_headers(&r).len(), 5, "{:?}", r.headers);
        // The preflight goes to the mock, never to the backend of PUT /simple.
        assert!(up.seen.try_recv().is_err());
    }

    fn preflight_to_a_deeper_path_is_served_by_the_root_api(driver) {
        // §17.2: the preflight API on `/` covers other paths (prefix match).
        let up = TestUpstream::ok();
        let gw = TestGateway::one(driver, &cors_group(up.addr, true));
        let r = request(
            gw.addr,
            "OPTIONS /simple HTTP/1.1\r\nHost: t\r\nOrigin: http://www.cors.com\r\nAccess-Control-Request-Method: PUT\r\n\r\n",
        );
        assert_eq!(r.status, 200);
        assert_eq!(r.header("access-control-allow-methods"), Some("GET,POST,PUT,DELETE,HEAD,OPTIONS,PATCH"));
        assert_eq!(r.header("access-control-max-age"), Some("172800"));
    }

    fn options_without_request_method_is_not_a_preflight(driver) {
        // §17.1: a preflight carries Access-Control-Request-Method.
        let up = TestUpstream::ok();
        let gw = TestGateway::one(driver, &cors_group(up.addr, true));
        let r = request(gw.addr, "OPTIONS / HTTP/1.1\r\nHost: t\r\nOrigin: http://www.cors.com\r\n\r\n");
        assert_eq!(r.status, 200);
        assert_eq!(cors_headers(&r), ["access-control-allow-origin"]);
    }

    fn mock_cors_header_replaces_the_gateways(driver) {
        // §17.3 Suggestion: per header name, the backend's (here the
        // mock's) header replaces the gateway's.
        let body = r#"[[group]]
name = "DEFAULT"
[[group.api]]
name = "preflight"
method = "OPTIONS"
path = "/"
match = "prefix"
cors = true
[group.api.backend]
type = "mock"
headers = { "Access-Control-Max-Age" = "600", "Access-Control-Allow-Origin" = "http://www.cors.com" }
"#;
        let gw = TestGateway::one(driver, body);
        let r = request(gw.addr, PREFLIGHT);
        assert_eq!(r.status, 200);
        assert_eq!(count(&r, "access-control-max-age"), 1, "{:?}", r.headers);
        assert_eq!(r.header("access-control-max-age"), Some("600"));
        assert_eq!(count(&r, "access-control-allow-origin"), 1, "{:?}", r.headers);
        assert_eq!(r.header("access-control-allow-origin"), Some("http://www.cors.com"));
        assert_eq!(count(&r, "access-control-allow-methods"), 1);
        assert_eq!(count(&r, "access-control-allow-headers"), 1);
        assert_eq!(count(&r, "access-control-expose-headers"), 1);
    }

    fn actual_put_request_gets_allow_origin_star(driver) {
        // §17.3 "Actual not-so-simple request".
        let up = TestUpstream::start(|_| Reply::Raw(BACKEND_PLAIN.as_bytes().to_vec()));
        let gw = TestGateway::one(driver, &cors_group(up.addr, true));
        let r = request(
            gw.addr,
            "PUT /simple?q=1 HTTP/1.1\r\nHost: t\r\nOrigin: http://www.cors.com\r\nX-Sdk-Date: 20240101T000000Z\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}",
        );
        assert_eq!(r.status, 200);
        assert_eq!(r.text(), "{\"status\":\"200\"}");
        assert_eq!(cors_headers(&r), ["access-control-allow-origin"]);
        assert_eq!(r.header("access-control-allow-origin"), Some("*"));
        let seen = up.next();
        assert_eq!((seen.method.as_str(), seen.body.as_slice()), ("PUT", &b"{}"[..]));
    }

    fn no_origin_no_cors_headers(driver) {
        // §17.3 Suggestion: only when Origin is present.
        let up = TestUpstream::start(|_| Reply::Raw(BACKEND_PLAIN.as_bytes().to_vec()));
        let gw = TestGateway::one(driver, &cors_group(up.addr, true));
        let r = get(gw.addr, "/simple");
        assert_eq!(r.status, 200);
        assert!(cors_headers(&r).is_empty(), "{:?}", r.headers);
        let r = request(gw.addr, "PUT /simple HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n");
        assert_eq!(r.status, 400);
        assert!(cors_headers(&r).is_empty(), "{:?}", r.headers);
    }

    fn cors_off_means_no_cors_headers(driver) {
        // §17.2: CORS is disabled by default, and off here.
        let up = TestUpstream::start(|_| Reply::Raw(BACKEND_PLAIN.as_bytes().to_vec()));
        let gw = TestGateway::one(driver, &cors_group(up.addr, false));
        for raw in [
            "GET /simple HTTP/1.1\r\nHost: t\r\nOrigin: http://www.cors.com\r\n\r\n",
            "PUT /simple?q=1 HTTP/1.1\r\nHost: t\r\nOrigin: http://www.cors.com\r\nContent-Length: 0\r\n\r\n",
            "PUT /simple HTTP/1.1\r\nHost: t\r\nOrigin: http://www.cors.com\r\nContent-Length: 0\r\n\r\n",
        ] {
            let r = request(gw.addr, raw);
            assert!(cors_headers(&r).is_empty(), "{raw:?} → {} {:?}", r.status, r.headers);
        }
        // Without the `cors` key at all: off (default).
        let gw = TestGateway::one(driver, &proxy_api("GET", "/simple", "exact", up.addr, "/"));
        let r = request(gw.addr, "GET /simple HTTP/1.1\r\nHost: t\r\nOrigin: http://www.cors.com\r\n\r\n");
        assert_eq!(r.status, 200);
        assert!(cors_headers(&r).is_empty(), "{:?}", r.headers);
    }

    fn gateway_errors_on_a_cors_api_carry_allow_origin(driver) {
        // §17.3 Suggestion: CORS headers on gateway error responses of
        // CORS-enabled APIs, so browsers can read them.
        let up = TestUpstream::ok();
        let gw = TestGateway::one(driver, &cors_group(up.addr, true));
        // Missing required parameter: 400 from the gateway.
        let r = request(
            gw.addr,
            "PUT /simple HTTP/1.1\r\nHost: t\r\nOrigin: http://www.cors.com\r\nContent-Length: 0\r\n\r\n",
        );
        r.assert_apig(400, "APIG.0201", "API request error.");
        assert_eq!(r.header("access-control-allow-origin"), Some("*"));
        assert_eq!(count(&r, "access-control-allow-origin"), 1);

        // Dead backend: 502 from the gateway.
        let gw = TestGateway::one(driver, &cors_group(dead_addr(), true));
        let r = request(gw.addr, "GET /simple HTTP/1.1\r\nHost: t\r\nOrigin: http://www.cors.com\r\n\r\n");
        r.assert_apig(502, "APIG.0201", "Backend unavailable.");
        assert_eq!(r.header("access-control-allow-origin"), Some("*"));
        assert_eq!(count(&r, "access-control-allow-origin"), 1);
    }
}
