//! The request path as one readable function: route → policy (protocol,
//! CORS, real IP and access control, authentication: app, token, custom
//! authorizer; throttling; input parameters) → backend (policies, backend authorizer)
//! → rewrite → forward → respond (architecture.md "One request, one
//! direction").
//!
//! [`CoreState`] is everything one worker core owns for its requests; the
//! worker builds it once and hands it to every connection. Nothing in it is
//! shared with another core.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::BytesMut;

use crate::backend::select::Facts;
use crate::backend::{self, Api, Backend, MockBackend};
use crate::clock::Clock;
use crate::error::{GatewayError, Rejection};
use crate::forward::Forwarder;
use crate::forward::body::{self, Decoder};
use crate::http::parse::{HeaderKind, Underscores};
use crate::http::{BodyFraming, Method, RequestHead, Version};
use crate::io::{self, ClientConn};
use crate::policy::acl::AccessPolicy;
use crate::policy::auth::authorizer::cache::ResultCache;
use crate::policy::cors::{self, CorsPlan};
use crate::policy::protocol::{self, Verdict as ProtocolVerdict};
use crate::policy::throttle::check::RateHeaders;
use crate::policy::{Identity, hops, params};
use crate::record::Metrics;
use crate::request_id::{RequestId, RequestIdGen};
use crate::respond::{self, Decor, ErrorScene, Latency, ResponseSet};
use crate::rewrite;
use crate::route::stage::RELEASE_ID;
use crate::snapshot::Snapshot;
use crate::upstream::Resolved;
use crate::upstream::pool::Pool;

mod auth;
mod buffer;
mod proxy;
mod throttle;

use auth::{Refusal, authorize};
use buffer::in_memory_body_sha256;
use proxy::proxy;

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
    /// This worker's own copy of the TLS configurations (its own session
    /// caches).
    pub tls: crate::tls::SniTable,
    /// Reused buffer for canonical requests (app signatures) and decoded
    /// tokens.
    pub scratch: RefCell<BytesMut>,
    /// This worker's custom-authorizer decisions (§11.9.4), keyed by
    /// authorizer index: a reload that renumbers authorizers must clear it
    /// with the snapshot swap.
    pub authorizer_cache: RefCell<ResultCache>,
    /// This worker's client TLS settings per upstream (https backends),
    /// built from the snapshot the worker started with: a reload that
    /// renumbers upstreams must rebuild it with the snapshot swap.
    pub upstream_tls: Vec<Option<crate::upstream::tls::UpstreamTls>>,
    /// This worker's throttling leases (§13–§14), keyed by counter
    /// address: a reload that frees counters must clear it with the
    /// snapshot swap (a freed address may be reused by a new counter).
    pub throttle: RefCell<crate::policy::throttle::shard::Shard>,
    /// Workers sharing the throttling counters (sizes leases).
    pub workers: u64,
}

impl CoreState {
    /// This worker's forwarding resources with `snap`'s limits; the
    /// connect timeout is the caller's (an authorizer's call may be shorter).
    fn forwarder<'a>(&'a self, snap: &Snapshot, connect_timeout: Duration) -> Forwarder<'a> {
        Forwarder {
            pool: &self.pool,
            clock: &*self.clock,
            metrics: &self.metrics,
            connect_timeout,
            body_pace: snap.body_pace(self.clock.now()),
            request_buffer: snap.request_buffer,
            max_body: snap.limits.max_body_bytes,
            max_response_head: snap.limits.max_headers_total_bytes + RESPONSE_HEAD_SLACK,
        }
    }
}

/// One request on its way through the stages: what every step after
/// routing needs to answer it, including with an error.
struct Call<'a> {
    snap: &'a Snapshot,
    head: &'a RequestHead,
    rid: RequestId,
    keep_alive: bool,
    /// When the request arrived, read only in debug mode (§19).
    started: Option<Instant>,
    /// The API, once routed.
    api: Option<&'a Api>,
    /// The stage name (RELEASE until routing says otherwise).
    stage: &'a str,
    /// The response set rendering errors (§18).
    set: &'a ResponseSet,
    /// CORS headers of a CORS-enabled API (§17).
    cors: Option<CorsPlan>,
    /// Who is calling, once authenticated (anonymous until then).
    identity: Identity,
    /// The client IP as text when it is not the peer's (§16).
    source_text: Option<Rc<[u8]>>,
    /// Debug-mode throttling headers (§13.5), once throttling ran.
    rate: Option<RateHeaders>,
}

impl Call<'_> {
    /// The client IP as text (§16): the real IP, else the peer's.
    fn source_text(&self, client: &ClientConn) -> Rc<[u8]> {
        self.source_text
            .clone()
            .unwrap_or_else(|| Rc::clone(&client.peer_ip))
    }

    /// Response decoration; `upstream_ms` for proxied responses.
    fn decor(&self, core: &CoreState, upstream_ms: Option<u64>) -> Decor {
        Decor {
            cors: self.cors,
            rate: self.rate,
            latency: self.started.map(|t| Latency {
                total_ms: millis(core.clock.now().saturating_duration_since(t)),
                upstream_ms,
            }),
        }
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// Serves one parsed request; returns whether the connection may carry
/// another one.
pub async fn handle(
    core: &CoreState,
    snap: &Snapshot,
    client: &mut ClientConn,
    mut head: RequestHead,
) -> bool {
    Metrics::bump(&core.metrics.requests);
    // Route on the path the backend will see (issue 13).
    let normalized = head.normalize_path(&snap.path_rules);
    let mut call = Call {
        snap,
        head: &head,
        rid: core.ids.next_id(),
        keep_alive: head.keep_alive && !core.draining.get(),
        started: head.debug_mode().then(|| core.clock.now()),
        api: None,
        stage: snap.routes.stages.name(RELEASE_ID),
        set: snap.builtin_responses(),
        cors: None,
        identity: Identity::default(),
        source_text: None,
        rate: None,
    };
    if let (Some(negotiated), Some(host)) = (&client.tls_config, head.host)
        && core.tls.misdirected(head.slice(host), negotiated)
    {
        return reject(core, client, &call, GatewayError::Misdirected).await;
    }
    if let Err(fault) = normalized {
        return reject(core, client, &call, GatewayError::PathRefused(fault)).await;
    }
    if snap.underscores == Underscores::Reject
        && head
            .headers
            .iter()
            .any(|h| head.slice(h.name).contains(&b'_'))
    {
        return reject(core, client, &call, GatewayError::UnderscoreHeader).await;
    }
    let route = match snap.routes.lookup(&head) {
        Ok(route) => route,
        Err(miss) => {
            if let Some(g) = miss.group {
                call.set = snap.group_responses(g);
            }
            // `$context.stage` names the stage asked for, known or not.
            call.stage = match miss.stage {
                Some(s) => snap.routes.stages.name(s),
                None => head
                    .first(HeaderKind::XStage)
                    .and_then(|v| std::str::from_utf8(v).ok())
                    .unwrap_or(call.stage),
            };
            return reject(core, client, &call, miss.error).await;
        }
    };
    call.stage = snap.routes.stages.name(route.stage);
    let found = snap.apis.get(route.api as usize).and_then(|api| {
        let dep = api.deployment(route.stage)?;
        Some((api, dep))
    });
    let Some((api, dep)) = found else {
        return reject(core, client, &call, GatewayError::RouteNotFound).await;
    };
    call.api = Some(api);
    call.set = snap.responses(api.responses);
    let host = head.host.map(|h| head.slice(h));
    match protocol::check(
        api.protocols,
        client.is_tls(),
        head.method,
        host,
        &snap.domain_rules,
    ) {
        Ok(ProtocolVerdict::Pass) => {}
        Ok(ProtocolVerdict::Redirect { port }) => return redirect(core, client, &call, port).await,
        Err(e) => return reject(core, client, &call, e).await,
    }
    call.cors = cors::check(api.cors, &head);
    // §16: the client IP everything after this sees; §15: its access control.
    let peer = client.peer.ip();
    let source = match snap.real_ip.resolve(peer, head.values(b"x-forwarded-for")) {
        Ok(ip) => ip,
        Err(e) => return reject(core, client, &call, e).await,
    };
    if source != peer {
        call.source_text = Some(source.to_string().into_bytes().into());
    }
    // §7.6 APIG.0612: a request that came round through this gateway too
    // often is not sent round again, to a backend or an authorizer.
    if hops::count(&head) >= hops::MAX_HOPS {
        return reject(core, client, &call, GatewayError::LoopDetected).await;
    }
    let access = api.acl.get(route.stage as usize).and_then(Option::as_deref);
    if let Some(AccessPolicy::Ip(acl)) = access
        && let Err(e) = acl.check(source)
    {
        return reject(core, client, &call, e).await;
    }
    // §11: who is calling (app, token, account policy, authorizer).
    let body_hash = match auth::admit(core, client, &mut call, api, route.stage, access).await {
        Ok(hash) => hash,
        Err(Refusal::Answer(e, context)) => {
            call.identity.frontend = context;
            return reject(core, client, &call, e).await;
        }
        Err(Refusal::Close) => return false,
    };
    // §13–§14: throttling, once the caller is known.
    let verdict = throttle::check(core, &call, api, &route, source, client);
    call.rate = verdict.headers;
    if verdict.overflowed {
        Metrics::bump(&core.metrics.throttle_overflows);
    }
    if !verdict.admitted {
        Metrics::bump(&core.metrics.throttled);
        return reject(core, client, &call, GatewayError::Throttled).await;
    }
    let inputs = match params::check(&api.params, &head, &route) {
        Ok(inputs) => inputs,
        Err(e) => return reject(core, client, &call, e).await,
    };
    let facts = Facts {
        head: &head,
        inputs: &inputs,
        source_ip: source,
        identity: &call.identity,
    };
    match backend::select(api, dep, &facts) {
        Backend::Http(http) => {
            // §11.9.6: the backend authorizer, before the request is built.
            if let Some(id) = http.authorizer {
                match authorize(core, client, &call, id).await {
                    Ok(context) => call.identity.backend = context,
                    Err(Refusal::Answer(e, context)) => {
                        call.identity.backend = context;
                        return reject(core, client, &call, e).await;
                    }
                    Err(Refusal::Close) => return false,
                }
            }
            let source_ip = call.source_text(client);
            let peer_ip = Rc::clone(&client.peer_ip);
            let key = api
                .signing
                .get(route.stage as usize)
                .and_then(Option::as_deref);
            let body_sha256 = key.and_then(|_| in_memory_body_sha256(&head, client, body_hash));
            let req = rewrite::Request {
                head: &head,
                route: &route,
                api,
                inputs: &inputs,
                identity: &call.identity,
                stage: call.stage,
                rid: &call.rid,
                source_ip: &source_ip,
                peer_ip: &peer_ip,
                tls: client.is_tls(),
                signer: key.map(|key| rewrite::sign::Signer {
                    key,
                    now_unix: core.clock.unix_now(),
                    body_sha256: body_sha256.as_ref(),
                }),
                drop_underscored: snap.underscores == Underscores::Drop,
            };
            proxy(core, client, &call, &req, http).await
        }
        Backend::Mock(mock) => serve_mock(core, client, &call, mock).await,
    }
}

async fn serve_mock(
    core: &CoreState,
    client: &mut ClientConn,
    call: &Call<'_>,
    mock: &MockBackend,
) -> bool {
    let head = call.head;
    let keep = call.keep_alive && consume_body(core, call.snap, client, head).await;
    let decor = call.decor(core, None);
    let head_request = head.method == Method::Head;
    respond::mock(
        &mut client.out,
        mock,
        &call.rid,
        &decor,
        head.version,
        keep,
        head_request,
    );
    flush(client).await && keep
}

/// Answers a plain-HTTP GET or HEAD with 301 to HTTPS (§4.6).
async fn redirect(core: &CoreState, client: &mut ClientConn, call: &Call<'_>, port: u16) -> bool {
    let head = call.head;
    let keep = call.keep_alive && consume_body(core, call.snap, client, head).await;
    let decor = call.decor(core, None);
    let host = head.host.map_or(&b""[..], |h| head.slice(h));
    respond::redirect(
        &mut client.out,
        host,
        port,
        head.routed_path(),
        head.query.map(|q| head.slice(q)),
        &call.rid,
        &decor,
        head.version,
        keep,
    );
    flush(client).await && keep
}

/// Answers a request with an error (a [`GatewayError`], or a
/// [`Rejection`] with a detail for its message), after reading any body
/// the client sent so the connection stays in step (unless the error
/// closes it: an oversize or ill-framed body is not read on).
async fn reject(
    core: &CoreState,
    client: &mut ClientConn,
    call: &Call<'_>,
    err: impl Into<Rejection>,
) -> bool {
    let err = err.into();
    let keep = call.keep_alive
        && !respond::error_map::map(&err.error).close
        && consume_body(core, call.snap, client, call.head).await;
    answer_error(core, client, call, &err, keep).await
}

/// Answers a request whose head could not be accepted; the connection
/// always closes (its framing cannot be trusted).
pub async fn refuse(core: &CoreState, snap: &Snapshot, client: &mut ClientConn, err: GatewayError) {
    Metrics::bump(&core.metrics.errors);
    let rid = core.ids.next_id();
    let scene = ErrorScene {
        set: snap.builtin_responses(),
        api_id: "",
        stage: snap.routes.stages.name(RELEASE_ID),
        source_ip: &client.peer_ip,
        identity: &Identity::ANONYMOUS,
        decor: Decor::default(),
    };
    let out = &mut client.out;
    respond::error(
        out,
        &err.into(),
        &rid,
        &scene,
        Version::Http11,
        false,
        false,
    );
    flush(client).await;
}

async fn answer_error(
    core: &CoreState,
    client: &mut ClientConn,
    call: &Call<'_>,
    err: &Rejection,
    keep_alive: bool,
) -> bool {
    Metrics::bump(&core.metrics.errors);
    let head = call.head;
    let peer_ip = call.source_text(client);
    let scene = ErrorScene {
        set: call.set,
        api_id: call.api.map_or("", |a| &a.id),
        stage: call.stage,
        source_ip: &peer_ip,
        identity: &call.identity,
        decor: call.decor(core, None),
    };
    let head_request = head.method == Method::Head;
    let out = &mut client.out;
    let close = respond::error(
        out,
        err,
        &call.rid,
        &scene,
        head.version,
        keep_alive,
        head_request,
    );
    flush(client).await && !close
}

/// Reads and drops a request body the gateway answers without. A client
/// waiting for `100 Continue` has sent nothing; closing is cheaper.
async fn consume_body(
    core: &CoreState,
    snap: &Snapshot,
    client: &mut ClientConn,
    head: &RequestHead,
) -> bool {
    if head.framing == BodyFraming::None {
        return true;
    }
    if head.wants_continue() && client.rbuf.is_empty() {
        return false;
    }
    let mut dec = Decoder::for_request(head.framing);
    let pace = snap.body_pace(core.clock.now());
    let clock = &*core.clock;
    let (stream, rbuf) = (&mut client.stream, &mut client.rbuf);
    body::discard(
        &mut dec,
        stream,
        rbuf,
        pace,
        clock,
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
