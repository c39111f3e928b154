//! What a client cannot smuggle to a backend in a header or a trailer
//! (issue 13 items 5 and 6): trailer fields RFC 9110 §6.5.1 does not allow
//! (framing, routing, authentication, …) and underscore spellings of the
//! headers the gateway owns or frames.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::disallowed_methods
)] // test code: failing loudly is the point; deadlines read the real clock

mod common;

use common::*;

fn gateway(driver: &str, up: &TestUpstream, settings: &str) -> TestGateway {
    let body = format!("[settings]\n{settings}\n\n{}", proxy_all(up.addr));
    TestGateway::one(driver, &body)
}

driver_tests! {
    // regression: issue 13 item 5 — the trailer section was forwarded
    // verbatim, Content-Length and request-line lookalikes included.
    fn trailer_fields_that_frame_route_or_authenticate_are_dropped(driver) {
        let up = TestUpstream::ok();
        let gw = gateway(driver, &up, "");
        let trailers = "Checksum: abc\r\nContent-Length: 5\r\nX: POST / HTTP/1.1\r\n\
                        Transfer_Encoding: chunked\r\nHost: evil.example\r\nAuthorization: Bearer x\r\n\
                        X-Forwarded-For: 6.6.6.6\r\nIf-Match: *\r\nContent-Type: text/evil\r\nX-Apig-Mode: debug\r\n";
        let r = request(
            gw.addr,
            &format!("POST /t HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n{trailers}\r\n"),
        );
        assert_eq!(r.status, 200, "{}", r.text());
        let seen = up.next();
        assert_eq!(seen.body, b"hello");
        assert_eq!(seen.trailers, vec!["Checksum: abc", "X: POST / HTTP/1.1"]);
        // A body split so the trailer arrives in pieces is filtered the same.
        let mut c = Conn::open(gw.addr);
        c.send(b"POST /t HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nCheck");
        std::thread::sleep(std::time::Duration::from_millis(20));
        c.send(b"sum: 1\r\nContent-");
        std::thread::sleep(std::time::Duration::from_millis(20));
        c.send(b"Length: 9\r\n\r\n");
        assert_eq!(c.read().status, 200);
        assert_eq!(up.next().trailers, vec!["Checksum: 1"]);
        // A malformed trailer is refused, as before.
        let r = request(gw.addr, "POST /t HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nno colon here\r\n\r\n");
        assert_eq!(r.status, 400);
    }

    // regression: issue 13 item 6 — `Transfer_Encoding: chunked` beside
    // Content-Length and `X_Forwarded_For` reached CGI/WSGI-style backends,
    // which read `_` as `-`.
    fn underscore_spellings_of_owned_headers_are_dropped(driver) {
        let up = TestUpstream::ok();
        let gw = gateway(driver, &up, "");
        let r = request(
            gw.addr,
            "POST /u HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nTransfer_Encoding: chunked\r\n\
             X_Forwarded_For: 6.6.6.6\r\nx_apig_mode: debug\r\nHOST_: x\r\nX_Request_Id: mine\r\n\
             Content_Length: 1\r\nX_Custom: kept\r\n\r\nhello",
        );
        assert_eq!(r.status, 200, "{}", r.text());
        assert!(r.header("x-apig-latency").is_none(), "x_apig_mode is not X-Apig-Mode");
        let seen = up.next();
        assert_eq!(seen.body, b"hello");
        let names: Vec<&str> = seen.headers.iter().map(|(n, _)| n.as_str()).collect();
        for owned in ["transfer_encoding", "x_forwarded_for", "x_apig_mode", "x_request_id", "content_length"] {
            assert!(!names.contains(&owned), "{owned} forwarded: {names:?}");
        }
        assert_eq!(seen.header("x_custom"), Some("kept"));
        assert_eq!(seen.header("host_"), Some("x"), "not a spelling of Host");
        assert_eq!(seen.header("x-forwarded-for"), Some("127.0.0.1"));
    }

    // regression: issue 13 review — headers some backends read as the real
    // path, method or client reached them unchanged.
    fn path_method_and_client_overrides_are_dropped(driver) {
        let up = TestUpstream::ok();
        let gw = gateway(driver, &up, "");
        let r = request(
            gw.addr,
            "GET /u HTTP/1.1\r\nHost: t\r\nX-Original-URL: /admin\r\nX-Rewrite-URL: /admin\r\n\
             X-HTTP-Method-Override: DELETE\r\nX-Real-IP: 10.0.0.1\r\nX-Forwarded-Prefix: /admin\r\n\
             X-Forwarded-Port: 1\r\nX-Custom: kept\r\n\r\n",
        );
        assert_eq!(r.status, 200);
        let seen = up.next();
        let names: Vec<&str> = seen.headers.iter().map(|(n, _)| n.as_str()).collect();
        for dropped in ["x-original-url", "x-rewrite-url", "x-http-method-override", "x-real-ip", "x-forwarded-prefix", "x-forwarded-port"] {
            assert!(!names.contains(&dropped), "{dropped} forwarded: {names:?}");
        }
        assert_eq!(seen.header("x-custom"), Some("kept"));
    }

    fn every_underscore_header_can_be_dropped_or_refused(driver) {
        let up = TestUpstream::ok();
        let gw = gateway(driver, &up, "underscore_headers = \"drop\"");
        let r = request(gw.addr, "GET /u HTTP/1.1\r\nHost: t\r\nX_Custom: 1\r\nX-Other: 2\r\n\r\n");
        assert_eq!(r.status, 200);
        let seen = up.next();
        assert_eq!((seen.header("x_custom"), seen.header("x-other")), (None, Some("2")));
        drop(gw);
        let gw = gateway(driver, &up, "underscore_headers = \"reject\"");
        let mut c = Conn::open(gw.addr);
        c.send(b"GET /u HTTP/1.1\r\nHost: t\r\nX_Custom: 1\r\n\r\n");
        c.read().assert_apig(400, "APIG.0602", "Bad request.");
        c.send(b"GET /u HTTP/1.1\r\nHost: t\r\nX-Custom: 1\r\n\r\n");
        assert_eq!(c.read().status, 200, "the connection stays usable");
    }
}
