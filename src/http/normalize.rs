//! Request path normalisation (RFC 3986 §6.2.2), so the gateway routes on
//! the path the backend will see (issue 13 item 2).
//!
//! A backend that decodes `%61`, merges `//` or treats `\` as `/` serves
//! `/admin` for `/%61dmin`, `//admin` or `/x\..\admin`; if the gateway
//! routed those spellings verbatim they would miss an `/admin` API and its
//! access control and reach a catch-all. The normal form:
//!
//! * escapes of unreserved characters (`A–Z a–z 0–9 - . _ ~`) are decoded;
//!   every other escape keeps its byte, with upper-case hex (`%2f` → `%2F`);
//! * runs of `/` become one (when `merge_slashes`, Envoy's `merge_slashes`);
//! * a literal `\`, an escaped `/` or `\` (`%2F`, `%5C`) and a `;` are
//!   refused or kept, as the rules say;
//! * a `.` or `..` segment (after decoding, so `%2e` counts) is refused, as
//!   the parser already does for the raw path;
//! * a `%` not followed by two hex digits is refused.
//!
//! The result is idempotent: normalising a normal path changes nothing. It
//! does not know about routes or case (routing folds case when configured)
//! and never touches the query.

use super::parse::has_dot_segment;

/// What to do with a path feature a backend may read differently from the
/// gateway.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathAction {
    /// Refuse the request: `400 APIG.0602`.
    Reject,
    /// Route and forward it as it is.
    Keep,
}

/// How request paths are normalised (`[settings]` `path_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PathRules {
    /// Merge runs of `/` into one.
    pub merge_slashes: bool,
    /// A literal `\` (Windows and some Java servers read it as `/`).
    pub backslash: PathAction,
    /// `%2F` and `%5C` (servers that decode before splitting read a
    /// separator).
    pub escaped_slash: PathAction,
    /// `;` (servlet containers strip `;params` from each segment).
    pub semicolon: PathAction,
}

impl PathRules {
    /// The defaults: merge slashes, refuse backslashes and escaped
    /// separators, keep `;`.
    pub const DEFAULT: PathRules = PathRules {
        merge_slashes: true,
        backslash: PathAction::Reject,
        escaped_slash: PathAction::Reject,
        semicolon: PathAction::Keep,
    };
}

impl Default for PathRules {
    fn default() -> Self {
        PathRules::DEFAULT
    }
}

/// Why a path is refused (each is `400 APIG.0602`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathFault {
    /// A `%` not followed by two hex digits.
    BadEscape,
    /// A `.` or `..` segment after decoding.
    DotSegment,
    /// A literal `\`.
    Backslash,
    /// `%2F` or `%5C`.
    EscapedSlash,
    /// A `;`.
    Semicolon,
}

/// The normal form of `path`: `Ok(None)` when it already is normal (the
/// common case, no allocation), else the normalised bytes.
pub fn normalize(path: &[u8], rules: &PathRules) -> Result<Option<Vec<u8>>, PathFault> {
    let mut out: Option<Vec<u8>> = None;
    let mut i = 0;
    while let Some(&b) = path.get(i) {
        let (emit, used): (Emit, usize) = match b {
            b'%' => escape(path, i, rules)?,
            b'\\' if rules.backslash == PathAction::Reject => return Err(PathFault::Backslash),
            b';' if rules.semicolon == PathAction::Reject => return Err(PathFault::Semicolon),
            b'/' if rules.merge_slashes && last(path, i, out.as_deref()) == Some(b'/') => {
                (Emit::Nothing, 1)
            }
            _ => (Emit::Same, 1),
        };
        debug_assert!(used >= 1, "every step consumes input");
        match (emit, &mut out) {
            (Emit::Same, Some(o)) => o.extend_from_slice(path.get(i..i + used).unwrap_or_default()),
            (Emit::Same, None) => {}
            (changed, out) => {
                let o = out.get_or_insert_with(|| {
                    let mut v = Vec::with_capacity(path.len());
                    v.extend_from_slice(path.get(..i).unwrap_or_default());
                    v
                });
                match changed {
                    Emit::Byte(c) => o.push(c),
                    Emit::Escape(c) => o.extend_from_slice(&[b'%', hex(c >> 4), hex(c & 15)]),
                    Emit::Same | Emit::Nothing => {}
                }
            }
        }
        i += used;
    }
    let normal = out.as_deref().unwrap_or(path);
    debug_assert!(
        !rules.merge_slashes || !normal.windows(2).any(|w| w == b"//"),
        "slashes merged"
    );
    if has_dot_segment(normal) {
        return Err(PathFault::DotSegment);
    }
    Ok(out)
}

/// What one step of [`normalize`] writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Emit {
    /// The input bytes unchanged.
    Same,
    /// Nothing (a merged `/`).
    Nothing,
    /// This byte instead (a decoded escape).
    Byte(u8),
    /// `%XX` with upper-case hex instead (a lower-case escape).
    Escape(u8),
}

/// The byte written just before input position `i`.
fn last(path: &[u8], i: usize, out: Option<&[u8]>) -> Option<u8> {
    match out {
        Some(o) => o.last().copied(),
        None => i.checked_sub(1).and_then(|p| path.get(p).copied()),
    }
}

/// The escape at `path[i]` (a `%`).
fn escape(path: &[u8], i: usize, rules: &PathRules) -> Result<(Emit, usize), PathFault> {
    debug_assert_eq!(path.get(i), Some(&b'%'));
    let (Some(&hi), Some(&lo)) = (path.get(i + 1), path.get(i + 2)) else {
        return Err(PathFault::BadEscape);
    };
    let (Some(h), Some(l)) = (unhex(hi), unhex(lo)) else {
        return Err(PathFault::BadEscape);
    };
    let byte = h << 4 | l;
    if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
        return Ok((Emit::Byte(byte), 3));
    }
    if matches!(byte, b'/' | b'\\') && rules.escaped_slash == PathAction::Reject {
        return Err(PathFault::EscapedSlash);
    }
    if hi.is_ascii_lowercase() || lo.is_ascii_lowercase() {
        return Ok((Emit::Escape(byte), 3));
    }
    Ok((Emit::Same, 3))
}

fn unhex(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

fn hex(n: u8) -> u8 {
    debug_assert!(n < 16);
    b"0123456789ABCDEF"
        .get(usize::from(n))
        .copied()
        .unwrap_or(b'0')
}

#[cfg(test)]
mod tests;
