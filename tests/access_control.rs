//! IP access control (behaviour.md §15) on the real client IP (§16), over
//! real sockets: allow and deny lists, IPv6 CIDRs, per-stage binding, and
//! `X-Forwarded-For` honoured only when configured and from trusted peers.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::disallowed_methods
)] // test code: failing loudly is the point; deadlines read the real clock

mod common;

use common::*;

fn config(settings: &str) -> String {
    format!(
        "[settings]\n{settings}\n\
         [[stage]]\nname = \"TEST\"\n\n\
         [[acl]]\nname = \"loopback-only\"\ntype = \"ip\"\neffect = \"allow\"\nvalues = [\"127.0.0.0/8\", \"::1\"]\n\n\
         [[acl]]\nname = \"no-loopback\"\neffect = \"deny\"\nvalues = [\"127.0.0.1-127.0.0.9\", \"2001:db8::/32\"]\n\n\
         [[group]]\nname = \"DEFAULT\"\n\
         [[group.api]]\nname = \"open\"\nmethod = \"GET\"\npath = \"/open\"\nstages = [\"RELEASE\", \"TEST\"]\n\
         acl = {{ RELEASE = \"loopback-only\", TEST = \"no-loopback\" }}\n\
         [group.api.backend]\ntype = \"mock\"\nbody = \"ok\"\n"
    )
}

fn get_with(addr: std::net::SocketAddr, extra: &str) -> Response {
    request(
        addr,
        &format!("GET /open HTTP/1.1\r\nHost: t\r\n{extra}\r\n"),
    )
}

driver_tests! {
    fn allow_and_deny_lists_apply_per_stage(driver) {
        let gw = TestGateway::one(driver, &config(""));
        assert_eq!(get_with(gw.addr, "").status, 200, "127.0.0.1 is allow-listed in RELEASE");
        get_with(gw.addr, "X-Stage: TEST\r\n").assert_apig(
            403,
            "APIG.0402",
            "The IP address is not authorized to access the API.",
        );
    }

    fn ipv6_peers_meet_ipv6_cidrs(driver) {
        // A client on ::1 itself (not through X-Forwarded-For): allowed by
        // an IPv6 CIDR in RELEASE, denied by another in TEST.
        let toml = format!(
            "[server]\nworkers = 1\ndriver = \"{driver}\"\n[[listener]]\naddress = \"[::1]:0\"\n\
             [[stage]]\nname = \"TEST\"\n\
             [[acl]]\nname = \"v6-allow\"\neffect = \"allow\"\nvalues = [\"::1/128\"]\n\
             [[acl]]\nname = \"v6-deny\"\neffect = \"deny\"\nvalues = [\"::/120\"]\n\
             [[group]]\nname = \"DEFAULT\"\n\
             [[group.api]]\nname = \"open\"\nmethod = \"GET\"\npath = \"/open\"\nstages = [\"RELEASE\", \"TEST\"]\n\
             acl = {{ RELEASE = \"v6-allow\", TEST = \"v6-deny\" }}\n\
             [group.api.backend]\ntype = \"mock\"\nbody = \"ok\"\n"
        );
        let gw = TestGateway::from_toml(&toml);
        assert!(gw.addr.is_ipv6());
        assert_eq!(get_with(gw.addr, "").status, 200);
        get_with(gw.addr, "X-Stage: TEST\r\n").assert_apig(
            403,
            "APIG.0402",
            "The IP address is not authorized to access the API.",
        );
    }

    fn x_forwarded_for_is_used_only_when_configured(driver) {
        // Off (default): a forged header changes nothing.
        let gw = TestGateway::one(driver, &config(""));
        assert_eq!(get_with(gw.addr, "X-Forwarded-For: 203.0.113.7\r\n").status, 200);
        drop(gw);
        // On, right-most entry: the client is 203.0.113.7, not allowed.
        let gw = TestGateway::one(driver, &config("real_ip_from_xff = true\nreal_ip_index = -1"));
        get_with(gw.addr, "X-Forwarded-For: 127.0.0.1, 203.0.113.7\r\n").assert_apig(
            403,
            "APIG.0402",
            "The IP address is not authorized to access the API.",
        );
        assert_eq!(get_with(gw.addr, "X-Forwarded-For: 203.0.113.7, 127.0.0.5\r\n").status, 200);
        // An IPv6 client in the deny list's 2001:db8::/32, in TEST.
        get_with(gw.addr, "X-Stage: TEST\r\nX-Forwarded-For: 2001:db8::42\r\n").assert_apig(
            403,
            "APIG.0402",
            "The IP address is not authorized to access the API.",
        );
        assert_eq!(get_with(gw.addr, "X-Stage: TEST\r\nX-Forwarded-For: 2001:db9::1\r\n").status, 200);
        drop(gw);
        // Strict: no usable entry is APIG.0401.
        let gw = TestGateway::one(driver, &config("real_ip_from_xff = true\nreal_ip_index = 2\nreal_ip_strict = true"));
        get_with(gw.addr, "X-Forwarded-For: 127.0.0.1\r\n").assert_apig(
            403,
            "APIG.0401",
            "Unknown client IP address.",
        );
        drop(gw);
        // Only trusted peers' headers count: 127.0.0.1 is not 10.0.0.0/8.
        let gw = TestGateway::one(
            driver,
            &config("real_ip_from_xff = true\ntrusted_proxies = [\"10.0.0.0/8\"]"),
        );
        assert_eq!(get_with(gw.addr, "X-Forwarded-For: 203.0.113.7\r\n").status, 200);
    }
}

driver_tests! {
    fn the_real_ip_is_the_source_ip_and_the_peer_is_still_appended(driver) {
        let up = TestUpstream::ok();
        let body = format!(
            "[settings]\nreal_ip_from_xff = true\nreal_ip_index = 1\n\
             [[group]]\nname = \"DEFAULT\"\n[[group.api]]\nname = \"x\"\nmethod = \"GET\"\npath = \"/x\"\n\
             [group.api.backend]\ntype = \"http\"\naddress = \"{}\"\n\
             [[group.api.backend.system]]\nname = \"x-source\"\nlocation = \"HEADER\"\nfrom = \"sourceIp\"\n",
            up.addr
        );
        let gw = TestGateway::one(driver, &body);
        let r = request(gw.addr, "GET /x HTTP/1.1\r\nHost: t\r\nX-Forwarded-For: 198.51.100.4, 10.1.1.1\r\n\r\n");
        assert_eq!(r.status, 200);
        let seen = up.next();
        assert_eq!(seen.header("x-source"), Some("198.51.100.4"));
        assert_eq!(seen.header("x-forwarded-for"), Some("198.51.100.4, 10.1.1.1, 127.0.0.1"));
    }
}

#[test]
fn policy_mistakes_are_check_errors() {
    let toml = "[[listener]]\naddress = \"127.0.0.1:0\"\n\
        [settings]\nreal_ip_index = 0\ntrusted_proxies = [\"nope\"]\n\
        [[acl]]\nname = \"a\"\ntype = \"geo\"\neffect = \"maybe\"\nvalues = [\"DE\"]\n\
        [[acl]]\nname = \"b\"\nvalues = [\"10.0.0.9-10.0.0.1\"]\neffect = \"deny\"\n\
        [[group]]\nname = \"DEFAULT\"\n\
        [[group.api]]\nname = \"x\"\nmethod = \"GET\"\npath = \"/\"\nacl = { RELEASE = \"ghost\", DEV = \"a\" }\n\
        [group.api.backend]\ntype = \"mock\"\n";
    assert_config_errors(
        toml,
        &[
            "settings.real_ip_index",
            "settings.trusted_proxies[0]",
            "acl[0].type",
            "acl[0].effect",
            "acl[1].values[0]",
            "group[0].api[0].acl.RELEASE",
            "group[0].api[0].acl.DEV",
        ],
    );
}
