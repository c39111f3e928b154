//! Environments (stages) over real sockets: `X-Stage` selects the stage,
//! RELEASE without it, an API not published in the selected stage is the
//! §5.1 404, and per-stage `#variables#` fill the backend path and address
//! (behaviour.md §5.1, §5.2).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::disallowed_methods
)] // test code: failing loudly is the point; deadlines read the real clock

mod common;
use common::*;

/// §5.1 / §4.3.3: the message of a 404 for an API not published in the stage.
const NOT_PUBLISHED: &str = "The API does not exist or has not been published in the environment.";

/// A mock API answering `body`, published in `stages` (a TOML array).
fn mock(name: &str, path: &str, stages: &str, body: &str) -> String {
    format!(
        "[[group.api]]\nname = \"{name}\"\nmethod = \"GET\"\npath = \"{path}\"\nstages = {stages}\n[group.api.backend]\ntype = \"mock\"\nbody = \"{body}\"\n\n"
    )
}

/// `GET path` with an optional `X-Stage` header.
fn get_in(addr: std::net::SocketAddr, path: &str, stage: Option<&str>) -> Response {
    let stage = stage.map_or(String::new(), |s| format!("X-Stage: {s}\r\n"));
    request(
        addr,
        &format!("GET {path} HTTP/1.1\r\nHost: t\r\n{stage}\r\n"),
    )
}

driver_tests! {
    fn no_x_stage_reaches_release_and_x_stage_selects_dev(driver) {
        // §5.1: without the header the call reaches RELEASE; `X-Stage: DEV`
        // reaches the API as published in DEV.
        let mut body = String::from("[[stage]]\nname = \"DEV\"\n\n[[group]]\nname = \"DEFAULT\"\n\n");
        body += &mock("both", "/both", "[\"RELEASE\", \"DEV\"]", "both");
        body += &mock("rel", "/rel", "[\"RELEASE\"]", "release-only");
        body += &mock("dev", "/dev", "[\"DEV\"]", "dev-only");
        let gw = TestGateway::one(driver, &body);
        assert_eq!(get_in(gw.addr, "/both", None).text(), "both");
        assert_eq!(get_in(gw.addr, "/both", Some("DEV")).text(), "both");
        assert_eq!(get_in(gw.addr, "/rel", None).text(), "release-only");
        assert_eq!(get_in(gw.addr, "/rel", Some("RELEASE")).text(), "release-only", "RELEASE can be named");
        let r = get_in(gw.addr, "/dev", Some("DEV"));
        assert_eq!(r.status, 200);
        assert_eq!(r.text(), "dev-only");
        // A RELEASE-only API is not published in DEV.
        get_in(gw.addr, "/rel", Some("DEV")).assert_apig(404, "APIG.0101", NOT_PUBLISHED);
    }

    fn dev_only_api_needs_the_exact_stage_name(driver) {
        // §5.1: an API published only in a non-RELEASE stage, called without
        // the correct X-Stage, is 404 APIG.0101; names are case-sensitive
        // (§5.1 Suggestion) and an unknown stage publishes nothing.
        let mut body = String::from("[[stage]]\nname = \"DEV\"\n\n[[group]]\nname = \"DEFAULT\"\n\n");
        body += &mock("dev", "/dev", "[\"DEV\"]", "dev-only");
        let gw = TestGateway::one(driver, &body);
        get_in(gw.addr, "/dev", None).assert_apig(404, "APIG.0101", NOT_PUBLISHED);
        get_in(gw.addr, "/dev", Some("dev")).assert_apig(404, "APIG.0101", NOT_PUBLISHED);
        get_in(gw.addr, "/dev", Some("Dev")).assert_apig(404, "APIG.0101", NOT_PUBLISHED);
        get_in(gw.addr, "/dev", Some("PROD")).assert_apig(404, "APIG.0101", NOT_PUBLISHED);
        get_in(gw.addr, "/dev", Some("RELEASE")).assert_apig(404, "APIG.0101", NOT_PUBLISHED);
        assert_eq!(get_in(gw.addr, "/dev", Some("DEV")).text(), "dev-only");
        assert_eq!(get_in(gw.addr, "/dev", Some("  DEV \t")).text(), "dev-only", "optional whitespace is not part of the value");
        // The 404s leave a keep-alive connection usable.
        let mut c = Conn::open(gw.addr);
        c.send(b"GET /dev HTTP/1.1\r\nHost: t\r\nX-Stage: dev\r\n\r\nGET /dev HTTP/1.1\r\nHost: t\r\nX-Stage: DEV\r\n\r\n");
        assert_eq!(c.read().status, 404);
        assert_eq!(c.read().text(), "dev-only");
    }

    fn path_variable_per_stage_is_the_worked_example(driver) {
        // §5.2 worked example: variable `Path` is `/Stage/test` in one
        // environment and `/Stage/AA` in the other; the backend path is
        // `#Path#`.
        let up = TestUpstream::start(|s| Reply::Ok(s.target.clone()));
        let body = format!(
            "[[stage]]\nname = \"DEV\"\n\n[[group]]\nname = \"DEFAULT\"\n\
             [group.variables.RELEASE]\nPath = \"/Stage/test\"\n\
             [group.variables.DEV]\nPath = \"/Stage/AA\"\n\n\
             [[group.api]]\nname = \"staged\"\nmethod = \"GET\"\npath = \"/staged\"\nstages = [\"RELEASE\", \"DEV\"]\n\
             [group.api.backend]\ntype = \"http\"\naddress = \"{}\"\npath = \"#Path#\"\ntimeout_ms = 1000\n",
            up.addr
        );
        let gw = TestGateway::one(driver, &body);
        let r = get_in(gw.addr, "/staged", None);
        assert_eq!(r.status, 200);
        assert_eq!(r.text(), "/Stage/test");
        assert_eq!(up.next().target, "/Stage/test");
        let r = get_in(gw.addr, "/staged", Some("DEV"));
        assert_eq!(r.text(), "/Stage/AA");
        assert_eq!(up.next().target, "/Stage/AA");
    }

    fn address_variable_sends_each_stage_to_its_own_upstream(driver) {
        // §5.2: `#host#` in the backend address, one upstream per stage.
        let release = TestUpstream::start(|_| Reply::Ok("release-upstream".into()));
        let dev = TestUpstream::start(|_| Reply::Ok("dev-upstream".into()));
        let body = format!(
            "[[stage]]\nname = \"DEV\"\n\n[[group]]\nname = \"DEFAULT\"\n\
             [group.variables.RELEASE]\nhost = \"{}\"\n\
             [group.variables.DEV]\nhost = \"{}\"\n\n\
             [[group.api]]\nname = \"staged\"\nmethod = \"GET\"\npath = \"/svc\"\nstages = [\"RELEASE\", \"DEV\"]\n\
             [group.api.backend]\ntype = \"http\"\naddress = \"#host#\"\npath = \"/backend\"\ntimeout_ms = 1000\n",
            release.addr, dev.addr
        );
        let gw = TestGateway::one(driver, &body);
        assert_eq!(get_in(gw.addr, "/svc", None).text(), "release-upstream");
        assert_eq!(get_in(gw.addr, "/svc", Some("DEV")).text(), "dev-upstream");
        assert_eq!(get_in(gw.addr, "/svc", None).text(), "release-upstream");
        let seen = release.next();
        assert_eq!(seen.target, "/backend");
        assert_eq!(seen.header("host"), Some(release.addr.to_string().as_str()), "§7.2: Host is the substituted address");
        let seen = dev.next();
        assert_eq!(seen.header("host"), Some(dev.addr.to_string().as_str()));
        assert_eq!(release.next().target, "/backend");
    }

    fn policy_backends_take_the_stage_variables_too(driver) {
        // §5.2 with §8: a policy backend's address and path use the
        // variables of the stage the call is in.
        let release = TestUpstream::start(|s| Reply::Ok(format!("release {}", s.target)));
        let dev = TestUpstream::start(|s| Reply::Ok(format!("dev {}", s.target)));
        let body = format!(
            "[[stage]]\nname = \"DEV\"\n\n[[group]]\nname = \"DEFAULT\"\n\
             [group.variables.RELEASE]\nhost = \"{}\"\nbase = \"/r\"\n\
             [group.variables.DEV]\nhost = \"{}\"\nbase = \"/d\"\n\n\
             [[group.api]]\nname = \"staged\"\nmethod = \"GET\"\npath = \"/svc\"\nstages = [\"RELEASE\", \"DEV\"]\n\
             [group.api.backend]\ntype = \"mock\"\nbody = \"default\"\n\
             [[group.api.policy]]\nname = \"all\"\ncondition = [{{ source = \"source_ip\", value = \"127.0.0.0/8\" }}]\n\
             [group.api.policy.backend]\ntype = \"http\"\naddress = \"#host#\"\npath = \"#base#/policy\"\ntimeout_ms = 1000\n",
            release.addr, dev.addr
        );
        let gw = TestGateway::one(driver, &body);
        assert_eq!(get_in(gw.addr, "/svc", None).text(), "release /r/policy");
        assert_eq!(get_in(gw.addr, "/svc", Some("DEV")).text(), "dev /d/policy");
    }
}
