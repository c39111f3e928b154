//! What slow and fat clients can hold (issue 13 item 4): a per-worker
//! connection cap, a budget for heads still being read, a minimum body
//! rate, and request buffering so a trickled small body holds no backend
//! connection.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::disallowed_methods
)] // test code: failing loudly is the point; deadlines read the real clock

mod common;

use std::io::Write;
use std::time::{Duration, Instant};

use common::*;

/// A partial head of about `kib` KiB: request line and padding headers,
/// never finished.
fn fat_head(kib: usize) -> Vec<u8> {
    let mut head = b"GET / HTTP/1.1\r\nHost: t\r\n".to_vec();
    for i in 0..kib {
        head.extend_from_slice(format!("X-Pad-{i}: {}\r\n", "a".repeat(1000)).as_bytes());
    }
    head
}

fn with_settings(up: &TestUpstream, settings: &str) -> String {
    format!(
        "[settings]\ndefault_api_rate_limit = 0\n{settings}\n\n{}",
        proxy_all(up.addr)
    )
}

driver_tests! {
    fn at_the_worker_cap_an_idle_connection_makes_room_or_the_newcomer_is_closed(driver) {
        let up = TestUpstream::ok();
        let gw = TestGateway::start_with(driver, 1, "worker_connections = 2", &with_settings(&up, ""));
        let mut first = Conn::open(gw.addr);
        first.send(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n");
        assert_eq!(first.read().status, 200);
        // Second: in the middle of a head, so not idle.
        let mut second = Conn::open(gw.addr);
        second.send(b"GET / HTTP/1.1\r\nHost: t\r\n");
        std::thread::sleep(Duration::from_millis(100));
        // A third client takes the slot of the idle keep-alive one (nginx
        // reclaims the same way)...
        let mut third = Conn::open(gw.addr);
        third.send(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n");
        assert_eq!(third.read().status, 200);
        assert!(first.is_closed(), "the idle connection was not reclaimed");
        // ...the busy one keeps its slot and finishes its request.
        second.send(b"\r\n");
        assert_eq!(second.read().status, 200);
        // With both open and busy (mid-head), a fourth is closed at once.
        second.send(b"GET / HTTP/1.1\r\nHost: t\r\n");
        third.send(b"GET / HTTP/1.1\r\nHost: t\r\n");
        std::thread::sleep(Duration::from_millis(100));
        let mut fourth = Conn::open(gw.addr);
        let _ = fourth.stream.write_all(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n");
        assert!(fourth.is_closed(), "the fourth connection was served");
        let totals = gw.shutdown();
        assert!(totals.connections_refused >= 1, "{totals:?}");
    }

    // regression: issue 13 item 4 — 6,000 never-finished ~150 KiB heads
    // held 1.7 GB; heads above 8 KiB now share a budget.
    fn heads_above_the_first_buffer_share_a_budget(driver) {
        let up = TestUpstream::ok();
        let server = "head_buffer_budget_bytes = 40000";
        // Head limits a 40,000-byte budget can hold one head of.
        let limits = "max_uri_bytes = 1024\nmax_headers_total_bytes = 36000";
        let gw = TestGateway::start_with(driver, 1, server, &with_settings(&up, limits));
        // Two 30 KiB heads need 24 KiB of budget each: one of them fits.
        let mut a = Conn::open(gw.addr);
        a.send(&fat_head(30));
        let mut b = Conn::open(gw.addr);
        b.send(&fat_head(30));
        a.stream.set_read_timeout(Some(Duration::from_millis(500))).unwrap();
        b.stream.set_read_timeout(Some(Duration::from_millis(500))).unwrap();
        let closed = [a.is_closed(), b.is_closed()];
        assert_eq!(closed.iter().filter(|c| **c).count(), 1, "exactly one refused: {closed:?}");
        // Small heads never need the budget.
        assert_eq!(get(gw.addr, "/small").status, 200);
        // The one that fitted completes normally.
        let survivor = if closed[0] { &mut b } else { &mut a };
        survivor.stream.set_read_timeout(Some(DEADLINE)).unwrap();
        survivor.send(b"\r\n");
        assert_eq!(survivor.read().status, 200);
        let totals = gw.shutdown();
        assert_eq!(totals.head_budget_refusals, 1);
    }

    // regression: issue 13 item 4 — body_timeout_ms bounded one pause,
    // so one byte a second against a 3 s timeout was never cut.
    fn a_trickled_body_is_cut_at_the_minimum_rate(driver) {
        let up = TestUpstream::ok();
        let settings = "body_timeout_ms = 1000\nbody_min_rate_bytes_per_s = 1000";
        let gw = TestGateway::one(driver, &with_settings(&up, settings));
        let mut c = Conn::open(gw.addr);
        c.send(b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 100000\r\n\r\n");
        let started = Instant::now();
        let mut sent = 0;
        while c.stream.write_all(b"x").is_ok() && started.elapsed() < DEADLINE {
            sent += 1;
            std::thread::sleep(Duration::from_millis(50));
            let mut probe = [0u8; 1];
            c.stream.set_nonblocking(true).unwrap();
            let gone = matches!(std::io::Read::read(&mut c.stream, &mut probe), Ok(0));
            c.stream.set_nonblocking(false).unwrap();
            if gone {
                break;
            }
        }
        let took = started.elapsed();
        // Each pause is 50 ms (far below 1 s), yet the body is cut soon
        // after the 1 s grace: 20 bytes/s is below the 1,000 bytes/s minimum.
        assert!(took >= Duration::from_millis(900) && took < Duration::from_secs(4), "cut after {took:?}, {sent} bytes");
        let totals = gw.shutdown();
        assert_eq!(totals.slow_bodies, 1);
    }

    fn a_body_is_read_up_to_the_buffer_size_before_the_backend_is_contacted(driver) {
        let echo = || TestUpstream::start(|s| Reply::Ok(String::from_utf8_lossy(&s.body).into_owned()));
        let up = echo();
        let gw = TestGateway::one(driver, &with_settings(&up, ""));
        let mut c = Conn::open(gw.addr);
        c.send(b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nhello");
        std::thread::sleep(Duration::from_millis(200));
        assert_eq!(up.connection_count(), 0, "a backend connection was taken for a body still arriving");
        c.send(b"world");
        assert_eq!(c.read().text(), "helloworld");
        drop(gw);
        // Chunked bodies too.
        let up = echo();
        let gw = TestGateway::one(driver, &with_settings(&up, ""));
        let mut c = Conn::open(gw.addr);
        c.send(b"POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n");
        std::thread::sleep(Duration::from_millis(200));
        assert_eq!(up.connection_count(), 0, "a backend connection was taken for a body still arriving");
        c.send(b"0\r\n\r\n");
        assert_eq!(c.read().text(), "hello");
        drop(gw);
        // A body larger than the buffer: its first bytes are read, then it
        // streams.
        let up = echo();
        let gw = TestGateway::one(driver, &with_settings(&up, "request_buffer_bytes = 4"));
        let mut c = Conn::open(gw.addr);
        c.send(b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nhel");
        std::thread::sleep(Duration::from_millis(200));
        assert_eq!(up.connection_count(), 0, "contacted before 4 bytes arrived");
        c.send(b"lo");
        let deadline = Instant::now() + DEADLINE;
        while up.connection_count() < 1 {
            assert!(Instant::now() < deadline, "the rest of a large body did not stream");
            std::thread::yield_now();
        }
        c.send(b"world");
        assert_eq!(c.read().text(), "helloworld");
    }
}
