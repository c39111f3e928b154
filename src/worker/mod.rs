//! PER-CORE RUNTIME: one OS thread per worker, each with its own monoio
//! runtime (io_uring, or epoll), its own listener sockets, upstream pool,
//! buffers, counters and snapshot handle. Workers share nothing mutable; the
//! control plane reaches them only through their channel and one shutdown
//! flag, both read on the worker's tick, never per request.

pub mod accept;
pub mod admission;
pub mod conn;
pub mod drain;

use std::cell::{Cell, RefCell};
use std::net::SocketAddr;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use crossbeam_channel::{Receiver, Sender};
use monoio::net::TcpListener;

use crate::clock::Clock;
use crate::pipeline::CoreState;
use crate::record::Metrics;
use crate::record::metrics::MetricsTotals;
use crate::request_id::RequestIdGen;
use crate::snapshot::Snapshot;
use crate::upstream::pool::Pool;
use crate::upstream::{Resolved, UpstreamId};

use drain::Drain;

/// Period of the worker's housekeeping tick: control messages, pool
/// eviction, shutdown flag.
pub const TICK: Duration = Duration::from_millis(50);

/// The I/O driver a worker runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Driver {
    /// io_uring.
    IoUring,
    /// epoll (monoio's legacy driver).
    Epoll,
}

/// Messages from the control plane, drained on the tick.
#[derive(Debug, Clone)]
pub enum ControlMsg {
    /// A backend host name resolved (again).
    Resolved(UpstreamId, Option<SocketAddr>),
}

/// Everything a worker is started with.
pub struct WorkerSetup {
    /// Index (0-based).
    pub index: usize,
    /// How many workers there are (throttling leases, §13).
    pub workers: usize,
    /// Driver.
    pub driver: Driver,
    /// io_uring queue entries.
    pub io_uring_entries: u32,
    /// Core to pin to.
    pub pin_core: Option<core_affinity::CoreId>,
    /// This worker's own SO_REUSEPORT sockets, already listening.
    pub listeners: Vec<std::net::TcpListener>,
    /// Configuration.
    pub snapshot: Arc<Snapshot>,
    /// Upstream addresses known at start.
    pub resolved: Vec<Option<SocketAddr>>,
    /// Control messages.
    pub control: Receiver<ControlMsg>,
    /// Set by the control plane on SIGTERM/SIGINT.
    pub shutdown: Arc<AtomicBool>,
    /// Grace period for in-flight requests.
    pub shutdown_timeout: Duration,
    /// Clock.
    pub clock: Arc<dyn Clock>,
    /// This worker's share of the connection cap and the head budget.
    pub admission: (usize, usize),
}

/// The worker's current snapshot and its in-flight request count.
#[derive(Debug)]
#[allow(clippy::redundant_allocation)] // the Rc is the point: per-request clones stay non-atomic (style.md §1)
pub struct Slot {
    current: RefCell<Rc<Arc<Snapshot>>>,
    /// Requests between head and response end.
    pub in_flight: Cell<usize>,
}

impl Slot {
    /// The snapshot a new request runs on (a non-atomic `Rc` clone).
    #[allow(clippy::redundant_allocation)] // see the struct
    pub fn current(&self) -> Rc<Arc<Snapshot>> {
        self.current.borrow().clone()
    }
}

/// Starts a worker thread. `ready` receives `Ok(index)` once it accepts, or
/// the reason it could not start.
pub fn spawn(
    setup: WorkerSetup,
    ready: Sender<Result<usize, String>>,
) -> std::io::Result<JoinHandle<MetricsTotals>> {
    std::thread::Builder::new()
        .name(format!("tollgate-w{}", setup.index))
        .spawn(move || {
            if let Some(core) = setup.pin_core
                && !core_affinity::set_for_current(core)
            {
                log::warn!("worker {}: could not pin to core {}", setup.index, core.id);
            }
            match setup.driver {
                Driver::IoUring => {
                    let rt = monoio::RuntimeBuilder::<monoio::IoUringDriver>::new()
                        .with_entries(setup.io_uring_entries)
                        .enable_timer()
                        .build();
                    match rt {
                        Ok(mut rt) => rt.block_on(run(setup, ready)),
                        Err(e) => fail(&ready, setup.index, e),
                    }
                }
                Driver::Epoll => {
                    let rt = monoio::RuntimeBuilder::<monoio::LegacyDriver>::new()
                        .enable_timer()
                        .build();
                    match rt {
                        Ok(mut rt) => rt.block_on(run(setup, ready)),
                        Err(e) => fail(&ready, setup.index, e),
                    }
                }
            }
        })
}

fn fail(ready: &Sender<Result<usize, String>>, index: usize, e: std::io::Error) -> MetricsTotals {
    let _ = ready.send(Err(format!("worker {index}: runtime failed to start: {e}")));
    MetricsTotals::default()
}

async fn run(setup: WorkerSetup, ready: Sender<Result<usize, String>>) -> MetricsTotals {
    let snap = setup.snapshot.clone();
    let core = Rc::new(CoreState {
        index: setup.index,
        pool: RefCell::new(Pool::new(
            snap.upstreams.len(),
            snap.pool.max_idle,
            snap.pool.idle_timeout,
        )),
        resolved: RefCell::new(Resolved::new(setup.resolved)),
        clock: setup.clock,
        metrics: Metrics::default(),
        ids: RequestIdGen::new(setup.index),
        draining: Cell::new(false),
        tls: snap.tls.for_worker(),
        upstream_tls: crate::upstream::tls::for_worker(&snap.upstreams),
        scratch: RefCell::new(bytes::BytesMut::with_capacity(1024)),
        authorizer_cache: RefCell::new(crate::policy::auth::authorizer::cache::ResultCache::new(
            snap.authorizer_cache_entries,
        )),
        throttle: RefCell::default(),
        workers: setup.workers.max(1) as u64,
    });
    let slot = Rc::new(Slot {
        current: RefCell::new(Rc::new(snap)),
        in_flight: Cell::new(0),
    });
    let drain = Rc::new(Drain::default());
    let (max_connections, head_budget) = setup.admission;
    let admission = Rc::new(admission::Admission::new(max_connections, head_budget));
    for (index, std_listener) in setup.listeners.into_iter().enumerate() {
        match TcpListener::from_std(std_listener) {
            Ok(l) => {
                monoio::spawn(accept::accept_loop(
                    l,
                    index,
                    core.clone(),
                    slot.clone(),
                    drain.clone(),
                    admission.clone(),
                ));
            }
            Err(e) => {
                let _ = ready.send(Err(format!("worker {}: listener: {e}", setup.index)));
                return MetricsTotals::default();
            }
        }
    }
    let _ = ready.send(Ok(setup.index));
    monoio::spawn(tick(
        core.clone(),
        setup.control,
        setup.shutdown,
        drain.clone(),
    ));
    drain.wait().await;
    finish_in_flight(&slot, setup.shutdown_timeout, core.index).await;
    core.metrics.totals()
}

/// Listeners are closed: lets in-flight requests finish, for at most
/// `limit`. The caller then returns, and dropping the runtime closes idle
/// keep-alive connections.
async fn finish_in_flight(slot: &Slot, limit: Duration, index: usize) {
    let finish = async {
        while slot.in_flight.get() > 0 {
            monoio::time::sleep(Duration::from_millis(5)).await;
        }
    };
    if monoio::time::timeout(limit, finish).await.is_err() {
        log::warn!(
            "worker {index}: {} requests still in flight after the shutdown timeout",
            slot.in_flight.get()
        );
    }
}

/// Housekeeping between requests: control messages, idle pool eviction,
/// the shutdown flag.
async fn tick(
    core: Rc<CoreState>,
    control: Receiver<ControlMsg>,
    shutdown: Arc<AtomicBool>,
    drain: Rc<Drain>,
) {
    loop {
        monoio::time::sleep(TICK).await;
        while let Ok(msg) = control.try_recv() {
            match msg {
                ControlMsg::Resolved(id, addr) => core.resolved.borrow_mut().update(id, addr),
            }
        }
        core.pool.borrow_mut().evict_expired(core.clock.now());
        if shutdown.load(Ordering::Acquire) {
            core.draining.set(true);
            drain.start();
            return;
        }
    }
}
