//! Test harness: a real gateway on 127.0.0.1:0, scripted upstreams on
//! loopback, a raw-socket client, and deadlines instead of sleeps.
//!
//! `driver_tests!` turns each test body into one test per I/O driver
//! (`_io_uring` and `_epoll`), so the whole suite runs under both.

#![allow(dead_code)] // each test binary uses a different part of the harness

pub mod client;
pub mod pki;
pub mod upstream;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tollgate::clock::{Clock, MonotonicClock};
use tollgate::control::{self, Gateway};

#[allow(unused_imports)] // each test binary uses a different part
pub use client::*;
#[allow(unused_imports)]
pub use upstream::*;

/// How long any single wait in a test may take before it fails.
pub const DEADLINE: Duration = Duration::from_secs(10);

/// Generates `<name>_io_uring` and `<name>_epoll` tests from one body that
/// receives the driver name.
#[macro_export]
macro_rules! driver_tests {
    ($( $(#[$meta:meta])* fn $name:ident($driver:ident) $body:block )*) => {
        $(
            mod $name {
                #[allow(unused_imports)]
                use super::*;
                fn run($driver: &'static str) $body
                #[test]
                fn io_uring() { run("io_uring") }
                #[test]
                fn epoll() { run("epoll") }
            }
        )*
    };
}

/// A gateway started for one test; shut down on drop.
pub struct TestGateway {
    gw: Option<Gateway>,
    /// First listener's address.
    pub addr: SocketAddr,
    /// Every listener's address, in config order.
    pub addrs: Vec<SocketAddr>,
}

impl TestGateway {
    /// Starts a gateway from TOML `body` (groups, settings…) with one
    /// listener on 127.0.0.1:0, `workers` workers and the given driver.
    pub fn start(driver: &str, workers: usize, body: &str) -> TestGateway {
        TestGateway::start_with(driver, workers, "", body)
    }

    /// As [`TestGateway::start`], with extra `[server]` lines.
    pub fn start_with(driver: &str, workers: usize, server: &str, body: &str) -> TestGateway {
        TestGateway::launch(compile(driver, workers, server, body))
    }

    /// As [`TestGateway::one`], reading time from `clock` (a
    /// `ManualClock` for tests of time windows).
    pub fn one_clocked(driver: &str, body: &str, clock: Arc<dyn Clock>) -> TestGateway {
        TestGateway::clocked(driver, 1, body, clock)
    }

    /// As [`TestGateway::start`], every worker reading time from `clock`.
    pub fn clocked(driver: &str, workers: usize, body: &str, clock: Arc<dyn Clock>) -> TestGateway {
        TestGateway::launch_with(compile(driver, workers, "", body), clock)
    }

    /// Starts a gateway from a whole TOML file (its own `[[listener]]`s);
    /// relative paths resolve against the working directory.
    pub fn from_toml(toml: &str) -> TestGateway {
        match control::load(toml) {
            Ok(c) => TestGateway::launch(c),
            Err(errs) => panic!("test config rejected: {errs:#?}\n{toml}"),
        }
    }

    fn launch(compiled: control::Compiled) -> TestGateway {
        TestGateway::launch_with(compiled, Arc::new(MonotonicClock))
    }

    fn launch_with(compiled: control::Compiled, clock: Arc<dyn Clock>) -> TestGateway {
        let gw = Gateway::start_with_clock(compiled, clock).expect("gateway starts");
        let addrs = gw.local_addrs().to_vec();
        TestGateway {
            gw: Some(gw),
            addr: addrs[0],
            addrs,
        }
    }

    /// One worker.
    pub fn one(driver: &str, body: &str) -> TestGateway {
        TestGateway::start(driver, 1, body)
    }

    /// Shuts down and returns the counters.
    pub fn shutdown(mut self) -> tollgate::record::metrics::MetricsTotals {
        self.gw.take().map(Gateway::shutdown).unwrap_or_default()
    }

    /// Shuts down and returns each worker's counters.
    pub fn shutdown_each(mut self) -> Vec<tollgate::record::metrics::MetricsTotals> {
        self.gw
            .take()
            .map(Gateway::shutdown_each)
            .unwrap_or_default()
    }

    /// Takes the gateway out (to shut it down from another thread).
    pub fn take(&mut self) -> Gateway {
        self.gw.take().expect("gateway running")
    }
}

impl Drop for TestGateway {
    fn drop(&mut self) {
        if let Some(gw) = self.gw.take() {
            gw.shutdown();
        }
    }
}

/// The config of [`TestGateway::start_with`], compiled.
fn compile(driver: &str, workers: usize, server: &str, body: &str) -> control::Compiled {
    let toml = format!(
        "[server]\nworkers = {workers}\ndriver = \"{driver}\"\nshutdown_timeout_ms = 5000\n{server}\n[[listener]]\naddress = \"127.0.0.1:0\"\n\n{body}"
    );
    match control::load(&toml) {
        Ok(c) => c,
        Err(errs) => panic!("test config rejected: {errs:#?}\n{toml}"),
    }
}

/// A DEFAULT group with one API proxying `method path` (match `mode`) to
/// `upstream` with backend `backend_path`.
pub fn proxy_api(
    method: &str,
    path: &str,
    mode: &str,
    upstream: SocketAddr,
    backend_path: &str,
) -> String {
    format!(
        "[[group]]\nname = \"DEFAULT\"\n\n[[group.api]]\nname = \"api\"\nmethod = \"{method}\"\npath = \"{path}\"\nmatch = \"{mode}\"\n[group.api.backend]\ntype = \"http\"\naddress = \"{upstream}\"\npath = \"{backend_path}\"\ntimeout_ms = 1000\n"
    )
}

/// Sets `method = "{method}"` on the (first) backend of `config`.
pub fn with_backend_method(config: String, method: &str) -> String {
    config.replacen(
        "type = \"http\"\n",
        &format!("type = \"http\"\nmethod = \"{method}\"\n"),
        1,
    )
}

/// A DEFAULT group proxying everything (`ANY /` prefix) to `upstream`.
pub fn proxy_all(upstream: SocketAddr) -> String {
    proxy_api("ANY", "/", "prefix", upstream, "/")
}

/// Asserts that `toml` is refused with an error at each of `paths` (among
/// others).
pub fn assert_config_errors(toml: &str, paths: &[&str]) {
    let errs = match control::load(toml) {
        Ok(_) => panic!("config accepted:\n{toml}"),
        Err(errs) => errs,
    };
    let found: Vec<&str> = errs.iter().map(|e| e.path.as_str()).collect();
    for expected in paths {
        assert!(
            found.contains(expected),
            "{expected} missing from {found:?}"
        );
    }
}

/// Wall-clock seconds since the Unix epoch (signature dates).
pub fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// Whether the gateway's backend signature on `seen` verifies with
/// `secret`, as a backend using the SDK checks it (behaviour.md §12): the
/// canonical request of what the backend received, its body's hash unless
/// `X-Sdk-Content-Sha256` says otherwise, a date within the window.
pub fn backend_signature_verifies(seen: &Seen, secret: &str) -> bool {
    use tollgate::policy::auth::signature::{self, HeaderValue, RequestParts};
    let auth = seen
        .header("authorization")
        .expect("signed upstream request");
    let auth = signature::parse_authorization(auth.as_bytes()).expect("SDK-HMAC-SHA256");
    let (path, query) = match seen.target.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (seen.target.as_str(), None),
    };
    let lookup = |name: &[u8]| {
        HeaderValue::of(
            seen.headers
                .iter()
                .filter(|(n, _)| n.as_bytes().eq_ignore_ascii_case(name))
                .map(|(_, v)| v.as_bytes()),
        )
    };
    let parts = RequestParts {
        method: seen.method.as_bytes(),
        path: path.as_bytes(),
        query: query.map(str::as_bytes),
        headers: lookup,
    };
    let payload = match seen.header("x-sdk-content-sha256") {
        Some(v) => v.as_bytes().to_vec(),
        None => signature::sha256_hex(&seen.body).to_vec(),
    };
    let mut cr = bytes::BytesMut::new();
    signature::canonical_request(&mut cr, &parts, &auth, &payload).expect("signed headers sent");
    let date = seen.header("x-sdk-date").expect("X-Sdk-Date");
    assert!(signature::check_date(date.as_bytes(), unix_now()).is_ok());
    signature::matches(secret.as_bytes(), date.as_bytes(), &cr, auth.signature)
}
