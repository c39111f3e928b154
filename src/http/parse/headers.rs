//! Header lines: classification into [`HeaderKind`] and the facts the head
//! parser needs (Content-Length, Transfer-Encoding, Connection, Expect,
//! Host). Works on httparse's slices and allocates nothing; the caller owns
//! the `Vec<Header>` it fills.
//!
//! Does not decide framing or reject anything except a flood of
//! `Connection` options: the request and response parsers apply their own
//! rules to the collected [`Facts`].

use super::{Header, HeaderKind, Malformed};
use crate::http::Span;

/// Most `Connection` options (tokens other than `close` / `keep-alive`)
/// accepted; each one makes the parser compare it with every header name,
/// so the bound keeps a hostile head linear. Real clients send one or two.
pub(super) const MAX_CONNECTION_OPTIONS: u32 = 32;

/// Prefix of every CORS header (behaviour.md §17).
const CORS_PREFIX: &[u8] = b"access-control-";

/// Prefix of the `X-Forwarded-*` family; the gateway writes `-For`,
/// `-Proto` and `-Host` itself and drops the rest.
const FORWARDED_PREFIX: &[u8] = b"x-forwarded-";

/// Classifies a field name (case-insensitive): dispatch on the length, then
/// one or two `eq_ignore_ascii_case` compares.
pub(super) fn classify(name: &[u8]) -> HeaderKind {
    let is = |lit: &str| name.eq_ignore_ascii_case(lit.as_bytes());
    match name.len() {
        2 if is("te") => HeaderKind::HopByHop,
        4 if is("host") => HeaderKind::Host,
        6 if is("expect") => HeaderKind::Expect,
        6 if is("server") => HeaderKind::Server,
        6 if is("origin") => HeaderKind::Origin,
        7 if is("trailer") || is("upgrade") => HeaderKind::HopByHop,
        7 if is("x-stage") => HeaderKind::XStage,
        10 if is("connection") || is("keep-alive") => HeaderKind::HopByHop,
        11 if is("x-apig-mode") => HeaderKind::XApigMode,
        12 if is("x-request-id") => HeaderKind::XRequestId,
        14 if is("content-length") => HeaderKind::ContentLength,
        15 if is("x-forwarded-for") => HeaderKind::XForwardedFor,
        15 if is("x-tollgate-loop") => HeaderKind::LoopGuard,
        16 if is("proxy-connection") => HeaderKind::HopByHop,
        16 if is("x-forwarded-host") => HeaderKind::XForwardedHost,
        17 if is("transfer-encoding") => HeaderKind::TransferEncoding,
        17 if is("x-forwarded-proto") => HeaderKind::XForwardedProto,
        18 if is("proxy-authenticate") => HeaderKind::HopByHop,
        19 if is("proxy-authorization") => HeaderKind::HopByHop,
        // Headers some backends read as the real path, method or client
        // (IIS and Symfony `X-Original-URL`, method overrides, nginx's
        // `X-Real-Ip` habit, the other `X-Forwarded-*`): the gateway checked
        // the request without them (issue 13).
        9 if is("x-real-ip") => HeaderKind::Impostor,
        13 if is("x-http-method") || is("x-rewrite-url") => HeaderKind::Impostor,
        14 if is("x-original-url") => HeaderKind::Impostor,
        17 if is("x-method-override") => HeaderKind::Impostor,
        22 if is("x-http-method-override") => HeaderKind::Impostor,
        n if n > FORWARDED_PREFIX.len()
            && name[..FORWARDED_PREFIX.len()].eq_ignore_ascii_case(FORWARDED_PREFIX) =>
        {
            HeaderKind::Impostor
        }
        n if n > CORS_PREFIX.len()
            && name[..CORS_PREFIX.len()].eq_ignore_ascii_case(CORS_PREFIX) =>
        {
            HeaderKind::AccessControl
        }
        _ if name.contains(&b'_') && owned_when_folded(name) => HeaderKind::Impostor,
        _ => HeaderKind::Other,
    }
}

/// Whether `name`, with each `_` read as `-` (as CGI, WSGI, PHP and many
/// frameworks do), is a header the gateway owns or frames: any name with
/// a kind of its own, `X-Apig-*`, `X-Forwarded-*`, `X-Real-Ip` or `Forwarded`. Such a
/// spelling (`Transfer_Encoding`, `X_Forwarded_For`) is never forwarded
/// (issue 13 item 6).
fn owned_when_folded(name: &[u8]) -> bool {
    const OWNED_PREFIX: &[u8] = b"x-apig-";
    let mut folded = [0u8; 32];
    let Some(slot) = folded.get_mut(..name.len()) else {
        // Longer than any owned name; only the prefix can match.
        return name
            .get(..OWNED_PREFIX.len())
            .is_some_and(|p| p.iter().zip(OWNED_PREFIX).all(|(&a, &b)| fold(a) == b));
    };
    for (f, &b) in slot.iter_mut().zip(name) {
        *f = fold(b);
    }
    let folded: &[u8] = slot;
    debug_assert!(!folded.contains(&b'_'), "every underscore folded");
    classify(folded) != HeaderKind::Other
        || folded.starts_with(OWNED_PREFIX)
        || folded == b"forwarded"
}

/// `_` as `-`, ASCII lower-cased.
fn fold(b: u8) -> u8 {
    if b == b'_' {
        b'-'
    } else {
        b.to_ascii_lowercase()
    }
}

fn is_connection(name: &[u8]) -> bool {
    name.eq_ignore_ascii_case(b"connection")
}

/// What the `Content-Length` lines said, all of them together.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(super) enum Length {
    /// No `Content-Length` line.
    #[default]
    Absent,
    /// One value (possibly repeated identically).
    Value(u64),
    /// A value that is not `1*DIGIT` or overflows `u64`.
    Bad,
    /// Values that differ.
    Conflicting,
}

/// What the `Transfer-Encoding` lines said, all of them together.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(super) enum Coding {
    /// No `Transfer-Encoding` line.
    #[default]
    Absent,
    /// Exactly one coding, `chunked`.
    Chunked,
    /// Anything else (other codings, `chunked` twice, empty elements).
    Unsupported,
}

/// The header facts framing, host and keep-alive decisions need.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Facts {
    /// The first `Host` value (trimmed).
    pub host: Option<Span>,
    /// Number of `Host` lines.
    pub host_lines: u32,
    /// Content-Length, merged over all lines.
    pub length: Length,
    /// Transfer-Encoding, merged over all lines.
    pub coding: Coding,
    /// A `Connection: close` token.
    pub close: bool,
    /// A `Connection: keep-alive` token.
    pub keep_alive: bool,
    /// `Expect: 100-continue`.
    pub expect_continue: bool,
    /// A `Connection: upgrade` token.
    pub upgrade: bool,
    /// An `Upgrade: websocket` token.
    pub websocket: bool,
    chunked_tokens: u32,
    other_codings: bool,
    connection_options: u32,
}

impl Facts {
    /// Keep-alive as RFC 9112 §9.3 decides it for a message of `version`.
    pub fn keeps_alive(&self, version: super::Version) -> bool {
        match version {
            super::Version::Http11 => !self.close,
            super::Version::Http10 => self.keep_alive && !self.close,
        }
    }

    fn note(&mut self, kind: HeaderKind, name: &[u8], value: &[u8], span: Span) {
        match kind {
            HeaderKind::Host => {
                self.host_lines += 1;
                self.host.get_or_insert(span);
            }
            HeaderKind::ContentLength => self.length = merge_length(self.length, value),
            HeaderKind::TransferEncoding => self.note_codings(value),
            HeaderKind::Expect => {
                self.expect_continue |= value.eq_ignore_ascii_case(b"100-continue");
            }
            HeaderKind::HopByHop if is_connection(name) => self.note_connection(value),
            HeaderKind::HopByHop if name.eq_ignore_ascii_case(b"upgrade") => {
                self.websocket |= tokens(value).any(|t| t.eq_ignore_ascii_case(b"websocket"));
            }
            _ => {}
        }
    }

    fn note_codings(&mut self, value: &[u8]) {
        for coding in value.split(|&b| b == b',').map(trim) {
            if coding.eq_ignore_ascii_case(b"chunked") {
                self.chunked_tokens += 1;
            } else {
                // Empty elements count as unsupported: be strict on framing.
                self.other_codings = true;
            }
        }
        self.coding = if self.chunked_tokens == 1 && !self.other_codings {
            Coding::Chunked
        } else {
            Coding::Unsupported
        };
    }

    fn note_connection(&mut self, value: &[u8]) {
        for token in tokens(value) {
            if token.eq_ignore_ascii_case(b"close") {
                self.close = true;
            } else if token.eq_ignore_ascii_case(b"keep-alive") {
                self.keep_alive = true;
            } else {
                self.upgrade |= token.eq_ignore_ascii_case(b"upgrade");
                self.connection_options += 1;
            }
        }
    }
}

/// Fills `out` with the classified headers of `raw` (slices of `base`) and
/// returns the facts they state.
pub(super) fn collect(
    base: &[u8],
    raw: &[httparse::Header<'_>],
    out: &mut Vec<Header>,
) -> Result<Facts, Malformed> {
    debug_assert!(out.is_empty(), "collect fills a fresh vector");
    let mut facts = Facts::default();
    for h in raw {
        let name = h.name.as_bytes();
        let name_start = offset(base, name);
        let value = trim(h.value);
        let value_start = offset(base, value);
        let span = Span::new(value_start, value_start + value.len());
        let kind = classify(name);
        facts.note(kind, name, value, span);
        out.push(Header {
            name: Span::new(name_start, name_start + name.len()),
            value: span,
            kind,
        });
    }
    if facts.connection_options > MAX_CONNECTION_OPTIONS {
        return Err(Malformed::TooManyConnectionOptions);
    }
    if facts.connection_options > 0 {
        mark_connection_options(base, out);
    }
    debug_assert_eq!(out.len(), raw.len(), "one header per httparse line");
    Ok(facts)
}

/// Marks end-to-end headers named as `Connection` options hop-by-hop
/// (RFC 9110 §7.6.1). Headers the gateway gives a meaning to keep their
/// kind: framing and routing (`Host`, `Content-Length`, `Transfer-Encoding`,
/// `Expect`) must not change because of `Connection`, and the gateway
/// replaces or appends the `X-*` and `Server` headers itself.
fn mark_connection_options(base: &[u8], headers: &mut [Header]) {
    for i in 0..headers.len() {
        let Some(header) = headers.get(i).copied() else {
            continue;
        };
        if !header.kind.is_end_to_end() {
            continue;
        }
        if is_listed(base, headers, header.name.of(base)) {
            if let Some(h) = headers.get_mut(i) {
                h.kind = HeaderKind::HopByHop;
            }
        }
    }
}

fn is_listed(base: &[u8], headers: &[Header], name: &[u8]) -> bool {
    headers
        .iter()
        .filter(|h| h.kind == HeaderKind::HopByHop && is_connection(h.name.of(base)))
        .any(|h| tokens(h.value.of(base)).any(|t| t.eq_ignore_ascii_case(name)))
}

/// Non-empty elements of a comma-separated list, trimmed of OWS.
fn tokens(value: &[u8]) -> impl Iterator<Item = &[u8]> {
    value
        .split(|&b| b == b',')
        .map(trim)
        .filter(|t| !t.is_empty())
}

fn merge_length(seen: Length, value: &[u8]) -> Length {
    let mut merged = seen;
    for element in value.split(|&b| b == b',').map(trim) {
        merged = match (merged, parse_decimal(element)) {
            (Length::Bad, _) | (_, None) => Length::Bad,
            (Length::Conflicting, Some(_)) => Length::Conflicting,
            (Length::Absent, Some(n)) => Length::Value(n),
            (Length::Value(m), Some(n)) if m == n => Length::Value(m),
            (Length::Value(_), Some(_)) => Length::Conflicting,
        };
    }
    merged
}

/// `1*DIGIT` as a `u64`; `None` if empty, not decimal, or overflowing.
fn parse_decimal(digits: &[u8]) -> Option<u64> {
    if digits.is_empty() {
        return None;
    }
    digits.iter().try_fold(0u64, |n, &b| {
        let digit = b.checked_sub(b'0').filter(|d| *d <= 9)?;
        n.checked_mul(10)?.checked_add(u64::from(digit))
    })
}

/// `part` without leading and trailing SP / HTAB.
pub(super) fn trim(part: &[u8]) -> &[u8] {
    let is_ows = |b: &u8| *b == b' ' || *b == b'\t';
    let start = part.iter().position(|b| !is_ows(b)).unwrap_or(part.len());
    let end = part
        .iter()
        .rposition(|b| !is_ows(b))
        .map_or(start, |i| i + 1);
    part.get(start..end).unwrap_or_default()
}

/// Offset of `part` inside `base`; `part` must be a subslice of `base`.
pub(super) fn offset(base: &[u8], part: &[u8]) -> usize {
    let at = (part.as_ptr() as usize).wrapping_sub(base.as_ptr() as usize);
    debug_assert!(at <= base.len(), "slice not inside the buffer");
    debug_assert!(at + part.len() <= base.len(), "slice runs past the buffer");
    at
}

/// Whether `value` is an authority the gateway routes on: `reg-name`,
/// IPv4 or `[IPv6]`, with an optional `:port` of 1 to 5 digits
/// (RFC 9110 §7.2, RFC 3986 §3.2.2); the port at most 65535. Empty hosts
/// and userinfo are refused.
pub(super) fn is_valid_authority(value: &[u8]) -> bool {
    let (host, port) = match value.strip_prefix(b"[") {
        Some(rest) => match rest.iter().position(|&b| b == b']') {
            Some(close) => {
                let (inner, after) = rest.split_at(close);
                if !is_ip_literal(inner) {
                    return false;
                }
                (inner, after.get(1..).unwrap_or_default())
            }
            None => return false,
        },
        None => {
            let colon = value.iter().position(|&b| b == b':').unwrap_or(value.len());
            let (host, port) = value.split_at(colon);
            if !is_reg_name(host) {
                return false;
            }
            (host, port)
        }
    };
    debug_assert!(!host.is_empty(), "validated hosts are non-empty");
    port.is_empty() || is_port(port)
}

fn is_port(port: &[u8]) -> bool {
    match port.strip_prefix(b":") {
        Some(digits) => {
            (1..=5).contains(&digits.len())
                && parse_decimal(digits).is_some_and(|n| n <= u64::from(u16::MAX))
        }
        None => false,
    }
}

fn is_ip_literal(inner: &[u8]) -> bool {
    inner.contains(&b':')
        && inner
            .iter()
            .all(|&b| b.is_ascii_hexdigit() || b == b':' || b == b'.')
}

fn is_reg_name(host: &[u8]) -> bool {
    if host.is_empty() {
        return false;
    }
    let mut i = 0;
    while let Some(&b) = host.get(i) {
        if b == b'%' {
            let hex = host.get(i + 1..i + 3).unwrap_or_default();
            if hex.len() != 2 || !hex.iter().all(u8::is_ascii_hexdigit) {
                return false;
            }
            i += 3;
        } else if b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=".contains(&b) {
            i += 1;
        } else {
            return false;
        }
    }
    true
}
