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

use std::fmt::Write as _;
use std::time::Duration;

use bytes::{BufMut, BytesMut};
use serde_json::Value;

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
    /// A query parameter, by name (matched case-insensitively, §6.5).
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
    /// `"false"`), sorted by key.
    pub context: Vec<(Box<str>, Box<str>)>,
}

impl Outcome {
    /// Relaxed mode's pass (§11.9.5): allowed, context empty.
    pub const RELAXED: Outcome = Outcome {
        allow: true,
        context: Vec::new(),
    };
}

/// How an authorizer call ended when it lets the pipeline go on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Settled {
    /// The endpoint decided (allow or deny): cacheable.
    Decided(Outcome),
    /// The endpoint failed and relaxed mode let the request through with
    /// an empty context ([`Outcome::RELAXED`]); never cached.
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

impl Authorizer {
    /// The cache key of a request (§11.9.4): the authorizer's index and
    /// every identity-source value, length-prefixed so that no two value
    /// lists share a key. An absent or empty identity source is
    /// [`GatewayError::IdentitySourceMissing`] (§11.10).
    pub fn cache_key(
        &self,
        id: AuthorizerId,
        head: &RequestHead,
        key: &mut Vec<u8>,
    ) -> Result<(), GatewayError> {
        key.clear();
        key.extend_from_slice(&id.to_le_bytes());
        for source in &self.identity {
            let value = match source {
                IdentitySource::Header(name) => head.values(name.as_bytes()).next(),
                IdentitySource::Query(name) => head
                    .query
                    .and_then(|q| query::find(head.slice(q), name.as_bytes())),
            };
            let value = value
                .filter(|v| !v.is_empty())
                .ok_or(GatewayError::IdentitySourceMissing)?;
            key.extend_from_slice(&(value.len() as u32).to_le_bytes());
            key.extend_from_slice(value);
        }
        Ok(())
    }

    /// Writes the whole HTTP request to the endpoint into `out`: a POST of
    /// the event as JSON (§11.9.2). A frontend event carries every header
    /// (lower-case names; repeats joined by `,`), every query parameter
    /// (first value, decoded), `user_data`, the body when configured, and
    /// `httpMethod`, `path`, `requestContext`; a backend event carries only
    /// `user_data` (§11.9.6).
    pub fn write_request(&self, facts: &Facts<'_>, out: &mut BytesMut) {
        let mut event = String::with_capacity(512);
        match self.kind {
            Kind::Frontend => self.frontend_event(facts, &mut event),
            Kind::Backend => {
                event.push_str("{\"user_data\":");
                json_str(&mut event, self.user_data.as_deref().unwrap_or(""));
                event.push('}');
            }
        }
        out.reserve(self.path.len() + self.host.len() + event.len() + 160);
        out.put_slice(b"POST ");
        out.put_slice(self.path.as_bytes());
        out.put_slice(b" HTTP/1.1\r\nHost: ");
        out.put_slice(self.host.as_bytes());
        out.put_slice(b"\r\nContent-Type: application/json\r\nX-Request-Id: ");
        out.put_slice(facts.request_id.as_bytes());
        out.put_slice(b"\r\nContent-Length: ");
        out.put_slice(itoa::Buffer::new().format(event.len()).as_bytes());
        out.put_slice(b"\r\n\r\n");
        out.put_slice(event.as_bytes());
    }

    fn frontend_event(&self, facts: &Facts<'_>, event: &mut String) {
        let head = facts.head;
        event.push_str("{\"httpMethod\":");
        json_bytes(event, head.slice(head.method_span));
        event.push_str(",\"path\":");
        json_bytes(event, head.slice(head.path));
        event.push_str(",\"headers\":{");
        let mut first = true;
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
                event.push(',');
            }
            first = false;
            json_bytes(event, &name.to_ascii_lowercase());
            event.push(':');
            let mut joined = Vec::with_capacity(h.value.len());
            for (n, v) in head.values(name).enumerate() {
                if n > 0 {
                    joined.push(b',');
                }
                joined.extend_from_slice(v);
            }
            json_bytes(event, &joined);
        }
        event.push_str("},\"queryStringParameters\":{");
        if let Some(q) = head.query {
            let mut seen: Vec<Vec<u8>> = Vec::new();
            for pair in query::pairs(head.slice(q)) {
                let key = percent::decode(pair.key).into_owned();
                if seen.contains(&key) {
                    continue; // first value per key (§11.9.2 suggestion)
                }
                if !seen.is_empty() {
                    event.push(',');
                }
                json_bytes(event, &key);
                event.push(':');
                json_bytes(event, &percent::decode(pair.value));
                seen.push(key);
            }
        }
        event.push_str("},\"requestContext\":{\"requestId\":");
        json_str(event, facts.request_id);
        event.push_str(",\"sourceIp\":");
        json_bytes(event, facts.source_ip);
        event.push_str(",\"stage\":");
        json_str(event, facts.stage);
        event.push_str(",\"apiId\":");
        json_str(event, facts.api_id);
        event.push_str("},\"user_data\":");
        json_str(event, self.user_data.as_deref().unwrap_or(""));
        if let Some(body) = facts.body.filter(|_| self.send_body) {
            event.push_str(",\"body\":");
            match std::str::from_utf8(body) {
                Ok(text) => {
                    json_str(event, text);
                    event.push_str(",\"isBase64Encoded\":false");
                }
                Err(_) => {
                    use base64::Engine as _;
                    let encoded = base64::engine::general_purpose::STANDARD.encode(body);
                    json_str(event, &encoded);
                    event.push_str(",\"isBase64Encoded\":true");
                }
            }
        }
        event.push('}');
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

/// Parses the result contract (§11.9.3): an object (or its JSON-string
/// encoding) with `statusCode` 200 and `body`, a string (or object) holding
/// `status` `allow`/`deny` and an optional flat `context`.
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
        500..=599 => return Err(Fault::Unavailable),
        _ => return Err(Fault::Invalid("statusCode is not 200")),
    }
    let context = match body.get("context") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Object(ctx)) => {
            let mut out = Vec::with_capacity(ctx.len());
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
                out.push((key.as_str().into(), text.into_boxed_str()));
            }
            out
        }
        Some(_) => return Err(Fault::Invalid("body.context is not an object")),
    };
    Ok(Outcome { allow, context })
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

/// Appends `s` as a JSON string.
fn json_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Appends bytes as a JSON string, invalid UTF-8 replaced by U+FFFD.
fn json_bytes(out: &mut String, b: &[u8]) {
    json_str(out, &String::from_utf8_lossy(b));
}

#[cfg(test)]
mod tests;
