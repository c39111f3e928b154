//! Input parameters over real sockets (behaviour.md §6.5): mandatory,
//! length and NUMBER checks answer `400 APIG.0201 "API request error."`
//! (the §6.5 Suggestion), defaults reach the backend where the request
//! left the parameter out, and present values pass through.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::disallowed_methods
)] // test code: failing loudly is the point; deadlines read the real clock

mod common;
use common::*;

use std::net::SocketAddr;

const BAD_REQUEST: &str = "API request error.";

/// `GET /p` proxied to `upstream` (`/b`, query passed on), with:
/// `h1` HEADER required; `q1` QUERY required; `len` HEADER, 2–4
/// characters; `num` QUERY NUMBER; `hd` HEADER default `hdef`; `qd` QUERY
/// default `x y`.
fn api(upstream: SocketAddr) -> String {
    let param = |name: &str, location: &str, extra: &str| {
        format!("[[group.api.param]]\nname = \"{name}\"\nlocation = \"{location}\"\n{extra}")
    };
    let mut s = format!(
        "[[group]]\nname = \"DEFAULT\"\n\n[[group.api]]\nname = \"p\"\nmethod = \"GET\"\npath = \"/p\"\n\
         [group.api.backend]\ntype = \"http\"\naddress = \"{upstream}\"\npath = \"/b\"\ntimeout_ms = 1000\n"
    );
    s += &param("h1", "HEADER", "required = true\n");
    s += &param("q1", "QUERY", "required = true\n");
    s += &param("len", "HEADER", "min_length = 2\nmax_length = 4\n");
    s += &param("num", "QUERY", "type = \"NUMBER\"\n");
    s += &param("hd", "HEADER", "default = \"hdef\"\n");
    s += &param("qd", "QUERY", "default = \"x y\"\n");
    s
}

/// `GET /p?{query}` with extra header lines `headers` (each ending CRLF).
fn call(query: &str, headers: &str) -> String {
    format!("GET /p?{query} HTTP/1.1\r\nHost: t\r\n{headers}\r\n")
}

fn echo() -> TestUpstream {
    TestUpstream::start(|s| Reply::Ok(s.target.clone()))
}

driver_tests! {
    fn missing_mandatory_parameters_are_400(driver) {
        // §6.5: "With Yes, requests without the parameter are rejected."
        let up = echo();
        let gw = TestGateway::one(driver, &api(up.addr));
        request(gw.addr, &call("q1=a", "")).assert_apig(400, "APIG.0201", BAD_REQUEST);
        request(gw.addr, &call("other=1", "h1: a\r\n")).assert_apig(400, "APIG.0201", BAD_REQUEST);
        request(gw.addr, "GET /p HTTP/1.1\r\nHost: t\r\nh1: a\r\n\r\n")
            .assert_apig(400, "APIG.0201", BAD_REQUEST);
        // Names are not case-sensitive (§6.5): `Q1` and `H1` count.
        let r = request(gw.addr, &call("Q1=a", "H1: a\r\n"));
        assert_eq!(r.status, 200, "{}", r.text());
        // Only the accepted request reached the backend.
        assert_eq!(up.next().target, "/b?Q1=a&qd=x%20y");
    }

    fn lengths_are_checked_at_both_ends(driver) {
        // §6.5 minimum / maximum length; the bounds themselves pass.
        let up = echo();
        let gw = TestGateway::one(driver, &api(up.addr));
        request(gw.addr, &call("q1=a", "h1: a\r\nlen: a\r\n")).assert_apig(400, "APIG.0201", BAD_REQUEST);
        request(gw.addr, &call("q1=a", "h1: a\r\nlen: abcde\r\n")).assert_apig(400, "APIG.0201", BAD_REQUEST);
        for ok in ["ab", "abcd"] {
            let r = request(gw.addr, &call("q1=a", &format!("h1: a\r\nlen: {ok}\r\n")));
            assert_eq!(r.status, 200, "len {ok}: {}", r.text());
            assert_eq!(up.next().header("len"), Some(ok));
        }
    }

    fn number_parameters_refuse_other_text(driver) {
        // §6.5 type NUMBER.
        let up = echo();
        let gw = TestGateway::one(driver, &api(up.addr));
        for bad in ["abc", "1a", "", "1.", "--1"] {
            request(gw.addr, &call(&format!("q1=a&num={bad}"), "h1: a\r\n"))
                .assert_apig(400, "APIG.0201", BAD_REQUEST);
        }
        for good in ["42", "-3", "12.5", "1e3"] {
            let r = request(gw.addr, &call(&format!("q1=a&num={good}"), "h1: a\r\n"));
            assert_eq!(r.status, 200, "num={good}: {}", r.text());
            assert_eq!(up.next().target, format!("/b?q1=a&num={good}&qd=x%20y"));
        }
    }

    fn defaults_reach_the_backend_in_their_own_location(driver) {
        // §6.5: "API Gateway will automatically send the default value to
        // the backend service": a HEADER default as a header, a QUERY
        // default as a query pair (QUERY-encoded, §9.2).
        let up = echo();
        let gw = TestGateway::one(driver, &api(up.addr));
        let r = request(gw.addr, &call("q1=a", "h1: a\r\n"));
        assert_eq!(r.status, 200);
        let seen = up.next();
        assert_eq!(seen.target, "/b?q1=a&qd=x%20y");
        assert_eq!(seen.header("hd"), Some("hdef"));
        assert_eq!(seen.header("h1"), Some("a"));
        assert_eq!(seen.header("len"), None, "an optional parameter without default stays absent");
    }

    fn present_values_pass_through(driver) {
        // Values the client sent are not replaced by defaults nor doubled.
        let up = echo();
        let gw = TestGateway::one(driver, &api(up.addr));
        let r = request(gw.addr, &call("q1=a%20b&qd=mine&num=7", "h1: one\r\nhd: own\r\n"));
        assert_eq!(r.status, 200);
        let seen = up.next();
        assert_eq!(seen.target, "/b?q1=a%20b&qd=mine&num=7");
        let hd: Vec<_> = seen.headers.iter().filter(|(n, _)| n == "hd").collect();
        assert_eq!(hd, [&("hd".to_string(), "own".to_string())]);
        assert_eq!(seen.header("h1"), Some("one"));
    }

    fn encoded_crlf_in_a_query_parameter_is_400(driver) {
        // A decoded CR LF could split a header the value is mapped into.
        let up = echo();
        let gw = TestGateway::one(driver, &api(up.addr));
        request(gw.addr, &call("q1=a%0D%0AX-Evil:%201", "h1: a\r\n")).assert_apig(400, "APIG.0201", BAD_REQUEST);
        request(gw.addr, &call("q1=a%0Ab", "h1: a\r\n")).assert_apig(400, "APIG.0201", BAD_REQUEST);
        request(gw.addr, &call("q1=a%00b", "h1: a\r\n")).assert_apig(400, "APIG.0201", BAD_REQUEST);
        let r = request(gw.addr, &call("q1=a%09b", "h1: a\r\n"));
        assert_eq!(r.status, 200, "TAB is allowed: {}", r.text());
    }

    fn connection_stays_usable_after_a_400(driver) {
        let up = echo();
        let gw = TestGateway::one(driver, &api(up.addr));
        let mut c = Conn::open(gw.addr);
        c.send(call("q1=a", "").as_bytes());
        let r = c.read();
        r.assert_apig(400, "APIG.0201", BAD_REQUEST);
        assert_ne!(r.header("connection"), Some("close"));
        // A rejected request with a body: the body is read and dropped.
        c.send(b"GET /p?q1=a HTTP/1.1\r\nHost: t\r\nlen: x\r\nh1: a\r\nContent-Length: 5\r\n\r\nhello");
        c.read().assert_apig(400, "APIG.0201", BAD_REQUEST);
        c.send(call("q1=ok", "h1: a\r\n").as_bytes());
        let r = c.read();
        assert_eq!(r.status, 200);
        assert_eq!(r.text(), "/b?q1=ok&qd=x%20y");
        assert_eq!(up.next().target, "/b?q1=ok&qd=x%20y", "rejected requests never reach the backend");
    }

    fn query_defaults_are_added_to_a_request_without_a_query(driver) {
        // §6.5 defaults with no `?` at all, and with an empty query.
        let up = echo();
        let body = format!(
            "[[group]]\nname = \"DEFAULT\"\n\n[[group.api]]\nname = \"d\"\nmethod = \"GET\"\npath = \"/d\"\n\
             [[group.api.param]]\nname = \"page\"\nlocation = \"QUERY\"\ntype = \"NUMBER\"\ndefault = \"1\"\n\
             [[group.api.param]]\nname = \"lang\"\nlocation = \"QUERY\"\ndefault = \"en&fr=1\"\n\
             [group.api.backend]\ntype = \"http\"\naddress = \"{}\"\npath = \"/b\"\ntimeout_ms = 1000\n",
            up.addr
        );
        let gw = TestGateway::one(driver, &body);
        assert_eq!(get(gw.addr, "/d").text(), "/b?page=1&lang=en%26fr%3D1");
        assert_eq!(get(gw.addr, "/d?").text(), "/b?page=1&lang=en%26fr%3D1");
        assert_eq!(get(gw.addr, "/d?page=3&x=y").text(), "/b?page=3&x=y&lang=en%26fr%3D1");
    }

    fn a_query_key_without_a_value_does_not_take_the_worker_down(driver) {
        // regression (review): `?q1` (no `=`) panicked the worker computing
        // the value's offset; every later request on that worker hung.
        let up = echo();
        let gw = TestGateway::one(driver, &api(up.addr));
        let r = request(gw.addr, &call("q1", "h1: a\r\n"));
        assert_eq!(r.status, 200, "{}", r.text());
        assert_eq!(up.next().target, "/b?q1&qd=x%20y");
        let r = request(gw.addr, &call("q1=b", "h1: a\r\n"));
        assert_eq!(r.status, 200, "the worker still serves: {}", r.text());
    }

    fn a_repeated_parameter_is_400(driver) {
        // regression (review): only the first copy was validated, every copy
        // was passed on (`?num=1&num=abc`).
        let up = echo();
        let gw = TestGateway::one(driver, &api(up.addr));
        request(gw.addr, &call("q1=a&num=1&NUM=abc", "h1: a\r\n")).assert_apig(400, "APIG.0201", BAD_REQUEST);
        request(gw.addr, &call("q1=a", "h1: a\r\nh1: b\r\n")).assert_apig(400, "APIG.0201", BAD_REQUEST);
    }
}
