//! Request throttling (behaviour.md §13–§14) over real sockets: each
//! dimension, API-shared vs per-API, excluded (special) precedence and the
//! §13.3 example, throttling 2.0 condition trees and the §14.4 example,
//! sliding-window edges on a manual clock, two workers admitting within
//! the stated bound, and rotating source addresses against a bounded
//! table.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::disallowed_methods
)] // test code: failing loudly is the point; deadlines read the real clock

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::*;
use tollgate::clock::ManualClock;

/// A Unix time aligned to the hour (so to 10 s and 1 min windows too).
const T0: i64 = 1_699_999_200;

const THROTTLED: (u16, &str, &str) = (
    429,
    "APIG.0308",
    "The throttling threshold has been reached.",
);

fn clock() -> Arc<ManualClock> {
    Arc::new(ManualClock::at_unix(T0))
}

/// An AppCode for app `n` (64 characters, §11.5).
fn code(n: &str) -> String {
    format!("{n:A<64}")
}

/// `[[app]]`s named `names`, each with tenant `tenant-<name>` unless the
/// name says otherwise (`name@tenant`).
fn apps(names: &[&str]) -> String {
    names
        .iter()
        .map(|spec| {
            let (name, tenant) = spec.split_once('@').unwrap_or((spec, spec));
            format!(
                "[[app]]\nname = \"{name}\"\nkey = \"key-{name}\"\nsecret = \"secret-{name}\"\n\
                 app_codes = [\"{}\"]\ntenant = \"tenant-{tenant}\"\n",
                code(name)
            )
        })
        .collect()
}

/// A mock API `method path` (prefix match when `path` ends in `/`) with
/// `extra` lines (bindings) and AppCode authentication when `auth`.
fn api(name: &str, method: &str, path: &str, extra: &str, auth: Option<&[&str]>) -> String {
    let mode = if path.ends_with('/') {
        "prefix"
    } else {
        "exact"
    };
    let auth = match auth {
        Some(apps) => {
            let grants: Vec<String> = apps.iter().map(|a| format!("\"{a}\"")).collect();
            format!(
                "[group.api.auth]\ntype = \"app\"\nsimple = true\napp_code_over_http = true\n\
                 grants = {{ RELEASE = [{}] }}\n",
                grants.join(", ")
            )
        }
        None => String::new(),
    };
    format!(
        "[[group.api]]\nname = \"{name}\"\nmethod = \"{method}\"\npath = \"{path}\"\nmatch = \"{mode}\"\n{extra}\n\
         {auth}[group.api.backend]\ntype = \"mock\"\nbody = \"{name}\"\n"
    )
}

/// Sends `GET path` with `headers` (raw lines) on a new connection.
fn call(addr: std::net::SocketAddr, method: &str, path: &str, headers: &str) -> Response {
    request(
        addr,
        &format!("{method} {path} HTTP/1.1\r\nHost: test\r\n{headers}\r\n"),
    )
}

fn as_app(app: &str) -> String {
    format!("X-Apig-AppCode: {}\r\n", code(app))
}

/// Sends `n` requests; returns how many were admitted (200), asserting
/// every other one is the documented 429.
fn admitted(n: usize, mut send: impl FnMut() -> Response) -> usize {
    let mut ok = 0;
    for _ in 0..n {
        let r = send();
        if r.status == 200 {
            ok += 1;
        } else {
            r.assert_apig(THROTTLED.0, THROTTLED.1, THROTTLED.2);
        }
    }
    ok
}

driver_tests! {
    fn a_per_api_limit_slides_and_reports_debug_headers(driver) {
        let clock = clock();
        let body = format!(
            "[[throttle]]\nname = \"three\"\nperiod = 10\napi_limit = 3\n\
             [[group]]\nname = \"DEFAULT\"\n{}",
            api("a", "GET", "/a", "throttle = { RELEASE = \"three\" }", None)
        );
        let gw = TestGateway::one_clocked(driver, &body, clock.clone());
        let debug = "X-Apig-Mode: debug\r\n";
        for remain in [2, 1, 0] {
            let r = call(gw.addr, "GET", "/a", debug);
            assert_eq!(r.status, 200);
            assert_eq!(
                r.header("x-apig-ratelimit-api"),
                Some(format!("remain:{remain},limit:3,time:10 second").as_str())
            );
            assert!(
                r.header("x-apig-ratelimit-api-allenv").is_none(),
                "the default limit is for APIs without a policy (§13.2, §14.1)"
            );
        }
        let refused = call(gw.addr, "GET", "/a", debug);
        refused.assert_apig(THROTTLED.0, THROTTLED.1, THROTTLED.2);
        assert_eq!(refused.header("x-apig-ratelimit-api"), Some("remain:0,limit:3,time:10 second"));
        assert!(call(gw.addr, "GET", "/a", "").header("x-apig-ratelimit-api").is_none(), "debug only");
        // Window edges (window.rs): at the next window's start the full
        // previous window still weighs, so nothing opens; one request
        // opens per period/limit (3.33 s) as it slides out.
        clock.advance(Duration::from_secs(10));
        assert_eq!(call(gw.addr, "GET", "/a", "").status, 429, "no burst at the boundary");
        clock.advance(Duration::from_millis(3_300));
        assert_eq!(call(gw.addr, "GET", "/a", "").status, 429, "3.3 s: not yet a third out");
        clock.advance(Duration::from_millis(40));
        assert_eq!(call(gw.addr, "GET", "/a", "").status, 200, "3.34 s: one opened");
        assert_eq!(call(gw.addr, "GET", "/a", "").status, 429);
        // Two idle periods: the whole limit again.
        clock.advance(Duration::from_secs(20));
        assert_eq!(admitted(4, || call(gw.addr, "GET", "/a", "")), 3);
    }

    fn api_shared_policies_count_all_bound_apis_together(driver) {
        let clock = clock();
        let body = format!(
            "[[throttle]]\nname = \"shared\"\ntype = \"shared\"\nperiod = 1\nunit = \"minute\"\napi_limit = 4\n\
             [[throttle]]\nname = \"each\"\nperiod = 1\nunit = \"minute\"\napi_limit = 4\n\
             [[group]]\nname = \"DEFAULT\"\n{}{}{}{}",
            api("s1", "GET", "/s1", "throttle = { RELEASE = \"shared\" }", None),
            api("s2", "GET", "/s2", "throttle = { RELEASE = \"shared\" }", None),
            api("e1", "GET", "/e1", "throttle = { RELEASE = \"each\" }", None),
            api("e2", "GET", "/e2", "throttle = { RELEASE = \"each\" }", None),
        );
        let gw = TestGateway::one_clocked(driver, &body, clock);
        assert_eq!(admitted(3, || call(gw.addr, "GET", "/s1", "")), 3);
        assert_eq!(admitted(3, || call(gw.addr, "GET", "/s2", "")), 1, "one budget for both");
        assert_eq!(admitted(5, || call(gw.addr, "GET", "/e1", "")), 4);
        assert_eq!(admitted(5, || call(gw.addr, "GET", "/e2", "")), 4, "a budget per API");
    }

    fn user_app_and_ip_limits_each_count_their_own_key(driver) {
        let clock = clock();
        let body = format!(
            "[settings]\nreal_ip_from_xff = true\ntrusted_proxies = [\"127.0.0.1\"]\n\
             {}\
             [[throttle]]\nname = \"dims\"\nperiod = 1\nunit = \"minute\"\napi_limit = 100\n\
             user_limit = 3\napp_limit = 2\nip_limit = 4\n\
             [[group]]\nname = \"DEFAULT\"\n{}{}",
            apps(&["a1@t1", "a2@t1", "b1@t2", "c1@t3"]),
            api("app", "GET", "/app", "throttle = { RELEASE = \"dims\" }", Some(&["a1", "a2", "b1", "c1"])),
            api("open", "GET", "/open", "throttle = { RELEASE = \"dims\" }", None),
        );
        let gw = TestGateway::one_clocked(driver, &body, clock);
        let from = |ip: &str, app: &str| format!("X-Forwarded-For: {ip}\r\n{}", as_app(app));
        // App: 2 per app.
        assert_eq!(admitted(3, || call(gw.addr, "GET", "/app", &from("10.0.0.1", "a1"))), 2);
        // User (tenant t1): a2 is a second app of the same tenant; 3 per
        // tenant leaves it one.
        assert_eq!(admitted(3, || call(gw.addr, "GET", "/app", &from("10.0.0.2", "a2"))), 1);
        // Another tenant is counted apart.
        assert_eq!(admitted(2, || call(gw.addr, "GET", "/app", &from("10.0.0.3", "b1"))), 2);
        // IP: 4 calls per address per API, whoever makes them.
        let c1 = from("10.0.0.9", "c1");
        assert_eq!(admitted(2, || call(gw.addr, "GET", "/app", &c1)), 2);
        let r = call(gw.addr, "GET", "/open", "X-Forwarded-For: 10.0.0.9\r\nX-Apig-Mode: debug\r\n");
        assert_eq!(r.status, 200, "anonymous: no user or app key, the IP still counts");
        assert_eq!(r.header("x-apig-ratelimit-ip"), Some("remain:3,limit:4,time:1 minute"));
        assert!(r.header("x-apig-ratelimit-app").is_none(), "no app, no app limit");
        assert_eq!(admitted(4, || call(gw.addr, "GET", "/open", "X-Forwarded-For: 10.0.0.9\r\n")), 3);
        assert_eq!(call(gw.addr, "GET", "/open", "X-Forwarded-For: 10.0.0.10\r\n").status, 200);
    }

    fn the_13_3_example_excluded_tenants_replace_the_user_limit(driver) {
        // §13.3: API 10, user 3 per minute; excluded tenants A = 2, B = 4.
        let clock = clock();
        let body = format!(
            "{}\
             [[throttle]]\nname = \"example\"\nperiod = 1\nunit = \"minute\"\napi_limit = 10\nuser_limit = 3\n\
             excluded_tenants = {{ \"tenant-A\" = 2, \"tenant-B\" = 4 }}\n\
             [[group]]\nname = \"DEFAULT\"\n{}",
            apps(&["A", "B", "C", "D"]),
            api("api", "GET", "/api", "throttle = { RELEASE = \"example\" }", Some(&["A", "B", "C", "D"])),
        );
        let gw = TestGateway::one_clocked(driver, &body, clock);
        let by = |app: &str| call(gw.addr, "GET", "/api", &as_app(app));
        assert_eq!(admitted(3, || by("A")), 2, "tenant A: 2 per minute");
        let refused = call(gw.addr, "GET", "/api", &format!("{}X-Apig-Mode: debug\r\n", as_app("A")));
        assert_eq!(refused.status, 429);
        assert_eq!(refused.header("x-apig-ratelimit-user"), Some("remain:0,limit:2,time:1 minute"));
        assert_eq!(
            refused.header("x-apig-ratelimit-api"),
            Some("remain:8,limit:10,time:1 minute"),
            "the refused call's API permit was given back"
        );
        let r = call(gw.addr, "GET", "/api", &format!("{}X-Apig-Mode: debug\r\n", as_app("B")));
        assert_eq!(r.header("x-apig-ratelimit-user"), Some("remain:3,limit:4,time:1 minute"));
        assert_eq!(admitted(4, || by("B")), 3, "tenant B: 4, above the user limit of 3");
        assert_eq!(admitted(4, || by("C")), 3, "other tenants: the user limit");
        // 2 + 4 + 3 = 9 so far: the API limit of 10 still binds everyone.
        assert_eq!(admitted(3, || by("D")), 1, "all callers together: 10");
    }

    fn an_excluded_app_replaces_the_app_limit_but_not_the_user_limit(driver) {
        let clock = clock();
        let body = format!(
            "{}\
             [[throttle]]\nname = \"apps\"\nperiod = 1\nunit = \"minute\"\napi_limit = 20\nuser_limit = 5\napp_limit = 1\n\
             excluded_apps = {{ vip = 4, vip2 = 4 }}\n\
             [[group]]\nname = \"DEFAULT\"\n{}",
            apps(&["vip@v", "plain@p", "vip2@v"]),
            api("api", "GET", "/api", "throttle = { RELEASE = \"apps\" }", Some(&["vip", "plain", "vip2"])),
        );
        let gw = TestGateway::one_clocked(driver, &body, clock);
        let by = |app: &str| call(gw.addr, "GET", "/api", &as_app(app));
        assert_eq!(admitted(3, || by("plain")), 1, "app limit 1");
        assert_eq!(admitted(6, || by("vip")), 4, "the excluded app's 4 replaces it");
        // vip2 is excluded too, but shares tenant v (user limit 5) with
        // vip: one call of it is left.
        assert_eq!(admitted(3, || by("vip2")), 1, "the user limit still applies");
    }

    fn the_14_4_example_limits_by_condition_tree_and_special_tenant(driver) {
        // §14.4 as documented: API 10 / 60 s, user 5, Host = www.abc.com
        // → 10, reqPath = /fc OR (reqPath = /list AND method = get) → 10,
        // special tenant 5.
        let clock = clock();
        let policy = |api_limit: u32, special: u32, a: u32, b: u32| format!(
            "period = 60\napi_limit = {api_limit}\nuser_limit = 5\n\
             special_tenants = {{ \"tenant-special\" = {special} }}\n\
             [[throttle2.param]]\nlocation = \"header\"\nname = \"Host\"\n\
             [[throttle2.rule]]\nname = \"host\"\nlimit = {a}\ncondition = {{ param = \"Host\", value = \"www.abc.com\" }}\n\
             [[throttle2.rule]]\nname = \"paths\"\nlimit = {b}\n\
             condition = {{ any = [ {{ param = \"reqPath\", value = \"/fc\" }}, \
             {{ all = [ {{ param = \"reqPath\", value = \"/list\" }}, {{ param = \"method\", value = \"get\" }} ] }} ] }}\n"
        );
        let body = format!(
            "{}\
             [[throttle2]]\nname = \"example\"\n{}\
             [[throttle2]]\nname = \"tight\"\n{}\
             [[throttle2]]\nname = \"special\"\n{}\
             [[group]]\nname = \"DEFAULT\"\n{}{}{}",
            apps(&["special", "t1", "t2"]),
            policy(10, 5, 10, 10),
            policy(100, 5, 2, 3),
            policy(100, 7, 100, 100),
            api("example", "ANY", "/ex/", "throttle2 = { RELEASE = \"example\" }", Some(&["special", "t1", "t2"])),
            api("special", "ANY", "/sp/", "throttle2 = { RELEASE = \"special\" }", Some(&["special", "t1"])),
            api("tight", "ANY", "/", "throttle2 = { RELEASE = \"tight\" }", None),
        );
        let gw = TestGateway::one_clocked(driver, &body, clock);
        let addr = gw.addr;
        // The example: the special tenant gets 5, ordinary tenants their 5
        // user calls, and all together 10 within 60 s.
        let by = |app: &str| call(addr, "GET", "/ex/list", &as_app(app));
        assert_eq!(admitted(6, || by("special")), 5);
        assert_eq!(admitted(6, || by("t1")), 5);
        assert_eq!(admitted(2, || by("t2")), 0, "the API limit (10) is reached");
        // A special threshold above the user limit replaces it (§14.5).
        let on_sp = |app: &str| call(addr, "GET", "/sp/x", &as_app(app));
        assert_eq!(admitted(8, || on_sp("special")), 7, "special tenant: 7, above user 5");
        assert_eq!(admitted(8, || on_sp("t1")), 5, "others: the user limit");
        // The same tree with tighter rules shows each branch (anonymous
        // callers: no user limit).
        let on = |method: &str, path: &str, host: &str| {
            request(addr, &format!("{method} {path} HTTP/1.1\r\nHost: {host}\r\n\r\n"))
        };
        assert_eq!(admitted(4, || on("GET", "/fc", "test")), 3, "reqPath = /fc");
        assert_eq!(on("GET", "/list", "test").status, 429, "/list AND get shares the rule's count");
        assert_eq!(on("POST", "/list", "test").status, 200, "POST /list matches no rule");
        assert_eq!(on("GET", "/other", "test").status, 200);
        // The Host rule comes first: with budget left it admits /fc though
        // the paths rule is spent (first match, not every match).
        assert_eq!(on("GET", "/fc", "www.abc.com").status, 200, "first match: the Host rule");
        assert_eq!(on("GET", "/anything", "www.abc.com").status, 200);
        assert_eq!(on("GET", "/anything", "www.abc.com").status, 429, "Host = www.abc.com: 2");
        assert_eq!(on("GET", "/fc", "WWW.ABC.COM").status, 429, "header values compare exactly");
    }

    fn key_by_counts_each_value_and_conditions_read_every_location(driver) {
        // A rule per distinct `tenant` query value; a rule on a path
        // parameter with `!=` and the domain (any case); a shared 2.0
        // policy; a special app.
        let clock = clock();
        let body = format!(
            "{}\
             [[throttle2]]\nname = \"params\"\nperiod = 1\nunit = \"minute\"\napi_limit = 1000\n\
             special_apps = {{ vip = 1 }}\n\
             [[throttle2.param]]\nlocation = \"query\"\nname = \"tenant\"\n\
             [[throttle2.param]]\nlocation = \"path\"\nname = \"id\"\n\
             [[throttle2.rule]]\nname = \"per-tenant\"\nlimit = 2\nkey_by = [\"tenant\"]\n\
             condition = {{ param = \"tenant\", value = \"\", op = \"!=\" }}\n\
             [[throttle2.rule]]\nname = \"not-public\"\nlimit = 1\n\
             condition = {{ all = [ {{ param = \"id\", value = \"public\", op = \"!=\" }}, {{ param = \"domain\", value = \"api.example.com\" }} ] }}\n\
             [[throttle2]]\nname = \"shared\"\nscope = \"shared\"\nperiod = 1\nunit = \"minute\"\napi_limit = 3\n\
             [[group]]\nname = \"DEFAULT\"\n{}{}{}{}",
            apps(&["vip", "other"]),
            api("items", "GET", "/items/{id}", "throttle2 = { RELEASE = \"params\" }", None),
            api("apps", "GET", "/apps/{id}", "throttle2 = { RELEASE = \"params\" }", Some(&["vip", "other"])),
            api("s1", "GET", "/s1", "throttle2 = { RELEASE = \"shared\" }", None),
            api("s2", "GET", "/s2", "throttle2 = { RELEASE = \"shared\" }", None),
        );
        let gw = TestGateway::one_clocked(driver, &body, clock);
        let addr = gw.addr;
        let get = |target: &str, host: &str| {
            request(addr, &format!("GET {target} HTTP/1.1\r\nHost: {host}\r\n\r\n"))
        };
        assert_eq!(admitted(3, || get("/items/public?tenant=a", "h")), 2, "tenant a: 2");
        assert_eq!(admitted(3, || get("/items/public?tenant=b", "h")), 2, "tenant b counted apart");
        // An absent value equals nothing (so `!=` holds) and is counted as
        // one value of its own.
        assert_eq!(admitted(3, || get("/items/public?other=1", "h")), 2, "absent tenant");
        assert_eq!(admitted(2, || get("/items/7?tenant=", "API.Example.com:8080")), 1, "id != public on the domain");
        assert_eq!(admitted(2, || get("/items/7?tenant=", "other.example.com")), 2, "another domain");
        assert_eq!(admitted(2, || get("/items/public?tenant=", "api.example.com")), 2, "id = public");
        let by = |app: &str| call(addr, "GET", "/apps/public?tenant=", &as_app(app));
        assert_eq!(admitted(2, || by("vip")), 1, "special app: 1");
        assert_eq!(admitted(2, || by("other")), 2, "no app limit for others");
        assert_eq!(admitted(2, || get("/s1", "h")), 2);
        assert_eq!(admitted(2, || get("/s2", "h")), 1, "scope = shared: one budget");
    }

    fn a_throttling_2_policy_replaces_the_classic_one(driver) {
        let clock = clock();
        let body = format!(
            "[[throttle]]\nname = \"classic\"\napi_limit = 1\nperiod = 60\n\
             [[throttle2]]\nname = \"v2\"\napi_limit = 3\nperiod = 60\n\
             [[group]]\nname = \"DEFAULT\"\n{}",
            api("a", "GET", "/a", "throttle = { RELEASE = \"classic\" }\nthrottle2 = { RELEASE = \"v2\" }", None),
        );
        let gw = TestGateway::one_clocked(driver, &body, clock);
        assert_eq!(admitted(5, || call(gw.addr, "GET", "/a", "")), 3);
    }

    fn the_default_limit_applies_to_every_api_and_renders_throttled(driver) {
        let clock = clock();
        let body = "[settings]\ndefault_api_rate_limit = 3\n\
             [[group]]\nname = \"DEFAULT\"\n\
             [group.responses.default.THROTTLED]\nstatus = 503\nbody = '{\"busy\":\"$context.error.code\"}'\n\
             [[group.api]]\nname = \"a\"\nmethod = \"GET\"\npath = \"/a\"\n\
             [group.api.backend]\ntype = \"mock\"\nbody = \"a\"\n";
        let gw = TestGateway::one_clocked(driver, body, clock.clone());
        for _ in 0..3 {
            assert_eq!(call(gw.addr, "GET", "/a", "").status, 200);
        }
        let r = call(gw.addr, "GET", "/a", "X-Apig-Mode: debug\r\n");
        assert_eq!(r.status, 503, "the group's THROTTLED response renders it");
        assert_eq!(r.text(), "{\"busy\":\"APIG.0308\"}");
        assert_eq!(r.header("x-apig-ratelimit-api-allenv"), Some("remain:0,limit:3,time:1 second"));
        clock.advance(Duration::from_secs(2));
        assert_eq!(call(gw.addr, "GET", "/a", "").status, 200);
    }

    fn two_workers_admit_within_the_stated_bound(driver) {
        // W = 2 workers, L = 500 per hour on one key, demand 3·L from 16
        // connections spread over both workers by SO_REUSEPORT: admitted
        // ∈ [0.99·L, L + W]. The clock is frozen inside one window.
        let clock = clock();
        let body = format!(
            "[settings]\ndefault_api_rate_limit = 0\n\
             [[throttle]]\nname = \"hourly\"\nperiod = 1\nunit = \"hour\"\napi_limit = 500\n\
             [[group]]\nname = \"DEFAULT\"\n{}",
            api("a", "GET", "/a", "throttle = { RELEASE = \"hourly\" }", None),
        );
        let gw = TestGateway::clocked(driver, 2, &body, clock);
        let addr = gw.addr;
        let threads: Vec<_> = (0..16)
            .map(|_| {
                std::thread::spawn(move || {
                    let mut conn = Conn::open(addr);
                    let mut ok = 0;
                    for _ in 0..94 {
                        conn.send(b"GET /a HTTP/1.1\r\nHost: t\r\n\r\n");
                        let r = conn.read();
                        match r.status {
                            200 => ok += 1,
                            429 => {}
                            s => panic!("unexpected {s}"),
                        }
                    }
                    ok
                })
            })
            .collect();
        let total: usize = threads.into_iter().map(|t| t.join().unwrap()).sum();
        assert!((495..=502).contains(&total), "admitted {total} of 1504 at L = 500, W = 2");
        let each = gw.shutdown_each();
        assert!(each.iter().all(|m| m.requests > 0), "both workers served: {each:?}");
        assert_eq!(each.iter().map(|m| m.requests).sum::<u64>(), 1504);
    }

    fn rotating_source_addresses_cannot_reset_a_limited_address(driver) {
        // A 64-slot IP table: the limited address keeps its count while
        // 3000 fresh addresses arrive; memory stays at 64 counters.
        let clock = clock();
        let body = format!(
            "[settings]\nreal_ip_from_xff = true\ndefault_api_rate_limit = 0\n\
             [[throttle]]\nname = \"ips\"\nperiod = 1\nunit = \"minute\"\napi_limit = 1000000\nip_limit = 3\nkey_slots = 64\n\
             [[group]]\nname = \"DEFAULT\"\n{}",
            api("a", "GET", "/a", "throttle = { RELEASE = \"ips\" }", None),
        );
        let gw = TestGateway::one_clocked(driver, &body, clock.clone());
        let mut conn = Conn::open(gw.addr);
        let mut from = |ip: &str| {
            conn.send(format!("GET /a HTTP/1.1\r\nHost: t\r\nX-Forwarded-For: {ip}\r\n\r\n").as_bytes());
            conn.read().status
        };
        // The victim spends 2 of its 3; the flood's newcomers fill the 64
        // slots and then share the overflow count (3, soon spent). Had the
        // victim lost its slot it would land in that spent overflow; in its
        // own it has one call left.
        let flood = |from: &mut dyn FnMut(&str) -> u16, range: std::ops::Range<u32>| {
            for i in range {
                from(&std::net::Ipv4Addr::from(0x0a00_0000 + i).to_string());
            }
        };
        assert_eq!(from("192.0.2.1"), 200);
        assert_eq!(from("192.0.2.1"), 200);
        flood(&mut from, 0..3000);
        assert_eq!(from("192.0.2.1"), 200, "its own slot, one call left");
        assert_eq!(from("192.0.2.1"), 429);
        // 21 s into the next window one call has slid out for the victim
        // (⌈3 · 39/60⌉ = 2 still weigh); a second flood at that moment
        // spends the overflow's opening first, and cannot take the slot
        // (the victim was counted in the previous window).
        clock.advance(Duration::from_secs(81));
        flood(&mut from, 3000..6000);
        assert_eq!(from("192.0.2.1"), 200, "its count and slot survived into the next window");
        assert_eq!(from("192.0.2.1"), 429);
        // Two idle windows later its count has slid out.
        clock.advance(Duration::from_secs(120));
        assert_eq!(from("192.0.2.1"), 200);
        drop(conn);
        let metrics = gw.shutdown();
        assert!(metrics.throttle_overflows > 0, "the full table is counted");
        assert!(metrics.throttled > 5000, "{}", metrics.throttled);
    }
}

driver_tests! {
    fn a_flood_on_one_api_does_not_limit_newcomers_on_another(driver) {
        // Two APIs share one policy's 64-slot IP table; a flood on /a fills
        // it and spends /a's overflow count, but a newcomer on /b is
        // counted in /b's own.
        let body = format!(
            "[settings]\nreal_ip_from_xff = true\ndefault_api_rate_limit = 0\n\
             [[throttle]]\nname = \"ips\"\nperiod = 1\nunit = \"minute\"\napi_limit = 1000000\nip_limit = 3\nkey_slots = 64\n\
             [[group]]\nname = \"DEFAULT\"\n{}{}",
            api("a", "GET", "/a", "throttle = { RELEASE = \"ips\" }", None),
            api("b", "GET", "/b", "throttle = { RELEASE = \"ips\" }", None),
        );
        let gw = TestGateway::one_clocked(driver, &body, clock());
        let mut conn = Conn::open(gw.addr);
        let mut from = |path: &str, ip: u32| {
            let ip = std::net::Ipv4Addr::from(ip);
            conn.send(format!("GET {path} HTTP/1.1\r\nHost: t\r\nX-Forwarded-For: {ip}\r\n\r\n").as_bytes());
            conn.read().status
        };
        for i in 0..2000 {
            from("/a", 0x0a00_0000 + i);
        }
        assert_eq!(from("/a", 0x0b00_0001), 429, "a newcomer on /a: /a's overflow is spent");
        assert_eq!(from("/b", 0x0b00_0002), 200, "a newcomer on /b: its own overflow");
    }

    fn a_key_by_rule_overflows_into_its_own_count(driver) {
        // A rule counting each `user` query value (2 per minute) in a
        // 64-slot table: 2000 values fill it, later values share the
        // rule's overflow count, and a value that had a slot keeps it.
        let body = format!(
            "[settings]\ndefault_api_rate_limit = 0\n\
             [[throttle2]]\nname = \"per-user\"\nperiod = 1\nunit = \"minute\"\napi_limit = 1000000\nkey_slots = 64\n\
             [[throttle2.param]]\nlocation = \"query\"\nname = \"user\"\n\
             [[throttle2.rule]]\nlimit = 2\nkey_by = [\"user\"]\ncondition = {{ param = \"reqPath\", value = \"/q\" }}\n\
             [[group]]\nname = \"DEFAULT\"\n{}",
            api("q", "GET", "/q", "throttle2 = { RELEASE = \"per-user\" }", None),
        );
        let gw = TestGateway::one_clocked(driver, &body, clock());
        let mut conn = Conn::open(gw.addr);
        let mut user = |name: &str| {
            conn.send(format!("GET /q?user={name} HTTP/1.1\r\nHost: t\r\n\r\n").as_bytes());
            conn.read().status
        };
        assert_eq!(user("early"), 200);
        for i in 0..2000 {
            user(&format!("u{i}"));
        }
        assert_eq!(user("late"), 429, "the overflow count (2) went to the flood");
        assert_eq!(user("early"), 200, "its own slot: one call left");
        assert_eq!(user("early"), 429);
        drop(conn);
        assert!(gw.shutdown().throttle_overflows > 0);
    }
}

#[test]
fn throttle_config_errors_name_the_key_and_the_fix() {
    let group = "[[group]]\nname = \"DEFAULT\"\n[[group.api]]\nname = \"a\"\nmethod = \"GET\"\npath = \"/a/{id}\"\n\
                 throttle = { RELEASE = \"p\", NOPE = \"p\" }\nthrottle2 = { RELEASE = \"missing\" }\n\
                 [group.api.backend]\ntype = \"mock\"\n";
    assert_config_errors(
        &format!(
            "[[throttle]]\nname = \"p\"\nunit = \"week\"\napi_limit = 10\nuser_limit = 11\napp_limit = 12\nip_limit = 20\n\
             excluded_tenants = {{ t = 11 }}\nkey_slots = 1\n\
             [[throttle]]\nname = \"p\"\ntype = \"both\"\nperiod = 0\napi_limit = 0\n{group}"
        ),
        &[
            "throttle[0].unit",
            "throttle[0].user_limit",
            "throttle[0].app_limit",
            "throttle[0].ip_limit",
            "throttle[0].excluded_tenants.t",
            "throttle[0].key_slots",
            "throttle[1].name",
            "throttle[1].type",
            "throttle[1].period",
            "throttle[1].api_limit",
            "group[0].api[0].throttle.NOPE",
            "group[0].api[0].throttle2.RELEASE",
        ],
    );
    // 3 tables of 16 Mi slots: 1.1 GiB, over the 1 GiB cap.
    assert_config_errors(
        "[[throttle]]\nname = \"huge\"\napi_limit = 10\nuser_limit = 5\napp_limit = 5\nip_limit = 5\nkey_slots = 16777216\n",
        &["throttle[0].key_slots"],
    );
    let rules: String = (0..101)
        .map(|i| format!("[[throttle2.rule]]\nlimit = 1\ncondition = {{ param = \"reqPath\", value = \"/{i}\" }}\n"))
        .collect();
    assert_config_errors(
        &format!("[[throttle2]]\nname = \"many\"\nscope = \"both\"\napi_limit = 5\n{rules}"),
        &["throttle2[0].rule", "throttle2[0].scope"],
    );
    let group2 = group
        .replace("throttle = { RELEASE = \"p\", NOPE = \"p\" }\n", "")
        .replace("missing", "v2");
    assert_config_errors(
        &format!(
            "[[throttle2]]\nname = \"v2\"\napi_limit = 5\n\
             [[throttle2.param]]\nlocation = \"path\"\nname = \"other\"\n\
             [[throttle2.param]]\nlocation = \"cookie\"\nname = \"c\"\n\
             [[throttle2.rule]]\nlimit = 1\ncondition = {{ param = \"nope\", value = \"x\" }}\n\
             [[throttle2.rule]]\nlimit = 1\ncondition = {{ all = [] }}\n\
             [[throttle2.rule]]\nlimit = 1\ncondition = {{ param = \"reqPath\", value = \"x\", any = [] }}\n\
             [[throttle2.rule]]\nlimit = 1\ncondition = {{ param = \"reqPath\", value = \"x\", op = \"~\" }}\n\
             [[throttle2.rule]]\nlimit = 1\ncondition = {{ param = \"other\", value = \"x\" }}\n{group2}"
        ),
        &[
            "throttle2[0].param[1].location",
            "throttle2[0].rule[0].condition.param",
            "throttle2[0].rule[1].condition.all",
            "throttle2[0].rule[2].condition",
            "throttle2[0].rule[3].condition.op",
            "group[0].api[0].throttle2.RELEASE",
        ],
    );
}

#[test]
fn a_reload_keeps_the_counters_of_unchanged_policies() {
    use tollgate::control::compile::{ThrottleCarry, compile_with};
    let toml = |limit: u32| {
        format!(
            "[[listener]]\naddress = \"127.0.0.1:0\"\n\
             [[throttle]]\nname = \"kept\"\napi_limit = 10\n\
             [[throttle]]\nname = \"changed\"\napi_limit = {limit}\n\
             [[group]]\nname = \"DEFAULT\"\n\
             [[group.api]]\nname = \"a\"\nmethod = \"GET\"\npath = \"/a\"\nthrottle = {{ RELEASE = \"kept\" }}\n\
             [group.api.backend]\ntype = \"mock\"\n\
             [[group.api]]\nname = \"b\"\nmethod = \"GET\"\npath = \"/b\"\nthrottle = {{ RELEASE = \"changed\" }}\n\
             [group.api.backend]\ntype = \"mock\"\n"
        )
    };
    let spec = |limit| tollgate::control::parse(&toml(limit));
    let base = std::path::Path::new(".");
    let old = compile_with(&spec(10).unwrap(), base, &ThrottleCarry::default()).unwrap();
    let carry = ThrottleCarry::from_snapshot(&old.snapshot);
    let new = compile_with(&spec(20).unwrap(), base, &carry).unwrap();
    let binding = |c: &tollgate::control::Compiled, api: usize| {
        c.snapshot.apis[api].throttle[0]
            .clone()
            .expect("bound in RELEASE")
    };
    assert!(
        Arc::ptr_eq(&binding(&old, 0).counters, &binding(&new, 0).counters),
        "unchanged: kept"
    );
    assert!(Arc::ptr_eq(
        &binding(&old, 0).policy.tables,
        &binding(&new, 0).policy.tables
    ));
    assert!(
        !Arc::ptr_eq(&binding(&old, 1).counters, &binding(&new, 1).counters),
        "changed: reset"
    );
    assert!(
        Arc::ptr_eq(
            &old.snapshot.apis[1].rate_all,
            &new.snapshot.apis[1].rate_all
        ),
        "default limit kept"
    );
    // The count itself carries over: 10 taken before the reload leave
    // nothing after it.
    let now = 1_700_000_000_000;
    let period = Duration::from_secs(1);
    let mut shard = tollgate::policy::throttle::shard::Shard::default();
    let before = &binding(&old, 0).counters.api;
    for _ in 0..10 {
        assert!(shard.take((1, 0), before, 10, period, 1, now).is_some());
    }
    let after = &binding(&new, 0).counters.api;
    let mut fresh = tollgate::policy::throttle::shard::Shard::default();
    assert!(
        fresh.take((2, 0), after, 10, period, 1, now).is_none(),
        "the reload kept the count"
    );
}
