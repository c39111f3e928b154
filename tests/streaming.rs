//! Bodies stream through with bounded memory: 100 MiB each way without the
//! process growing by anything like that (issue: "a 100 MiB body passes
//! through without the process growing by anything like that").

mod common;
use common::*;

use std::io::Write;

const BIG: usize = 100 * 1024 * 1024;

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

        // Download: 100 MiB response, read incrementally by the client.
        c.send(b"GET /down HTTP/1.1\r\nHost: t\r\n\r\n");
        let r = c.read();
        assert_eq!(r.body.len(), BIG);
        drop(r);

        let grown = rss().saturating_sub(before);
        // The client keeps the downloaded body briefly; allow for it being
        // freed lazily, but never for the gateway buffering it twice.
        assert!(grown < 64 * 1024 * 1024, "process grew by {} MiB", grown / (1024 * 1024));
    }
}
