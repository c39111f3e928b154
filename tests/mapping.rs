//! The backend request over real sockets (behaviour.md §9, §7.2): input
//! parameters mapped between locations, constant parameters with the §9.2
//! percent-encoding, system parameters, the `Host` header, and what passes
//! through unmapped.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::disallowed_methods
)] // test code: failing loudly is the point; deadlines read the real clock

mod common;
use common::*;

use std::net::SocketAddr;

/// The §9.1 worked example (S004 §3.2.1 Figure 3-1): frontend
/// `GET /v1.0/{test01}`, backend `/v1.0/{test05}`;
/// test01 PATH → HEADER test01, test02 HEADER → PATH test05,
/// test03 QUERY → HEADER test03.
fn worked_example(upstream: SocketAddr) -> String {
    format!(
        r#"[[group]]
name = "DEFAULT"

[[group.api]]
name = "example"
method = "GET"
path = "/v1.0/{{test01}}"
[[group.api.param]]
name = "test01"
location = "PATH"
required = true
[[group.api.param]]
name = "test02"
location = "HEADER"
required = true
[[group.api.param]]
name = "test03"
location = "QUERY"
required = true
[group.api.backend]
type = "http"
address = "{upstream}"
path = "/v1.0/{{test05}}"
timeout_ms = 1000
[[group.api.backend.param]]
name = "test01"
location = "HEADER"
from = "test01"
[[group.api.backend.param]]
name = "test05"
location = "PATH"
from = "test02"
[[group.api.backend.param]]
name = "test03"
location = "HEADER"
from = "test03"
"#
    )
}

/// A DEFAULT group (with stage DEV) whose one API `GET /{path}` proxies to
/// `upstream` at `backend_path`, with `extra` appended to its backend
/// table (constants, system parameters, Host settings).
fn api_with(upstream: SocketAddr, path: &str, backend_path: &str, extra: &str) -> String {
    format!(
        "[[stage]]\nname = \"DEV\"\n\n[[group]]\nname = \"DEFAULT\"\n\n\
         [[group.api]]\nname = \"api\"\nid = \"api-0042\"\nmethod = \"GET\"\npath = \"{path}\"\nstages = [\"RELEASE\", \"DEV\"]\n\
         [group.api.backend]\ntype = \"http\"\naddress = \"{upstream}\"\npath = \"{backend_path}\"\ntimeout_ms = 1000\n{extra}"
    )
}

fn constant(name: &str, location: &str, value: &str) -> String {
    format!(
        "[[group.api.backend.constant]]\nname = \"{name}\"\nlocation = \"{location}\"\nvalue = '{value}'\n"
    )
}

fn system(name: &str, location: &str, from: &str) -> String {
    format!(
        "[[group.api.backend.system]]\nname = \"{name}\"\nlocation = \"{location}\"\nfrom = \"{from}\"\n"
    )
}

/// Every value of header `name` the upstream saw.
fn all<'a>(seen: &'a Seen, name: &str) -> Vec<&'a str> {
    seen.headers
        .iter()
        .filter(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
        .collect()
}

driver_tests! {
    fn worked_example_moves_each_parameter(driver) {
        // §9.1: curl -H 'test02:def' https://www.example01.com/v1.0/abc?test03=xyz
        // → curl -H 'test01:abc' -H 'test03:xyz' https://www.example02.com/v1.0/def
        let up = TestUpstream::ok();
        let gw = TestGateway::one(driver, &worked_example(up.addr));
        let r = request(
            gw.addr,
            "GET /v1.0/abc?test03=xyz HTTP/1.1\r\nHost: www.example01.com\r\ntest02: def\r\n\r\n",
        );
        assert_eq!(r.status, 200, "{}", r.text());
        let seen = up.next();
        assert_eq!(seen.method, "GET");
        assert_eq!(seen.target, "/v1.0/def", "test03 leaves the query; test05 fills the path");
        assert_eq!(all(&seen, "test01"), ["abc"]);
        assert_eq!(all(&seen, "test03"), ["xyz"]);
        assert_eq!(seen.header("test02"), None, "a mapped parameter leaves its original place");
        assert_eq!(seen.header("test05"), None);
    }

    fn worked_example_passes_unmapped_parameters_through(driver) {
        // §9.1 Suggestion: undefined headers and query pairs pass through
        // unchanged, in order, around the consumed ones.
        let up = TestUpstream::ok();
        let gw = TestGateway::one(driver, &worked_example(up.addr));
        let r = request(
            gw.addr,
            "GET /v1.0/abc?a=1&test03=xyz&b=%5B2%5D HTTP/1.1\r\nHost: t\r\ntest02: def\r\nX-Custom: kept\r\nTest01: evil\r\ntest03: evil\r\n\r\n",
        );
        assert_eq!(r.status, 200, "{}", r.text());
        let seen = up.next();
        assert_eq!(seen.target, "/v1.0/def?a=1&b=%5B2%5D");
        assert_eq!(seen.header("x-custom"), Some("kept"));
        assert_eq!(seen.header("test02"), None);
        // A client header named like a HEADER target does not reach the backend.
        assert_eq!(all(&seen, "test01"), ["abc"]);
        assert_eq!(all(&seen, "test03"), ["xyz"]);
    }

    fn mapped_values_are_decoded_then_encoded_for_their_new_place(driver) {
        // §9.2 Suggestion: mapped path/query values are re-encoded with the
        // same tables; a HEADER target gets the decoded text.
        let up = TestUpstream::ok();
        let gw = TestGateway::one(driver, &worked_example(up.addr));
        let r = request(
            gw.addr,
            "GET /v1.0/a%20b?test03=x%2By HTTP/1.1\r\nHost: t\r\ntest02: d/e?f\r\n\r\n",
        );
        assert_eq!(r.status, 200, "{}", r.text());
        let seen = up.next();
        assert_eq!(seen.target, "/v1.0/d%2Fe%3Ff", "a header value cannot add path segments or a query");
        assert_eq!(seen.header("test01"), Some("a b"));
        assert_eq!(seen.header("test03"), Some("x+y"));
    }

    fn constants_are_percent_encoded_for_path_and_query(driver) {
        // §9.2: `[apig]` → `%5Bapig%5D`; a HEADER constant is verbatim.
        let up = TestUpstream::ok();
        let mut extra = constant("pc", "PATH", "[apig]");
        extra += &constant("c", "QUERY", "[apig]");
        extra += &constant("X-Const", "HEADER", "[apig] a/b?c=d&e");
        let gw = TestGateway::one(driver, &api_with(up.addr, "/c", "/c/{pc}", &extra));
        let r = get(gw.addr, "/c");
        assert_eq!(r.status, 200, "{}", r.text());
        let seen = up.next();
        assert_eq!(seen.target, "/c/%5Bapig%5D?c=%5Bapig%5D");
        assert_eq!(seen.header("x-const"), Some("[apig] a/b?c=d&e"));
        assert_eq!(r.header("x-const"), None, "constants are invisible to callers");
    }

    fn path_and_query_constants_escape_different_characters(driver) {
        // §9.2 table: PATH encodes `/` and `?` (no extra segments, no
        // query); QUERY keeps `/` and `?` but encodes `=`, `&` and `+`.
        let up = TestUpstream::ok();
        let mut extra = constant("pc", "PATH", "a/b?c=d&e+f");
        extra += &constant("qc", "QUERY", "a/b?c=d&e+f");
        let gw = TestGateway::one(driver, &api_with(up.addr, "/c", "/c/{pc}/end", &extra));
        let r = get(gw.addr, "/c?keep=1");
        assert_eq!(r.status, 200, "{}", r.text());
        let seen = up.next();
        assert_eq!(seen.target, "/c/a%2Fb%3Fc=d&e+f/end?keep=1&qc=a/b?c%3Dd%26e%2Bf");
    }

    fn system_parameters_carry_runtime_values(driver) {
        // §9.3 default gateway parameters, in HEADER and QUERY targets.
        let up = TestUpstream::ok();
        let mut extra = system("X-Source", "HEADER", "sourceIp");
        extra += &system("X-Env", "HEADER", "stage");
        extra += &system("X-Api", "HEADER", "apiId");
        extra += &system("X-App", "HEADER", "appId");
        extra += &system("X-Rid", "HEADER", "requestId");
        extra += &system("X-Tenant", "HEADER", "tenantId");
        extra += &system("X-User", "HEADER", "userId");
        extra += &system("X-Account", "HEADER", "accountName");
        extra += &system("env", "QUERY", "stage");
        let gw = TestGateway::one(driver, &api_with(up.addr, "/s", "/s", &extra));
        for (stage, header) in [("RELEASE", ""), ("DEV", "X-Stage: DEV\r\n")] {
            let r = request(gw.addr, &format!("GET /s HTTP/1.1\r\nHost: t\r\n{header}\r\n"));
            assert_eq!(r.status, 200, "{}", r.text());
            let seen = up.next();
            assert_eq!(seen.target, format!("/s?env={stage}"));
            assert_eq!(seen.header("x-source"), Some("127.0.0.1"));
            assert_eq!(seen.header("x-env"), Some(stage));
            assert_eq!(seen.header("x-api"), Some("api-0042"), "the configured id, not the name");
            assert_eq!(seen.header("x-app"), Some(""), "no app authentication: empty");
            for token_claim in ["x-tenant", "x-user", "x-account"] {
                assert_eq!(seen.header(token_claim), Some(""), "no token authentication: empty");
            }
            let rid = r.header("x-request-id").expect("X-Request-Id on the response");
            assert!(!rid.is_empty());
            assert_eq!(seen.header("x-rid"), Some(rid), "the id the client got back");
            assert_eq!(seen.header("x-request-id"), Some(rid));
        }
    }

    fn api_id_defaults_to_the_name(driver) {
        let up = TestUpstream::ok();
        let body = api_with(up.addr, "/s", "/s", &system("X-Api", "HEADER", "apiId"))
            .replace("id = \"api-0042\"\n", "");
        let gw = TestGateway::one(driver, &body);
        assert_eq!(get(gw.addr, "/s").status, 200);
        assert_eq!(up.next().header("x-api"), Some("api"));
    }

    fn clients_cannot_spoof_system_parameters(driver) {
        // A client header or query pair with a target's name is not passed
        // on: the backend sees only the gateway's value.
        let up = TestUpstream::ok();
        let mut extra = system("X-Source", "HEADER", "sourceIp");
        extra += &system("stage", "QUERY", "stage");
        extra += &constant("X-Const", "HEADER", "real");
        let gw = TestGateway::one(driver, &api_with(up.addr, "/s", "/s", &extra));
        let r = request(
            gw.addr,
            "GET /s?stage=EVIL&a=1&STAGE=evil2 HTTP/1.1\r\nHost: t\r\nX-Source: 6.6.6.6\r\nx-source: 1.2.3.4\r\nx-const: fake\r\n\r\n",
        );
        assert_eq!(r.status, 200, "{}", r.text());
        let seen = up.next();
        assert_eq!(all(&seen, "x-source"), ["127.0.0.1"]);
        assert_eq!(all(&seen, "x-const"), ["real"]);
        assert_eq!(seen.target, "/s?a=1&stage=RELEASE");
    }

    fn host_header_follows_the_backend_settings(driver) {
        // §7.2: the backend address by default; the client's Host with
        // preserve_host; a fixed name with host_header.
        let up = TestUpstream::ok();
        let client = "GET /h HTTP/1.1\r\nHost: client.example:8443\r\n\r\n";
        let cases = [
            ("", up.addr.to_string()),
            ("preserve_host = true\n", "client.example:8443".to_string()),
            ("host_header = \"fixed.internal\"\n", "fixed.internal".to_string()),
        ];
        for (setting, want) in cases {
            let gw = TestGateway::one(driver, &api_with(up.addr, "/h", "/h", setting));
            assert_eq!(request(gw.addr, client).status, 200);
            let seen = up.next();
            assert_eq!(all(&seen, "host"), [want.as_str()], "setting {setting:?}");
            assert_eq!(seen.header("x-forwarded-host"), Some("client.example:8443"));
        }
    }

    fn unmapped_headers_and_query_pass_through(driver) {
        // §9.1 Suggestion: with nothing mapped, the query is passed as
        // received and end-to-end headers are kept.
        let up = TestUpstream::ok();
        let gw = TestGateway::one(driver, &api_with(up.addr, "/u", "/u", ""));
        let r = request(
            gw.addr,
            "GET /u?a=1&b=%5Bx%5D&c HTTP/1.1\r\nHost: t\r\nX-One: 1\r\nX-Two: two words\r\nX-One: again\r\n\r\n",
        );
        assert_eq!(r.status, 200);
        let seen = up.next();
        assert_eq!(seen.target, "/u?a=1&b=%5Bx%5D&c");
        assert_eq!(all(&seen, "x-one"), ["1", "again"]);
        assert_eq!(seen.header("x-two"), Some("two words"));
    }

    fn defaults_and_values_follow_a_mapping_to_another_name_and_place(driver) {
        // §9.1 with §6.5: a mapped parameter's default goes to the target,
        // not to its original name; a header mapped to QUERY is
        // QUERY-encoded (§9.2 Suggestion); system parameters fill PATH.
        let up = TestUpstream::ok();
        let extra = "[[group.api.backend.param]]\nname = \"X-Lang\"\nlocation = \"HEADER\"\nfrom = \"lang\"\n\
                     [[group.api.backend.param]]\nname = \"f\"\nlocation = \"QUERY\"\nfrom = \"filter\"\n"
            .to_string()
            + &system("env", "PATH", "stage")
            + &system("ip", "PATH", "sourceIp");
        let params = "[[group.api.param]]\nname = \"lang\"\nlocation = \"HEADER\"\ndefault = \"en\"\n\
                      [[group.api.param]]\nname = \"filter\"\nlocation = \"HEADER\"\n";
        let body = api_with(up.addr, "/m", "/m/{env}/{ip}", &extra).replace(
            "[group.api.backend]",
            &format!("{params}[group.api.backend]"),
        );
        let gw = TestGateway::one(driver, &body);
        assert_eq!(get(gw.addr, "/m").status, 200);
        let seen = up.next();
        // regression: an absent optional input mapped to QUERY was sent as `f=`.
        assert_eq!(seen.target, "/m/RELEASE/127.0.0.1", "an absent optional input adds nothing");
        assert_eq!(all(&seen, "x-lang"), ["en"]);
        assert_eq!(seen.header("lang"), None);
        let r = request(
            gw.addr,
            "GET /m?f=client HTTP/1.1\r\nHost: t\r\nX-Stage: DEV\r\nLang: de\r\nFilter: a&b=c d\r\n\r\n",
        );
        assert_eq!(r.status, 200);
        let seen = up.next();
        assert_eq!(seen.target, "/m/DEV/127.0.0.1?f=a%26b%3Dc%20d", "the client's own f= is dropped");
        assert_eq!(all(&seen, "x-lang"), ["de"]);
        assert_eq!(seen.header("lang"), None);
        assert_eq!(seen.header("filter"), None);
    }
}
