//! Limits of behaviour.md §3 and the RFC 9112 rejections, over real
//! sockets: the documented status and APIG body, then the connection closes.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::disallowed_methods
)] // test code: failing loudly is the point; deadlines read the real clock

mod common;
use common::*;

/// Limits small enough to test quickly; each test also covers the defaults'
/// status and body.
const LIMITS: &str = "[settings]\nmax_uri_bytes = 1024\nmax_header_bytes = 512\nmax_headers_total_bytes = 2048\nmax_body_bytes = 4096\n\n";

fn gateway(driver: &str, up: &TestUpstream) -> TestGateway {
    TestGateway::one(driver, &format!("{LIMITS}{}", proxy_all(up.addr)))
}

/// Sends `raw`, expects `status` with the APIG body, then a closed connection.
fn refused(gw: &TestGateway, raw: &[u8], status: u16, code: &str, msg: &str) {
    let mut c = Conn::open(gw.addr);
    c.send(raw);
    let r = c.read();
    r.assert_apig(status, code, msg);
    assert_eq!(r.header("connection"), Some("close"));
    assert!(c.is_closed(), "connection must close after {status}");
}

driver_tests! {
    fn uri_over_limit_is_414(driver) {
        let up = TestUpstream::ok();
        let gw = gateway(driver, &up);
        let at_limit = format!("/{}", "a".repeat(1023));
        assert_eq!(get(gw.addr, &at_limit).status, 200);
        let over = format!("GET /{} HTTP/1.1\r\nHost: t\r\n\r\n", "a".repeat(1024));
        refused(&gw, over.as_bytes(), 414, "APIG.0201", "Request URI too large.");
    }

    fn one_header_over_limit_is_494(driver) {
        let up = TestUpstream::ok();
        let gw = gateway(driver, &up);
        let raw = format!("GET / HTTP/1.1\r\nHost: t\r\nX-Big: {}\r\n\r\n", "v".repeat(600));
        refused(&gw, raw.as_bytes(), 494, "APIG.0201", "Request headers too large.");
    }

    fn all_headers_over_limit_is_494(driver) {
        let up = TestUpstream::ok();
        let gw = gateway(driver, &up);
        let mut raw = String::from("GET / HTTP/1.1\r\nHost: t\r\n");
        for i in 0..20 {
            raw.push_str(&format!("X-H{i}: {}\r\n", "v".repeat(200)));
        }
        raw.push_str("\r\n");
        refused(&gw, raw.as_bytes(), 494, "APIG.0201", "Request headers too large.");
    }

    fn declared_body_over_limit_is_413(driver) {
        let up = TestUpstream::ok();
        let gw = gateway(driver, &up);
        let ok = format!("POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 4096\r\n\r\n{}", "b".repeat(4096));
        assert_eq!(request(gw.addr, &ok).status, 200);
        refused(&gw, b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 4097\r\n\r\n", 413, "APIG.0201", "Request entity too large.");
    }

    fn chunked_body_over_limit_is_413(driver) {
        let up = TestUpstream::ok();
        let gw = gateway(driver, &up);
        let mut raw = b"POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
        for _ in 0..5 {
            raw.extend_from_slice(b"400\r\n");
            raw.extend(std::iter::repeat_n(b'c', 1024));
            raw.extend_from_slice(b"\r\n");
        }
        raw.extend_from_slice(b"0\r\n\r\n");
        refused(&gw, &raw, 413, "APIG.0201", "Request entity too large.");
    }

    fn smuggling_shapes_are_400_and_close(driver) {
        let up = TestUpstream::ok();
        let gw = gateway(driver, &up);
        let cases = [
            // RFC 9112 §6.1: CL together with TE.
            "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
            // Differing duplicate Content-Length (§6.3).
            "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
            "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 3, 4\r\n\r\nabcd",
            // Malformed Content-Length.
            "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: +3\r\n\r\nabc",
            "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 0x3\r\n\r\nabc",
            // Transfer-Encoding other than one final chunked.
            "POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip\r\n\r\n",
            "POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked, gzip\r\n\r\n",
            "POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
            "POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: xchunked\r\n\r\n",
            // Transfer-Encoding in HTTP/1.0.
            "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
            // obs-fold (§5.2).
            "GET / HTTP/1.1\r\nHost: t\r\nX-A: 1\r\n  folded\r\n\r\n",
            // Whitespace between name and colon (§5.1).
            "GET / HTTP/1.1\r\nHost: t\r\nX-A : 1\r\n\r\n",
            "POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n",
            // Missing / duplicate Host (§3.2).
            "GET / HTTP/1.1\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
            // Bad request line and target.
            "GET  / HTTP/1.1\r\nHost: t\r\n\r\n",
            "GET /a b HTTP/1.1\r\nHost: t\r\n\r\n",
            "GET foo HTTP/1.1\r\nHost: t\r\n\r\n",
            "CONNECT t:443 HTTP/1.1\r\nHost: t\r\n\r\n",
            "GET / HTTP/2.0\r\nHost: t\r\n\r\n",
            // Invalid chunk size and extensions (§7.1).
            "POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n",
            "POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n-1\r\nabc\r\n0\r\n\r\n",
            "POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n10000000000000000\r\n",
            "POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n3;=x\r\nabc\r\n0\r\n\r\n",
            "POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n3;a=\"x\r\nabc\r\n0\r\n\r\n",
            "POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n3\nabc\r\n0\r\n\r\n",
            "POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcX0\r\n\r\n",
        ];
        for raw in cases {
            let mut c = Conn::open(gw.addr);
            c.send(raw.as_bytes());
            let r = c.read();
            assert_eq!(r.status, 400, "expected 400 for {raw:?}, got {} {}", r.status, r.text());
            r.assert_apig(400, "APIG.0602", "Bad request.");
            assert!(c.is_closed(), "connection must close after {raw:?}");
        }
    }

    fn control_bytes_in_header_values_are_400(driver) {
        let up = TestUpstream::ok();
        let gw = gateway(driver, &up);
        for raw in [
            &b"GET / HTTP/1.1\r\nHost: t\r\nX-A: a\x00b\r\n\r\n"[..],
            &b"GET / HTTP/1.1\r\nHost: t\r\nX-A: a\rb\r\n\r\n"[..],
            &b"GET / HTTP/1.1\r\nHost: t\r\nX-A: a\x01b\r\n\r\n"[..],
        ] {
            refused(&gw, raw, 400, "APIG.0602", "Bad request.");
        }
    }

    fn slowloris_head_is_cut_off(driver) {
        let up = TestUpstream::ok();
        let body = format!("[settings]\nheader_timeout_ms = 300\n\n{}", proxy_all(up.addr));
        let gw = TestGateway::one(driver, &body);
        let mut c = Conn::open(gw.addr);
        c.send(b"GET / HTTP/1.1\r\nHost: t\r\n");
        let started = std::time::Instant::now();
        assert!(c.is_closed());
        assert!(started.elapsed() < DEADLINE);
    }

    fn idle_keep_alive_connection_is_closed(driver) {
        let up = TestUpstream::ok();
        let body = format!("[settings]\nkeepalive_timeout_ms = 200\n\n{}", proxy_all(up.addr));
        let gw = TestGateway::one(driver, &body);
        let mut c = Conn::open(gw.addr);
        c.send(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n");
        assert_eq!(c.read().status, 200);
        assert!(c.is_closed());
    }

    fn dot_segments_are_refused(driver) {
        // RFC 3986 §5.2.4: `..` would escape a prefix API's backend path.
        let up = TestUpstream::ok();
        let gw = TestGateway::one(driver, &proxy_api("GET", "/public/", "prefix", up.addr, "/internal/public/"));
        for path in ["/public/../../admin/keys", "/public/%2e%2e/admin", "/public/./x", "/public/.%2E/x"] {
            refused(&gw, format!("GET {path} HTTP/1.1\r\nHost: t\r\n\r\n").as_bytes(), 400, "APIG.0602", "Bad request.");
        }
        assert_eq!(get(gw.addr, "/public/.well-known/x").status, 200);
        assert_eq!(up.connection_count(), 1, "only the legitimate request went upstream");
    }

    fn absolute_form_target_is_accepted(driver) {
        let up = TestUpstream::start(|s| Reply::Ok(s.target.clone()));
        let gw = gateway(driver, &up);
        let r = request(gw.addr, "GET http://api.test/p?q=1 HTTP/1.1\r\nHost: other\r\n\r\n");
        assert_eq!(r.text(), "/p?q=1");
        assert_eq!(up.next().header("x-forwarded-host"), Some("api.test"));
    }
}
