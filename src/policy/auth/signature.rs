//! SDK-HMAC-SHA256 request signatures (app-signing.md, behaviour.md §11.4):
//! the `Authorization` header parser, the canonical request, the string to
//! sign and the HMAC, checked in constant time.
//!
//! Everything works on the request exactly as received: the raw path and
//! query (not the router's decoded view), raw header bytes, and the body's
//! hash (app-signing.md §8 step 7). The same code signs backend requests
//! (behaviour.md §12), so a backend verifies with the official SDKs.
//!
//! Allocation: one reused buffer holds the canonical request; query pairs
//! are sorted on the stack (up to 16), and the canonical request's hash,
//! the string to sign and the MAC live on the stack. Percent-encoded path
//! and query parts are decoded into a fresh `Vec` each.

use std::borrow::Cow;
use std::fmt;

use bytes::{BufMut, BytesMut};

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use crate::http::percent::{self, EncodeSet};

/// The algorithm token that starts the `Authorization` value.
pub const ALGORITHM: &[u8] = b"SDK-HMAC-SHA256";

/// `X-Sdk-Content-Sha256` value that leaves the body unsigned (§2.6).
pub const UNSIGNED_PAYLOAD: &[u8] = b"UNSIGNED-PAYLOAD";

/// Lower-case hex SHA-256 of the empty body.
pub const EMPTY_BODY_SHA256: &[u8; 64] =
    b"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// The clock-skew window either way (§6: 15 minutes).
pub const WINDOW_SECS: i64 = 15 * 60;

/// Why the signature algorithm refused its input (the app-level faults —
/// unknown app, mismatch, payload line — are `AuthFault`s). The `Display`
/// text follows APIG's `Incorrect app authentication information: …`
/// suffixes (§6).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignatureError {
    /// `Authorization` is not `SDK-HMAC-SHA256 Access=…, SignedHeaders=…, Signature=…`.
    Malformed(&'static str),
    /// A signed header is absent from the request, or appears twice.
    SignedHeaderNotSingle(String),
    /// `X-Sdk-Date` is not `YYYYMMDDTHHMMSSZ`.
    BadDate,
    /// `X-Sdk-Date` is more than 15 minutes from the gateway's clock.
    Expired {
        /// The request's `X-Sdk-Date`.
        signed: String,
        /// The gateway's time in the same format.
        server: String,
    },
}

impl fmt::Display for SignatureError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SignatureError::Malformed(why) => write!(f, "invalid authorization header: {why}"),
            SignatureError::SignedHeaderNotSingle(name) => {
                write!(f, "signed header {name} must appear exactly once")
            }
            SignatureError::BadDate => write!(f, "invalid x-sdk-date"),
            SignatureError::Expired { signed, server } => write!(
                f,
                "signature expired, signature time:{signed},server time:{server}"
            ),
        }
    }
}

/// A parsed `Authorization: SDK-HMAC-SHA256 …` value (§5), borrowing it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Authorization<'a> {
    /// The AppKey (`Access`).
    pub access: &'a [u8],
    /// `SignedHeaders`: lower-case names joined by `;`.
    pub signed_headers: &'a [u8],
    /// `Signature`: 64 lower-case hex digits (case is not enforced).
    pub signature: &'a [u8],
    /// Which of [`KNOWN_NAMES`] are signed, one bit each (found while the
    /// names were checked, so asking costs no second pass).
    known: u8,
}

/// Signed-header names a verifier asks about on every request.
const KNOWN_NAMES: [&[u8]; 3] = [b"host", b"x-sdk-date", b"x-sdk-content-sha256"];

impl<'a> Authorization<'a> {
    /// The signed header names, in the order given.
    pub fn header_names(&self) -> impl Iterator<Item = &'a [u8]> + 'a {
        self.signed_headers.split(|&b| b == b';')
    }

    /// Whether `name` (lower case) is among the signed headers.
    pub fn signs(&self, name: &[u8]) -> bool {
        match KNOWN_NAMES.iter().position(|&k| k == name) {
            Some(bit) => self.known & (1 << bit) != 0,
            None => self.header_names().any(|n| n == name),
        }
    }
}

/// Parses an `Authorization` value: the algorithm, one or more spaces, then
/// items split on `,`, each trimmed and split on its first `=`; `Access`,
/// `SignedHeaders` and `Signature` are required once each (§5).
pub fn parse_authorization(value: &[u8]) -> Result<Authorization<'_>, SignatureError> {
    let rest = value
        .strip_prefix(ALGORITHM)
        .filter(|r| r.first() == Some(&b' '))
        .ok_or(SignatureError::Malformed("not SDK-HMAC-SHA256"))?;
    let (mut access, mut signed, mut signature) = (None, None, None);
    for item in rest.split(|&b| b == b',') {
        let item = item.trim_ascii();
        let Some(eq) = item.iter().position(|&b| b == b'=') else {
            return Err(SignatureError::Malformed("an item without ="));
        };
        let (key, val) = (&item[..eq], &item[eq + 1..]);
        let slot = match key {
            b"Access" => &mut access,
            b"SignedHeaders" => &mut signed,
            b"Signature" => &mut signature,
            _ => return Err(SignatureError::Malformed("unknown item")),
        };
        if slot.replace(val).is_some() {
            return Err(SignatureError::Malformed("a repeated item"));
        }
    }
    let (Some(access), Some(signed_headers), Some(signature)) = (access, signed, signature) else {
        return Err(SignatureError::Malformed(
            "Access, SignedHeaders and Signature are required",
        ));
    };
    if access.is_empty() {
        return Err(SignatureError::Malformed("empty Access"));
    }
    let mut known = 0;
    let mut names = 0;
    for (i, name) in signed_headers.split(|&b| b == b';').enumerate() {
        if name.is_empty() || name.iter().any(u8::is_ascii_uppercase) {
            return Err(SignatureError::Malformed(
                "SignedHeaders must be non-empty lower-case names",
            ));
        }
        // Each name once, and no more names than a request has headers:
        // the canonical request repeats a header's value per listed name,
        // so repeats would let a small request build a huge one.
        names += 1;
        if names > MAX_SIGNED_HEADERS {
            return Err(SignatureError::Malformed("too many SignedHeaders"));
        }
        let repeated = signed_headers
            .split(|&b| b == b';')
            .take(i)
            .any(|earlier| earlier == name);
        if repeated {
            return Err(SignatureError::Malformed("a name repeats in SignedHeaders"));
        }
        if let Some(bit) = KNOWN_NAMES.iter().position(|&k| k == name) {
            known |= 1 << bit;
        }
    }
    Ok(Authorization {
        access,
        signed_headers,
        signature,
        known,
    })
}

/// Most names `SignedHeaders` may list: as many as a request head may
/// hold lines (the parser's limit).
pub const MAX_SIGNED_HEADERS: usize = 128;

/// The parts of a request a canonical request is built from, as received.
pub struct RequestParts<'a, H> {
    /// The method token.
    pub method: &'a [u8],
    /// The raw path (before `?`).
    pub path: &'a [u8],
    /// The raw query (after the first `?`), if any.
    pub query: Option<&'a [u8]>,
    /// What the request has for a (lower-case) header name.
    pub headers: H,
}

/// What a request has for one header name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeaderValue<'a> {
    /// No such header.
    Missing,
    /// Exactly one, with this value.
    One(&'a [u8]),
    /// More than one line.
    Repeated,
}

impl<'a> HeaderValue<'a> {
    /// Classifies the values of one header, in order received.
    pub fn of(mut values: impl Iterator<Item = &'a [u8]>) -> Self {
        match (values.next(), values.next()) {
            (None, _) => HeaderValue::Missing,
            (Some(v), None) => HeaderValue::One(v),
            (Some(_), Some(_)) => HeaderValue::Repeated,
        }
    }
}

/// Appends the canonical request (§2) to `out`; `payload` is the hashed
/// payload line (64 hex digits or the literal `X-Sdk-Content-Sha256`).
/// Fails when a signed header is absent or repeated.
pub fn canonical_request<'a, H>(
    out: &mut BytesMut,
    req: &RequestParts<'a, H>,
    auth: &Authorization<'_>,
    payload: &[u8],
) -> Result<(), SignatureError>
where
    H: Fn(&[u8]) -> HeaderValue<'a>,
{
    out.extend_from_slice(req.method);
    out.put_u8(b'\n');
    canonical_uri(out, req.path);
    out.put_u8(b'\n');
    canonical_query(out, req.query.unwrap_or_default());
    out.put_u8(b'\n');
    for name in auth.header_names() {
        let HeaderValue::One(value) = (req.headers)(name) else {
            return Err(SignatureError::SignedHeaderNotSingle(
                String::from_utf8_lossy(name).into_owned(),
            ));
        };
        out.extend_from_slice(name);
        out.put_u8(b':');
        out.extend_from_slice(value.trim_ascii());
        out.put_u8(b'\n');
    }
    out.put_u8(b'\n');
    out.extend_from_slice(auth.signed_headers);
    out.put_u8(b'\n');
    out.extend_from_slice(payload);
    Ok(())
}

/// §2.2: decode the whole path, split on `/`, encode each segment with the
/// unreserved set, join, and end with `/`.
fn canonical_uri(out: &mut BytesMut, path: &[u8]) {
    let decoded = utf8_lossy_decoded(path);
    let start = out.len();
    let mut first = true;
    for segment in decoded.split(|&b| b == b'/') {
        if !first {
            out.put_u8(b'/');
        }
        first = false;
        encode_into(segment, out);
    }
    if out.len() == start || out.last() != Some(&b'/') {
        out.put_u8(b'/');
    }
}

/// A decoded query key and value.
type DecodedPair<'a> = (Cow<'a, [u8]>, Cow<'a, [u8]>);

/// Query pairs sorted on the stack; longer queries use a `Vec`.
const INLINE_PAIRS: usize = 16;

/// §2.3: pairs split on `&` and the first `=`, decoded, sorted by decoded
/// key then value (code-point order = UTF-8 byte order), re-encoded.
fn canonical_query(out: &mut BytesMut, query: &[u8]) {
    if query.is_empty() {
        return;
    }
    let pairs = query.split(|&b| b == b'&').filter_map(decoded_pair);
    // At most one pair per `&`-separated item.
    if query.iter().filter(|&&b| b == b'&').count() < INLINE_PAIRS {
        let mut inline: [DecodedPair<'_>; INLINE_PAIRS] = Default::default();
        let mut n = 0;
        for (slot, pair) in inline.iter_mut().zip(pairs) {
            *slot = pair;
            n += 1;
        }
        write_sorted(out, &mut inline[..n]);
    } else {
        write_sorted(out, &mut pairs.collect::<Vec<_>>());
    }
}

/// One `key[=value]` item decoded; `None` for an empty key.
fn decoded_pair(item: &[u8]) -> Option<DecodedPair<'_>> {
    let (key, value) = match item.iter().position(|&b| b == b'=') {
        Some(eq) => (&item[..eq], &item[eq + 1..]),
        None => (item, &b""[..]),
    };
    (!key.is_empty()).then(|| (utf8_lossy_decoded(key), utf8_lossy_decoded(value)))
}

/// Sorts `pairs` and appends them re-encoded, joined by `&`.
fn write_sorted(out: &mut BytesMut, pairs: &mut [DecodedPair<'_>]) {
    pairs.sort_unstable();
    for (i, (key, value)) in pairs.iter().enumerate() {
        if i > 0 {
            out.put_u8(b'&');
        }
        encode_into(key, out);
        out.put_u8(b'=');
        encode_into(value, out);
    }
}

/// Python `unquote`: valid `%XX` decoded, the rest kept, then invalid
/// UTF-8 replaced by U+FFFD. Borrows when nothing changes.
fn utf8_lossy_decoded(raw: &[u8]) -> Cow<'_, [u8]> {
    let decoded = percent::decode(raw);
    if std::str::from_utf8(&decoded).is_ok() {
        return decoded;
    }
    Cow::Owned(String::from_utf8_lossy(&decoded).into_owned().into_bytes())
}

fn encode_into(src: &[u8], out: &mut BytesMut) {
    percent::encode(src, EncodeSet::Unreserved, out);
}

/// Lower-case hex SHA-256 of `data`.
pub fn sha256_hex(data: &[u8]) -> [u8; 64] {
    hex_of(&Sha256::digest(data).into())
}

/// An incremental body hash (the body is hashed as it streams, §2.6).
#[derive(Clone, Default)]
pub struct BodyHash(Sha256);

impl BodyHash {
    /// Adds body bytes.
    pub fn update(&mut self, piece: &[u8]) {
        self.0.update(piece);
    }

    /// Lower-case hex of the hash.
    pub fn finish(self) -> [u8; 64] {
        hex_of(&self.0.finalize().into())
    }
}

fn hex_of(bytes: &[u8; 32]) -> [u8; 64] {
    let mut out = [0u8; 64];
    // Cannot fail: the output is exactly twice the input.
    let _ = hex::encode_to_slice(bytes, &mut out);
    out
}

/// HMAC-SHA256 keyed with one secret (§4: the secret's bytes, no
/// derivation). Keying hashes the two key pads, two of the eight SHA-256
/// compressions of a typical signature; a `MacKey` made once per app at
/// config compile time is cloned per request instead.
#[derive(Clone)]
pub struct MacKey(Hmac<Sha256>);

impl MacKey {
    /// The HMAC keyed with `secret`; `None` only if HMAC refused the key,
    /// which RFC 2104 HMAC never does.
    pub fn try_new(secret: &[u8]) -> Option<MacKey> {
        <Hmac<Sha256> as Mac>::new_from_slice(secret)
            .ok()
            .map(MacKey)
    }

    /// §3–§4: the MAC over
    /// `SDK-HMAC-SHA256\n<date>\n<hex sha256(canonical)>`, as lower-case hex.
    pub fn signature_hex(&self, date: &[u8], canonical: &[u8]) -> [u8; 64] {
        hex_of(&self.mac(date, canonical).finalize().into_bytes().into())
    }

    /// Whether `claimed` (hex, as sent) is the signature of `canonical`;
    /// compared in constant time.
    pub fn matches(&self, date: &[u8], canonical: &[u8], claimed: &[u8]) -> bool {
        let mut raw = [0u8; 32];
        if hex::decode_to_slice(claimed, &mut raw).is_err() {
            return false;
        }
        self.mac(date, canonical).verify_slice(&raw).is_ok()
    }

    fn mac(&self, date: &[u8], canonical: &[u8]) -> Hmac<Sha256> {
        let mut mac = self.0.clone();
        mac.update(ALGORITHM);
        mac.update(b"\n");
        mac.update(date);
        mac.update(b"\n");
        mac.update(&sha256_hex(canonical));
        mac
    }
}

impl fmt::Debug for MacKey {
    /// Never prints key material.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MacKey(..)")
    }
}

/// [`MacKey::signature_hex`] keyed with `secret` on the spot. `None` only
/// if the HMAC refused the key (backend signing maps it to APIG.0705).
pub fn signature_hex(secret: &[u8], date: &[u8], canonical: &[u8]) -> Option<[u8; 64]> {
    Some(MacKey::try_new(secret)?.signature_hex(date, canonical))
}

/// [`MacKey::matches`] keyed with `secret` on the spot.
pub fn matches(secret: &[u8], date: &[u8], canonical: &[u8], claimed: &[u8]) -> bool {
    MacKey::try_new(secret).is_some_and(|k| k.matches(date, canonical, claimed))
}

/// Seconds since the Unix epoch of an `X-Sdk-Date` (`YYYYMMDDTHHMMSSZ`).
pub fn parse_sdk_date(value: &[u8]) -> Option<i64> {
    if value.len() != 16 || value[8] != b'T' || value[15] != b'Z' {
        return None;
    }
    let digits = |r: std::ops::Range<usize>| -> Option<u32> {
        let s = value.get(r)?;
        s.iter()
            .all(u8::is_ascii_digit)
            .then(|| s.iter().fold(0u32, |n, &d| n * 10 + u32::from(d - b'0')))
    };
    let (y, mo, d) = (digits(0..4)?, digits(4..6)?, digits(6..8)?);
    let (h, mi, s) = (digits(9..11)?, digits(11..13)?, digits(13..15)?);
    let month = time::Month::try_from(u8::try_from(mo).ok()?).ok()?;
    let date = time::Date::from_calendar_date(i32::try_from(y).ok()?, month, u8::try_from(d).ok()?)
        .ok()?;
    let at = date
        .with_hms(
            u8::try_from(h).ok()?,
            u8::try_from(mi).ok()?,
            u8::try_from(s).ok()?,
        )
        .ok()?;
    Some(at.assume_utc().unix_timestamp())
}

/// `X-Sdk-Date` text for Unix seconds (for messages and for signing).
pub fn format_sdk_date(unix: i64) -> String {
    match time::OffsetDateTime::from_unix_timestamp(unix) {
        Ok(t) => format!(
            "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute(),
            t.second()
        ),
        Err(_) => String::from("-"),
    }
}

/// Checks `X-Sdk-Date` against the gateway's time, `now` in Unix seconds:
/// at most [`WINDOW_SECS`] either way (§6).
pub fn check_date(value: &[u8], now: i64) -> Result<(), SignatureError> {
    let signed = parse_sdk_date(value).ok_or(SignatureError::BadDate)?;
    if (now - signed).abs() > WINDOW_SECS {
        return Err(SignatureError::Expired {
            signed: String::from_utf8_lossy(value).into_owned(),
            server: format_sdk_date(now),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests;
