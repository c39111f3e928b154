//! CONTROL PLANE: the only code that reads files, builds snapshots, spawns
//! threads or may block. `load` → `validate` → `compile` → start workers →
//! wait for a signal → drain.

pub mod certs;
pub mod compile;
pub mod error;
pub mod limits;
pub mod locate;
pub mod resolve;
pub mod spec;
pub mod validate;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;

use socket2::{Domain, Protocol, Socket, Type};

use crate::clock::{Clock, MonotonicClock};
use crate::record::metrics::MetricsTotals;
use crate::worker::{self, Driver, WorkerSetup};

pub use compile::{Compiled, DriverChoice, RuntimeConfig};
pub use error::ConfigError;
pub use spec::GatewaySpec;

/// The embedded default configuration (`config/gateway.toml`).
pub const DEFAULT_CONFIG: &str = include_str!("../../config/gateway.toml");

/// Parses TOML into a spec. A syntax or type error is reported alone (the
/// parser cannot go on past it), with its key path and line.
pub fn parse(source: &str) -> Result<GatewaySpec, Vec<ConfigError>> {
    let de = match toml::Deserializer::parse(source) {
        Ok(de) => de,
        Err(e) => return Err(vec![toml_error("", &e, source)]),
    };
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let path = if path == "." { String::new() } else { path };
        vec![toml_error(&path, e.inner(), source)]
    })
}

/// The API a key path belongs to (`group[0].api[2]` for
/// `group[0].api[2].backend.path`), else the path itself.
fn owner(path: &str) -> &str {
    let Some(start) = path.find(".api[") else {
        return path;
    };
    match path[start..].find(']') {
        Some(end) => &path[..start + end + 1],
        None => path,
    }
}

fn toml_error(path: &str, e: &toml::de::Error, source: &str) -> ConfigError {
    let mut err = ConfigError::new(
        path,
        e.message().trim().to_string(),
        "check the key's spelling and type against config/README.md",
    );
    err.line = e.span().map(|s| locate::line_at(source, s.start));
    err
}

/// Parses, validates and compiles; every error carries its line.
///
/// Compiling runs even when validation found problems, so that what only
/// compiling can see (route conflicts, undefined stage variables, regular
/// expressions, gateway-response templates) is reported in the same run
/// (style.md §4.3: all errors at once). Compile errors of an API, or at a
/// key, that validation already flagged are left out: they may only be
/// consequences (a bad frontend path leaves `{id}` in the backend path
/// undefined). Only a broken stage list, which sizes every table compile
/// builds, stops compiling.
pub fn load(source: &str) -> Result<Compiled, Vec<ConfigError>> {
    load_at(source, std::path::Path::new("."))
}

/// [`load`] for a file in `base`: relative paths in it (certificates, CA
/// bundles) are resolved against `base`.
pub fn load_at(source: &str, base: &std::path::Path) -> Result<Compiled, Vec<ConfigError>> {
    let spec = parse(source)?;
    let mut errs = validate::validate(&spec);
    let stages_sound = !errs
        .iter()
        .any(|e| e.path == "stage" || e.path.starts_with("stage["));
    if errs.is_empty() || stages_sound {
        match compile::compile(&spec, base) {
            Ok(c) if errs.is_empty() => return Ok(c),
            Ok(_) => {}
            Err(more) => {
                let flagged: std::collections::HashSet<&str> =
                    errs.iter().map(|e| owner(&e.path)).collect();
                let more: Vec<_> = more
                    .into_iter()
                    .filter(|e| !flagged.contains(owner(&e.path)))
                    .collect();
                errs.extend(more);
            }
        }
    }
    for e in &mut errs {
        if e.line.is_none() {
            e.line = locate::line_of(source, &e.path);
        }
    }
    Err(errs)
}

/// A running gateway.
pub struct Gateway {
    addrs: Vec<SocketAddr>,
    shutdown: Arc<AtomicBool>,
    workers: Vec<JoinHandle<MetricsTotals>>,
    resolver: Option<JoinHandle<()>>,
    resolver_stop: Option<crossbeam_channel::Sender<()>>,
    driver: Driver,
}

impl Gateway {
    /// Binds the listeners and starts the workers; returns once every
    /// worker accepts.
    pub fn start(compiled: Compiled) -> Result<Gateway, String> {
        Gateway::start_with_clock(compiled, Arc::new(MonotonicClock))
    }

    /// As [`Gateway::start`], with a given clock (tests).
    pub fn start_with_clock(compiled: Compiled, clock: Arc<dyn Clock>) -> Result<Gateway, String> {
        let rt = compiled.runtime;
        let snapshot = Arc::new(compiled.snapshot);
        let workers = match rt.workers {
            0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
            n => n,
        };
        let driver = pick_driver(rt.driver)?;
        crate::request_id::draw_key();
        crate::policy::hops::draw_token();
        let admission = limits::worker_share(&rt, workers);
        let (addrs, sockets) = bind_all(&rt.listeners, workers, rt.backlog)?;
        let resolved = resolve::resolve_all(&snapshot.upstreams);
        let shutdown = Arc::new(AtomicBool::new(false));
        let plan = WorkerPlan {
            count: workers,
            driver,
            rt: &rt,
            snapshot: &snapshot,
            resolved: &resolved,
            shutdown: &shutdown,
            clock: &clock,
            admission,
        };
        let (handles, senders) = plan.spawn(sockets)?;
        let (stop_tx, stop_rx) = crossbeam_channel::bounded(1);
        let resolver = resolve::spawn(
            snapshot.upstreams.clone(),
            resolved,
            senders,
            rt.dns_refresh,
            stop_rx,
        )
        .map_err(|e| format!("cannot start the resolver: {e}"))?;
        log::info!(
            "tollgate {}: {workers} workers on {driver:?}, listening on {addrs:?}",
            env!("CARGO_PKG_VERSION")
        );
        Ok(Gateway {
            addrs,
            shutdown,
            workers: handles,
            resolver,
            resolver_stop: Some(stop_tx),
            driver,
        })
    }

    /// The bound listener addresses (port 0 resolved), in config order.
    pub fn local_addrs(&self) -> &[SocketAddr] {
        &self.addrs
    }

    /// The driver the workers run on.
    pub fn driver(&self) -> Driver {
        self.driver
    }

    /// Stops accepting, lets in-flight requests finish (up to the shutdown
    /// timeout), joins every thread and returns the summed counters.
    pub fn shutdown(self) -> MetricsTotals {
        let mut totals = MetricsTotals::default();
        for t in self.shutdown_each() {
            totals += t;
        }
        totals
    }

    /// As [`Gateway::shutdown`], with each worker's counters apart, in
    /// worker order.
    pub fn shutdown_each(mut self) -> Vec<MetricsTotals> {
        self.shutdown.store(true, Ordering::Release);
        drop(self.resolver_stop.take());
        let each = self
            .workers
            .drain(..)
            .map(|h| h.join().unwrap_or_default())
            .collect();
        if let Some(r) = self.resolver.take() {
            let _ = r.join();
        }
        each
    }
}

/// What every worker is started with.
struct WorkerPlan<'a> {
    count: usize,
    driver: Driver,
    rt: &'a RuntimeConfig,
    snapshot: &'a Arc<crate::snapshot::Snapshot>,
    resolved: &'a [Option<SocketAddr>],
    shutdown: &'a Arc<AtomicBool>,
    clock: &'a Arc<dyn Clock>,
    /// Each worker's share of the connection cap and the head budget.
    admission: (usize, usize),
}

type Spawned = (
    Vec<JoinHandle<MetricsTotals>>,
    Vec<crossbeam_channel::Sender<worker::ControlMsg>>,
);

impl WorkerPlan<'_> {
    /// Starts the workers, each with its own sockets (one per listener
    /// address), and waits until every one accepts.
    fn spawn(&self, mut sockets: Vec<Vec<std::net::TcpListener>>) -> Result<Spawned, String> {
        let rt = self.rt;
        let cores = if rt.pin_cores {
            core_affinity::get_core_ids().unwrap_or_default()
        } else {
            Vec::new()
        };
        let (ready_tx, ready_rx) = crossbeam_channel::unbounded();
        let mut senders = Vec::new();
        let mut handles = Vec::new();
        for index in 0..self.count {
            let (tx, rx) = crossbeam_channel::unbounded();
            senders.push(tx);
            let setup = WorkerSetup {
                index,
                workers: self.count,
                driver: self.driver,
                io_uring_entries: rt.io_uring_entries,
                pin_core: (!cores.is_empty()).then(|| cores[index % cores.len()]),
                listeners: sockets
                    .iter_mut()
                    .map(|per_addr| per_addr.remove(0))
                    .collect(),
                snapshot: self.snapshot.clone(),
                resolved: self.resolved.to_vec(),
                control: rx,
                shutdown: self.shutdown.clone(),
                shutdown_timeout: rt.shutdown_timeout,
                clock: self.clock.clone(),
                admission: self.admission,
            };
            let handle = worker::spawn(setup, ready_tx.clone())
                .map_err(|e| format!("cannot start worker {index}: {e}"))?;
            handles.push(handle);
        }
        drop(ready_tx);
        for _ in 0..self.count {
            match ready_rx.recv() {
                Ok(Ok(_)) => {}
                Ok(Err(why)) => {
                    self.shutdown.store(true, Ordering::Release);
                    return Err(why);
                }
                Err(_) => return Err("a worker exited during start-up".into()),
            }
        }
        Ok((handles, senders))
    }
}

fn pick_driver(choice: DriverChoice) -> Result<Driver, String> {
    let uring = monoio::utils::detect_uring();
    match choice {
        DriverChoice::Epoll => Ok(Driver::Epoll),
        DriverChoice::IoUring if uring => Ok(Driver::IoUring),
        DriverChoice::IoUring => Err("server.driver = \"io_uring\" but io_uring is not available on this kernel; use \"auto\" or \"epoll\"".into()),
        DriverChoice::Auto if uring => Ok(Driver::IoUring),
        DriverChoice::Auto => {
            log::info!("io_uring unavailable; falling back to epoll");
            Ok(Driver::Epoll)
        }
    }
}

/// One SO_REUSEPORT socket per worker per address. A port-0 address is
/// bound once to learn its port, and the other workers join that port.
fn bind_all(
    addrs: &[SocketAddr],
    workers: usize,
    backlog: i32,
) -> Result<(Vec<SocketAddr>, Vec<Vec<std::net::TcpListener>>), String> {
    let mut bound = Vec::new();
    let mut sockets = Vec::new();
    for &addr in addrs {
        let first = bind(addr, backlog).map_err(|e| format!("cannot listen on {addr}: {e}"))?;
        let actual = first.local_addr().map_err(|e| e.to_string())?;
        let mut per_addr = vec![first];
        for _ in 1..workers {
            per_addr.push(
                bind(actual, backlog).map_err(|e| format!("cannot listen on {actual}: {e}"))?,
            );
        }
        bound.push(actual);
        sockets.push(per_addr);
    }
    Ok((bound, sockets))
}

fn bind(addr: SocketAddr, backlog: i32) -> std::io::Result<std::net::TcpListener> {
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    socket.set_reuse_address(true)?;
    socket.set_reuse_port(true)?;
    socket.set_nonblocking(true)?;
    socket.bind(&addr.into())?;
    socket.listen(backlog)?;
    Ok(socket.into())
}

/// `tollgate run`: start, wait for SIGTERM/SIGINT, drain, exit.
pub fn run(compiled: Compiled) -> Result<(), String> {
    use signal_hook::consts::{SIGINT, SIGTERM};
    let mut signals = signal_hook::iterator::Signals::new([SIGTERM, SIGINT])
        .map_err(|e| format!("cannot install signal handlers: {e}"))?;
    let gateway = Gateway::start(compiled)?;
    if let Some(sig) = signals.forever().next() {
        log::info!("signal {sig}: draining");
    }
    let totals = gateway.shutdown();
    log::info!(
        "stopped: {} requests, {} gateway errors ({} throttled), {} upstream connects, {} reuses, {} retries",
        totals.requests,
        totals.errors,
        totals.throttled,
        totals.upstream_connects,
        totals.upstream_reuses,
        totals.upstream_retries
    );
    if totals.throttle_overflows > 0 {
        log::warn!(
            "{} requests found a throttling policy's per-key table full and shared an overflow count: raise key_slots of the policies with user, app, IP or key_by limits",
            totals.throttle_overflows
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owner_is_the_api_of_a_key_path() {
        assert_eq!(owner("group[0].api[12].backend.path"), "group[0].api[12]");
        assert_eq!(
            owner("group[1].api[0].policy[2].condition[0].value"),
            "group[1].api[0]"
        );
        assert_eq!(owner("group[0].api[3]"), "group[0].api[3]");
        assert_eq!(
            owner("group[0].responses.custom.NOT_FOUND.body"),
            "group[0].responses.custom.NOT_FOUND.body"
        );
        assert_eq!(owner("listener[0].address"), "listener[0].address");
    }

    #[test]
    fn compile_errors_come_with_validation_errors() {
        // style.md §4.3: one run lists validation and compile problems of
        // different APIs; an API validation flagged adds no compile errors.
        let src = "[[listener]]\naddress = \"127.0.0.1:0\"\n[[group]]\nname = \"DEFAULT\"\n\
            [[group.api]]\nname = \"a\"\nmethod = \"GET\"\npath = \"/a\"\nstages = [\"NOPE\"]\n\
            [group.api.backend]\ntype = \"http\"\naddress = \"127.0.0.1:1\"\npath = \"/{id}\"\n\
            [[group.api]]\nname = \"b\"\nmethod = \"GET\"\npath = \"/b\"\n\
            [group.api.backend]\ntype = \"http\"\naddress = \"127.0.0.1:1\"\npath = \"/#v#\"\n";
        let Err(errs) = load(src) else {
            panic!("accepted")
        };
        let paths: Vec<&str> = errs.iter().map(|e| e.path.as_str()).collect();
        assert_eq!(
            paths,
            ["group[0].api[0].stages[0]", "group[0].api[1].backend.path"],
            "{errs:#?}"
        );
    }
}
