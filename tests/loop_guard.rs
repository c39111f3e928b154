//! Loop protection (behaviour.md §7.6 APIG.0612, §23 recursion depth 10;
//! issue 13 item 3): an API whose backend is the gateway itself is
//! answered `500 APIG.0612` after at most 10 rounds, instead of making
//! thousands of hops.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::disallowed_methods
)] // test code: failing loudly is the point; deadlines read the real clock

mod common;

use common::*;

driver_tests! {
    // regression: issue 13 item 3 — one request made about 3,000 hops,
    // growing X-Forwarded-For until 494.
    fn an_api_calling_its_own_gateway_stops_after_ten_rounds(driver) {
        // The listener's port is chosen first so the backend can name it.
        let own = dead_addr();
        let toml = format!(
            "[server]\nworkers = 1\ndriver = \"{driver}\"\n\
             [[listener]]\naddress = \"{own}\"\n\
             [settings]\ndefault_api_rate_limit = 0\n\
             [[group]]\nname = \"DEFAULT\"\n\
             [[group.api]]\nname = \"self\"\nmethod = \"ANY\"\npath = \"/\"\nmatch = \"prefix\"\n\
             [group.api.backend]\ntype = \"http\"\naddress = \"{own}\"\ntimeout_ms = 5000\n"
        );
        let gw = TestGateway::from_toml(&toml);
        let r = get(gw.addr, "/again");
        // The innermost round's answer, relayed out through the others (its
        // body names that round's request id).
        assert_eq!(r.status, 500, "{}", r.text());
        assert!(
            r.text().starts_with(r#"{"error_code": "APIG.0612", "error_msg": "An API cannot call itself.""#),
            "{}",
            r.text()
        );
        let totals = gw.shutdown();
        // The client's request and 10 rounds: the 11th arrival is refused
        // (the gateway, as its own backend, saw 10 requests).
        assert_eq!(totals.requests, 11);
    }

    fn a_client_cannot_pass_a_hop_count_in(driver) {
        let up = TestUpstream::ok();
        let gw = TestGateway::one(driver, &proxy_all(up.addr));
        // Another process's (or a forged) loop header is not this
        // process's: not counted, forwarded unchanged beside ours.
        let forged = "X-Tollgate-Loop: 0123456789abcdef;hops=10\r\n";
        let r = request(gw.addr, &format!("GET / HTTP/1.1\r\nHost: t\r\n{forged}\r\n"));
        assert_eq!(r.status, 200, "{}", r.text());
        assert!(r.header("x-tollgate-loop").is_none(), "the token never reaches clients");
        let seen = up.next();
        let loops: Vec<&str> = seen
            .headers
            .iter()
            .filter(|(n, _)| n == "x-tollgate-loop")
            .map(|(_, v)| v.as_str())
            .collect();
        assert_eq!(loops.len(), 2, "{loops:?}");
        assert_eq!(loops[0], "0123456789abcdef;hops=10");
        assert!(loops[1].ends_with(";hops=1") && loops[1].len() == 23, "{loops:?}");
    }
}

#[test]
fn check_warns_when_a_backend_is_the_gateways_own_listener() {
    let toml = "[[listener]]\naddress = \"0.0.0.0:18999\"\n\
                [[group]]\nname = \"DEFAULT\"\n\
                [[group.api]]\nname = \"self\"\nmethod = \"ANY\"\npath = \"/\"\nmatch = \"prefix\"\n\
                [group.api.backend]\ntype = \"http\"\naddress = \"127.0.0.1:18999\"\n";
    let dir = std::env::temp_dir().join(format!("tollgate-loop-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("self.toml");
    std::fs::write(&path, toml).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_tollgate"))
        .arg("check")
        .arg("-c")
        .arg(&path)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("backend address 127.0.0.1:18999 is this gateway's own listener[0]"),
        "{stderr}"
    );
}
