//! CORS (behaviour.md §17): which `Access-Control-*` headers a response to
//! a CORS-enabled API carries. The respond stage writes them; a header of
//! the same name from the backend wins (§17.3).

use crate::http::parse::HeaderKind;
use crate::http::{Method, RequestHead};

/// `Access-Control-Allow-Origin` value (§17.3).
pub const ALLOW_ORIGIN: &[u8] = b"*";
/// `Access-Control-Allow-Headers` of a preflight, exactly as documented.
pub const ALLOW_HEADERS: &[u8] = b"X-Stage,X-Sdk-Date,X-Sdk-Nonce,X-Proxy-Signed-Headers,X-Sdk-Content-Sha256,X-Forwarded-For,Authorization,Content-Type,Accept,Accept-Ranges,Cache-Control,Range";
/// `Access-Control-Expose-Headers` of a preflight, exactly as documented.
pub const EXPOSE_HEADERS: &[u8] = b"X-Request-Id,X-Apig-Latency,X-Apig-Upstream-Latency,X-Apig-RateLimit-Api,X-Apig-RateLimit-User,X-Apig-RateLimit-App,X-Apig-RateLimit-Ip,X-Apig-RateLimit-Api-Allenv";
/// `Access-Control-Allow-Methods` of a preflight, exactly as documented.
pub const ALLOW_METHODS: &[u8] = b"GET,POST,PUT,DELETE,HEAD,OPTIONS,PATCH";
/// `Access-Control-Max-Age` of a preflight: 48 hours, in seconds.
pub const MAX_AGE: &[u8] = b"172800";

/// The CORS headers a response gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CorsPlan {
    /// A preflight (`OPTIONS` with `Access-Control-Request-Method`): the
    /// four preflight headers besides `Access-Control-Allow-Origin`.
    pub preflight: bool,
}

impl CorsPlan {
    /// The headers of this plan, in the documented order.
    pub fn headers(self) -> impl Iterator<Item = (&'static [u8], &'static [u8])> {
        let all: [(&'static [u8], &'static [u8]); 5] = [
            (b"Access-Control-Allow-Origin", ALLOW_ORIGIN),
            (b"Access-Control-Allow-Headers", ALLOW_HEADERS),
            (b"Access-Control-Expose-Headers", EXPOSE_HEADERS),
            (b"Access-Control-Allow-Methods", ALLOW_METHODS),
            (b"Access-Control-Max-Age", MAX_AGE),
        ];
        let n = if self.preflight { 5 } else { 1 };
        all.into_iter().take(n)
    }
}

/// The plan for a request to an API with CORS `enabled`: none without
/// CORS or without `Origin` (a browser always sends one; §17.3 Suggestion).
pub fn check(enabled: bool, head: &RequestHead) -> Option<CorsPlan> {
    if !enabled || head.first(HeaderKind::Origin).is_none() {
        return None;
    }
    let preflight = head.method == Method::Options
        && head
            .values(b"access-control-request-method")
            .next()
            .is_some();
    Some(CorsPlan { preflight })
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::http::parse::head_for_tests as head;

    #[test]
    fn simple_request_gets_allow_origin_only() {
        // behaviour.md §17.3 simple request.
        let h = head("GET /simple HTTP/1.1\r\nHost: a\r\nOrigin: http://www.cors.com\r\n\r\n");
        let plan = check(true, &h).unwrap();
        let names: Vec<_> = plan.headers().map(|(n, _)| n).collect();
        assert_eq!(names, vec![&b"Access-Control-Allow-Origin"[..]]);
        assert_eq!(check(false, &h), None);
    }

    #[test]
    fn preflight_gets_the_documented_set() {
        // behaviour.md §17.3 preflight.
        let h = head(
            "OPTIONS / HTTP/1.1\r\nHost: localhost\r\nOrigin: http://www.cors.com\r\n\
             Access-Control-Request-Method: PUT\r\nAccess-Control-Request-Headers: X-Sdk-Date\r\n\r\n",
        );
        let plan = check(true, &h).unwrap();
        assert!(plan.preflight);
        assert_eq!(plan.headers().count(), 5);
    }

    #[test]
    fn no_origin_no_cors_headers() {
        let h = head("GET /simple HTTP/1.1\r\nHost: a\r\n\r\n");
        assert_eq!(check(true, &h), None);
    }
}
