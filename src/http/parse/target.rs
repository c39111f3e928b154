//! Request-target forms (RFC 9112 §3.2): origin-form for every method,
//! absolute-form (`http` / `https`) whose authority then names the host,
//! and asterisk-form for `OPTIONS` only. Authority-form belongs to CONNECT,
//! which the parser refuses before it gets here.

use super::Malformed;
use super::headers::is_valid_authority;
use crate::http::{Method, Span};

/// The parts of a request-target, as offsets into the head.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Target {
    /// Path (empty for asterisk-form and an absolute-form without a path).
    pub path: Span,
    /// Query without the `?`.
    pub query: Option<Span>,
    /// Authority of an absolute-form target.
    pub authority: Option<Span>,
}

/// Splits the target at `span` of `base` into its parts.
pub(super) fn parse_target(base: &[u8], span: Span, method: Method) -> Result<Target, Malformed> {
    let target = base
        .get(span.start as usize..span.end as usize)
        .ok_or(Malformed::BadTarget)?;
    debug_assert!(!target.is_empty(), "httparse refuses an empty target");
    let start = span.start as usize;
    // A fragment is never part of a request-target (RFC 9112 §3.2).
    if target.contains(&b'#') {
        return Err(Malformed::BadTarget);
    }
    let parts = match target.first() {
        Some(b'/') => origin_form(target, start, None),
        Some(b'*') if target.len() == 1 && method == Method::Options => Target {
            path: Span::new(start, start),
            query: None,
            authority: None,
        },
        _ => absolute_form(target, start)?,
    };
    if has_dot_segment(parts.path.of(base)) {
        return Err(Malformed::DotSegment);
    }
    Ok(parts)
}

/// Whether a path has a `.` or `..` segment, literally or percent-encoded
/// (`%2e`). Routing and prefix rewriting work on the raw path, so
/// `/public/../admin` would match a `/public/` API and then escape the
/// backend prefix when the upstream resolves it (RFC 3986 §5.2.4).
/// Browsers and HTTP clients normalise such paths before sending them.
pub(crate) fn has_dot_segment(path: &[u8]) -> bool {
    path.split(|&b| b == b'/').any(|segment| {
        // Servlet containers read `..;x` as `..` (issue 13): a segment is
        // judged by what comes before its first `;`.
        let segment = segment.split(|&b| b == b';').next().unwrap_or_default();
        let mut dots = 0;
        let mut rest = segment;
        while !rest.is_empty() {
            match rest {
                [b'.', tail @ ..] => rest = tail,
                [b'%', b'2', b'e' | b'E', tail @ ..] => rest = tail,
                _ => return false,
            }
            dots += 1;
        }
        dots == 1 || dots == 2
    })
}

/// `path [ "?" query ]` starting at offset `start`.
fn origin_form(rest: &[u8], start: usize, authority: Option<Span>) -> Target {
    let end = start + rest.len();
    let target = match rest.iter().position(|&b| b == b'?') {
        Some(q) => Target {
            path: Span::new(start, start + q),
            query: Some(Span::new(start + q + 1, end)),
            authority,
        },
        None => Target {
            path: Span::new(start, end),
            query: None,
            authority,
        },
    };
    debug_assert!(target.path.end <= end as u32, "path inside the target");
    target
}

/// `http[s]://authority[path][?query]`.
fn absolute_form(target: &[u8], start: usize) -> Result<Target, Malformed> {
    let scheme_len = scheme_len(target).ok_or(Malformed::BadTarget)?;
    let after_scheme = target.get(scheme_len..).unwrap_or_default();
    let authority_len = after_scheme
        .iter()
        .position(|&b| b == b'/' || b == b'?')
        .unwrap_or(after_scheme.len());
    let (authority, rest) = after_scheme.split_at(authority_len);
    if !is_valid_authority(authority) {
        return Err(Malformed::BadTarget);
    }
    let authority_start = start + scheme_len;
    let authority = Span::new(authority_start, authority_start + authority_len);
    debug_assert!(!authority.is_empty(), "valid authorities are non-empty");
    Ok(origin_form(rest, authority.end as usize, Some(authority)))
}

fn scheme_len(target: &[u8]) -> Option<usize> {
    let prefix = |lit: &[u8]| {
        target
            .get(..lit.len())
            .is_some_and(|p| p.eq_ignore_ascii_case(lit))
    };
    if prefix(b"http://") {
        Some(7)
    } else if prefix(b"https://") {
        Some(8)
    } else {
        None
    }
}

#[cfg(test)]
mod dot_tests {
    use super::has_dot_segment;

    #[test]
    fn dot_segments_are_found_literal_and_encoded() {
        for p in [
            &b"/a/../b"[..],
            b"/..",
            b"/a/.",
            b"/a/./b",
            b"/%2e%2e/x",
            b"/.%2E/x",
            b"/%2E/x",
            b"/public/..;/admin",
            b"/.;x=1/admin",
            b"/%2e%2e;/admin",
            b"/a/..;",
        ] {
            assert!(has_dot_segment(p), "{}", String::from_utf8_lossy(p));
        }
        for p in [
            &b"/a/b"[..],
            b"/",
            b"/a..b",
            b"/.../x",
            b"/.well-known/x",
            b"/a.b/c",
            b"/%2e%2e%2e",
            b"/a;../b",
            b"/...;x",
        ] {
            assert!(!has_dot_segment(p), "{}", String::from_utf8_lossy(p));
        }
    }
}
