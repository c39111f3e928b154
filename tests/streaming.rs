//! Bodies stream through with bounded memory: 100 MiB each way without the
//! process growing by anything like that (issue: "a 100 MiB body passes
//! through without the process growing by anything like that").

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::disallowed_methods
)] // test code: failing loudly is the point; deadlines read the real clock

mod common;
use common::*;

use std::io::Write;

const BIG: usize = 100 * 1024 * 1024;

#[allow(clippy::disallowed_types)] // test-only serialisation, not the request path
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Resident set size of this process, bytes.
fn rss() -> usize {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap();
    let pages: usize = statm.split_whitespace().nth(1).unwrap().parse().unwrap();
    pages * 4096
}

driver_tests! {
    fn large_bodies_stream_with_bounded_memory(driver) {
        let up = TestUpstream::start(|s| match s.method.as_str() {
            "POST" => Reply::Ok(format!("{}", s.body_len)),
            _ => Reply::Big(BIG),
        });
        let body = format!("[settings]\nmax_body_bytes = {}\n\n{}", BIG + 1, proxy_all(up.addr));
        let gw = TestGateway::one(driver, &body);
        // Both driver variants share this process's RSS: measure one at a time.
        let _one_at_a_time = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
        let before = rss();

        // Upload: Content-Length body written in 1 MiB slices.
        let mut c = Conn::open(gw.addr);
        c.send(format!("POST /up HTTP/1.1\r\nHost: t\r\nContent-Length: {BIG}\r\n\r\n").as_bytes());
        let slice = vec![b'u'; 1024 * 1024];
        for _ in 0..100 {
            c.stream.write_all(&slice).unwrap();
        }
        let r = c.read();
        assert_eq!(r.text(), BIG.to_string());

        // Download: 100 MiB response, counted (not kept) by the client.
        c.send(b"GET /down HTTP/1.1\r\nHost: t\r\n\r\n");
        assert_eq!(c.read_counting(), (200, BIG));

        let grown = rss().saturating_sub(before);
        // Gateway, upstream and client each hold a few 64 KiB buffers.
        assert!(grown < 32 * 1024 * 1024, "process grew by {} MiB", grown / (1024 * 1024));
    }
}
