//! This worker's listeners: accept until shutdown begins, one task per
//! connection, at most the worker's connection cap at once
//! (`admission`); refusals and accept errors (EMFILE and the like) are
//! logged at most once a second, with a count.

use std::rc::Rc;
use std::time::Duration;

use monoio::net::TcpListener;

use crate::pipeline::CoreState;
use crate::record::Metrics;

use super::Slot;
use super::admission::Admission;
use super::conn;
use super::drain::Drain;

/// Pause after an accept error (EMFILE and the like) before trying again.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(10);

/// Accepts connections on `listener` until `drain` starts, then drops the
/// listener so the kernel stops queueing connections for this worker.
pub async fn accept_loop(
    listener: TcpListener,
    index: usize,
    core: Rc<CoreState>,
    slot: Rc<Slot>,
    drain: Rc<Drain>,
    admission: Rc<Admission>,
) {
    let mut stop = std::pin::pin!(drain.wait());
    loop {
        monoio::select! {
            _ = &mut stop => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => match admission.admit().or_else(|| admission.admit_by_reclaiming()) {
                    Some(seat) => {
                        monoio::spawn(conn::serve(stream, peer, index, core.clone(), slot.clone(), seat));
                    }
                    None => {
                    // At the cap: closed at once, before any byte is read.
                    drop(stream);
                    Metrics::bump(&core.metrics.connections_refused);
                    if let Some(n) = admission.should_warn(core.clock.now()) {
                        log::warn!(
                            "worker {}: {n} connection(s) refused (last from {peer}): {} open, the \
                             per-worker cap; raise [server] worker_connections or the \
                             file-descriptor limit",
                            core.index,
                            admission.open()
                        );
                    }
                    }
                },
                Err(e) => {
                    if let Some(n) = admission.should_warn(core.clock.now()) {
                        log::warn!("worker {}: accept failed ({n} time(s) since the last warning): {e}", core.index);
                    }
                    monoio::time::sleep(ACCEPT_BACKOFF).await;
                }
            },
        }
    }
    drop(listener);
}
