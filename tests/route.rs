//! Routing over real sockets: host → group, path precedence, the two §6.7
//! lookup errors, prefix remainder and parameter substitution into the
//! backend path (behaviour.md §4.1, §6.3–§6.7).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::disallowed_methods
)] // test code: failing loudly is the point; deadlines read the real clock

mod common;
use common::*;

fn mock(name: &str, method: &str, path: &str, mode: &str) -> String {
    format!(
        "[[group.api]]\nname = \"{name}\"\nmethod = \"{method}\"\npath = \"{path}\"\nmatch = \"{mode}\"\n[group.api.backend]\ntype = \"mock\"\nbody = \"{name}\"\n\n"
    )
}

driver_tests! {
    fn precedence_over_the_wire(driver) {
        let mut body = String::from("[[group]]\nname = \"DEFAULT\"\n\n");
        body += &mock("static", "GET", "/users/me", "exact");
        body += &mock("param", "GET", "/users/{id}", "exact");
        body += &mock("greedy", "GET", "/users/{rest+}", "exact");
        body += &mock("prefix-users", "ANY", "/users", "prefix");
        body += &mock("prefix-root", "ANY", "/", "prefix");
        body += &mock("post-only", "POST", "/orders", "exact");
        let gw = TestGateway::one(driver, &body);
        assert_eq!(get(gw.addr, "/users/me").text(), "static");
        assert_eq!(get(gw.addr, "/users/42").text(), "param");
        assert_eq!(get(gw.addr, "/users/42/cars").text(), "greedy");
        let r = request(gw.addr, "DELETE /users/42 HTTP/1.1\r\nHost: t\r\n\r\n");
        assert_eq!(r.text(), "prefix-users", "exact routes do not accept DELETE; the longest prefix does");
        assert_eq!(get(gw.addr, "/elsewhere").text(), "prefix-root");
        // The exact POST-only API does not take GET; the root prefix API does.
        let r = get(gw.addr, "/orders");
        assert_eq!(r.text(), "prefix-root");
    }

    fn lookup_errors_are_the_documented_404s(driver) {
        let mut body = String::from("[[group]]\nname = \"DEFAULT\"\n\n");
        body += &mock("post-only", "POST", "/orders", "exact");
        let gw = TestGateway::one(driver, &body);
        get(gw.addr, "/orders").assert_apig(404, "APIG.0101", "The API does not exist.");
        get(gw.addr, "/nothing").assert_apig(
            404,
            "APIG.0101",
            "The API does not exist or has not been published in the environment.",
        );
        // The connection stays usable after a 404.
        let mut c = Conn::open(gw.addr);
        c.send(b"GET /nothing HTTP/1.1\r\nHost: t\r\n\r\nPOST /orders HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\nhi");
        assert_eq!(c.read().status, 404);
        assert_eq!(c.read().text(), "post-only");
    }

    fn a_preflight_prefix_api_does_not_change_the_404_message(driver) {
        // regression (review): an `OPTIONS /` prefix API (§17.2) made every
        // unknown path a method mismatch, "The API does not exist." (§6.7).
        let mut body = String::from("[[group]]\nname = \"DEFAULT\"\n\n");
        body += &mock("preflight", "OPTIONS", "/", "prefix");
        body += &mock("x", "GET", "/x", "exact");
        let gw = TestGateway::one(driver, &body);
        get(gw.addr, "/nothing").assert_apig(
            404,
            "APIG.0101",
            "The API does not exist or has not been published in the environment.",
        );
        request(gw.addr, "POST /x HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n")
            .assert_apig(404, "APIG.0101", "The API does not exist.");
        let r = request(gw.addr, "OPTIONS /nothing HTTP/1.1\r\nHost: t\r\n\r\n");
        assert_eq!(r.text(), "preflight");
    }

    fn host_selects_group_else_default(driver) {
        let mut body = String::from("[[group]]\nname = \"shop\"\ndomains = [\"shop.example.com\"]\n\n");
        body += &mock("shop", "GET", "/x", "exact");
        body += "[[group]]\nname = \"DEFAULT\"\n\n";
        body += &mock("default", "GET", "/x", "exact");
        let gw = TestGateway::one(driver, &body);
        let r = request(gw.addr, "GET /x HTTP/1.1\r\nHost: SHOP.example.com:8080\r\n\r\n");
        assert_eq!(r.text(), "shop");
        let r = request(gw.addr, "GET /x HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
        assert_eq!(r.text(), "default", "§4.1: an IP or unknown host reaches DEFAULT");
    }

    fn without_default_group_unknown_hosts_get_404(driver) {
        let mut body = String::from("[[group]]\nname = \"shop\"\ndomains = [\"shop.example.com\"]\n\n");
        body += &mock("shop", "GET", "/x", "exact");
        let gw = TestGateway::one(driver, &body);
        request(gw.addr, "GET /x HTTP/1.1\r\nHost: other\r\n\r\n").assert_apig(
            404,
            "APIG.0101",
            "The API does not exist or has not been published in the environment.",
        );
    }

    fn prefix_remainder_is_appended_to_backend_path(driver) {
        // behaviour.md §6.4: frontend /test/, backend /test2/, call /test/AA/CC.
        let up = TestUpstream::start(|s| Reply::Ok(s.target.clone()));
        let gw = TestGateway::one(driver, &proxy_api("GET", "/test/", "prefix", up.addr, "/test2/"));
        assert_eq!(get(gw.addr, "/test/AA/CC").text(), "/test2/AA/CC", "§27 C12: no trailing slash added");
        assert_eq!(get(gw.addr, "/test/AA/CC?q=1").text(), "/test2/AA/CC?q=1");
        assert_eq!(get(gw.addr, "/test").text(), "/test2/");
        get(gw.addr, "/testAA").assert_apig(404, "APIG.0101", "The API does not exist or has not been published in the environment.");
    }

    fn path_parameters_fill_the_backend_template(driver) {
        let up = TestUpstream::start(|s| Reply::Ok(s.target.clone()));
        let gw = TestGateway::one(driver, &proxy_api("GET", "/users/{id}/cars/{car}", "exact", up.addr, "/v2/cars/{car}/owner/{id}"));
        assert_eq!(get(gw.addr, "/users/7/cars/abc").text(), "/v2/cars/abc/owner/7");
    }
}
