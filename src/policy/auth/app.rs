//! App authentication (behaviour.md §11.2–§11.5): who signed the request,
//! or whose AppCode it carries, and whether that app is granted the API in
//! this stage.
//!
//! Compiled once ([`Apps`], [`AppAuth`]); per request the work is one hash
//! lookup by AppKey or AppCode, the signature check
//! ([`super::signature`]) and a binary search in the API's grant list.

use ahash::AHashMap;
use bytes::BytesMut;

use super::signature::{
    self, Authorization, EMPTY_BODY_SHA256, HeaderValue, MacKey, RequestParts, SignatureError,
    UNSIGNED_PAYLOAD,
};
use crate::error::{AuthFault, GatewayError, Rejection};
use crate::http::RequestHead;
use crate::route::StageId;

mod detail;

/// Index of an app in [`Apps`].
pub type AppId = u32;

/// One app (credential).
#[derive(Debug, Clone)]
pub struct App {
    /// App ID (`$context.appId`, the `appId` system parameter).
    pub id: Box<str>,
    /// AppKey.
    pub key: Box<[u8]>,
    /// The HMAC keyed with the AppSecret, ready to clone per request
    /// (`None` only if HMAC refused the secret, which it never does: then
    /// no signature verifies).
    pub mac: Option<MacKey>,
    /// `false`: frozen (405 APIG.0502).
    pub enabled: bool,
    /// The tenant owning the app (`tenantId` of its calls; user
    /// throttling and excluded tenants, §13.3, §27 C16).
    pub tenant: Option<Box<str>>,
}

impl App {
    /// An app with ID `id`, AppKey `key` and AppSecret `secret`.
    pub fn new(id: &str, key: &[u8], secret: &[u8], enabled: bool) -> App {
        App {
            id: id.into(),
            key: key.into(),
            mac: MacKey::try_new(secret),
            enabled,
            tenant: None,
        }
    }
}

/// Every app, by AppKey and by AppCode.
#[derive(Debug, Clone, Default)]
pub struct Apps {
    /// Apps by [`AppId`].
    pub list: Vec<App>,
    by_key: AHashMap<Box<[u8]>, AppId>,
    /// By SHA-256 of the AppCode: the lookup's final comparison is of
    /// digests, so its timing says nothing about how much of a guessed
    /// code was right.
    by_code: AHashMap<[u8; 32], AppId>,
}

impl Apps {
    /// Adds an app with its AppCodes; returns its id.
    pub fn insert(&mut self, app: App, codes: &[String]) -> AppId {
        let id = self.list.len() as AppId;
        self.by_key.insert(app.key.clone(), id);
        for code in codes {
            self.by_code.insert(code_digest(code.as_bytes()), id);
        }
        self.list.push(app);
        id
    }

    /// The app with AppKey `key`.
    pub fn by_key(&self, key: &[u8]) -> Option<(AppId, &App)> {
        let id = *self.by_key.get(key)?;
        Some((id, self.list.get(id as usize)?))
    }

    /// The app owning AppCode `code`.
    pub fn by_code(&self, code: &[u8]) -> Option<(AppId, &App)> {
        let id = *self.by_code.get(&code_digest(code))?;
        Some((id, self.list.get(id as usize)?))
    }
}

fn code_digest(code: &[u8]) -> [u8; 32] {
    use sha2::{Digest, Sha256};
    Sha256::digest(code).into()
}

/// An API's app authentication.
#[derive(Debug, Clone, Default)]
pub struct AppAuth {
    /// `X-Apig-AppCode` accepted too (§11.5).
    pub simple: bool,
    /// AppCodes accepted over plain HTTP (a config switch; §11.5: HTTPS).
    pub code_over_http: bool,
    /// `host` must be signed as well as `x-sdk-date`.
    pub require_signed_host: bool,
    /// Granted apps by [`StageId`], sorted (§11.3).
    pub grants: Vec<Vec<AppId>>,
}

impl AppAuth {
    fn granted(&self, stage: StageId, app: AppId) -> bool {
        self.grants
            .get(stage as usize)
            .is_some_and(|g| g.binary_search(&app).is_ok())
    }
}

/// What authentication needs to know about the request beyond its head.
pub struct Scene<'a> {
    /// Over TLS.
    pub tls: bool,
    /// The stage routed to.
    pub stage: StageId,
    /// Wall-clock time, Unix seconds (the signature window).
    pub now_unix: i64,
    /// Lower-case hex SHA-256 of the body when it was read (`None`: not
    /// read; only bodiless requests and unsigned payloads verify then).
    pub body_sha256: Option<&'a [u8; 64]>,
    /// Reused buffer for the canonical request.
    pub scratch: &'a mut BytesMut,
}

/// Header carrying an AppCode (§11.5; any case).
const APP_CODE: &[u8] = b"x-apig-appcode";

/// Authenticates `head` for an API with app authentication; the app on
/// success. A failed signature says why in APIG's words (app-signing.md
/// §6): the AppKey not found, the two times of an expired signature, or
/// the canonical request the gateway computed, masked as `app/detail.rs`
/// explains.
pub fn authenticate<'a>(
    auth: &AppAuth,
    apps: &'a Apps,
    head: &RequestHead,
    scene: &mut Scene<'_>,
) -> Result<(AppId, &'a App), Rejection> {
    let authorization = head.values(b"authorization").next();
    let signed = authorization.filter(|v| v.starts_with(signature::ALGORITHM));
    let (id, app) = match signed {
        Some(value) => verify_signature(auth, apps, head, value, scene)?,
        None => app_code(auth, apps, head, scene.tls)?,
    };
    if !app.enabled {
        return Err(GatewayError::AppFrozen.into());
    }
    if !auth.granted(scene.stage, id) {
        return Err(GatewayError::AppNotAuthorized.into());
    }
    Ok((id, app))
}

fn app_code<'a>(
    auth: &AppAuth,
    apps: &'a Apps,
    head: &RequestHead,
    tls: bool,
) -> Result<(AppId, &'a App), GatewayError> {
    let fail = |why| Err(GatewayError::AppAuth(why));
    let code = match HeaderValue::of(head.values(APP_CODE)) {
        HeaderValue::One(code) if auth.simple => code,
        HeaderValue::Missing | HeaderValue::One(_) => return fail(AuthFault::NoCredentials),
        HeaderValue::Repeated => return fail(AuthFault::BadAppCode),
    };
    // §11.5 suggestion: an AppCode over plain HTTP is ignored.
    if !tls && !auth.code_over_http {
        return fail(AuthFault::AppCodeNeedsHttps);
    }
    apps.by_code(code.trim_ascii())
        .map_or(fail(AuthFault::BadAppCode), Ok)
}

/// What a signature names, checked before anything needs the body: the
/// app, the signed-header rules and the date window.
struct Prelude<'h, 'a> {
    parsed: Authorization<'h>,
    id: AppId,
    app: &'a App,
    date: &'h [u8],
}

fn prelude<'h, 'a>(
    auth: &AppAuth,
    apps: &'a Apps,
    head: &'h RequestHead,
    value: &'h [u8],
    now_unix: i64,
) -> Result<Prelude<'h, 'a>, Rejection> {
    let fail = |why| GatewayError::AppAuth(why);
    let parsed = signature::parse_authorization(value).map_err(|_| fail(AuthFault::Malformed))?;
    let Some((id, app)) = apps.by_key(parsed.access) else {
        let key = detail::app_not_found(parsed.access);
        return Err(Rejection::with_detail(fail(AuthFault::AppNotFound), key));
    };
    if !parsed.signs(b"x-sdk-date") {
        return Err(fail(AuthFault::Malformed).into());
    }
    if auth.require_signed_host && !parsed.signs(b"host") {
        return Err(fail(AuthFault::HostNotSigned).into());
    }
    let HeaderValue::One(date) = HeaderValue::of(head.values(b"x-sdk-date")) else {
        return Err(fail(AuthFault::Malformed).into());
    };
    signature::check_date(date.trim_ascii(), now_unix).map_err(|e| match e {
        SignatureError::Expired { signed, server } => {
            Rejection::with_detail(fail(AuthFault::Expired), detail::expired(&signed, &server))
        }
        _ => fail(AuthFault::Malformed).into(),
    })?;
    Ok(Prelude {
        parsed,
        id,
        app,
        date: date.trim_ascii(),
    })
}

/// The checks of a signed request that need no body — the app, the
/// signed-header rules, the date window, the app's state and grant — so a
/// request failing them is refused before its body is read (a client
/// cannot make the gateway buffer a body with a made-up signature). Always
/// followed by [`authenticate`], which repeats them.
pub fn precheck(
    auth: &AppAuth,
    apps: &Apps,
    head: &RequestHead,
    stage: StageId,
    now_unix: i64,
) -> Result<(), Rejection> {
    let authorization = head.values(b"authorization").next();
    let Some(value) = authorization.filter(|v| v.starts_with(signature::ALGORITHM)) else {
        return Ok(());
    };
    let p = prelude(auth, apps, head, value, now_unix)?;
    if !p.app.enabled {
        return Err(GatewayError::AppFrozen.into());
    }
    if !auth.granted(stage, p.id) {
        return Err(GatewayError::AppNotAuthorized.into());
    }
    Ok(())
}

fn verify_signature<'a>(
    auth: &AppAuth,
    apps: &'a Apps,
    head: &RequestHead,
    value: &[u8],
    scene: &mut Scene<'_>,
) -> Result<(AppId, &'a App), Rejection> {
    let fail = |why| GatewayError::AppAuth(why);
    let Prelude {
        parsed,
        id,
        app,
        date,
    } = prelude(auth, apps, head, value, scene.now_unix)?;
    // The declared payload line is tried last, so a failure's detail shows
    // the canonical request the client most likely signed.
    for payload in payload_candidates(head, &parsed, scene.body_sha256)?
        .into_iter()
        .flatten()
        .rev()
    {
        scene.scratch.clear();
        let parts = RequestParts {
            method: head.slice(head.method_span),
            // What the client signed: the path as received, not its
            // normal form (issue 13).
            path: head.slice(head.path),
            query: head.query.map(|q| head.slice(q)),
            headers: |name: &[u8]| signed_value(head, name),
        };
        signature::canonical_request(scene.scratch, &parts, &parsed, payload)
            .map_err(|_| fail(AuthFault::Malformed))?;
        let key = app.mac.as_ref();
        if key.is_some_and(|k| k.matches(date, scene.scratch, parsed.signature)) {
            return Ok((id, app));
        }
    }
    // The scratch holds the last candidate tried.
    let shown = detail::mismatch(scene.scratch, parsed.header_names().count());
    Err(Rejection::with_detail(fail(AuthFault::Mismatch), shown))
}

/// A signed header's value as the gateway acts on it. `host` is the
/// authority the request is routed by: that of an absolute-form target
/// when there is one (RFC 9112 §3.2.2), so a signature for one host cannot
/// be sent to another by naming it in the request line.
fn signed_value<'h>(head: &'h RequestHead, name: &[u8]) -> HeaderValue<'h> {
    if name == b"host" {
        return match head.host {
            Some(host) if head.values(b"host").count() <= 1 => HeaderValue::One(head.slice(host)),
            Some(_) => HeaderValue::Repeated,
            None => HeaderValue::Missing,
        };
    }
    HeaderValue::of(head.values(name))
}

/// The hashed-payload lines a correct signature may use (§2.6): the body's
/// hash, or a signed `X-Sdk-Content-Sha256` (`UNSIGNED-PAYLOAD`, or equal
/// to the body's hash); for an empty body both the header and the empty
/// hash (the two official signers differ).
fn payload_candidates<'h>(
    head: &'h RequestHead,
    auth: &Authorization<'_>,
    body: Option<&'h [u8; 64]>,
) -> Result<[Option<&'h [u8]>; 2], GatewayError> {
    let fail = |why| Err(GatewayError::AppAuth(why));
    let empty = head.framing == crate::http::BodyFraming::None
        || head.framing == crate::http::BodyFraming::Length(0);
    let body: Option<&[u8]> = match (empty, body) {
        (true, _) => Some(EMPTY_BODY_SHA256),
        (false, Some(hash)) => Some(hash),
        (false, None) => None,
    };
    let declared = auth
        .signs(b"x-sdk-content-sha256")
        .then(|| HeaderValue::of(head.values(b"x-sdk-content-sha256")));
    match declared {
        None => match body {
            Some(hash) => Ok([Some(hash), None]),
            None => fail(AuthFault::BodyNotRead),
        },
        Some(HeaderValue::One(v)) => {
            let v = v.trim_ascii();
            match body {
                _ if v == UNSIGNED_PAYLOAD && !empty => Ok([Some(v), None]),
                // Empty body: the APIG signer hashes the header's value, the
                // core signer the empty body; the value itself must still be
                // one of the two a signer writes (app-signing.md §8).
                Some(hash) if empty && (v == UNSIGNED_PAYLOAD || v.eq_ignore_ascii_case(hash)) => {
                    Ok([Some(v), Some(hash)])
                }
                Some(hash) if v.eq_ignore_ascii_case(hash) => Ok([Some(v), None]),
                Some(_) => fail(AuthFault::PayloadMismatch),
                None => fail(AuthFault::BodyNotRead),
            }
        }
        Some(_) => fail(AuthFault::Malformed),
    }
}

#[cfg(test)]
mod tests;
