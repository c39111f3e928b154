//! Backend request signing (behaviour.md §12): with a signature key bound
//! to the API in this stage, the upstream request carries an
//! SDK-HMAC-SHA256 `Authorization` made with the key's Key and Secret, the
//! layout of app signatures (app-signing.md), so a backend verifies it
//! with the official SDKs' code.
//!
//! Signed after every rewrite (§12 suggestion: the backend verifies what it
//! receives): method, backend path and query, every header written once
//! (hop-by-hop ones aside, at most 128 names: `host`, `x-sdk-date`, the
//! client's pass-through headers and the gateway's own — parameters,
//! `X-Request-Id`, `X-Forwarded-*`), and the body's hash when the body is
//! in memory; a body that streams is sent as `X-Sdk-Content-Sha256:
//! UNSIGNED-PAYLOAD` (signed too), which the SDK verifiers accept.

use bytes::{BufMut, BytesMut};

pub use crate::backend::SigningKey;
use crate::error::GatewayError;
use crate::http::write;
use crate::policy::auth::signature::{self, HeaderValue, RequestParts, UNSIGNED_PAYLOAD};

/// Signing one request.
#[derive(Debug, Clone, Copy)]
pub struct Signer<'a> {
    /// The key bound to the API in this stage.
    pub key: &'a SigningKey,
    /// Wall-clock time, Unix seconds (`X-Sdk-Date`).
    pub now_unix: i64,
    /// Lower-case hex SHA-256 of the body, when it is in memory.
    pub body_sha256: Option<&'a [u8; 64]>,
}

/// Headers never signed: hop-by-hop ones, which a hop may change (RFC 9110
/// §7.6.1), and those the signer writes itself.
const UNSIGNED_NAMES: [&[u8]; 8] = [
    b"connection",
    b"keep-alive",
    b"transfer-encoding",
    b"upgrade",
    b"host",
    b"authorization",
    b"x-sdk-date",
    b"x-sdk-content-sha256",
];

/// The `(name, value)` of each header line in `lines` (the head after its
/// request line, each line ending in CRLF), values trimmed.
fn header_lines(lines: &[u8]) -> Vec<(&[u8], &[u8])> {
    lines
        .split(|&b| b == b'\n')
        .filter_map(|line| {
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            let colon = line.iter().position(|&b| b == b':')?;
            Some((line.get(..colon)?, line.get(colon + 1..)?.trim_ascii()))
        })
        .collect()
}

/// Client headers the signer writes itself: a client's copies are dropped.
pub const OWNED: [&[u8]; 3] = [b"authorization", b"x-sdk-date", b"x-sdk-content-sha256"];

/// Appends `X-Sdk-Date`, maybe `X-Sdk-Content-Sha256` and `Authorization`
/// for the upstream head written from `start` (its request line is
/// complete), whose `Host` is `host`. 500 APIG.0705 if signing fails.
pub fn append(
    out: &mut BytesMut,
    start: usize,
    host: &[u8],
    signer: &Signer<'_>,
) -> Result<(), GatewayError> {
    let failed = GatewayError::BackendSigning;
    let line = out.get(start..).ok_or(failed)?;
    let line_end = line.iter().position(|&b| b == b'\r').ok_or(failed)?;
    let mut parts = line[..line_end].splitn(3, |&b| b == b' ');
    let (Some(method), Some(target)) = (parts.next(), parts.next()) else {
        return Err(failed);
    };
    let (path, query) = match target.iter().position(|&b| b == b'?') {
        Some(q) => (&target[..q], Some(&target[q + 1..])),
        None => (target, None),
    };
    let date = signature::format_sdk_date(signer.now_unix);
    let payload: &[u8] = match signer.body_sha256 {
        Some(hash) => hash,
        None => UNSIGNED_PAYLOAD,
    };
    // Every header already in the head and written once (client
    // pass-through and the gateway's own: parameters, X-Request-Id,
    // X-Forwarded-*), so a backend can trust all it verifies.
    let written = header_lines(line.get(line_end..).unwrap_or_default());
    let mut names: Vec<Vec<u8>> = vec![b"host".to_vec(), b"x-sdk-date".to_vec()];
    if signer.body_sha256.is_none() {
        names.push(b"x-sdk-content-sha256".to_vec());
    }
    for (name, _) in &written {
        let lower = name.to_ascii_lowercase();
        let once = written
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .count()
            == 1;
        if once && !UNSIGNED_NAMES.contains(&lower.as_slice()) && !names.contains(&lower) {
            names.push(lower);
        }
    }
    names.truncate(signature::MAX_SIGNED_HEADERS);
    names.sort_unstable();
    let signed_headers = names.join(&b';');
    let lookup = |name: &[u8]| match name {
        b"host" => HeaderValue::One(host),
        b"x-sdk-date" => HeaderValue::One(date.as_bytes()),
        b"x-sdk-content-sha256" => HeaderValue::One(UNSIGNED_PAYLOAD),
        _ => written
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map_or(HeaderValue::Missing, |(_, v)| HeaderValue::One(v)),
    };
    let mut probe = b"SDK-HMAC-SHA256 Access=-, SignedHeaders=".to_vec();
    probe.extend_from_slice(&signed_headers);
    probe.extend_from_slice(b", Signature=-");
    let auth = signature::parse_authorization(&probe).map_err(|_| failed)?;
    let req = RequestParts {
        method,
        path,
        query,
        headers: lookup,
    };
    let mut canonical = BytesMut::with_capacity(512);
    signature::canonical_request(&mut canonical, &req, &auth, payload).map_err(|_| failed)?;
    let mac = signer.key.mac.as_ref().ok_or(failed)?;
    let sig = mac.signature_hex(date.as_bytes(), &canonical);
    write::header(out, b"X-Sdk-Date", date.as_bytes());
    if signer.body_sha256.is_none() {
        write::header(out, b"X-Sdk-Content-Sha256", UNSIGNED_PAYLOAD);
    }
    out.put_slice(b"Authorization: SDK-HMAC-SHA256 Access=");
    out.put_slice(&signer.key.key);
    out.put_slice(b", SignedHeaders=");
    out.put_slice(&signed_headers);
    out.put_slice(b", Signature=");
    out.put_slice(&sig);
    out.put_slice(b"\r\n");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A known answer: the signature below was computed outside Tollgate,
    /// with Python's hashlib/hmac over the canonical request app-signing.md
    /// §2–§4 spell out (path with its trailing `/`, sorted query, the four
    /// signed headers, the empty body's hash), so a backend following the
    /// document verifies what the gateway sends.
    #[test]
    fn the_signature_matches_an_independent_computation() {
        let key = SigningKey::new(b"gateway-key", b"gateway-secret");
        let signer = Signer {
            key: &key,
            now_unix: 1_700_000_000,
            body_sha256: Some(signature::EMPTY_BODY_SHA256),
        };
        let mut out = BytesMut::from(
            &b"GET /backend/42?z=1&a=2 HTTP/1.1\r\nHost: api.internal\r\n\
               X-Request-Id: 0123456789abcdef0123456789abcdef\r\nX-User: alice\r\n\
               Connection: keep-alive\r\n"[..],
        );
        append(&mut out, 0, b"api.internal", &signer).unwrap();
        let text = std::str::from_utf8(&out).unwrap();
        assert!(text.contains("X-Sdk-Date: 20231114T221320Z\r\n"), "{text}");
        assert!(
            text.ends_with(
                "Authorization: SDK-HMAC-SHA256 Access=gateway-key, \
                 SignedHeaders=host;x-request-id;x-sdk-date;x-user, \
                 Signature=42cd2150e36b29e5b713b312b653cd261539b16809d92f3bb91b7cf276eaf828\r\n"
            ),
            "{text}"
        );
    }
}
