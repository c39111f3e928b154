//! Debug mode over real sockets (behaviour.md §19): `X-Apig-Mode: debug`
//! adds `X-Apig-Latency` (ms) to every response and
//! `X-Apig-Upstream-Latency` only to proxied ones; without it neither
//! appears.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::disallowed_methods
)] // test code: failing loudly is the point; deadlines read the real clock

mod common;
use std::net::SocketAddr;
use std::time::Duration;

use common::*;

/// How long the upstream waits before answering, ms.
const DELAY_MS: u64 = 50;

/// A DEFAULT group with `GET /proxied` (to `upstream`) and `GET /mock`.
fn apis(upstream: SocketAddr) -> String {
    format!(
        r#"[[group]]
name = "DEFAULT"

[[group.api]]
name = "proxied"
method = "GET"
path = "/proxied"
[group.api.backend]
type = "http"
address = "{upstream}"
timeout_ms = 5000

[[group.api]]
name = "mock"
method = "GET"
path = "/mock"
[group.api.backend]
type = "mock"
body = "mocked"
"#
    )
}

fn delayed() -> TestUpstream {
    TestUpstream::start(|_| {
        Reply::Delay(
            Duration::from_millis(DELAY_MS),
            Box::new(Reply::Ok("ok".into())),
        )
    })
}

/// `GET path`, in debug mode when `debug`.
fn get_mode(addr: SocketAddr, path: &str, debug: bool) -> Response {
    let mode = if debug { "X-Apig-Mode: debug\r\n" } else { "" };
    request(
        addr,
        &format!("GET {path} HTTP/1.1\r\nHost: t\r\n{mode}\r\n"),
    )
}

/// A latency header's value: present once, a whole number of ms.
fn millis(r: &Response, name: &str) -> u64 {
    let n = r.headers.iter().filter(|(k, _)| k == name).count();
    assert_eq!(n, 1, "{name} once: {:?}", r.headers);
    let v = r.header(name).unwrap();
    assert!(
        !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()),
        "{name}: {v:?} is not a number of ms"
    );
    v.parse().unwrap()
}

fn has(r: &Response, name: &str) -> bool {
    r.header(name).is_some()
}

driver_tests! {
    fn no_debug_mode_no_latency_headers(driver) {
        // §19: "Only with X-Apig-Mode: debug".
        let up = delayed();
        let gw = TestGateway::one(driver, &apis(up.addr));
        for path in ["/proxied", "/mock", "/nothing"] {
            let r = get_mode(gw.addr, path, false);
            assert!(!has(&r, "x-apig-latency"), "{path}: {:?}", r.headers);
            assert!(!has(&r, "x-apig-upstream-latency"), "{path}: {:?}", r.headers);
        }
        // Another mode value is not debug mode.
        let r = request(gw.addr, "GET /proxied HTTP/1.1\r\nHost: t\r\nX-Apig-Mode: normal\r\n\r\n");
        assert_eq!(r.status, 200);
        assert!(!has(&r, "x-apig-latency"), "{:?}", r.headers);
    }

    fn proxied_api_gets_both_latencies(driver) {
        // §19: X-Apig-Latency (received → backend response head) and
        // X-Apig-Upstream-Latency (sent → backend response head), ms.
        let up = delayed();
        let gw = TestGateway::one(driver, &apis(up.addr));
        let r = get_mode(gw.addr, "/proxied", true);
        assert_eq!((r.status, r.text().as_str()), (200, "ok"));
        let total = millis(&r, "x-apig-latency");
        let upstream = millis(&r, "x-apig-upstream-latency");
        assert!(upstream <= total, "upstream {upstream} ms > total {total} ms");
        assert!(total >= DELAY_MS, "total {total} ms < the backend's {DELAY_MS} ms");
        assert!(upstream >= DELAY_MS, "upstream {upstream} ms < the backend's {DELAY_MS} ms");
        assert!(total < 10_000, "total {total} ms is not milliseconds");
        assert!(has(&r, "x-request-id"));
    }

    fn mock_api_gets_only_the_total_latency(driver) {
        // §19: X-Apig-Upstream-Latency only when the backend is not a mock.
        let up = delayed();
        let gw = TestGateway::one(driver, &apis(up.addr));
        let r = get_mode(gw.addr, "/mock", true);
        assert_eq!((r.status, r.text().as_str()), (200, "mocked"));
        let total = millis(&r, "x-apig-latency");
        assert!(total < 10_000, "{total}");
        assert!(!has(&r, "x-apig-upstream-latency"), "{:?}", r.headers);
    }

    fn gateway_errors_get_only_the_total_latency(driver) {
        // §19 Suggestion: for errors that never reach a backend the latency
        // runs until the error response is produced.
        let up = delayed();
        let gw = TestGateway::one(driver, &apis(up.addr));
        let r = get_mode(gw.addr, "/nothing", true);
        r.assert_apig(
            404,
            "APIG.0101",
            "The API does not exist or has not been published in the environment.",
        );
        millis(&r, "x-apig-latency");
        assert!(!has(&r, "x-apig-upstream-latency"), "{:?}", r.headers);

        // A backend that cannot be reached sends no response head: no
        // upstream latency either.
        let gw = TestGateway::one(driver, &apis(dead_addr()));
        let r = get_mode(gw.addr, "/proxied", true);
        r.assert_apig(502, "APIG.0201", "Backend unavailable.");
        millis(&r, "x-apig-latency");
        assert!(!has(&r, "x-apig-upstream-latency"), "{:?}", r.headers);
    }

    fn debug_mode_is_per_request_on_a_kept_alive_connection(driver) {
        // The mode belongs to the request, not to the connection.
        let up = delayed();
        let gw = TestGateway::one(driver, &apis(up.addr));
        let mut c = Conn::open(gw.addr);
        c.send(b"GET /proxied HTTP/1.1\r\nHost: t\r\nX-Apig-Mode: debug\r\n\r\n");
        let r = c.read();
        millis(&r, "x-apig-latency");
        millis(&r, "x-apig-upstream-latency");
        c.send(b"GET /proxied HTTP/1.1\r\nHost: t\r\n\r\n");
        let r = c.read();
        assert_eq!(r.status, 200);
        assert!(!has(&r, "x-apig-latency") && !has(&r, "x-apig-upstream-latency"), "{:?}", r.headers);
    }

    fn backend_latency_headers_do_not_double_the_gateways(driver) {
        // regression: a backend's own X-Apig-Latency reached the client twice
        // in debug mode (§19: in debug mode the gateway's headers are the ones).
        let up = TestUpstream::start(|_| {
            Reply::Raw(
                b"HTTP/1.1 200 OK\r\nX-Apig-Latency: 999999\r\nX-Apig-Upstream-Latency: 999999\r\nContent-Length: 2\r\n\r\nok"
                    .to_vec(),
            )
        });
        let gw = TestGateway::one(driver, &apis(up.addr));
        let r = get_mode(gw.addr, "/proxied", true);
        assert!(millis(&r, "x-apig-latency") < 999_999);
        assert!(millis(&r, "x-apig-upstream-latency") < 999_999);
    }
}
