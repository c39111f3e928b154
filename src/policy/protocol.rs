//! Frontend protocol and the HTTP → HTTPS redirect (behaviour.md §4.6,
//! §6.2): the first step of the policy chain.
//!
//! An API accepts HTTP, HTTPS or both. A plain-HTTP GET or HEAD to a domain
//! with `https_redirect` on, for an API that accepts HTTPS, is answered
//! `301` to the same host, path and query over HTTPS (§4.6). Any other
//! request over a scheme the API does not accept gets 400 APIG.0607
//! (§4.6 suggestion for non-GET/HEAD: no redirect, since browsers may drop
//! the body).

use ahash::AHashMap;

use crate::error::GatewayError;
use crate::http::Method;

/// The schemes an API accepts (§6.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Protocols {
    /// Plain HTTP (ws).
    pub http: bool,
    /// HTTPS (wss).
    pub https: bool,
}

impl Protocols {
    /// `HTTP&HTTPS`, the default.
    pub const BOTH: Protocols = Protocols {
        http: true,
        https: true,
    };

    /// Parses `"HTTP"`, `"HTTPS"` or `"HTTP&HTTPS"` (any case).
    pub fn parse(text: &str) -> Option<Protocols> {
        match text.to_ascii_uppercase().as_str() {
            "HTTP" => Some(Protocols {
                http: true,
                https: false,
            }),
            "HTTPS" => Some(Protocols {
                http: false,
                https: true,
            }),
            "HTTP&HTTPS" | "HTTPS&HTTP" => Some(Protocols::BOTH),
            _ => None,
        }
    }
}

/// Domains with `https_redirect` on, with the HTTPS port to send clients
/// to.
#[derive(Debug, Clone, Default)]
pub struct Redirects {
    /// Lower-case host name → HTTPS port.
    ports: AHashMap<Box<[u8]>, u16>,
}

impl Redirects {
    /// Turns the redirect on for `domain`.
    pub fn insert(&mut self, domain: &str, https_port: u16) {
        self.ports
            .insert(domain.to_ascii_lowercase().into_bytes().into(), https_port);
    }

    /// The HTTPS port for `host` (a `Host` value, port ignored), when its
    /// domain redirects.
    pub fn port_for(&self, host: &[u8]) -> Option<u16> {
        if self.ports.is_empty() {
            return None;
        }
        let name = crate::route::host::strip_port(host);
        self.ports
            .get(name.to_ascii_lowercase().as_slice())
            .copied()
    }
}

/// What the protocol step decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Go on.
    Pass,
    /// 301 to `https://host[:port]/path?query`.
    Redirect {
        /// HTTPS port (omitted from `Location` when 443).
        port: u16,
    },
}

/// Checks the scheme a request came over against its API (§4.6, §6.2).
pub fn check(
    accepts: Protocols,
    tls: bool,
    method: Method,
    host: Option<&[u8]>,
    redirects: &Redirects,
) -> Result<Verdict, GatewayError> {
    if tls {
        return match accepts.https {
            true => Ok(Verdict::Pass),
            false => Err(GatewayError::ProtocolNotAllowed { https_only: false }),
        };
    }
    if accepts.https
        && matches!(method, Method::Get | Method::Head)
        && let Some(port) = host.and_then(|h| redirects.port_for(h))
    {
        return Ok(Verdict::Redirect { port });
    }
    match accepts.http {
        true => Ok(Verdict::Pass),
        false => Err(GatewayError::ProtocolNotAllowed { https_only: true }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn redirects() -> Redirects {
        let mut r = Redirects::default();
        r.insert("A.example.test", 8443);
        r
    }

    #[test]
    fn redirect_needs_get_or_head_https_and_the_domain_switch() {
        let r = redirects();
        let host = Some(&b"a.example.test:8080"[..]);
        let https = Protocols::parse("HTTPS").unwrap();
        let both = Protocols::BOTH;
        // §4.6: GET and HEAD are redirected, for HTTPS and HTTP&HTTPS APIs.
        assert_eq!(
            check(https, false, Method::Get, host, &r),
            Ok(Verdict::Redirect { port: 8443 })
        );
        assert_eq!(
            check(both, false, Method::Head, host, &r),
            Ok(Verdict::Redirect { port: 8443 })
        );
        // Other methods: served when HTTP is accepted, else APIG.0607.
        assert_eq!(
            check(both, false, Method::Post, host, &r),
            Ok(Verdict::Pass)
        );
        assert_eq!(
            check(https, false, Method::Post, host, &r),
            Err(GatewayError::ProtocolNotAllowed { https_only: true })
        );
        // A domain without the switch is never redirected.
        let other = Some(&b"b.example.test"[..]);
        assert_eq!(
            check(https, false, Method::Get, other, &r),
            Err(GatewayError::ProtocolNotAllowed { https_only: true })
        );
        // An HTTP-only API is not redirected.
        let http = Protocols::parse("http").unwrap();
        assert_eq!(check(http, false, Method::Get, host, &r), Ok(Verdict::Pass));
    }

    #[test]
    fn https_requests_to_http_only_apis_are_refused() {
        let http = Protocols::parse("HTTP").unwrap();
        assert_eq!(
            check(http, true, Method::Get, None, &Redirects::default()),
            Err(GatewayError::ProtocolNotAllowed { https_only: false })
        );
        assert_eq!(
            check(
                Protocols::BOTH,
                true,
                Method::Get,
                None,
                &Redirects::default()
            ),
            Ok(Verdict::Pass)
        );
    }
}
