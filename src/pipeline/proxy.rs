//! The proxied exchange: resolve the backend, build its request head,
//! forward, then relay the answer (or hand a WebSocket to the tunnel), or
//! answer the failure (behaviour.md §7.2, §7.3, §7.6).

use crate::backend::HttpBackend;
use crate::error::GatewayError;
use crate::forward::{self, Failure, Target};
use crate::http::ResponseHead;
use crate::io::{ClientConn, Tunnel};
use crate::respond::relay::{self, PoolReturn, RelayTimeouts, Unrelayable};
use crate::respond::{self, Decor};
use crate::rewrite;
use crate::snapshot::Snapshot;
use crate::upstream::pool::UpstreamConn;

use super::{Call, CoreState, answer_error, flush, millis, reject};

/// Sends the request to its HTTP backend and relays the answer; returns
/// whether the client connection may carry another request.
pub(super) async fn proxy(
    core: &CoreState,
    client: &mut ClientConn,
    call: &Call<'_>,
    req: &rewrite::Request<'_>,
    http: &HttpBackend,
) -> bool {
    let picked = core.resolved.borrow().pick(http.upstream);
    let addr = match picked {
        Ok(addr) => addr,
        Err(e) => return reject(core, client, call, e).await,
    };
    let method = match rewrite::request_head(&mut client.out, req, http) {
        Ok(method) => method,
        Err(e) => {
            client.out.clear();
            return reject(core, client, call, e).await;
        }
    };
    let snap = call.snap;
    let fw = core.forwarder(snap, snap.timeouts.connect);
    let target = Target {
        upstream: http.upstream,
        addr,
        timeout: http.timeout,
        method,
        tls: upstream_tls(core, snap, http.upstream).map(|t| (&t.config, &t.server_name)),
        websocket: call.head.websocket,
    };
    let sent = call.started.map(|_| core.clock.now());
    match forward::forward(&fw, client, call.head, &target).await {
        Ok((conn, resp)) => {
            let upstream_ms = sent.map(|t| millis(core.clock.now().saturating_duration_since(t)));
            let decor = call.decor(core, upstream_ms);
            if resp.status == 101 {
                return upgrade(client, call, http, conn, &resp, &decor).await;
            }
            send_back(core, client, call, http, conn, &resp, &decor).await
        }
        Err(Failure {
            error: Some(e),
            client_reusable,
        }) => {
            let keep = call.keep_alive && client_reusable;
            answer_error(core, client, call, &e.into(), keep).await
        }
        Err(Failure { error: None, .. }) => false,
    }
}

/// Answers a WebSocket handshake the upstream accepted with its `101`
/// and hands the connection to the tunnel (§7.3); it never returns to the
/// HTTP loop.
async fn upgrade(
    client: &mut ClientConn,
    call: &Call<'_>,
    http: &HttpBackend,
    conn: UpstreamConn,
    resp: &ResponseHead,
    decor: &Decor,
) -> bool {
    respond::switching_head(&mut client.out, resp, &call.rid, decor);
    if flush(client).await {
        client.tunnel = Some(Tunnel {
            upstream: conn.stream,
            early: conn.buf,
            idle: http.timeout,
        });
    }
    false
}

/// The client TLS settings of an https upstream: this worker's copy, or
/// (should the copy be missing) the snapshot's own, never none: an https
/// backend is never sent cleartext.
pub(super) fn upstream_tls<'a>(
    core: &'a CoreState,
    snap: &'a Snapshot,
    id: crate::upstream::UpstreamId,
) -> Option<&'a crate::upstream::tls::UpstreamTls> {
    let own = core.upstream_tls.get(id as usize).and_then(Option::as_ref);
    own.or_else(|| snap.upstreams.get(id as usize)?.tls.as_ref())
}

/// Relays the upstream's response to the client (respond stage).
async fn send_back(
    core: &CoreState,
    client: &mut ClientConn,
    call: &Call<'_>,
    http: &HttpBackend,
    conn: UpstreamConn,
    resp: &ResponseHead,
    decor: &Decor,
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
    let keep = call.keep_alive && !core.draining.get();
    let head = call.head;
    match relay::relay(
        client, head, conn, resp, &call.rid, decor, keep, timeouts, back,
    )
    .await
    {
        Ok(keep) => keep,
        Err(Unrelayable) => {
            let e = GatewayError::UpstreamBadResponse.into();
            answer_error(core, client, call, &e, keep).await
        }
    }
}
