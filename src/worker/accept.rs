//! This worker's listeners: accept until shutdown begins, one task per
//! connection.

use std::rc::Rc;
use std::time::Duration;

use monoio::net::TcpListener;

use crate::pipeline::CoreState;

use super::Slot;
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
) {
    let mut stop = std::pin::pin!(drain.wait());
    loop {
        monoio::select! {
            _ = &mut stop => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    monoio::spawn(conn::serve(stream, peer, index, core.clone(), slot.clone()));
                }
                Err(e) => {
                    log::warn!("worker {}: accept failed: {e}", core.index);
                    monoio::time::sleep(ACCEPT_BACKOFF).await;
                }
            },
        }
    }
    drop(listener);
}
