//! Backend request signing (behaviour.md §12): the backend receives an
//! SDK-HMAC-SHA256 `Authorization` made with the API's signature key over
//! the request as rewritten, and verifies it with the same algorithm.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::disallowed_methods
)] // test code: failing loudly is the point; deadlines read the real clock

mod common;

use common::*;

fn config(up: std::net::SocketAddr) -> String {
    format!(
        "[[signature_key]]\nname = \"k\"\nkey = \"gateway-key\"\nsecret = \"gateway-secret\"\n\n\
         [[group]]\nname = \"DEFAULT\"\n\
         [[group.api]]\nname = \"x\"\nmethod = \"ANY\"\npath = \"/x/{{id}}\"\nsignature_key = {{ RELEASE = \"k\" }}\n\
         [group.api.backend]\ntype = \"http\"\naddress = \"{up}\"\npath = \"/backend/{{id}}\"\n\
         [[group.api.backend.constant]]\nname = \"c\"\nlocation = \"QUERY\"\nvalue = \"[apig]\"\n"
    )
}

driver_tests! {
    fn the_backend_verifies_the_rewritten_request(driver) {
        let up = TestUpstream::ok();
        let gw = TestGateway::one(driver, &config(up.addr));
        // The client's own signature headers are replaced, not forwarded.
        let r = request(
            gw.addr,
            "POST /x/42?z=1&a=2 HTTP/1.1\r\nHost: t\r\nAuthorization: mine\r\nX-Sdk-Date: 1\r\nContent-Length: 5\r\n\r\nhello",
        );
        assert_eq!(r.status, 200);
        let seen = up.next();
        assert_eq!(seen.target, "/backend/42?z=1&a=2&c=%5Bapig%5D");
        // Every header the backend gets once is signed, the gateway's own
        // (X-Request-Id, X-Forwarded-*, X-Tollgate-Loop) included; hop-by-hop
        // ones are not.
        assert!(seen.header("authorization").unwrap().starts_with(
            "SDK-HMAC-SHA256 Access=gateway-key, SignedHeaders=content-length;host;x-forwarded-for;x-forwarded-host;x-forwarded-proto;x-request-id;x-sdk-date;x-tollgate-loop, Signature="
        ), "{:?}", seen.header("authorization"));
        assert_eq!(seen.headers.iter().filter(|(n, _)| n.eq_ignore_ascii_case("authorization")).count(), 1);
        assert!(seen.header("x-sdk-content-sha256").is_none(), "the body was in memory: signed");
        assert!(backend_signature_verifies(&seen, "gateway-secret"));
        assert!(!backend_signature_verifies(&seen, "another-secret"));
        // A chunked body streams: UNSIGNED-PAYLOAD, still verifiable.
        let r = request(
            gw.addr,
            "POST /x/7 HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
        );
        assert_eq!(r.status, 200);
        let seen = up.next();
        assert_eq!(seen.header("x-sdk-content-sha256"), Some("UNSIGNED-PAYLOAD"));
        assert!(backend_signature_verifies(&seen, "gateway-secret"));
        assert!(!seen.header("authorization").unwrap().contains("transfer-encoding"));
    }

    fn a_gateway_written_header_cannot_be_changed_unnoticed(driver) {
        // A replay with another X-Request-Id (or any parameter the gateway
        // wrote) no longer verifies.
        let up = TestUpstream::ok();
        let gw = TestGateway::one(driver, &config(up.addr));
        assert_eq!(request(gw.addr, "GET /x/1 HTTP/1.1\r\nHost: t\r\n\r\n").status, 200);
        let mut seen = up.next();
        assert!(backend_signature_verifies(&seen, "gateway-secret"));
        for (name, value) in &mut seen.headers {
            if name == "x-request-id" {
                *value = "0".repeat(32);
            }
        }
        assert!(!backend_signature_verifies(&seen, "gateway-secret"));
    }
}
