//! SIGTERM semantics through the library API: stop accepting, finish
//! in-flight requests, then stop (the binary wires SIGTERM/SIGINT to the
//! same call; tests/cli.rs checks that path).

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
    fn in_flight_request_finishes_during_shutdown(driver) {
        let up = TestUpstream::start(|_| Reply::Delay(Duration::from_millis(600), Box::new(Reply::Ok("done".into()))));
        let mut gw = TestGateway::one(driver, &proxy_all(up.addr));
        let addr = gw.addr;
        let mut c = Conn::open(addr);
        c.send(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n");
        let _ = up.next(); // the request reached the upstream: it is in flight
        let gateway = gw.take();
        let stopper = std::thread::spawn(move || gateway.shutdown());
        let r = c.read();
        assert_eq!(r.status, 200);
        assert_eq!(r.text(), "done");
        assert_eq!(r.header("connection"), Some("close"), "draining responses close the connection");
        let totals = stopper.join().unwrap();
        assert_eq!(totals.requests, 1);
        // After shutdown nothing accepts on the port.
        assert!(std::net::TcpStream::connect(addr).is_err());
    }
}
