//! The authentication steps of the request path (behaviour.md §11): app
//! signatures and AppCodes with the body they cover, and custom
//! authorizers called over this worker's pooled connections. The pure
//! rules live in `policy::auth`; this is where they meet sockets.

use std::rc::Rc;

use bytes::BytesMut;

use crate::error::{GatewayError, Rejection};
use crate::forward::{self, Target};
use crate::http::{BodyFraming, Method, ParseError, RequestHead};
use crate::io::ClientConn;
use crate::policy::Context;
use crate::policy::auth::app::{self, App, AppAuth};
use crate::policy::auth::authorizer::{self, Authorizer, AuthorizerId, Fault, Kind, Settled};
use crate::record::Metrics;
use crate::snapshot::Snapshot;

use super::buffer::{
    BodyRead, ClientStalled, Pace, buffer_chunked_body, hash_chunked_body, hash_length_body,
    payload_is_signed, read_length_body,
};
/// Bytes of an upstream response head beyond the request header limit.
use super::proxy::upstream_tls;
use super::{Call, CoreState};
use crate::backend::Api;
use crate::policy::acl::AccessPolicy;
use crate::policy::auth::token;
use crate::route::StageId;

/// The authentication chain of an API (behaviour.md §11, §15): app
/// authentication, token authentication, the account policy the token's
/// account meets, then the frontend authorizer (custom authentication, or
/// the second factor, §11.7). Fills `call.identity`; returns the body's
/// hash when app authentication took one (backend signing reuses it).
pub(super) async fn admit(
    core: &CoreState,
    client: &mut ClientConn,
    call: &mut Call<'_>,
    api: &Api,
    stage: StageId,
    access: Option<&AccessPolicy>,
) -> Result<Option<[u8; 64]>, Refusal> {
    let answer = |e: Rejection| Refusal::Answer(e, None);
    let (snap, head) = (call.snap, call.head);
    let mut body_hash = None;
    if let Some(auth) = &api.app_auth {
        let (app, hash) = authenticate_app(core, snap, client, head, auth, stage)
            .await
            .map_err(answer)?;
        call.identity.app_id = Some(app.id.clone());
        if app.tenant.is_some() {
            call.identity.tenant_id = app.tenant.clone();
        }
        body_hash = hash;
    }
    if let Some(issuer) = &api.token_auth {
        // §11.6; the worker's scratch buffer holds the decoded token.
        let mut scratch = core.scratch.borrow_mut();
        let verified = token::authenticate(issuer, head, core.clock.unix_now(), &mut scratch);
        release_if_large(&mut scratch);
        drop(scratch);
        call.identity
            .set_caller(verified.map_err(|e| answer(e.into()))?);
    }
    // §15: account policies judge the account token authentication found.
    if let Some(AccessPolicy::Account(acl)) = access {
        acl.check(call.identity.account_name.as_deref())
            .map_err(|e| answer(e.into()))?;
    }
    // §11.9: a deny's context still reaches the gateway response.
    if let Some(id) = api.authorizer {
        call.identity.frontend = authorize(core, client, call, id).await?;
    }
    Ok(body_hash)
}

/// App authentication (§11.4–§11.5). A signed body is read whole into the
/// client buffer first and hashed there (§2.6), then forwarded from it:
/// buffered once, hashed once. The app on success, with the body's hash
/// when one was taken (backend signing reuses it, §12).
pub(super) async fn authenticate_app<'s>(
    core: &CoreState,
    snap: &'s Snapshot,
    client: &mut ClientConn,
    head: &RequestHead,
    auth: &AppAuth,
    stage: crate::route::StageId,
) -> Result<(&'s App, Option<[u8; 64]>), Rejection> {
    let mut pace = Pace {
        pace: snap.body_pace(core.clock.now()),
        clock: &*core.clock,
    };
    if head.framing != BodyFraming::None && payload_is_signed(head) {
        // Refuse a bad key, date or grant before buffering the body.
        app::precheck(auth, &snap.apps, head, stage, core.clock.unix_now())?;
    }
    let body_sha256 = match head.framing {
        BodyFraming::Length(n) if n > 0 && payload_is_signed(head) => {
            let expect = head.wants_continue();
            Some(hash_length_body(client, n, expect, &mut pace).await?)
        }
        BodyFraming::Chunked if payload_is_signed(head) => {
            let (expect, max) = (head.wants_continue(), snap.limits.max_body_bytes);
            Some(hash_chunked_body(client, expect, max, &mut pace).await?)
        }
        _ => None,
    };
    // This worker's buffer for canonical requests (no await below holds it).
    let mut scratch = core.scratch.borrow_mut();
    let mut scene = app::Scene {
        tls: client.is_tls(),
        stage,
        now_unix: core.clock.unix_now(),
        body_sha256: body_sha256.as_ref(),
        scratch: &mut scratch,
    };
    let verdict = app::authenticate(auth, &snap.apps, head, &mut scene);
    release_if_large(&mut scratch);
    let (_, app) = verdict?;
    Ok((app, body_sha256))
}

/// Capacity a per-worker scratch buffer keeps between requests; a request
/// that grew it beyond this gives the memory back.
const SCRATCH_KEEP: usize = 64 * 1024;

pub(super) fn release_if_large(buf: &mut BytesMut) {
    if buf.capacity() > SCRATCH_KEEP {
        *buf = BytesMut::with_capacity(1024);
    }
}

/// Runs a custom authorizer (§11.9): the cached decision for the request's
/// identity sources, else a call to the endpoint over this worker's pooled
/// connections. Returns the allowed context, or why the request stops
/// (a deny keeps its context for the gateway response's
/// `$context.authorizer.*`).
pub(super) async fn authorize(
    core: &CoreState,
    client: &mut ClientConn,
    call: &Call<'_>,
    id: AuthorizerId,
) -> Result<Context, Refusal> {
    let snap = call.snap;
    let refuse = |e: GatewayError| Refusal::Answer(e.into(), None);
    let az = (snap.authorizers.get(id as usize)).ok_or(refuse(GatewayError::AuthorizerFailed))?;
    let key = az.cache_key(id, call.head).map_err(refuse)?;
    let caching = !az.cache_ttl.is_zero();
    let cached = caching
        .then(|| {
            let now = core.clock.now();
            core.authorizer_cache.borrow_mut().get(&key, now)
        })
        .flatten();
    let outcome = match cached {
        Some(outcome) => {
            Metrics::bump(&core.metrics.authorizer_cache_hits);
            outcome
        }
        None => match call_authorizer(core, client, call, az).await? {
            Ok(Settled::Decided(outcome)) => {
                let outcome = Rc::new(outcome);
                if caching {
                    let expires = core.clock.now() + az.cache_ttl;
                    let mut cache = core.authorizer_cache.borrow_mut();
                    cache.put(&key, Rc::clone(&outcome), expires);
                }
                outcome
            }
            Ok(Settled::Forgiven) => return Ok(None),
            Err(fault) => {
                log::debug!("authorizer {}: no decision: {fault:?}", az.name);
                return Err(refuse(GatewayError::AuthorizerFailed));
            }
        },
    };
    let context = (!outcome.context.is_empty()).then(|| Rc::clone(&outcome.context));
    if outcome.allow {
        Ok(context)
    } else {
        let backend = az.kind == Kind::Backend;
        Err(Refusal::Answer(
            GatewayError::AuthorizerDenied { backend }.into(),
            context,
        ))
    }
}

/// Why an authentication step stops a request.
pub(super) enum Refusal {
    /// Answer with this error; an authorizer's context is kept for the
    /// template.
    Answer(Rejection, Context),
    /// The client went away or stalled while sending the body the event
    /// needs: nothing can be answered.
    Close,
}

/// One call to an authorizer endpoint: the event out, the result back
/// (at most 1 MB), settled under relaxed mode; the whole exchange within
/// the authorizer's `timeout`.
async fn call_authorizer(
    core: &CoreState,
    client: &mut ClientConn,
    call: &Call<'_>,
    az: &Authorizer,
) -> Result<Result<Settled, Fault>, Refusal> {
    let snap = call.snap;
    let head = call.head;
    let body = if az.send_body && az.kind == Kind::Frontend {
        let mut pace = Pace {
            pace: snap.body_pace(core.clock.now()),
            clock: &*core.clock,
        };
        Some(read_event_body(client, head, az.max_body, &mut pace).await?)
    } else {
        None
    };
    Metrics::bump(&core.metrics.authorizer_calls);
    let source_ip = call.source_text(client);
    let facts = authorizer::Facts {
        head,
        body: match &body {
            Some(EventBody::Buffered(n)) => client.rbuf.get(..*n),
            Some(EventBody::Decoded(b)) => Some(b),
            None => None,
        },
        source_ip: &source_ip,
        request_id: call.rid.as_str(),
        stage: call.stage,
        api_id: call.api.map_or("", |a| &a.id),
    };
    let mut request = BytesMut::new();
    az.write_request(&facts, &mut request);
    drop(body);
    let sent = send_to_authorizer(core, snap, az, request);
    let answer = match monoio::time::timeout(az.timeout, sent).await {
        Ok(answer) => answer,
        Err(_) => Err(GatewayError::UpstreamTimeout),
    };
    let settled = az.settle(match &answer {
        Ok(a) => Ok((a.status, &a.body)),
        Err(_) => Err(Fault::Unavailable),
    });
    if !matches!(settled, Ok(Settled::Decided(_))) {
        Metrics::bump(&core.metrics.authorizer_failures);
    }
    Ok(settled)
}

/// Where the body sent in an authorizer event is.
pub(super) enum EventBody {
    /// The first `n` bytes of the client buffer (a `Content-Length` body,
    /// or none).
    Buffered(usize),
    /// A chunked body, de-chunked (its raw bytes stay buffered for the
    /// backend).
    Decoded(Vec<u8>),
}

/// Reads the whole request body for an authorizer event into the client
/// buffer, where the forward stage still finds it: at most `max` payload
/// bytes (413 above), reads within `pace`.
async fn read_event_body(
    client: &mut ClientConn,
    head: &RequestHead,
    max: u64,
    pace: &mut Pace<'_>,
) -> Result<EventBody, Refusal> {
    let too_large = Refusal::Answer(GatewayError::Parse(ParseError::BodyTooLarge).into(), None);
    let expect = head.wants_continue();
    match head.framing {
        BodyFraming::None => Ok(EventBody::Buffered(0)),
        BodyFraming::Length(n) if n > max => Err(too_large),
        BodyFraming::Length(n) => {
            read_length_body(client, n, expect, pace, |_| {})
                .await
                .map_err(|ClientStalled| Refusal::Close)?;
            usize::try_from(n)
                .map(EventBody::Buffered)
                .map_err(|_| too_large)
        }
        BodyFraming::Chunked => {
            let mut decoded = Vec::new();
            let collect = |payload: &[u8]| decoded.extend_from_slice(payload);
            match buffer_chunked_body(client, expect, max, pace, collect).await {
                Ok(_) => Ok(EventBody::Decoded(decoded)),
                Err(BodyRead::Stalled) => Err(Refusal::Close),
                Err(BodyRead::Refused(e)) => Err(Refusal::Answer(e.into(), None)),
            }
        }
    }
}

/// Sends an authorizer request and reads the whole answer.
async fn send_to_authorizer(
    core: &CoreState,
    snap: &Snapshot,
    az: &Authorizer,
    request: BytesMut,
) -> Result<forward::call::Answer, GatewayError> {
    let addr = core.resolved.borrow().pick(az.upstream)?;
    let fw = core.forwarder(snap, snap.timeouts.connect.min(az.timeout));
    let target = Target {
        upstream: az.upstream,
        addr,
        timeout: az.timeout,
        method: Method::Post,
        tls: upstream_tls(core, snap, az.upstream).map(|t| (&t.config, &t.server_name)),
        websocket: false,
    };
    forward::call::call(&fw, &target, request, authorizer::MAX_RESULT_BYTES).await
}
