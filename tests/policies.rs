//! Backend policies over real sockets (behaviour.md §8): source-IP and
//! input-parameter conditions, equal / enum / match, "any" vs "all",
//! declared order with the first match winning, and the default backend
//! when no policy holds.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::disallowed_methods
)] // test code: failing loudly is the point; deadlines read the real clock

mod common;
use common::*;

use std::net::SocketAddr;

/// A DEFAULT group whose API `GET /pol/{p}` has input parameters `p`
/// (PATH), `a`, `b`, `c` (QUERY) and `d` (HEADER, default `dv`), a mock
/// default backend answering `default`, and `policies` appended.
fn api(policies: &str) -> String {
    let param = |name: &str, location: &str, extra: &str| {
        format!("[[group.api.param]]\nname = \"{name}\"\nlocation = \"{location}\"\n{extra}")
    };
    let mut s = String::from(
        "[[group]]\nname = \"DEFAULT\"\n\n[[group.api]]\nname = \"pol\"\nmethod = \"GET\"\npath = \"/pol/{p}\"\n\
         [group.api.backend]\ntype = \"mock\"\nbody = \"default\"\n",
    );
    s += &param("p", "PATH", "required = true\n");
    s += &param("a", "QUERY", "");
    s += &param("b", "QUERY", "");
    s += &param("c", "QUERY", "");
    s += &param("d", "HEADER", "default = \"dv\"\n");
    s += policies;
    s
}

/// A policy answering `body` from a mock backend.
fn policy(name: &str, effective: &str, conditions: &str, body: &str) -> String {
    format!(
        "[[group.api.policy]]\nname = \"{name}\"\neffective = \"{effective}\"\ncondition = [{conditions}]\nbackend = {{ type = \"mock\", body = \"{body}\" }}\n"
    )
}

fn source_ip(nets: &str) -> String {
    format!("{{ source = \"source_ip\", value = {nets} }}")
}

fn param(name: &str, kind: &str, value: &str) -> String {
    format!("{{ source = \"param\", param = \"{name}\", type = \"{kind}\", value = {value} }}")
}

/// The body answering `GET target` (with extra header lines).
fn body_of(addr: SocketAddr, target: &str, headers: &str) -> String {
    let r = request(
        addr,
        &format!("GET {target} HTTP/1.1\r\nHost: t\r\n{headers}\r\n"),
    );
    assert_eq!(r.status, 200, "{target}: {}", r.text());
    r.text()
}

driver_tests! {
    fn source_ip_conditions_take_addresses_and_cidrs(driver) {
        // §8.2 source IP, with CIDRs (the Suggestion). The client is 127.0.0.1.
        let mut policies = policy("ten", "any", &source_ip("[\"10.0.0.0/8\"]"), "ten");
        policies += &policy("loopback", "any", &source_ip("[\"192.168.0.0/16\", \"127.0.0.0/8\"]"), "loopback");
        let gw = TestGateway::one(driver, &api(&policies));
        assert_eq!(body_of(gw.addr, "/pol/x", ""), "loopback");

        let only_ten = policy("ten", "any", &source_ip("\"10.0.0.0/8, 10.1.2.3\""), "ten");
        let gw = TestGateway::one(driver, &api(&only_ten));
        assert_eq!(body_of(gw.addr, "/pol/x", ""), "default", "no policy holds: the default backend");

        let single = policy("one", "any", &source_ip("\"127.0.0.1\""), "single");
        let gw = TestGateway::one(driver, &api(&single));
        assert_eq!(body_of(gw.addr, "/pol/x", ""), "single", "a plain address is a /32");
    }

    fn equal_enum_and_match_conditions(driver) {
        // §8.2 condition types; Match is a full match (the Suggestion), so
        // `[0-5]` takes `3` and not `35`.
        let mut policies = policy("eq", "any", &param("a", "equal", "\"x\""), "equal");
        policies += &policy("en", "any", &param("b", "enum", "[\"1\", \"2\", \"3\"]"), "enum");
        policies += &policy("en2", "any", &param("b", "enum", "\"7, 8\""), "enum-text");
        policies += &policy("re", "any", &param("c", "match", "\"[0-5]\""), "match");
        policies += &policy("alt", "any", &param("p", "match", "\"x|y\""), "alternation");
        let gw = TestGateway::one(driver, &api(&policies));
        assert_eq!(body_of(gw.addr, "/pol/z?a=x", ""), "equal");
        assert_eq!(body_of(gw.addr, "/pol/z?a=X", ""), "default", "equal is case-sensitive");
        assert_eq!(body_of(gw.addr, "/pol/z?a=xx", ""), "default");
        assert_eq!(body_of(gw.addr, "/pol/z?b=2", ""), "enum");
        assert_eq!(body_of(gw.addr, "/pol/z?b=4", ""), "default");
        assert_eq!(body_of(gw.addr, "/pol/z?b=8", ""), "enum-text", "enumerated values separated by commas");
        assert_eq!(body_of(gw.addr, "/pol/z?b=1,2", ""), "default");
        assert_eq!(body_of(gw.addr, "/pol/z?c=3", ""), "match");
        assert_eq!(body_of(gw.addr, "/pol/z?c=35", ""), "default", "full match, not search");
        assert_eq!(body_of(gw.addr, "/pol/z?c=6", ""), "default");
        assert_eq!(body_of(gw.addr, "/pol/y", ""), "alternation");
        assert_eq!(body_of(gw.addr, "/pol/xz", ""), "default", "the whole alternation is anchored");
        // Values are compared decoded.
        assert_eq!(body_of(gw.addr, "/pol/z?a=%78", ""), "equal");
    }

    fn any_needs_one_condition_all_needs_every_one(driver) {
        // §8.1 effective mode.
        let both = format!("{}, {}", param("a", "equal", "\"x\""), param("b", "equal", "\"1\""));
        let either = format!("{}, {}", param("a", "equal", "\"y\""), param("b", "equal", "\"9\""));
        let mut policies = policy("all", "all", &both, "all");
        policies += &policy("any", "any", &either, "any");
        let gw = TestGateway::one(driver, &api(&policies));
        assert_eq!(body_of(gw.addr, "/pol/z?a=x&b=1", ""), "all");
        assert_eq!(body_of(gw.addr, "/pol/z?a=x&b=2", ""), "default");
        assert_eq!(body_of(gw.addr, "/pol/z?a=x", ""), "default", "all: an absent parameter fails it");
        assert_eq!(body_of(gw.addr, "/pol/z?a=y", ""), "any");
        assert_eq!(body_of(gw.addr, "/pol/z?b=9", ""), "any");
        assert_eq!(body_of(gw.addr, "/pol/z?a=y&b=9", ""), "any");
    }

    fn first_matching_policy_in_declared_order_wins(driver) {
        // §8.2 Suggestion: declaration order, first match.
        let mut policies = policy("first", "any", &param("a", "equal", "\"x\""), "first");
        policies += &policy("second", "any", &source_ip("[\"127.0.0.0/8\"]"), "second");
        policies += &policy("third", "any", &param("a", "equal", "\"x\""), "third");
        let gw = TestGateway::one(driver, &api(&policies));
        assert_eq!(body_of(gw.addr, "/pol/z?a=x", ""), "first");
        assert_eq!(body_of(gw.addr, "/pol/z", ""), "second");
        assert_eq!(body_of(gw.addr, "/pol/z?a=other", ""), "second");
    }

    fn condition_on_an_absent_parameter_is_false(driver) {
        // §8.2 Suggestion: absent → false, even for an expression that
        // takes the empty value.
        let policies = policy("present", "any", &param("a", "match", "\".*\""), "present");
        let gw = TestGateway::one(driver, &api(&policies));
        assert_eq!(body_of(gw.addr, "/pol/z", ""), "default");
        assert_eq!(body_of(gw.addr, "/pol/z?b=1", ""), "default");
        assert_eq!(body_of(gw.addr, "/pol/z?a=", ""), "present", "an empty value is present");
        assert_eq!(body_of(gw.addr, "/pol/z?a=anything", ""), "present");
    }

    fn condition_sees_the_default_value(driver) {
        // §8.2 Suggestion: conditions are evaluated after default injection.
        let policies = policy("defaulted", "any", &param("d", "equal", "\"dv\""), "defaulted");
        let gw = TestGateway::one(driver, &api(&policies));
        assert_eq!(body_of(gw.addr, "/pol/z", ""), "defaulted");
        assert_eq!(body_of(gw.addr, "/pol/z", "d: other\r\n"), "default");
        assert_eq!(body_of(gw.addr, "/pol/z", "D: dv\r\n"), "defaulted");
    }

    fn policy_with_http_backend_proxies_to_its_own_upstream(driver) {
        // §8.1: a policy's backend is a complete backend of any type.
        let main = TestUpstream::start(|s| Reply::Ok(format!("main {}", s.target)));
        let special = TestUpstream::start(|s| Reply::Ok(format!("special {}", s.target)));
        let body = format!(
            "[[group]]\nname = \"DEFAULT\"\n\n[[group.api]]\nname = \"pol\"\nmethod = \"GET\"\npath = \"/pol/{{p}}\"\n\
             [[group.api.param]]\nname = \"p\"\nlocation = \"PATH\"\nrequired = true\n\
             [group.api.backend]\ntype = \"http\"\naddress = \"{}\"\npath = \"/main/{{p}}\"\ntimeout_ms = 1000\n\
             [[group.api.policy]]\nname = \"vip\"\ncondition = [{}]\n\
             [group.api.policy.backend]\ntype = \"http\"\naddress = \"{}\"\npath = \"/special/{{p}}\"\ntimeout_ms = 1000\n\
             [[group.api.policy.backend.constant]]\nname = \"X-Policy\"\nlocation = \"HEADER\"\nvalue = \"vip\"\n",
            main.addr,
            param("p", "enum", "[\"gold\", \"silver\"]"),
            special.addr,
        );
        let gw = TestGateway::one(driver, &body);
        assert_eq!(body_of(gw.addr, "/pol/gold?q=1", ""), "special /special/gold?q=1");
        assert_eq!(body_of(gw.addr, "/pol/bronze", ""), "main /main/bronze");
        assert_eq!(body_of(gw.addr, "/pol/silver", ""), "special /special/silver");
        let seen = special.next();
        assert_eq!(seen.header("x-policy"), Some("vip"), "the policy backend's own constants");
        assert_eq!(special.next().target, "/special/silver");
        let seen = main.next();
        assert_eq!(seen.target, "/main/bronze");
        assert_eq!(seen.header("x-policy"), None);
    }
}
