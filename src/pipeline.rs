//! The request path as one readable function: route → backend → rewrite →
//! forward → respond (architecture.md "One request, one direction").
//!
//! [`CoreState`] is everything one worker core owns for its requests; the
//! worker builds it once and hands it to every connection. Nothing in it is
//! shared with another core.

use std::cell::{Cell, RefCell};
use std::sync::Arc;

use crate::backend::{self, Backend, HttpBackend, MockBackend};
use crate::clock::Clock;
use crate::error::GatewayError;
use crate::forward::body::{self, Decoder};
use crate::forward::{self, Failure, Forwarder, Target};
use crate::http::{BodyFraming, Method, RequestHead, ResponseHead, Version};
use crate::io::{self, ClientConn};
use crate::record::Metrics;
use crate::request_id::{RequestId, RequestIdGen};
use crate::respond::{
    self,
    relay::{self, PoolReturn, RelayTimeouts, Unrelayable},
};
use crate::rewrite;
use crate::route::RouteMatch;
use crate::snapshot::Snapshot;
use crate::upstream::Resolved;
use crate::upstream::pool::{Pool, UpstreamConn};

/// Bytes of an upstream response head beyond the request header limit.
const RESPONSE_HEAD_SLACK: usize = 8 * 1024;

/// The per-core resources of the request path.
pub struct CoreState {
    /// Worker index.
    pub index: usize,
    /// Upstream keep-alive pool.
    pub pool: RefCell<Pool>,
    /// Upstream addresses as last published by the resolver.
    pub resolved: RefCell<Resolved>,
    /// Clock.
    pub clock: Arc<dyn Clock>,
    /// Counters.
    pub metrics: Metrics,
    /// Request id generator.
    pub ids: RequestIdGen,
    /// Set once shutdown began: responses close their connections.
    pub draining: Cell<bool>,
}

/// Serves one parsed request; returns whether the connection may carry
/// another one.
pub async fn handle(
    core: &CoreState,
    snap: &Snapshot,
    client: &mut ClientConn,
    head: RequestHead,
) -> bool {
    Metrics::bump(&core.metrics.requests);
    let rid = core.ids.next_id();
    let keep_alive = head.keep_alive && !core.draining.get();
    let route = match snap.routes.lookup(&head) {
        Ok(route) => route,
        Err(e) => return reject(core, snap, client, &head, e, &rid, keep_alive).await,
    };
    match backend::select(&snap.apis, route.api) {
        Some(Backend::Http(http)) => {
            proxy(core, snap, client, &head, &route, http, &rid, keep_alive).await
        }
        Some(Backend::Mock(mock)) => serve_mock(snap, client, &head, mock, &rid, keep_alive).await,
        None => {
            let e = GatewayError::RouteNotFound;
            reject(core, snap, client, &head, e, &rid, keep_alive).await
        }
    }
}

#[allow(clippy::too_many_arguments)] // the stage outputs, passed explicitly (style.md §1)
async fn proxy(
    core: &CoreState,
    snap: &Snapshot,
    client: &mut ClientConn,
    head: &RequestHead,
    route: &RouteMatch,
    http: &HttpBackend,
    rid: &RequestId,
    keep_alive: bool,
) -> bool {
    let picked = core.resolved.borrow().pick(http.upstream);
    let addr = match picked {
        Ok(addr) => addr,
        Err(e) => return reject(core, snap, client, head, e, rid, keep_alive).await,
    };
    let method = rewrite::request_head(&mut client.out, head, route, http, rid, &client.peer_ip);
    let fw = Forwarder {
        pool: &core.pool,
        clock: &*core.clock,
        metrics: &core.metrics,
        connect_timeout: snap.timeouts.connect,
        body_timeout: snap.timeouts.body,
        max_body: snap.limits.max_body_bytes,
        max_response_head: snap.limits.max_headers_total_bytes + RESPONSE_HEAD_SLACK,
    };
    let target = Target {
        upstream: http.upstream,
        addr,
        timeout: http.timeout,
        method,
    };
    match forward::forward(&fw, client, head, &target).await {
        Ok((conn, resp)) => send_back(core, client, head, http, conn, &resp, rid, keep_alive).await,
        Err(Failure {
            error: Some(e),
            client_reusable,
        }) => {
            let keep = keep_alive && client_reusable;
            answer_error(core, client, head, &e, rid, keep).await
        }
        Err(Failure { error: None, .. }) => false,
    }
}

/// Relays the upstream's response to the client (respond stage).
#[allow(clippy::too_many_arguments)] // the stage outputs, passed explicitly (style.md §1)
async fn send_back(
    core: &CoreState,
    client: &mut ClientConn,
    head: &RequestHead,
    http: &HttpBackend,
    conn: UpstreamConn,
    resp: &ResponseHead,
    rid: &RequestId,
    keep_alive: bool,
) -> bool {
    let back = PoolReturn {
        pool: &core.pool,
        upstream: http.upstream,
        clock: &*core.clock,
    };
    let timeouts = RelayTimeouts {
        upstream: http.timeout,
        client: client.send_timeout,
    };
    // Decided now, not at the head: shutdown may have begun meanwhile.
    let keep = keep_alive && !core.draining.get();
    match relay::relay(client, head, conn, resp, rid, keep, timeouts, back).await {
        Ok(keep) => keep,
        Err(Unrelayable) => {
            let e = GatewayError::UpstreamBadResponse;
            answer_error(core, client, head, &e, rid, keep).await
        }
    }
}

async fn serve_mock(
    snap: &Snapshot,
    client: &mut ClientConn,
    head: &RequestHead,
    mock: &MockBackend,
    rid: &RequestId,
    keep_alive: bool,
) -> bool {
    let keep = keep_alive && consume_body(snap, client, head).await;
    respond::mock(
        &mut client.out,
        mock,
        rid,
        head.version,
        keep,
        head.method == Method::Head,
    );
    flush(client).await && keep
}

/// Answers a routed request with an error, after reading any body the
/// client sent so the connection stays in step.
async fn reject(
    core: &CoreState,
    snap: &Snapshot,
    client: &mut ClientConn,
    head: &RequestHead,
    err: GatewayError,
    rid: &RequestId,
    keep_alive: bool,
) -> bool {
    let keep = keep_alive && consume_body(snap, client, head).await;
    answer_error(core, client, head, &err, rid, keep).await
}

/// Answers a request whose head could not be accepted; the connection
/// always closes (its framing cannot be trusted).
pub async fn refuse(core: &CoreState, client: &mut ClientConn, err: GatewayError) {
    Metrics::bump(&core.metrics.errors);
    let rid = core.ids.next_id();
    respond::error(&mut client.out, &err, &rid, Version::Http11, false, false);
    flush(client).await;
}

async fn answer_error(
    core: &CoreState,
    client: &mut ClientConn,
    head: &RequestHead,
    err: &GatewayError,
    rid: &RequestId,
    keep_alive: bool,
) -> bool {
    Metrics::bump(&core.metrics.errors);
    let head_request = head.method == Method::Head;
    let close = respond::error(
        &mut client.out,
        err,
        rid,
        head.version,
        keep_alive,
        head_request,
    );
    flush(client).await && !close
}

/// Reads and drops a request body the gateway answers without. A client
/// waiting for `100 Continue` has sent nothing; closing is cheaper.
async fn consume_body(snap: &Snapshot, client: &mut ClientConn, head: &RequestHead) -> bool {
    if head.framing == BodyFraming::None {
        return true;
    }
    if head.wants_continue() && client.rbuf.is_empty() {
        return false;
    }
    let mut dec = Decoder::for_request(head.framing);
    body::discard(
        &mut dec,
        &mut client.stream,
        &mut client.rbuf,
        snap.timeouts.body,
        snap.limits.max_body_bytes,
    )
    .await
}

/// Writes `client.out` and clears it; false when the client is gone or
/// stopped reading for `send_timeout`.
async fn flush(client: &mut ClientConn) -> bool {
    let buf = std::mem::take(&mut client.out);
    let (res, mut buf) = io::write_all_within(&mut client.stream, buf, client.send_timeout).await;
    buf.clear();
    client.out = buf;
    res.is_ok()
}
