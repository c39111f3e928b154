//! Proxying end to end: headers both ways, keep-alive, HTTP/1.0,
//! pipelining, 100-continue, pool reuse, 502/504 (behaviour.md §7.2, §7.6,
//! §19).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::disallowed_methods
)] // test code: failing loudly is the point; deadlines read the real clock

mod common;
use common::*;

use std::time::Duration;

driver_tests! {
    fn forwards_request_and_response_headers(driver) {
        let up = TestUpstream::start(|_| Reply::Raw(
            b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-Up: yes\r\nServer: upstream\r\nKeep-Alive: timeout=5\r\nX-Request-Id: fake\r\n\r\nhi".to_vec(),
        ));
        let gw = TestGateway::one(driver, &proxy_all(up.addr));
        let r = request(gw.addr, "GET /a/b?x=1&y=2 HTTP/1.1\r\nHost: api.test:8080\r\nX-Custom: 1\r\nConnection: keep-alive, X-Secret\r\nX-Secret: drop\r\nTE: trailers\r\nX-Forwarded-For: 10.0.0.1\r\nX-Forwarded-Proto: https\r\nX-Request-Id: client-chosen\r\n\r\n");
        assert_eq!(r.status, 200);
        assert_eq!(r.text(), "hi");
        assert_eq!(r.header("x-up"), Some("yes"));
        assert_eq!(r.header("server"), Some("api-gateway"), "§19: Server on proxied responses");
        assert!(r.header("keep-alive").is_none(), "hop-by-hop removed from responses");
        let rid = r.header("x-request-id").unwrap().to_string();
        assert_eq!(rid.len(), 32);
        assert!(rid.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
        let seen = up.next();
        assert_eq!(seen.target, "/a/b?x=1&y=2");
        assert_eq!(seen.header("host"), Some(up.addr.to_string().as_str()), "§7.2: Host = backend address");
        assert_eq!(seen.header("x-custom"), Some("1"));
        assert!(seen.header("x-secret").is_none(), "header named in Connection is hop-by-hop");
        assert!(seen.header("te").is_none());
        assert!(seen.header("connection").is_none());
        assert_eq!(seen.header("x-forwarded-for"), Some("10.0.0.1, 127.0.0.1"));
        assert_eq!(seen.header("x-forwarded-proto"), Some("http"));
        assert_eq!(seen.header("x-forwarded-host"), Some("api.test:8080"));
        assert_eq!(seen.header("x-request-id"), Some(rid.as_str()), "same id upstream and downstream");
    }

    fn workers_share_one_port_and_pin_to_cores(driver) {
        // Two workers, each with its own SO_REUSEPORT socket on one port.
        let up = TestUpstream::ok();
        let gw = TestGateway::start_with(driver, 2, "pin_cores = true\n", &proxy_all(up.addr));
        let conns: Vec<Conn> = (0..16).map(|_| Conn::open(gw.addr)).collect();
        for mut c in conns {
            c.send(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n");
            assert_eq!(c.read().status, 200);
        }
        assert_eq!(gw.shutdown().requests, 16);
    }

    fn forwarded_for_chain_is_joined_whatever_follows_it(driver) {
        // regression: an end-to-end header after X-Forwarded-For used to be
        // written onto the X-Forwarded-For line.
        let up = TestUpstream::ok();
        let gw = TestGateway::one(driver, &proxy_all(up.addr));
        let r = request(gw.addr, "GET / HTTP/1.1\r\nHost: t\r\nX-Forwarded-For: 10.0.0.1\r\nX-After: 1\r\nX-Forwarded-For: 10.0.0.2, 10.0.0.3\r\nX-Last: 2\r\n\r\n");
        assert_eq!(r.status, 200);
        let seen = up.next();
        assert_eq!(seen.header("x-forwarded-for"), Some("10.0.0.1, 10.0.0.2, 10.0.0.3, 127.0.0.1"));
        assert_eq!(seen.header("x-after"), Some("1"));
        assert_eq!(seen.header("x-last"), Some("2"));
        assert_eq!(seen.headers.iter().filter(|(n, _)| n == "x-forwarded-for").count(), 1);
    }

    fn request_ids_are_unique(driver) {
        let up = TestUpstream::ok();
        let gw = TestGateway::one(driver, &proxy_all(up.addr));
        let mut c = Conn::open(gw.addr);
        let mut ids = std::collections::HashSet::new();
        for _ in 0..50 {
            c.send(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n");
            assert!(ids.insert(c.read().header("x-request-id").unwrap().to_string()));
        }
    }

    fn keep_alive_and_connection_close(driver) {
        let up = TestUpstream::ok();
        let gw = TestGateway::one(driver, &proxy_all(up.addr));
        let mut c = Conn::open(gw.addr);
        c.send(b"GET /1 HTTP/1.1\r\nHost: t\r\n\r\n");
        assert_eq!(c.read().status, 200);
        c.send(b"GET /2 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
        let r = c.read();
        assert_eq!(r.status, 200);
        assert_eq!(r.header("connection"), Some("close"));
        assert!(c.is_closed());
    }

    fn http10_clients_are_served(driver) {
        let up = TestUpstream::start(|s| Reply::Ok(format!("v1.{}", s.version)));
        let gw = TestGateway::one(driver, &proxy_all(up.addr));
        // Without keep-alive: answered, then closed.
        let mut c = Conn::open(gw.addr);
        c.send(b"GET / HTTP/1.0\r\n\r\n");
        let r = c.read();
        assert_eq!(r.status, 200);
        assert_eq!(r.text(), "v1.0", "HTTP/1.0 request goes upstream as HTTP/1.0");
        assert!(c.is_closed());
        // With keep-alive: the connection stays open.
        let mut c = Conn::open(gw.addr);
        c.send(b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
        let r = c.read();
        assert_eq!(r.header("connection"), Some("keep-alive"));
        c.send(b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
        assert_eq!(c.read().status, 200);
    }

    fn pipelined_requests_are_answered_in_order(driver) {
        let up = TestUpstream::start(|s| Reply::Ok(s.target.clone()));
        let gw = TestGateway::one(driver, &proxy_all(up.addr));
        let mut c = Conn::open(gw.addr);
        c.send(b"GET /one HTTP/1.1\r\nHost: t\r\n\r\nPOST /two HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\nabcGET /three HTTP/1.1\r\nHost: t\r\n\r\n");
        assert_eq!(c.read().text(), "/one");
        assert_eq!(c.read().text(), "/two");
        assert_eq!(c.read().text(), "/three");
        assert_eq!(up.next().body, b"");
        assert_eq!(up.next().body, b"abc");
    }

    fn expect_100_continue_gets_interim_response(driver) {
        let up = TestUpstream::start(|s| Reply::Ok(String::from_utf8_lossy(&s.body).into_owned()));
        let gw = TestGateway::one(driver, &proxy_all(up.addr));
        let mut c = Conn::open(gw.addr);
        c.send(b"POST /up HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n");
        let interim = c.read();
        assert_eq!(interim.status, 100);
        c.send(b"hello");
        let r = c.read();
        assert_eq!(r.status, 200);
        assert_eq!(r.text(), "hello");
        assert!(up.next().header("expect").is_none(), "Expect is handled by the gateway");
    }

    fn chunked_request_body_is_streamed_upstream(driver) {
        let up = TestUpstream::start(|s| Reply::Ok(format!("{}", s.body_len)));
        let gw = TestGateway::one(driver, &proxy_all(up.addr));
        let mut c = Conn::open(gw.addr);
        c.send(b"POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n");
        c.send(b"6\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n");
        assert_eq!(c.read().text(), "11");
        let seen = up.next();
        assert_eq!(seen.body, b"hello world");
        assert_eq!(seen.header("transfer-encoding"), Some("chunked"));
    }

    fn chunked_and_close_delimited_responses_reach_the_client(driver) {
        let up = TestUpstream::start(|s| match s.target.as_str() {
            "/chunked" => Reply::Raw(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n".to_vec()),
            _ => Reply::RawThenClose(b"HTTP/1.1 200 OK\r\n\r\nuntil close".to_vec()),
        });
        let gw = TestGateway::one(driver, &proxy_all(up.addr));
        let mut c = Conn::open(gw.addr);
        c.send(b"GET /chunked HTTP/1.1\r\nHost: t\r\n\r\n");
        let r = c.read();
        assert_eq!(r.text(), "abcde");
        c.send(b"GET /close HTTP/1.1\r\nHost: t\r\n\r\n");
        let r = c.read();
        assert_eq!(r.header("transfer-encoding"), Some("chunked"), "re-chunked for an HTTP/1.1 client");
        assert_eq!(r.text(), "until close");
        c.send(b"GET /chunked HTTP/1.1\r\nHost: t\r\n\r\n");
        assert_eq!(c.read().text(), "abcde", "client connection survives");
    }

    fn head_response_keeps_content_length_and_has_no_body(driver) {
        let up = TestUpstream::start(|_| Reply::Raw(b"HTTP/1.1 200 OK\r\nContent-Length: 42\r\n\r\n".to_vec()));
        let gw = TestGateway::one(driver, &proxy_all(up.addr));
        let mut c = Conn::open(gw.addr);
        c.send(b"HEAD / HTTP/1.1\r\nHost: t\r\n\r\n");
        let r = c.read_for(true);
        assert_eq!(r.header("content-length"), Some("42"));
        c.send(b"HEAD / HTTP/1.1\r\nHost: t\r\n\r\n");
        assert_eq!(c.read_for(true).status, 200);
    }

    fn pool_reuses_one_upstream_connection(driver) {
        let up = TestUpstream::ok();
        let gw = TestGateway::one(driver, &proxy_all(up.addr));
        // Sequential requests over separate client connections share the
        // upstream connections owned by the worker. A connection rests
        // after each answer about as long as the backend's slow answers
        // take (issue 13), so a client quicker than that meets it resting
        // and takes another: a few connections take turns, never one per
        // request.
        for _ in 0..60 {
            assert_eq!(get(gw.addr, "/").status, 200);
        }
        assert!(up.connection_count() <= 20, "{} connections", up.connection_count());
        let totals = gw.shutdown();
        assert_eq!(totals.upstream_connects as usize, up.connection_count());
        assert_eq!(totals.upstream_reuses + totals.upstream_connects, 60);
    }

    fn upstream_connection_close_is_honoured(driver) {
        let up = TestUpstream::start(|_| Reply::RawThenClose(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok".to_vec()));
        let gw = TestGateway::one(driver, &proxy_all(up.addr));
        for _ in 0..5 {
            assert_eq!(get(gw.addr, "/").status, 200);
        }
        assert_eq!(up.connection_count(), 5);
    }

    fn connection_closed_by_upstream_is_never_used(driver) {
        // The upstream closes every connection right after answering, without
        // announcing it: the pooled connection is dead by the next request.
        let up = TestUpstream::start(|_| Reply::RawThenClose(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok".to_vec()));
        let gw = TestGateway::one(driver, &proxy_all(up.addr));
        // Every checkout probes its connection (MSG_PEEK sees the close),
        // so each request goes out on a fresh one, GET and POST alike, and
        // none needs a replay.
        for i in 0..10 {
            up.wait_all_closed();
            let r = get(gw.addr, "/");
            assert_eq!(r.status, 200, "request {i}: {}", r.text());
        }
        up.wait_all_closed();
        let r = request(gw.addr, "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\n\r\nbody");
        assert_eq!(r.status, 200);
        let totals = gw.shutdown();
        assert_eq!(totals.upstream_retries, 0, "the probe saw every close");
        assert_eq!(totals.upstream_connects, 11);
    }

    fn non_idempotent_request_is_never_replayed(driver) {
        // Connection 1 answers the warm-up; then it swallows the POST and
        // closes without answering. The POST must not reach the upstream twice.
        let up = TestUpstream::start(|s| match s.method.as_str() {
            "POST" => Reply::Close,
            _ => Reply::Ok("ok".into()),
        });
        let gw = TestGateway::one(driver, &proxy_all(up.addr));
        assert_eq!(get(gw.addr, "/warm").status, 200);
        // Past the rest a pooled connection takes after an answer (as long
        // as the warm-up's answer took), so the POST goes out on it.
        std::thread::sleep(std::time::Duration::from_millis(200));
        let r = request(gw.addr, "POST /pay HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\n\r\nbody");
        r.assert_apig(502, "APIG.0201", "Backend unavailable.");
        let _warm = up.next();
        let pay = up.next();
        assert_eq!((pay.target.as_str(), pay.conn), ("/pay", 1));
        assert!(up.seen.recv_timeout(std::time::Duration::from_millis(300)).is_err(), "POST replayed");
    }

    fn head_error_responses_have_no_body(driver) {
        // RFC 9110 §9.3.2: a body here would be read as the next response.
        let gw = TestGateway::one(driver, &proxy_api("ANY", "/only", "exact", dead_addr(), "/"));
        let mut c = Conn::open(gw.addr);
        c.send(b"HEAD /nope HTTP/1.1\r\nHost: t\r\n\r\n");
        let r = c.read_for(true);
        assert_eq!(r.status, 404);
        assert!(r.header("content-length").is_some());
        c.send(b"HEAD /only HTTP/1.1\r\nHost: t\r\n\r\n");
        assert_eq!(c.read_for(true).status, 502);
        c.send(b"GET /nope HTTP/1.1\r\nHost: t\r\n\r\n");
        c.read().assert_apig(404, "APIG.0101", "The API does not exist or has not been published in the environment.");
    }

    fn backend_method_decides_response_framing(driver) {
        // Client HEAD, backend GET: the body the upstream sends must neither
        // reach the client nor stay on a pooled connection.
        let up = TestUpstream::start(|s| Reply::Ok(format!("{} {}", s.method, s.target)));
        let get_backend = with_backend_method(proxy_api("ANY", "/", "prefix", up.addr, "/"), "GET");
        let gw = TestGateway::one(driver, &get_backend);
        let mut c = Conn::open(gw.addr);
        c.send(b"HEAD /a HTTP/1.1\r\nHost: t\r\n\r\n");
        let r = c.read_for(true);
        assert_eq!((r.status, r.header("content-length")), (200, Some("6")));
        c.send(b"POST /b HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n");
        assert_eq!(c.read().text(), "GET /b", "next response is its own, not the HEAD's body");
        assert_eq!(get(gw.addr, "/c").text(), "GET /c");
        drop(gw);
        // Client GET, backend HEAD: an empty body, at once.
        let up = TestUpstream::start(|_| Reply::Raw(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n".to_vec()));
        let head_backend = with_backend_method(proxy_api("ANY", "/", "prefix", up.addr, "/"), "HEAD");
        let gw = TestGateway::one(driver, &head_backend);
        let started = std::time::Instant::now();
        let r = get(gw.addr, "/x");
        assert_eq!((r.status, r.body.len()), (200, 0));
        assert!(started.elapsed() < std::time::Duration::from_millis(900), "did not wait for a body");
        assert_eq!(up.next().method, "HEAD");
    }

    fn connect_timeout_is_504(driver) {
        // A listener whose accept queue is full drops new SYNs, so connecting
        // hangs until connect_timeout_ms.
        let full = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
        full.bind(&"127.0.0.1:0".parse::<std::net::SocketAddr>().unwrap().into()).unwrap();
        full.listen(0).unwrap();
        let addr = full.local_addr().unwrap().as_socket().unwrap();
        let _queued: Vec<_> = (0..4)
            .map(|_| {
                let s = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
                s.set_nonblocking(true).unwrap();
                let _ = s.connect(&addr.into());
                s
            })
            .collect();
        let body = format!("[settings]\nconnect_timeout_ms = 300\n\n{}", proxy_all(addr));
        let gw = TestGateway::one(driver, &body);
        let started = std::time::Instant::now();
        get(gw.addr, "/").assert_apig(504, "APIG.0201", "Backend timeout.");
        assert!(started.elapsed() < std::time::Duration::from_secs(3));
    }

    fn expect_continue_on_a_rejected_request_gets_the_error_not_100(driver) {
        let gw = TestGateway::one(driver, &proxy_api("GET", "/only", "exact", dead_addr(), "/"));
        let mut c = Conn::open(gw.addr);
        c.send(b"POST /nope HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n");
        let r = c.read();
        r.assert_apig(404, "APIG.0101", "The API does not exist or has not been published in the environment.");
        assert_eq!(r.header("connection"), Some("close"), "the unread body cannot stay on the connection");
        assert!(c.is_closed());
    }

    fn client_that_stops_reading_is_cut_off(driver) {
        let up = TestUpstream::start(|_| Reply::Big(64 * 1024 * 1024));
        let body = format!("[settings]\nsend_timeout_ms = 300\n\n{}", proxy_all(up.addr));
        let mut gw = TestGateway::one(driver, &body);
        let mut c = Conn::open(gw.addr);
        c.send(b"GET /big HTTP/1.1\r\nHost: t\r\n\r\n");
        let _ = up.next();
        // The client never reads. Shutdown waits for in-flight requests, so
        // it returns promptly only if the stalled write was given up.
        let started = std::time::Instant::now();
        gw.take().shutdown();
        assert!(started.elapsed() < std::time::Duration::from_secs(3), "send_timeout did not fire");
        drop(c);
    }

    fn backend_host_name_is_resolved_by_the_control_plane(driver) {
        // `localhost` comes from /etc/hosts: resolved before the workers
        // start, never by a worker (architecture.md, Monolake lesson).
        let up = TestUpstream::ok();
        let body = proxy_all(up.addr).replace(&up.addr.to_string(), &format!("localhost:{}", up.addr.port()));
        let gw = TestGateway::one(driver, &body);
        assert_eq!(get(gw.addr, "/").status, 200);
        assert_eq!(up.next().header("host"), Some(format!("localhost:{}", up.addr.port()).as_str()));
    }

    fn connect_refused_is_502(driver) {
        let gw = TestGateway::one(driver, &proxy_all(dead_addr()));
        let r = get(gw.addr, "/");
        r.assert_apig(502, "APIG.0201", "Backend unavailable.");
    }

    fn upstream_reset_before_response_is_502(driver) {
        let up = TestUpstream::start(|_| Reply::Close);
        let gw = TestGateway::one(driver, &proxy_all(up.addr));
        get(gw.addr, "/").assert_apig(502, "APIG.0201", "Backend unavailable.");
    }

    fn garbage_from_upstream_is_502(driver) {
        let up = TestUpstream::start(|_| Reply::RawThenClose(b"NOT HTTP AT ALL\r\n\r\n".to_vec()));
        let gw = TestGateway::one(driver, &proxy_all(up.addr));
        get(gw.addr, "/").assert_apig(502, "APIG.0201", "Backend unavailable.");
    }

    fn slow_upstream_is_504(driver) {
        // proxy_all sets timeout_ms = 1000.
        let up = TestUpstream::start(|_| Reply::Delay(Duration::from_millis(2500), Box::new(Reply::Ok("late".into()))));
        let gw = TestGateway::one(driver, &proxy_all(up.addr));
        let mut c = Conn::open(gw.addr);
        c.send(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n");
        c.read().assert_apig(504, "APIG.0201", "Backend timeout.");
        // The client connection stays usable.
        c.send(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n");
        assert_eq!(c.read().status, 504);
    }
}
