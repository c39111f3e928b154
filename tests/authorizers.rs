//! Custom authorizers over real sockets (behaviour.md §11.7, §11.9, §8.3):
//! the seed 000 Basic-auth walkthrough (401 APIG.0305), the seed 001 §3
//! custom 401 template, the seed 001 §10 True/False backend policy on
//! authorizer context, two-factor (app + authorizer), the result cache
//! with a controllable clock, relaxed mode with the endpoint down or
//! failing, timeouts, backend authorizers and the event sent.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::disallowed_methods
)] // test code: failing loudly is the point; deadlines read the real clock

mod common;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use common::*;
use serde_json::{Value, json};
use tollgate::clock::ManualClock;
use tollgate::control::{self, Gateway};

/// The seed 000 / 001 §3 Basic-auth credentials (`user1:password`).
const BASIC: &str = "Basic dXNlcjE6cGFzc3dvcmQ=";

/// The event the gateway sent, as JSON.
fn event(seen: &Seen) -> Value {
    serde_json::from_slice(&seen.body).expect("the event is JSON")
}

/// A function result (§11.9.3) as the endpoint's 200 answer.
fn result(status_code: u16, status: &str, context: Value) -> Reply {
    let body = json!({ "status": status, "context": context }).to_string();
    Reply::Ok(json!({ "statusCode": status_code, "body": body }).to_string())
}

/// The seed 000 function: allow `user1:password`, else deny with the
/// documented context.
fn basic_auth() -> TestUpstream {
    TestUpstream::start(|seen| {
        if event(seen)["headers"]["authorization"] == BASIC {
            result(200, "allow", json!({ "user_name": "user1" }))
        } else {
            result(
                200,
                "deny",
                json!({ "code": "1001", "message": "incorrect username or password", "authorizer_success": "false" }),
            )
        }
    })
}

/// An `[[authorizer]]` named `auth` at `addr`, with extra lines.
fn authorizer(addr: SocketAddr, kind: &str, extra: &str) -> String {
    format!(
        "[[authorizer]]\nname = \"auth\"\ntype = \"{kind}\"\nurl = \"http://{addr}/check\"\ntimeout_ms = 1000\n{extra}\n"
    )
}

/// `GET /basic` (custom authentication with `auth`) proxied to `up`,
/// the context's `user_name` sent as header `x-user`; `responses` goes
/// into the group.
fn basic_api(up: SocketAddr, responses: &str) -> String {
    format!(
        "[[group]]\nname = \"DEFAULT\"\n{responses}\n\
         [[group.api]]\nname = \"basic\"\nmethod = \"GET\"\npath = \"/basic\"\n\
         [group.api.auth]\ntype = \"custom\"\nauthorizer = \"auth\"\n\
         [group.api.backend]\ntype = \"http\"\naddress = \"{up}\"\ntimeout_ms = 2000\n\
         [[group.api.backend.system]]\nname = \"x-user\"\nlocation = \"HEADER\"\nfrom = \"authorizer.frontend.user_name\"\n"
    )
}

/// `POST /p` (custom authentication with `auth`) proxied to `up`.
fn post_api(up: SocketAddr) -> String {
    format!(
        "[[group]]\nname = \"DEFAULT\"\n\
         [[group.api]]\nname = \"p\"\nmethod = \"POST\"\npath = \"/p\"\n\
         [group.api.auth]\ntype = \"custom\"\nauthorizer = \"auth\"\n\
         [group.api.backend]\ntype = \"http\"\naddress = \"{up}\"\n"
    )
}

/// Starts a gateway on a manual clock (cache expiry).
fn start_with_clock(driver: &str, body: &str, clock: Arc<ManualClock>) -> Gateway {
    let toml = format!(
        "[server]\nworkers = 1\ndriver = \"{driver}\"\nshutdown_timeout_ms = 5000\n[[listener]]\naddress = \"127.0.0.1:0\"\n\n{body}"
    );
    let compiled = control::load(&toml).unwrap_or_else(|e| panic!("{e:#?}"));
    Gateway::start_with_clock(compiled, clock).expect("gateway starts")
}

driver_tests! {
    fn the_seed_000_basic_auth_walkthrough(driver) {
        let up = TestUpstream::ok();
        let az = basic_auth();
        let config = authorizer(az.addr, "frontend", "") + &basic_api(up.addr, "");
        let gw = TestGateway::one(driver, &config);
        // No credentials: the documented 401 (§11.9.3).
        let r = get(gw.addr, "/basic");
        r.assert_apig(401, "APIG.0305", "Incorrect authentication information: frontend authorizer");
        assert_eq!(r.header("content-type"), Some("application/json"));
        assert!(event(&az.next())["headers"].get("authorization").is_none());
        // The right credentials: through, with the context as a parameter.
        let ok = request(gw.addr, &format!("GET /basic HTTP/1.1\r\nHost: h\r\nAuthorization: {BASIC}\r\n\r\n"));
        assert_eq!(ok.status, 200, "{}", ok.text());
        assert_eq!(event(&az.next())["headers"]["authorization"], BASIC);
        assert_eq!(up.next().header("x-user"), Some("user1"));
    }

    fn the_seed_001_custom_401_template_renders_the_deny_context(driver) {
        let up = TestUpstream::ok();
        let az = basic_auth();
        let responses = "[group.responses.default.AUTHORIZER_FAILURE]\nstatus = 401\nbody = '{\"code\":\"$context.authorizer.frontend.code\",\"message\":\"$context.authorizer.frontend.message\",\"authorizer_success\": \"$context.authorizer.frontend.authorizer_success\"}'\n";
        let config = authorizer(az.addr, "frontend", "") + &basic_api(up.addr, responses);
        let gw = TestGateway::one(driver, &config);
        let r = request(gw.addr, "GET /basic HTTP/1.1\r\nHost: h\r\nAuthorization: Basic bad\r\n\r\n");
        assert_eq!(r.status, 401);
        assert_eq!(
            r.text(),
            r#"{"code":"1001","message":"incorrect username or password","authorizer_success": "false"}"#
        );
    }

    fn a_backend_policy_matches_a_boolean_context_value(driver) {
        // Seed 001 §10: `authstatus1: False` matches the text "False";
        // changed to "True", the default backend answers.
        let az = TestUpstream::start(|_| {
            let body = json!({"status": "allow", "context": {"test": "123", "authstatus1": false, "authstatus2": true, "num": 1001}}).to_string();
            let resp = json!({"statusCode": 200, "body": body, "headers": {"Content-Type": "application/json"}});
            // `return json.dumps(resp)`: the result as a JSON string.
            Reply::Ok(Value::String(resp.to_string()).to_string())
        });
        // Numbers compare by their decimal text.
        let cases = [
            ("authstatus1", "False", "策略后端"),
            ("authstatus1", "True", "默认后端"),
            ("authstatus2", "true", "策略后端"),
            ("num", "1001", "策略后端"),
            ("test", "124", "默认后端"),
        ];
        for (key, value, expected) in cases {
            let config = authorizer(az.addr, "frontend", "") + &format!(
                "[[group]]\nname = \"DEFAULT\"\n\
                 [[group.api]]\nname = \"p\"\nmethod = \"GET\"\npath = \"/1234\"\n\
                 [group.api.auth]\ntype = \"custom\"\nauthorizer = \"auth\"\n\
                 [group.api.backend]\ntype = \"mock\"\nbody = \"默认后端\"\n\
                 [[group.api.policy]]\nname = \"on-context\"\n\
                 [[group.api.policy.condition]]\nsource = \"authorizer\"\nparam = \"{key}\"\ntype = \"equal\"\nvalue = \"{value}\"\n\
                 [group.api.policy.backend]\ntype = \"mock\"\nbody = \"策略后端\"\n"
            );
            let gw = TestGateway::one(driver, &config);
            let r = get(gw.addr, "/1234");
            assert_eq!(r.status, 200);
            assert_eq!(r.text(), expected, "condition {key} = {value}");
        }
    }

    fn two_factor_needs_the_app_and_the_authorizer(driver) {
        // Seed 001 §7: identity sources header `token` and query `test`,
        // the function denies with statusCode 401 (§27 C6 switch on).
        let az = TestUpstream::start(|seen| {
            let e = event(seen);
            if e["headers"]["token"] == "t0k3n" && e["queryStringParameters"]["test"] == "q" {
                result(200, "allow", json!({}))
            } else {
                result(401, "deny", json!({}))
            }
        });
        let up = TestUpstream::ok();
        let code = "TgrMzOoTpbPORwg4a2BlUgd0ziCaHzVW6bcoScNgISsTS5z1i1Mgsvb9fz2h6Ihd";
        let config = authorizer(
            az.addr,
            "frontend",
            "cache_ttl_s = 30\ndeny_status_codes = true\nidentity = [{ location = \"header\", name = \"token\" }, { location = \"query\", name = \"test\" }]",
        ) + &format!(
            "[[app]]\nname = \"demo\"\nkey = \"demokey\"\nsecret = \"demosecret\"\napp_codes = [\"{code}\"]\n\
             [[group]]\nname = \"DEFAULT\"\n\
             [[group.api]]\nname = \"tf\"\nmethod = \"GET\"\npath = \"/api/two_factor_authorization\"\n\
             [group.api.auth]\ntype = \"app\"\nsimple = true\napp_code_over_http = true\ntwo_factor = true\nauthorizer = \"auth\"\ngrants = {{ RELEASE = [\"demo\"] }}\n\
             [group.api.backend]\ntype = \"http\"\naddress = \"{}\"\n",
            up.addr
        );
        let gw = TestGateway::one(driver, &config);
        let call = |app: bool, token: Option<&str>, query: &str| {
            let mut raw = format!("GET /api/two_factor_authorization{query} HTTP/1.1\r\nHost: h\r\n");
            if app {
                raw += &format!("X-Apig-AppCode: {code}\r\n");
            }
            if let Some(t) = token {
                raw += &format!("token: {t}\r\n");
            }
            request(gw.addr, &(raw + "\r\n"))
        };
        // No app credentials: the app check fails first; no call made.
        call(false, Some("t0k3n"), "?test=q").assert_apig(401, "APIG.0303", "Incorrect app authentication information.");
        // An identity source missing: 401 before any call (§11.10).
        let r = call(true, None, "?test=q");
        r.assert_apig(401, "APIG.0305", "Incorrect authentication information: identity source not found");
        assert_eq!(az.connection_count(), 0, "the authorizer was not called");
        // Wrong token: the function's 401 deny.
        call(true, Some("wrong"), "?test=q").assert_apig(401, "APIG.0305", "Incorrect authentication information: frontend authorizer");
        // Both factors: through.
        assert_eq!(call(true, Some("t0k3n"), "?test=q").status, 200);
        assert_eq!(up.next().target, "/?test=q");
    }

    fn results_are_cached_by_identity_source_until_the_age_passes(driver) {
        let az = TestUpstream::start(|seen| {
            let token = event(seen)["headers"]["token"].as_str().unwrap_or("").to_string();
            if token.starts_with("good") {
                result(200, "allow", json!({ "user_name": token }))
            } else {
                result(200, "deny", json!({}))
            }
        });
        let up = TestUpstream::ok();
        let clock = Arc::new(ManualClock::new());
        let config = authorizer(az.addr, "frontend", "cache_ttl_s = 30\nidentity = [{ location = \"header\", name = \"token\" }]")
            + &basic_api(up.addr, "");
        let gw = start_with_clock(driver, &config, clock.clone());
        let addr = gw.local_addrs()[0];
        let call = |token: &str| request(addr, &format!("GET /basic HTTP/1.1\r\nHost: h\r\ntoken: {token}\r\n\r\n"));
        assert_eq!(call("good-1").status, 200);
        az.next();
        assert_eq!(up.next().header("x-user"), Some("good-1"));
        // Hit: the context comes from the cache, no second call.
        assert_eq!(call("good-1").status, 200);
        assert_eq!(up.next().header("x-user"), Some("good-1"));
        // Another identity: its own call. Denies are cached too.
        assert_eq!(call("good-2").status, 200);
        up.next();
        assert_eq!(call("bad").status, 401);
        assert_eq!(call("bad").status, 401);
        let seen: Vec<String> = az.seen.try_iter().map(|s| event(&s)["headers"]["token"].as_str().unwrap().to_string()).collect();
        assert_eq!(seen, ["good-2", "bad"]);
        // Just before the age passes: still cached; after: called again.
        clock.advance(Duration::from_secs(29));
        assert_eq!(call("good-1").status, 200);
        up.next();
        clock.advance(Duration::from_secs(2));
        assert_eq!(call("good-1").status, 200);
        up.next();
        assert_eq!(event(&az.next())["headers"]["token"], "good-1");
        assert!(az.seen.try_recv().is_err());
        let totals = gw.shutdown();
        assert_eq!(totals.authorizer_calls, 4);
        assert_eq!(totals.authorizer_cache_hits, 3);
    }

    fn without_caching_every_request_calls_over_a_pooled_connection(driver) {
        let up = TestUpstream::ok();
        let az = basic_auth();
        let config = authorizer(az.addr, "frontend", "") + &basic_api(up.addr, "");
        let gw = TestGateway::one(driver, &config);
        let mut conn = Conn::open(gw.addr);
        for _ in 0..30 {
            conn.send(format!("GET /basic HTTP/1.1\r\nHost: h\r\nAuthorization: {BASIC}\r\n\r\n").as_bytes());
            assert_eq!(conn.read().status, 200);
            az.next();
        }
        // Keep-alive connections to the authorizer: one, or a few taking
        // turns when the next call comes before the last one rested (issue
        // 13, the pool); never one per call.
        assert!(az.connection_count() <= 10, "{} connections to the authorizer", az.connection_count());
    }

    fn relaxed_mode_lets_requests_through_when_the_endpoint_is_down(driver) {
        let up = TestUpstream::ok();
        let down = dead_addr();
        for (relaxed, status) in [(true, 200), (false, 500)] {
            let config = authorizer(down, "frontend", &format!("relaxed = {relaxed}")) + &basic_api(up.addr, "");
            let gw = TestGateway::one(driver, &config);
            let r = request(gw.addr, &format!("GET /basic HTTP/1.1\r\nHost: h\r\nAuthorization: {BASIC}\r\n\r\n"));
            assert_eq!(r.status, status, "relaxed = {relaxed}: {}", r.text());
            if relaxed {
                // The context is empty (§11.9.5): the parameter is sent empty.
                assert_eq!(up.next().header("x-user").unwrap_or(""), "");
            } else {
                r.assert_apig(500, "APIG.0601", "Internal server error.");
            }
        }
    }

    fn relaxed_mode_forgives_5xx_but_not_a_broken_contract(driver) {
        let up = TestUpstream::ok();
        let cases: [(Reply, bool, u16); 5] = [
            (Reply::Raw(b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n".to_vec()), true, 200),
            (result(500, "allow", json!({})), true, 200),
            (Reply::Ok("not json".into()), true, 500),
            (result(200, "maybe", json!({})), true, 500),
            (result(503, "allow", json!({})), false, 500),
        ];
        for (reply, relaxed, status) in cases {
            let az = TestUpstream::start(move |_| reply.clone());
            let config = authorizer(az.addr, "frontend", &format!("relaxed = {relaxed}")) + &basic_api(up.addr, "");
            let gw = TestGateway::one(driver, &config);
            let r = get(gw.addr, "/basic");
            assert_eq!(r.status, status, "relaxed = {relaxed}: {}", r.text());
            if status == 500 {
                r.assert_apig(500, "APIG.0601", "Internal server error.");
            } else {
                up.next();
            }
        }
    }

    fn a_slow_endpoint_times_out_as_an_authorizer_failure(driver) {
        let up = TestUpstream::ok();
        let az = TestUpstream::start(|_| Reply::Delay(Duration::from_millis(1500), Box::new(result(200, "allow", json!({})))));
        let config = authorizer(az.addr, "frontend", "") + &basic_api(up.addr, "");
        let gw = TestGateway::one(driver, &config);
        get(gw.addr, "/basic").assert_apig(500, "APIG.0601", "Internal server error.");
    }

    fn a_backend_authorizer_receives_user_data_and_feeds_backend_parameters(driver) {
        // S002: token = base64(user_data), mapped to a backend header.
        let az = TestUpstream::start(|seen| {
            let e = event(seen);
            assert_eq!(e, json!({ "user_data": "123" }));
            result(200, "allow", json!({ "token": "MTIz" }))
        });
        let up = TestUpstream::ok();
        let config = authorizer(az.addr, "backend", "user_data = \"123\"") + &format!(
            "[[group]]\nname = \"DEFAULT\"\n\
             [[group.api]]\nname = \"b\"\nmethod = \"GET\"\npath = \"/b\"\n\
             [group.api.backend]\ntype = \"http\"\naddress = \"{}\"\nauthorizer = \"auth\"\n\
             [[group.api.backend.system]]\nname = \"test\"\nlocation = \"HEADER\"\nfrom = \"authorizer.backend.token\"\n",
            up.addr
        );
        let gw = TestGateway::one(driver, &config);
        assert_eq!(get(gw.addr, "/b").status, 200);
        assert_eq!(up.next().header("test"), Some("MTIz"));
    }

    fn a_backend_authorizer_deny_stops_the_request(driver) {
        let az = TestUpstream::start(|_| result(200, "deny", json!({})));
        let up = TestUpstream::ok();
        let config = authorizer(az.addr, "backend", "") + &format!(
            "[[group]]\nname = \"DEFAULT\"\n\
             [[group.api]]\nname = \"b\"\nmethod = \"GET\"\npath = \"/b\"\n\
             [group.api.backend]\ntype = \"http\"\naddress = \"{}\"\nauthorizer = \"auth\"\n",
            up.addr
        );
        let gw = TestGateway::one(driver, &config);
        get(gw.addr, "/b").assert_apig(401, "APIG.0305", "Incorrect authentication information: backend authorizer");
        assert!(up.seen.try_recv().is_err(), "the backend was not called");
    }

    fn the_event_carries_the_body_when_configured(driver) {
        let az = TestUpstream::start(|seen| {
            let e = event(seen);
            if e["body"] == "{\"a\":1}" && e["isBase64Encoded"] == false && e["httpMethod"] == "POST" {
                result(200, "allow", json!({}))
            } else {
                result(200, "deny", json!({}))
            }
        });
        let up = TestUpstream::ok();
        let config = authorizer(az.addr, "frontend", "send_body = true") + &post_api(up.addr);
        let gw = TestGateway::one(driver, &config);
        let r = request(gw.addr, "POST /p HTTP/1.1\r\nHost: h\r\nContent-Length: 7\r\n\r\n{\"a\":1}");
        assert_eq!(r.status, 200, "{}", r.text());
        // The backend still receives the body, read once.
        assert_eq!(up.next().body, b"{\"a\":1}");
    }

    // regression: issue 13 review — a body read whole for the authorizer
    // event was bounded per pause only, so a trickle held it indefinitely.
    fn a_body_read_for_the_event_keeps_the_minimum_rate(driver) {
        let az = TestUpstream::start(|_| result(200, "allow", json!({})));
        let up = TestUpstream::ok();
        let settings = "[settings]\nbody_timeout_ms = 1000\nbody_min_rate_bytes_per_s = 1000\n";
        let config = format!("{settings}{}{}", authorizer(az.addr, "frontend", "send_body = true"), post_api(up.addr));
        let gw = TestGateway::one(driver, &config);
        let mut c = Conn::open(gw.addr);
        c.send(b"POST /p HTTP/1.1\r\nHost: h\r\nContent-Length: 100000\r\n\r\n");
        let started = std::time::Instant::now();
        loop {
            use std::io::Write;
            let _ = c.stream.write_all(b"x");
            std::thread::sleep(std::time::Duration::from_millis(50));
            let mut probe = [0u8; 1];
            c.stream.set_nonblocking(true).unwrap();
            let gone = match std::io::Read::read(&mut c.stream, &mut probe) {
                Err(e) => e.kind() != std::io::ErrorKind::WouldBlock,
                Ok(_) => true,
            };
            c.stream.set_nonblocking(false).unwrap();
            if gone || started.elapsed() > DEADLINE {
                break;
            }
        }
        let took = started.elapsed();
        assert!(took < std::time::Duration::from_secs(4), "the trickle was not cut: {took:?}");
        assert_eq!(az.connection_count(), 0, "the authorizer was never called");
    }

    fn a_repeated_identity_header_cannot_borrow_another_callers_decision(driver) {
        // The cache key is what the event shows: `token: victim` plus
        // `token: good` is the identity "victim,good", not "victim".
        let az = TestUpstream::start(|seen| {
            let token = event(seen)["headers"]["token"].as_str().unwrap_or("").to_string();
            if token.split(',').any(|t| t == "good") {
                result(200, "allow", json!({ "user_name": token }))
            } else {
                result(200, "deny", json!({}))
            }
        });
        let up = TestUpstream::ok();
        let config = authorizer(az.addr, "frontend", "cache_ttl_s = 300\nidentity = [{ location = \"header\", name = \"token\" }, { location = \"query\", name = \"test\" }]")
            + &basic_api(up.addr, "");
        let gw = TestGateway::one(driver, &config);
        let sneaky = "GET /basic?TEST=anything&test=x HTTP/1.1\r\nHost: h\r\ntoken: victim\r\ntoken: good\r\n\r\n";
        assert_eq!(request(gw.addr, sneaky).status, 200);
        up.next();
        az.next();
        // The victim's own identity is not served from that decision.
        let victim = "GET /basic?test=x HTTP/1.1\r\nHost: h\r\ntoken: victim\r\n\r\n";
        assert_eq!(request(gw.addr, victim).status, 401);
        let other_case = "GET /basic?test=anything HTTP/1.1\r\nHost: h\r\ntoken: victim\r\ntoken: good\r\n\r\n";
        assert_eq!(request(gw.addr, other_case).status, 200);
        assert_eq!(az.seen.try_iter().count(), 2, "both were called, neither served from the cache");
    }

    fn a_context_value_with_a_line_break_never_reaches_a_header(driver) {
        let az = TestUpstream::start(|_| result(200, "allow", json!({ "user_name": "abc\r\nX-Injected: yes" })));
        let up = TestUpstream::ok();
        let config = authorizer(az.addr, "frontend", "relaxed = true") + &basic_api(up.addr, "");
        let gw = TestGateway::one(driver, &config);
        get(gw.addr, "/basic").assert_apig(500, "APIG.0601", "Internal server error.");
        assert!(up.seen.try_recv().is_err(), "the backend was not called");
    }

    fn a_chunked_body_is_sent_de_chunked_and_still_forwarded(driver) {
        let az = TestUpstream::start(|seen| {
            let e = event(seen);
            if e["body"] == "hello world" {
                result(200, "allow", json!({}))
            } else {
                result(200, "deny", json!({}))
            }
        });
        let up = TestUpstream::ok();
        let config = authorizer(az.addr, "frontend", "send_body = true\nmax_body_bytes = 16") + &post_api(up.addr);
        let gw = TestGateway::one(driver, &config);
        let mut conn = Conn::open(gw.addr);
        // Sent in pieces, with 100-continue, then a pipelined request.
        conn.send(b"POST /p HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nExpect: 100-continue\r\n\r\n");
        conn.send(b"5\r\nhello\r\n6\r\n w");
        conn.send(b"orld\r\n0\r\n\r\nPOST /p HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\n\r\nhello world");
        let first = conn.read();
        let first = if first.status == 100 { conn.read() } else { first };
        assert_eq!(first.status, 200, "{}", first.text());
        assert_eq!(up.next().body, b"hello world");
        assert_eq!(conn.read().status, 200, "the connection stayed in step");
        assert_eq!(up.next().body, b"hello world");
        // Over the authorizer's max_body_bytes: 413.
        let big = format!("POST /p HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n11\r\n{}\r\n0\r\n\r\n", "x".repeat(17));
        assert_eq!(request(gw.addr, &big).status, 413);
        let big = format!("POST /p HTTP/1.1\r\nHost: h\r\nContent-Length: 17\r\n\r\n{}", "x".repeat(17));
        assert_eq!(request(gw.addr, &big).status, 413);
    }

    fn the_timeout_bounds_the_whole_call(driver) {
        // An endpoint that dribbles its answer: each read is quick, the
        // whole is not.
        let az = TestUpstream::start(|_| {
            let body = json!({"statusCode": 200, "body": "{\"status\":\"allow\"}"}).to_string();
            let raw = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{body}", body.len());
            Reply::Dribble(raw.into_bytes(), 4, Duration::from_millis(200))
        });
        let up = TestUpstream::ok();
        let config = authorizer(az.addr, "frontend", "").replace("timeout_ms = 1000", "timeout_ms = 300") + &basic_api(up.addr, "");
        let gw = TestGateway::one(driver, &config);
        let started = std::time::Instant::now();
        get(gw.addr, "/basic").assert_apig(500, "APIG.0601", "Internal server error.");
        assert!(started.elapsed() < Duration::from_millis(1000), "{:?}", started.elapsed());
    }

    fn a_result_over_one_megabyte_is_refused_and_the_connection_not_reused(driver) {
        let big = json!({"statusCode": 200, "body": json!({"status": "allow", "pad": "x".repeat(1024 * 1024)}).to_string()}).to_string();
        let az = TestUpstream::start(move |_| Reply::Ok(big.clone()));
        let up = TestUpstream::ok();
        let config = authorizer(az.addr, "frontend", "") + &basic_api(up.addr, "");
        let gw = TestGateway::one(driver, &config);
        get(gw.addr, "/basic").assert_apig(500, "APIG.0601", "Internal server error.");
        get(gw.addr, "/basic").assert_apig(500, "APIG.0601", "Internal server error.");
        assert_eq!(az.connection_count(), 2, "a refused answer's connection is not pooled");
    }

    fn two_factor_also_follows_a_token(driver) {
        // §11.7: IAM (token) authentication plus the authorizer; the
        // token's claims and the authorizer's context both reach the backend.
        let az = basic_auth();
        let up = TestUpstream::ok();
        let secret = "two-factor-test-secret-0123456789abcdef";
        let config = authorizer(az.addr, "frontend", "") + &format!(
            "[[token_issuer]]\nname = \"t\"\n[[token_issuer.key]]\nalg = \"HS256\"\nsecret = \"{secret}\"\n\
             [[group]]\nname = \"DEFAULT\"\n\
             [[group.api]]\nname = \"tf\"\nmethod = \"GET\"\npath = \"/tf\"\n\
             [group.api.auth]\ntype = \"token\"\ntoken_issuer = \"t\"\ntwo_factor = true\nauthorizer = \"auth\"\n\
             [group.api.backend]\ntype = \"http\"\naddress = \"{}\"\n\
             [[group.api.backend.system]]\nname = \"x-user\"\nlocation = \"HEADER\"\nfrom = \"authorizer.frontend.user_name\"\n\
             [[group.api.backend.system]]\nname = \"x-sub\"\nlocation = \"HEADER\"\nfrom = \"userId\"\n",
            up.addr
        );
        let gw = TestGateway::one(driver, &config);
        let claims = json!({ "sub": "alice", "exp": unix_now() + 600 });
        let key = jsonwebtoken::EncodingKey::from_secret(secret.as_bytes());
        let token = jsonwebtoken::encode(&jsonwebtoken::Header::default(), &claims, &key).unwrap();
        // Token only: the authorizer (Basic) denies.
        let r = request(gw.addr, &format!("GET /tf HTTP/1.1\r\nHost: h\r\nX-Auth-Token: {token}\r\n\r\n"));
        r.assert_apig(401, "APIG.0305", "Incorrect authentication information: frontend authorizer");
        az.next();
        // Basic only: the token check refuses first, no call.
        let r = request(gw.addr, &format!("GET /tf HTTP/1.1\r\nHost: h\r\nAuthorization: {BASIC}\r\n\r\n"));
        assert_eq!(r.status, 401);
        assert!(r.text().contains("APIG.0301"), "{}", r.text());
        assert!(az.seen.try_recv().is_err());
        // Both.
        let r = request(gw.addr, &format!("GET /tf HTTP/1.1\r\nHost: h\r\nX-Auth-Token: {token}\r\nAuthorization: {BASIC}\r\n\r\n"));
        assert_eq!(r.status, 200, "{}", r.text());
        let seen = up.next();
        assert_eq!(seen.header("x-user"), Some("user1"));
        assert_eq!(seen.header("x-sub"), Some("alice"));
    }
}

#[test]
fn authorizer_config_errors_name_the_key() {
    let az = "127.0.0.1:9";
    let api = |auth: &str, backend_extra: &str| {
        format!(
            "[[group]]\nname = \"DEFAULT\"\n[[group.api]]\nname = \"a\"\nmethod = \"GET\"\npath = \"/a\"\n\
             [group.api.auth]\n{auth}\n\
             [group.api.backend]\ntype = \"http\"\naddress = \"127.0.0.1:1\"\n{backend_extra}\n"
        )
    };
    let front = |extra: &str| {
        format!(
            "[[authorizer]]\nname = \"front\"\ntype = \"frontend\"\nurl = \"http://{az}/\"\n{extra}\n"
        )
    };
    let back =
        format!("[[authorizer]]\nname = \"back\"\ntype = \"backend\"\nurl = \"http://{az}/\"\n");
    let cases: Vec<(String, &str)> = vec![
        (
            front("cache_ttl_s = 3601") + &api("type = \"none\"", ""),
            "authorizer[0].cache_ttl_s",
        ),
        (
            front("cache_ttl_s = 10") + &api("type = \"none\"", ""),
            "authorizer[0].identity",
        ),
        (
            front("timeout_ms = 0") + &api("type = \"none\"", ""),
            "authorizer[0].timeout_ms",
        ),
        (
            front("user_data = \"\"") + &api("type = \"none\"", ""),
            "authorizer[0].user_data",
        ),
        (
            front("tls_verify = false") + &api("type = \"none\"", ""),
            "authorizer[0].tls_verify",
        ),
        (
            front("identity = [{ location = \"cookie\", name = \"a\" }]")
                + &api("type = \"none\"", ""),
            "authorizer[0].identity[0].location",
        ),
        (
            "[[authorizer]]\nname = \"x\"\ntype = \"frontend\"\nurl = \"http://h/\"\n".to_string()
                + &api("type = \"none\"", ""),
            "authorizer[0].name",
        ),
        (
            "[[authorizer]]\nname = \"abc\"\ntype = \"side\"\nurl = \"ftp://h/\"\n".to_string()
                + &api("type = \"none\"", ""),
            "authorizer[0].type",
        ),
        (
            "[[authorizer]]\nname = \"abc\"\ntype = \"frontend\"\nurl = \"ftp://h/\"\n".to_string()
                + &api("type = \"none\"", ""),
            "authorizer[0].url",
        ),
        (
            back.clone() + "send_body = true\n" + &api("type = \"none\"", ""),
            "authorizer[0].send_body",
        ),
        (
            front("") + &api("type = \"custom\"", ""),
            "group[0].api[0].auth.authorizer",
        ),
        (
            front("") + &api("type = \"custom\"\nauthorizer = \"nope\"", ""),
            "group[0].api[0].auth.authorizer",
        ),
        (
            back.clone() + &api("type = \"custom\"\nauthorizer = \"back\"", ""),
            "group[0].api[0].auth.authorizer",
        ),
        (
            front("") + &api("type = \"none\"\nauthorizer = \"front\"", ""),
            "group[0].api[0].auth.authorizer",
        ),
        (
            front("")
                + &api(
                    "type = \"custom\"\ntwo_factor = true\nauthorizer = \"front\"",
                    "",
                ),
            "group[0].api[0].auth.two_factor",
        ),
        (
            front("") + &api("type = \"app\"\ntwo_factor = true", ""),
            "group[0].api[0].auth.authorizer",
        ),
        (
            front("") + &api("type = \"none\"", "authorizer = \"front\""),
            "group[0].api[0].backend.authorizer",
        ),
        (
            front("")
                + &api(
                    "type = \"none\"",
                    "[[group.api.backend.system]]\nname = \"u\"\nlocation = \"HEADER\"\nfrom = \"authorizer.frontend.user\"",
                ),
            "group[0].api[0].backend.system[0].from",
        ),
        (
            back.clone()
                + &api(
                    "type = \"none\"",
                    "[[group.api.backend.system]]\nname = \"u\"\nlocation = \"HEADER\"\nfrom = \"authorizer.backend.user\"",
                ),
            "group[0].api[0].backend.system[0].from",
        ),
    ];
    for (toml, path) in cases {
        assert_config_errors(&toml, &[path]);
    }
}
