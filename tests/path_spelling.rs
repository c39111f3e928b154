//! No spelling of a path bypasses the API that owns it (issue 13 item 2):
//! the gateway routes on the normal form of the path (RFC 3986 §6.2.2)
//! and forwards that form, so what the backend serves is what was routed
//! and access-controlled. Methods are case-sensitive tokens.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::disallowed_methods
)] // test code: failing loudly is the point; deadlines read the real clock

mod common;

use std::net::SocketAddr;

use common::*;

/// `GET /admin` (prefix) behind a deny-loopback ACL, and an `ANY /`
/// catch-all, both to `up`.
fn config(up: SocketAddr, settings: &str) -> String {
    format!(
        "[settings]\n{settings}\n\
         [[acl]]\nname = \"no-loopback\"\neffect = \"deny\"\nvalues = [\"127.0.0.0/8\"]\n\n\
         [[group]]\nname = \"DEFAULT\"\n\
         [[group.api]]\nname = \"admin\"\nmethod = \"GET\"\npath = \"/admin\"\nmatch = \"prefix\"\n\
         acl = {{ RELEASE = \"no-loopback\" }}\n\
         [group.api.backend]\ntype = \"http\"\naddress = \"{up}\"\npath = \"/admin\"\n\
         [[group.api]]\nname = \"all\"\nmethod = \"ANY\"\npath = \"/\"\nmatch = \"prefix\"\n\
         [group.api.backend]\ntype = \"http\"\naddress = \"{up}\"\npath = \"/\"\n"
    )
}

fn send(gw: SocketAddr, method: &str, path: &str) -> Response {
    request(gw, &format!("{method} {path} HTTP/1.1\r\nHost: t\r\n\r\n"))
}

fn assert_denied(r: &Response, what: &str) {
    assert_eq!(r.status, 403, "{what}: {}", r.text());
    r.assert_apig(
        403,
        "APIG.0402",
        "The IP address is not authorized to access the API.",
    );
}

fn assert_bad_request(r: &Response, what: &str) {
    assert_eq!(r.status, 400, "{what}: {}", r.text());
    r.assert_apig(400, "APIG.0602", "Bad request.");
}

driver_tests! {
    // regression: issue 13 item 2 — each of these reached the catch-all
    // and was forwarded verbatim to a backend that serves /admin for it.
    fn every_spelling_of_a_protected_path_meets_its_acl(driver) {
        let up = TestUpstream::start(|s| Reply::Ok(format!("{} {}", s.method, s.target)));
        let gw = TestGateway::one(driver, &config(up.addr, ""));
        assert_denied(&send(gw.addr, "GET", "/admin"), "/admin");
        for path in ["//admin", "/%61dmin", "/%61%64%6d%69%6E", "///admin//users", "/admin%2Dx/../"] {
            let r = send(gw.addr, "GET", path);
            if path.contains("..") {
                assert_bad_request(&r, path);
            } else {
                assert_denied(&r, path);
            }
        }
        // A backslash or an escaped separator is refused outright.
        for path in ["/x\\..\\admin", "/x%2F..%2Fadmin", "/x%5c..%5cadmin", "/a%zz"] {
            assert_bad_request(&send(gw.addr, "GET", path), path);
        }
        // HEAD is GET without the content: it meets the GET API's ACL
        // instead of reaching the catch-all.
        let mut c = Conn::open(gw.addr);
        c.send(b"HEAD /admin HTTP/1.1\r\nHost: t\r\n\r\n");
        assert_eq!(c.read_for(true).status, 403);
        // Methods are case-sensitive: `get` is no method an API can name,
        // so not even the `ANY` catch-all takes it.
        for method in ["get", "Get", "PROPFIND"] {
            let r = send(gw.addr, method, "/admin");
            r.assert_apig(400, "APIG.0201", "API request error.");
        }
        // The connection stays usable after a refused path.
        let mut c = Conn::open(gw.addr);
        c.send(b"GET /a%2Fb HTTP/1.1\r\nHost: t\r\n\r\n");
        assert_eq!(c.read().status, 400);
        c.send(b"GET /fine HTTP/1.1\r\nHost: t\r\n\r\n");
        assert_eq!(c.read().text(), "GET /fine");
        assert!(up.seen.try_recv().is_ok(), "only /fine reached the backend");
        assert!(up.seen.try_recv().is_err(), "nothing else reached the backend");
    }

    fn the_backend_receives_the_path_that_was_routed(driver) {
        let up = TestUpstream::start(|s| Reply::Ok(format!("{} {}", s.method, s.target)));
        let gw = TestGateway::one(driver, &config(up.addr, ""));
        for (sent, seen) in [
            ("//public//x/", "GET /public/x/"),
            ("/%7Euser/%41b%63", "GET /~user/Abc"),
            ("/a%2a?q=%2f%61", "GET /a%2A?q=%2f%61"),
            ("/x;v=1", "GET /x;v=1"),
        ] {
            assert_eq!(send(gw.addr, "GET", sent).text(), seen, "{sent}");
        }
    }

    fn semicolons_and_case_can_be_closed_for_backends_that_ignore_them(driver) {
        let up = TestUpstream::start(|s| Reply::Ok(format!("{} {}", s.method, s.target)));
        // Defaults: `;` kept, case-sensitive (as APIG) — these reach the
        // catch-all, as config/README.md warns.
        let gw = TestGateway::one(driver, &config(up.addr, ""));
        assert_eq!(send(gw.addr, "GET", "/admin;x=1").text(), "GET /admin;x=1");
        assert_eq!(send(gw.addr, "GET", "/ADMIN").text(), "GET /ADMIN");
        drop(gw);
        let closed = "path_semicolon = \"reject\"\npath_case_sensitive = false";
        let gw = TestGateway::one(driver, &config(up.addr, closed));
        assert_bad_request(&send(gw.addr, "GET", "/admin;x=1"), "/admin;x=1");
        for path in ["/ADMIN", "/Admin/x", "//AdMiN"] {
            assert_denied(&send(gw.addr, "GET", path), path);
        }
        // Case folding only matches; the backend still gets the path as sent.
        assert_eq!(send(gw.addr, "GET", "/Other/CASE").text(), "GET /Other/CASE");
    }

    fn merging_slashes_and_refusing_separators_can_be_turned_off(driver) {
        let up = TestUpstream::start(|s| Reply::Ok(format!("{} {}", s.method, s.target)));
        let relaxed = "path_merge_slashes = false\npath_backslash = \"keep\"\npath_escaped_slash = \"keep\"";
        let gw = TestGateway::one(driver, &config(up.addr, relaxed));
        assert_eq!(send(gw.addr, "GET", "//a").text(), "GET //a");
        assert_eq!(send(gw.addr, "GET", "/a%2fb").text(), "GET /a%2Fb");
        assert_eq!(send(gw.addr, "GET", "/a\\b").text(), "GET /a\\b");
    }
}
