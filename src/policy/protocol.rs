//! Frontend protocol and the HTTP → HTTPS redirect (behaviour.md §4.6,
//! §6.2): the first step of the policy chain.
//!
//! An API accepts HTTP, HTTPS or both. A plain-HTTP GET or HEAD to a domain
//! with `https_redirect` on, for an API that accepts HTTPS, is answered
//! `301` to the same host, path and query over HTTPS (§4.6). Any other
//! request over a scheme the API does not accept gets 400 APIG.0607
//! (§4.6 suggestion for non-GET/HEAD: no redirect, since browsers may drop
//! the body). A domain that requires client certificates (§4.5) is
//! HTTPS-only whatever its APIs' `protocol`: plain HTTP cannot carry a
//! certificate, so it would be a way round the requirement.

use ahash::AHashMap;

use crate::error::GatewayError;
use crate::http::Method;
use crate::http::host::{MAX_HOST, name_key};

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

/// What a domain asks of plain-HTTP requests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DomainRule {
    /// `https_redirect`: the HTTPS port to send GET and HEAD to (§4.6).
    pub redirect_port: Option<u16>,
    /// The domain requires client certificates (§4.5), which plain HTTP
    /// cannot carry: its APIs are HTTPS-only whatever their `protocol`.
    pub https_only: bool,
}

/// Domains whose plain-HTTP requests are redirected or refused.
#[derive(Debug, Clone, Default)]
pub struct DomainRules {
    /// Lower-case host name → its rule.
    rules: AHashMap<Box<[u8]>, DomainRule>,
}

impl DomainRules {
    /// Sets `domain`'s rule (a default rule is not stored).
    pub fn insert(&mut self, domain: &str, rule: DomainRule) {
        if rule != DomainRule::default() {
            self.rules
                .insert(domain.to_ascii_lowercase().into_bytes().into(), rule);
        }
    }

    /// The rule of the domain `host` (a `Host` value) names.
    pub fn rule_for(&self, host: &[u8]) -> DomainRule {
        if self.rules.is_empty() {
            return DomainRule::default();
        }
        let mut buf = [0u8; MAX_HOST];
        name_key(host, &mut buf)
            .and_then(|name| self.rules.get(name).copied())
            .unwrap_or_default()
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
    domains: &DomainRules,
) -> Result<Verdict, GatewayError> {
    if tls {
        return match accepts.https {
            true => Ok(Verdict::Pass),
            false => Err(GatewayError::ProtocolNotAllowed { https_only: false }),
        };
    }
    let rule = host.map(|h| domains.rule_for(h)).unwrap_or_default();
    if accepts.https
        && matches!(method, Method::Get | Method::Head)
        && let Some(port) = rule.redirect_port
    {
        return Ok(Verdict::Redirect { port });
    }
    match accepts.http && !rule.https_only {
        true => Ok(Verdict::Pass),
        false => Err(GatewayError::ProtocolNotAllowed { https_only: true }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn redirects() -> DomainRules {
        let mut r = DomainRules::default();
        r.insert(
            "A.example.test",
            DomainRule {
                redirect_port: Some(8443),
                https_only: false,
            },
        );
        r.insert(
            "mtls.example.test",
            DomainRule {
                redirect_port: None,
                https_only: true,
            },
        );
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
        // A domain requiring client certificates is never served in clear.
        let mtls = Some(&b"MTLS.example.test."[..]);
        assert_eq!(
            check(both, false, Method::Post, mtls, &r),
            Err(GatewayError::ProtocolNotAllowed { https_only: true })
        );
    }

    #[test]
    fn https_requests_to_http_only_apis_are_refused() {
        let http = Protocols::parse("HTTP").unwrap();
        assert_eq!(
            check(http, true, Method::Get, None, &DomainRules::default()),
            Err(GatewayError::ProtocolNotAllowed { https_only: false })
        );
        assert_eq!(
            check(
                Protocols::BOTH,
                true,
                Method::Get,
                None,
                &DomainRules::default()
            ),
            Ok(Verdict::Pass)
        );
    }
}
