//! Custom authorizers (behaviour.md §11.9): an HTTP endpoint that decides
//! whether a request may pass, in place of APIG's FunctionGraph function.
//!
//! This module holds everything about an authorizer except the network
//! call: the compiled [`Authorizer`], the event it is sent
//! ([`Authorizer::write_request`], §11.9.2), the result contract it answers
//! with ([`parse_result`], §11.9.3), the identity-source cache key
//! ([`Authorizer::cache_key`], §11.9.4) and the per-worker result cache
//! ([`cache::ResultCache`]). The pipeline sends the request over the
//! worker's own pooled upstream connections (`forward::call`) and applies
//! [`Authorizer::settle`] to what came back.
//!
//! Self-hosted contract (config/README.md "Custom authorizers"): the
//! gateway POSTs the event as JSON to `url`; the endpoint answers `200`
//! with the result object `{"statusCode": 200, "body": "{\"status\":
//! \"allow\", \"context\": {…}}"}` (or that object JSON-encoded as a
//! string, as `return json.dumps(resp)` functions produce).

pub mod cache;

use std::borrow::Cow;
use std::io::Write as _;
use std::rc::Rc;
use std::time::Duration;

use ahash::AHashSet;
use bytes::{BufMut, BytesMut};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::error::GatewayError;
use crate::http::{RequestHead, percent, query};

/// Index of an authorizer in the snapshot.
pub type AuthorizerId = u32;

/// Largest result the endpoint may answer with (§11.9.3: ≤ 1 MB).
pub const MAX_RESULT_BYTES: usize = 1024 * 1024;

/// Longest context key (§11.9.3).
pub const MAX_CONTEXT_KEY: usize = 32;

/// Frontend (authenticates callers) or backend (authenticates the gateway
/// towards a backend, §11.9.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Runs before backend selection; its context feeds conditions,
    /// parameters and gateway responses.
    Frontend,
    /// Runs per backend request; receives only `user_data`.
    Backend,
}

impl Kind {
    /// `frontend` / `backend`, as in messages and `$context.authorizer.*`.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Frontend => "frontend",
            Kind::Backend => "backend",
        }
    }
}

/// An identity source (§11.9.1): a request value the authorizer needs
/// and the cache is keyed by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdentitySource {
    /// A header, by lower-case name.
    Header(Box<str>),
    /// A query parameter, by its exact (percent-decoded) name, as the
    /// event's `queryStringParameters` key it.
    Query(Box<str>),
}

/// A compiled `[[authorizer]]`.
#[derive(Debug, Clone)]
pub struct Authorizer {
    /// Name (for logs).
    pub name: Box<str>,
    /// Frontend or backend.
    pub kind: Kind,
    /// Index of the endpoint's upstream in the snapshot (its pool key).
    pub upstream: u32,
    /// `Host` sent to the endpoint.
    pub host: Box<str>,
    /// Path and query the event is POSTed to.
    pub path: Box<str>,
    /// Longest wait for the endpoint's answer (§11.9.1 suggests 5 s).
    pub timeout: Duration,
    /// How long results are cached; zero: not cached (§11.9.4).
    pub cache_ttl: Duration,
    /// Identity sources, in declared order.
    pub identity: Vec<IdentitySource>,
    /// Send the request body in the event.
    pub send_body: bool,
    /// Largest body the event carries (413 above it).
    pub max_body: u64,
    /// `user_data` of the event.
    pub user_data: Option<Box<str>>,
    /// Relaxed mode (§11.9.5): an unreachable or failing endpoint lets the
    /// request through with an empty context.
    pub relaxed: bool,
    /// Context values may be numbers and Booleans (the
    /// `authorizer_context_support_num_bool` feature, §27 C5).
    pub num_bool: bool,
    /// A `statusCode` of 401 or 403 whose body says `deny` is a deny, not
    /// a function error (§27 C6; the two-factor example of S001 §7).
    pub deny_status: bool,
}

/// What the request tells the authorizer (§11.9.2).
#[derive(Debug, Clone, Copy)]
pub struct Facts<'a> {
    /// The request head.
    pub head: &'a RequestHead,
    /// The whole body, when the authorizer wants it and it was read.
    pub body: Option<&'a [u8]>,
    /// The client IP as text (§16).
    pub source_ip: &'a [u8],
    /// `X-Request-Id`.
    pub request_id: &'a str,
    /// The stage called.
    pub stage: &'a str,
    /// The API ID.
    pub api_id: &'a str,
}

/// The authorizer's decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// `allow` (else `deny`).
    pub allow: bool,
    /// The returned `context`, values as text (`"abc"`, `"1001"`,
    /// `"false"`), sorted by key; shared with every request the cached
    /// decision serves.
    pub context: Rc<[Pair]>,
}

/// One context key and its value as text.
pub type Pair = (Box<str>, Box<str>);

/// How an authorizer call ended when it lets the pipeline go on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Settled {
    /// The endpoint decided (allow or deny): cacheable.
    Decided(Outcome),
    /// The endpoint failed and relaxed mode let the request through with
    /// an empty context (§11.9.5); never cached.
    Forgiven,
}

/// Why an authorizer call produced no decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// No connection, a timeout, or a 5xx answer or `statusCode`: what
    /// relaxed mode forgives (§27 C7).
    Unavailable,
    /// An answer that breaks the result contract (§11.9.3): never
    /// forgiven.
    Invalid(&'static str),
}

/// A cache key: SHA-256 of the authorizer's index and its identity-source
/// values, so every key has the same small size whatever the values.
pub type CacheKey = [u8; 32];

impl Authorizer {
    /// The cache key of a request (§11.9.4): a digest of the authorizer's
    /// index and every identity-source value exactly as the event carries
    /// it ([`identity_value`]), length-prefixed so that no two value lists
    /// share a key. An absent, empty or non-UTF-8 identity source is
    /// [`GatewayError::IdentitySourceMissing`] (§11.10).
    pub fn cache_key(
        &self,
        id: AuthorizerId,
        head: &RequestHead,
    ) -> Result<CacheKey, GatewayError> {
        let mut digest = Sha256::new();
        digest.update(id.to_le_bytes());
        for source in &self.identity {
            let value = identity_value(source, head).ok_or(GatewayError::IdentitySourceMissing)?;
            digest.update((value.len() as u64).to_le_bytes());
            digest.update(&value);
        }
        Ok(digest.finalize().into())
    }

    /// Writes the whole HTTP request to the endpoint into `out`: a POST of
    /// the event as JSON (§11.9.2). A frontend event carries every header
    /// (lower-case names; repeats joined by `,`), every query parameter
    /// (first value per decoded key, decoded), `user_data`, the body when
    /// configured, and `httpMethod`, `path`, `requestContext`; a backend
    /// event carries only `user_data` (§11.9.6).
    ///
    /// The event is written in place after the head; its length goes into
    /// a `Content-Length` field padded with spaces (optional whitespace
    /// the field value excludes, RFC 9110 §5.5), so it is never copied.
    pub fn write_request(&self, facts: &Facts<'_>, out: &mut BytesMut) {
        out.reserve(self.path.len() + self.host.len() + 512);
        out.put_slice(b"POST ");
        out.put_slice(self.path.as_bytes());
        out.put_slice(b" HTTP/1.1\r\nHost: ");
        out.put_slice(self.host.as_bytes());
        out.put_slice(b"\r\nContent-Type: application/json\r\nX-Request-Id: ");
        out.put_slice(facts.request_id.as_bytes());
        out.put_slice(b"\r\n");
        // An endpoint that is (or leads back to) this gateway counts as a
        // hop like a backend does.
        crate::policy::hops::write(out, facts.head, crate::policy::hops::count(facts.head));
        out.put_slice(b"Content-Length: ");
        let length_at = out.len();
        out.put_slice(&[b' '; LENGTH_DIGITS]);
        out.put_slice(b"\r\n\r\n");
        let event_at = out.len();
        let mut event = Json(out);
        match self.kind {
            Kind::Frontend => self.frontend_event(facts, &mut event),
            Kind::Backend => {
                event.raw("{\"user_data\":");
                event.str(self.user_data.as_deref().unwrap_or("").as_bytes());
                event.raw("}");
            }
        }
        let len = out.len() - event_at;
        let mut digits = itoa::Buffer::new();
        let digits = digits.format(len).as_bytes();
        if let Some(slot) = out.get_mut(length_at..length_at + digits.len()) {
            slot.copy_from_slice(digits);
        }
    }

    fn frontend_event(&self, facts: &Facts<'_>, event: &mut Json<'_>) {
        let head = facts.head;
        event.raw("{\"httpMethod\":");
        event.str(head.slice(head.method_span));
        event.raw(",\"path\":");
        event.str(head.routed_path());
        event.raw(",\"headers\":{");
        let mut first = true;
        // At most MAX_HEADERS (128) lines: the quadratic search is bounded.
        for (i, h) in head.headers.iter().enumerate() {
            let name = head.slice(h.name);
            let earlier = head.headers.get(..i).unwrap_or_default();
            if earlier
                .iter()
                .any(|e| head.slice(e.name).eq_ignore_ascii_case(name))
            {
                continue; // joined with the first one
            }
            if !first {
                event.raw(",");
            }
            first = false;
            event.lower_str(name);
            event.raw(":");
            event.joined(head.values(name));
        }
        event.raw("},\"queryStringParameters\":{");
        if let Some(q) = head.query {
            let mut seen = AHashSet::new();
            for pair in query::pairs(head.slice(q)) {
                let key = percent::decode(pair.key);
                if seen.contains(&*key) {
                    continue; // first value per key (§11.9.2 suggestion)
                }
                if !seen.is_empty() {
                    event.raw(",");
                }
                event.str(&key);
                event.raw(":");
                event.str(&percent::decode(pair.value));
                seen.insert(key);
            }
        }
        event.raw("},\"requestContext\":{\"requestId\":");
        event.str(facts.request_id.as_bytes());
        event.raw(",\"sourceIp\":");
        event.str(facts.source_ip);
        event.raw(",\"stage\":");
        event.str(facts.stage.as_bytes());
        event.raw(",\"apiId\":");
        event.str(facts.api_id.as_bytes());
        event.raw("},\"user_data\":");
        event.str(self.user_data.as_deref().unwrap_or("").as_bytes());
        if let Some(body) = facts.body.filter(|_| self.send_body) {
            event.raw(",\"body\":");
            // Text goes as a string; anything else (bytes that are not
            // UTF-8, control characters that would escape to six bytes
            // each) as base64, so the event stays within 4/3 of the body.
            if is_plain_text(body) {
                event.str(body);
                event.raw(",\"isBase64Encoded\":false");
            } else {
                use base64::Engine as _;
                let encoded = base64::engine::general_purpose::STANDARD.encode(body);
                event.str(encoded.as_bytes());
                event.raw(",\"isBase64Encoded\":true");
            }
        }
        event.raw("}");
    }

    /// The decision for what the endpoint answered (`Ok((status, body))`)
    /// or why it could not answer (`Err`), relaxed mode applied (§11.9.5):
    /// an unavailable endpoint then lets the request through.
    pub fn settle(&self, answer: Result<(u16, &[u8]), Fault>) -> Result<Settled, Fault> {
        let result = answer.and_then(|(status, body)| match status {
            200 => parse_result(body, self.num_bool, self.deny_status),
            500..=599 => Err(Fault::Unavailable),
            _ => Err(Fault::Invalid("the endpoint answered neither 200 nor 5xx")),
        });
        match result {
            Ok(outcome) => Ok(Settled::Decided(outcome)),
            Err(Fault::Unavailable) if self.relaxed => Ok(Settled::Forgiven),
            Err(fault) => Err(fault),
        }
    }
}

/// Width reserved for the event's length: up to 9 999 999 999 bytes.
const LENGTH_DIGITS: usize = 10;

/// Most bytes of context (keys and values) a result may carry: a context
/// is a few claims, and each cached decision keeps its context.
pub const MAX_CONTEXT_BYTES: usize = 16 * 1024;

/// An identity source's value exactly as the event carries it: a
/// header's values joined by `,`; the first query value whose decoded key
/// is `name`, decoded. `None` when absent, empty or not UTF-8 (the event
/// could not carry it unchanged).
pub fn identity_value<'h>(source: &IdentitySource, head: &'h RequestHead) -> Option<Cow<'h, [u8]>> {
    let value = match source {
        IdentitySource::Header(name) => {
            let mut values = head.values(name.as_bytes());
            let first = values.next()?;
            match values.next() {
                None => Cow::Borrowed(first),
                Some(second) => {
                    let mut joined = first.to_vec();
                    for v in std::iter::once(second).chain(values) {
                        joined.push(b',');
                        joined.extend_from_slice(v);
                    }
                    Cow::Owned(joined)
                }
            }
        }
        IdentitySource::Query(name) => {
            let q = head.slice(head.query?);
            let pair = query::pairs(q).find(|p| *percent::decode(p.key) == *name.as_bytes())?;
            percent::decode(pair.value)
        }
    };
    (!value.is_empty() && std::str::from_utf8(&value).is_ok()).then_some(value)
}

/// UTF-8 with no control characters but tab, CR and LF.
fn is_plain_text(b: &[u8]) -> bool {
    std::str::from_utf8(b).is_ok()
        && !b
            .iter()
            .any(|&c| (c < 0x20 && !matches!(c, b'\t' | b'\n' | b'\r')) || c == 0x7f)
}

/// Parses the result contract (§11.9.3): an object (or its JSON-string
/// encoding) with `statusCode` and `body`, a string (or object) holding
/// `status` `allow`/`deny` and an optional flat `context`. A 5xx
/// `statusCode` is [`Fault::Unavailable`] whatever the body (a crashed
/// function, §27 C7); any other non-200 breaks the contract unless
/// `deny_status` accepts a 401/403 deny (§27 C6).
pub fn parse_result(bytes: &[u8], num_bool: bool, deny_status: bool) -> Result<Outcome, Fault> {
    if bytes.len() > MAX_RESULT_BYTES {
        return Err(Fault::Invalid("the result is larger than 1 MB"));
    }
    let mut top: Value =
        serde_json::from_slice(bytes).map_err(|_| Fault::Invalid("the result is not JSON"))?;
    if let Value::String(s) = &top {
        top = serde_json::from_str(s).map_err(|_| Fault::Invalid("the result is not JSON"))?;
    }
    let Value::Object(top) = top else {
        return Err(Fault::Invalid("the result is not an object"));
    };
    let status = match top.get("statusCode") {
        Some(Value::Number(n)) => n.as_u64(),
        Some(Value::String(s)) => s.trim().parse::<u64>().ok(),
        _ => None,
    }
    .ok_or(Fault::Invalid("statusCode is missing or not a number"))?;
    if (500..=599).contains(&status) {
        return Err(Fault::Unavailable);
    }
    let body = match top.get("body") {
        Some(Value::String(s)) => {
            serde_json::from_str(s).map_err(|_| Fault::Invalid("body is not JSON"))?
        }
        Some(v @ Value::Object(_)) => v.clone(),
        _ => return Err(Fault::Invalid("body is missing")),
    };
    let Value::Object(body) = body else {
        return Err(Fault::Invalid("body is not an object"));
    };
    let allow = match body.get("status").and_then(Value::as_str) {
        Some("allow") => true,
        Some("deny") => false,
        _ => return Err(Fault::Invalid("body.status is neither allow nor deny")),
    };
    match status {
        200 => {}
        401 | 403 if deny_status && !allow => {}
        _ => return Err(Fault::Invalid("statusCode is not 200")),
    }
    let context = match body.get("context") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Object(ctx)) => context(ctx, num_bool)?,
        Some(_) => return Err(Fault::Invalid("body.context is not an object")),
    };
    Ok(Outcome {
        allow,
        context: context.into(),
    })
}

/// The context's pairs as text, checked (§11.9.3): valid keys, flat
/// values, no control characters (values may become header values,
/// §9.3), at most [`MAX_CONTEXT_BYTES`].
fn context(ctx: &serde_json::Map<String, Value>, num_bool: bool) -> Result<Vec<Pair>, Fault> {
    let mut out = Vec::with_capacity(ctx.len());
    let mut bytes = 0;
    for (key, value) in ctx {
        if !context_key_ok(key) {
            return Err(Fault::Invalid(
                "a context key is not 1-32 letters, digits, - or _ starting with a letter",
            ));
        }
        let text = match value {
            Value::String(s) => s.clone(),
            Value::Bool(b) if num_bool => b.to_string(),
            Value::Number(n) if num_bool => n.to_string(),
            _ => {
                return Err(Fault::Invalid(
                    "a context value is not a string (or number/Boolean with context_num_bool)",
                ));
            }
        };
        if text.bytes().any(|c| (c < 0x20 && c != b'\t') || c == 0x7f) {
            return Err(Fault::Invalid("a context value holds a control character"));
        }
        bytes += key.len() + text.len();
        if bytes > MAX_CONTEXT_BYTES {
            return Err(Fault::Invalid("the context is larger than 16 KiB"));
        }
        out.push((key.as_str().into(), text.into_boxed_str()));
    }
    Ok(out)
}

/// A valid context key (§11.9.3): 1–32 characters, a letter first, then
/// letters, digits, `-` and `_`.
pub fn context_key_ok(key: &str) -> bool {
    let b = key.as_bytes();
    !b.is_empty()
        && b.len() <= MAX_CONTEXT_KEY
        && b.first().is_some_and(u8::is_ascii_alphabetic)
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || *c == b'-' || *c == b'_')
}

/// Writes JSON text into a buffer.
struct Json<'a>(&'a mut BytesMut);

impl Json<'_> {
    /// Appends literal JSON.
    fn raw(&mut self, s: &str) {
        self.0.put_slice(s.as_bytes());
    }

    /// Appends bytes as a JSON string; bytes that are not UTF-8 become
    /// U+FFFD.
    fn str(&mut self, b: &[u8]) {
        self.0.put_u8(b'"');
        self.escaped(b);
        self.0.put_u8(b'"');
    }

    /// Appends a header name, lower-cased, as a JSON string.
    fn lower_str(&mut self, name: &[u8]) {
        self.0.put_u8(b'"');
        for chunk in name.chunks(64) {
            let mut lower = [0u8; 64];
            let lower = lower.get_mut(..chunk.len()).unwrap_or_default();
            lower.copy_from_slice(chunk);
            lower.make_ascii_lowercase();
            self.escaped(lower);
        }
        self.0.put_u8(b'"');
    }

    /// Appends values joined by `,` as one JSON string.
    fn joined<'v>(&mut self, values: impl Iterator<Item = &'v [u8]>) {
        self.0.put_u8(b'"');
        for (n, v) in values.enumerate() {
            if n > 0 {
                self.0.put_u8(b',');
            }
            self.escaped(v);
        }
        self.0.put_u8(b'"');
    }

    fn escaped(&mut self, b: &[u8]) {
        for piece in b.utf8_chunks() {
            self.escaped_str(piece.valid());
            if !piece.invalid().is_empty() {
                self.0.put_slice("\u{fffd}".as_bytes());
            }
        }
    }

    fn escaped_str(&mut self, s: &str) {
        let out = &mut *self.0;
        let mut start = 0;
        for (i, c) in s.bytes().enumerate() {
            let escape: &[u8] = match c {
                b'"' => b"\\\"",
                b'\\' => b"\\\\",
                b'\n' => b"\\n",
                b'\r' => b"\\r",
                b'\t' => b"\\t",
                0..=0x1f | 0x7f => b"",
                _ => continue,
            };
            out.put_slice(s.as_bytes().get(start..i).unwrap_or_default());
            if escape.is_empty() {
                let mut buf = [0u8; 6];
                let _ = write!(&mut buf[..], "\\u{c:04x}");
                out.put_slice(&buf);
            } else {
                out.put_slice(escape);
            }
            start = i + 1;
        }
        out.put_slice(s.as_bytes().get(start..).unwrap_or_default());
    }
}

#[cfg(test)]
mod tests;
