//! Cross-field checks of a parsed spec. Reports every problem with its key
//! path and a fix; never stops at the first, never panics.

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;

mod access;
mod apps;
mod authorizers;

pub use authorizers::split_url;
pub use throttle::KEY_SLOTS;
mod mapping;
mod model;
mod policies;
mod throttle;
mod token;

use super::error::ConfigError;
use super::spec::{
    ApiSpec, BackendSpec, DomainSpec, GatewaySpec, GroupSpec, HttpBackendSpec, MockBackendSpec,
    WorkersSpec,
};
use crate::policy::protocol::Protocols;
use crate::route::path::{MatchMode, parse_template};

/// Most workers a config may ask for.
pub const MAX_WORKERS: i64 = 1024;

/// All problems in `spec`; empty when it can be compiled.
pub fn validate(spec: &GatewaySpec) -> Vec<ConfigError> {
    let mut errs = Vec::new();
    server(spec, &mut errs);
    listeners(spec, &mut errs);
    settings(spec, &mut errs);
    model::stages(spec, &mut errs);
    apps::apps(spec, &mut errs);
    authorizers::authorizers(spec, &mut errs);
    access::acls(spec, &mut errs);
    access::signature_keys(spec, &mut errs);
    token::issuers(spec, &mut errs);
    throttle::throttles(spec, &mut errs);
    groups(spec, &mut errs);
    errs
}

fn server(spec: &GatewaySpec, errs: &mut Vec<ConfigError>) {
    let s = &spec.server;
    match &s.workers {
        WorkersSpec::Count(n) if !(1..=MAX_WORKERS).contains(n) => errs.push(ConfigError::new(
            "server.workers",
            format!("{n} workers is out of range"),
            format!("use \"auto\" (one per core) or a number from 1 to {MAX_WORKERS}"),
        )),
        WorkersSpec::Named(name) if name != "auto" => errs.push(ConfigError::new(
            "server.workers",
            format!("unknown value \"{name}\""),
            "use \"auto\" (one per core) or a number such as 4",
        )),
        _ => {}
    }
    if !matches!(s.driver.as_str(), "auto" | "io_uring" | "epoll") {
        errs.push(ConfigError::new(
            "server.driver",
            format!("unknown driver \"{}\"", s.driver),
            "use \"auto\", \"io_uring\" or \"epoll\"",
        ));
    }
    if !(2..=32768).contains(&s.io_uring_entries) {
        errs.push(ConfigError::new(
            "server.io_uring_entries",
            format!("{} entries is out of range", s.io_uring_entries),
            "use a power of two from 2 to 32768, e.g. 1024",
        ));
    }
    if s.backlog < 1 {
        errs.push(ConfigError::new(
            "server.backlog",
            "backlog must be at least 1",
            "use e.g. 1024",
        ));
    }
}

fn listeners(spec: &GatewaySpec, errs: &mut Vec<ConfigError>) {
    if spec.listener.is_empty() {
        errs.push(ConfigError::new(
            "listener",
            "no listener is configured",
            "add [[listener]] with address = \"127.0.0.1:8080\"",
        ));
    }
    let mut seen = HashSet::new();
    for (i, l) in spec.listener.iter().enumerate() {
        let path = format!("listener[{i}].address");
        match l.address.parse::<SocketAddr>() {
            Err(_) => errs.push(ConfigError::new(
                path,
                format!("\"{}\" is not an ip:port address", l.address),
                "write an IP and port, e.g. \"0.0.0.0:8080\" or \"[::]:8080\"",
            )),
            Ok(a) if a.port() != 0 && !seen.insert(a) => errs.push(ConfigError::new(
                path,
                format!("{a} is listed twice"),
                "remove the duplicate [[listener]]",
            )),
            Ok(_) => {}
        }
    }
}

fn settings(spec: &GatewaySpec, errs: &mut Vec<ConfigError>) {
    let s = &spec.settings;
    let positive: [(&str, u64); 12] = [
        ("max_uri_bytes", s.max_uri_bytes as u64),
        ("max_header_bytes", s.max_header_bytes as u64),
        ("max_headers_total_bytes", s.max_headers_total_bytes as u64),
        ("max_body_bytes", s.max_body_bytes),
        ("header_timeout_ms", s.header_timeout_ms),
        ("keepalive_timeout_ms", s.keepalive_timeout_ms),
        ("body_timeout_ms", s.body_timeout_ms),
        ("send_timeout_ms", s.send_timeout_ms),
        ("connect_timeout_ms", s.connect_timeout_ms),
        ("backend_timeout_ms", s.backend_timeout_ms),
        ("max_backend_timeout_ms", s.max_backend_timeout_ms),
        ("dns_refresh_ms", s.dns_refresh_ms),
    ];
    for (key, v) in positive {
        if v == 0 {
            errs.push(ConfigError::new(
                format!("settings.{key}"),
                "must be greater than 0",
                "remove the key to use the documented default",
            ));
        }
    }
    if s.max_header_bytes > s.max_headers_total_bytes {
        errs.push(ConfigError::new(
            "settings.max_header_bytes",
            "one header may not be larger than all headers together",
            "keep max_header_bytes ≤ max_headers_total_bytes (defaults 32768 ≤ 131072)",
        ));
    }
    if s.max_headers_total_bytes > 16 * 1024 * 1024 || s.max_uri_bytes > 16 * 1024 * 1024 {
        errs.push(ConfigError::new(
            "settings",
            "head limits above 16 MiB are not supported",
            "keep max_uri_bytes and max_headers_total_bytes at most 16777216",
        ));
    }
    // One head at the size limits must fit the budget (issue 13).
    let one_head = (s.max_uri_bytes as u64)
        .saturating_add(s.max_headers_total_bytes as u64)
        .saturating_add(1024);
    if spec.server.head_buffer_budget_bytes < one_head {
        errs.push(ConfigError::new(
            "server.head_buffer_budget_bytes",
            format!(
                "{} bytes cannot hold even one request head at the size limits (about {one_head} bytes)",
                spec.server.head_buffer_budget_bytes
            ),
            "raise head_buffer_budget_bytes (default 67108864), or lower settings.max_uri_bytes and settings.max_headers_total_bytes",
        ));
    }
    if s.backend_timeout_ms > s.max_backend_timeout_ms {
        errs.push(ConfigError::new(
            "settings.backend_timeout_ms",
            format!(
                "{} ms is above max_backend_timeout_ms ({} ms)",
                s.backend_timeout_ms, s.max_backend_timeout_ms
            ),
            "lower backend_timeout_ms or raise max_backend_timeout_ms",
        ));
    }
}

fn groups(spec: &GatewaySpec, errs: &mut Vec<ConfigError>) {
    let mut names = HashSet::new();
    let mut domains: HashMap<String, usize> = HashMap::new();
    for (g, group) in spec.group.iter().enumerate() {
        let gp = format!("group[{g}]");
        if group.name.trim().is_empty() {
            errs.push(ConfigError::new(
                format!("{gp}.name"),
                "group name is empty",
                "name the group, e.g. name = \"DEFAULT\"",
            ));
        } else if !names.insert(group.name.as_str()) {
            errs.push(ConfigError::new(
                format!("{gp}.name"),
                format!("group \"{}\" is defined twice", group.name),
                "merge the two [[group]] tables or rename one",
            ));
        }
        let listed = group
            .domains
            .iter()
            .enumerate()
            .map(|(d, name)| (format!("{gp}.domains[{d}]"), name));
        let tabled = group
            .domain
            .iter()
            .enumerate()
            .map(|(d, dom)| (format!("{gp}.domain[{d}].name"), &dom.name));
        for (dp, domain) in listed.chain(tabled) {
            let lower = domain.to_ascii_lowercase();
            if !is_host_name(&lower) {
                errs.push(ConfigError::new(
                    dp,
                    format!("\"{domain}\" is not a host name"),
                    "write a DNS name such as \"api.example.com\" (no scheme, port or path)",
                ));
            } else if let Some(other) = domains.insert(lower, g) {
                // behaviour.md §4.2: a domain binds to one group only.
                errs.push(ConfigError::new(
                    dp,
                    format!("\"{domain}\" is already bound to group[{other}]"),
                    "bind each domain to exactly one group (behaviour.md §4.2)",
                ));
            }
        }
        for (d, dom) in group.domain.iter().enumerate() {
            let dp = format!("{gp}.domain[{d}]");
            domain_settings(dom, &dp, errs);
            let strict = dom.client_auth
                || super::certs::parse_min_tls(&dom.min_tls_version)
                    == Some(super::certs::MinTls::Tls13);
            if group.name == super::compile::DEFAULT_GROUP && strict {
                // The DEFAULT group also answers every Host no domain claims
                // (§4.1), so its APIs are reachable without this domain's
                // handshake: the requirement would be a false promise.
                errs.push(ConfigError::new(
                    dp,
                    format!(
                        "domain \"{}\" of the DEFAULT group cannot require client certificates or TLS 1.3",
                        dom.name
                    ),
                    "bind the domain to a group of its own: DEFAULT also serves every unknown Host",
                ));
            }
        }
        model::group(spec, group, &gp, errs);
        let mut api_names = HashSet::new();
        for (a, api) in group.api.iter().enumerate() {
            let ap = format!("{gp}.api[{a}]");
            if !api_names.insert(api.name.as_str()) {
                errs.push(ConfigError::new(
                    format!("{ap}.name"),
                    format!("API \"{}\" is defined twice in this group", api.name),
                    "give every API in a group its own name",
                ));
            }
            self::api(spec, group, api, &ap, errs);
        }
    }
}

/// TLS and redirect settings of a `[[group.domain]]` (§4.2–§4.6).
fn domain_settings(dom: &DomainSpec, dp: &str, errs: &mut Vec<ConfigError>) {
    if super::certs::parse_min_tls(&dom.min_tls_version).is_none() {
        errs.push(ConfigError::new(
            format!("{dp}.min_tls_version"),
            format!("unknown TLS version \"{}\"", dom.min_tls_version),
            "use \"1.2\" or \"1.3\" (TLS 1.1 is not offered: rustls does not implement it)",
        ));
    }
    if dom.client_auth && dom.certificate.is_none() {
        errs.push(ConfigError::new(
            format!("{dp}.client_auth"),
            "client authentication needs the domain's certificate and its CA",
            "set certificate = \"name\" on the domain, with ca = \"...\" on that [[certificate]]",
        ));
    }
    if dom.https_redirect && dom.certificate.is_none() {
        // §4.6 precondition 3: the domain is bound with an SSL certificate.
        errs.push(ConfigError::new(
            format!("{dp}.https_redirect"),
            "redirecting to HTTPS needs the domain's certificate",
            "set certificate = \"name\" on the domain (behaviour.md §4.6), or https_redirect = false",
        ));
    }
    if dom.https_port == 0 {
        errs.push(ConfigError::new(
            format!("{dp}.https_port"),
            "port 0 cannot be redirected to",
            "give the port clients reach the TLS listener on (default 443)",
        ));
    }
}

fn api(
    spec: &GatewaySpec,
    group: &GroupSpec,
    api: &ApiSpec,
    ap: &str,
    errs: &mut Vec<ConfigError>,
) {
    if api.name.trim().is_empty() {
        errs.push(ConfigError::new(
            format!("{ap}.name"),
            "API name is empty",
            "name the API, e.g. name = \"get-user\"",
        ));
    }
    if Protocols::parse(&api.protocol).is_none() {
        errs.push(ConfigError::new(
            format!("{ap}.protocol"),
            format!("unknown protocol \"{}\"", api.protocol),
            "use \"HTTP\", \"HTTPS\" or \"HTTP&HTTPS\" (behaviour.md §6.2)",
        ));
    }
    if parse_method(&api.method).is_none() {
        errs.push(ConfigError::new(
            format!("{ap}.method"),
            format!("unknown method \"{}\"", api.method),
            "use GET, POST, PUT, DELETE, PATCH, HEAD, OPTIONS or ANY (behaviour.md §6.2)",
        ));
    }
    let mode = match parse_match(&api.match_mode) {
        Some(m) => m,
        None => {
            errs.push(ConfigError::new(
                format!("{ap}.match"),
                format!("unknown match mode \"{}\"", api.match_mode),
                "use \"exact\" or \"prefix\" (behaviour.md §6.4)",
            ));
            MatchMode::Exact
        }
    };
    let params: Vec<String> = match parse_template(&api.path, mode) {
        Ok(t) => t.param_names().map(str::to_owned).collect(),
        Err(e) => {
            errs.push(ConfigError::new(
                format!("{ap}.path"),
                e.to_string(),
                "see behaviour.md §6.3 for path templates",
            ));
            Vec::new()
        }
    };
    model::api(spec, group, api, ap, &params, errs);
    apps::api_auth(spec, api, ap, errs);
    authorizers::api(spec, api, ap, errs);
    token::api_auth(spec, &api.auth, ap, errs);
    access::api_acl(spec, api, ap, errs);
    access::api_signature_key(spec, api, ap, errs);
    throttle::api_throttle(spec, api, ap, errs);
    backend(spec, &api.backend, &format!("{ap}.backend"), errs);
    for (p, pol) in api.policy.iter().enumerate() {
        backend(
            spec,
            &pol.backend,
            &format!("{ap}.policy[{p}].backend"),
            errs,
        );
    }
}

fn backend(spec: &GatewaySpec, b: &BackendSpec, bp: &str, errs: &mut Vec<ConfigError>) {
    match b {
        BackendSpec::Http(h) => http_backend(spec, h, bp, errs),
        BackendSpec::Mock(m) => mock_backend(m, bp, errs),
    }
}

fn http_backend(spec: &GatewaySpec, h: &HttpBackendSpec, bp: &str, errs: &mut Vec<ConfigError>) {
    let https = match h.scheme.as_str() {
        "http" => false,
        "https" => true,
        other => {
            errs.push(ConfigError::new(
                format!("{bp}.scheme"),
                format!("scheme \"{other}\" is not supported"),
                "use scheme = \"http\" or \"https\" (behaviour.md §7.2)",
            ));
            false
        }
    };
    if !https {
        let set = [
            ("tls_ca", h.tls_ca.is_some()),
            ("tls_server_name", h.tls_server_name.is_some()),
            ("tls_verify", !h.tls_verify),
        ];
        for (key, _) in set.iter().filter(|(_, on)| *on) {
            errs.push(ConfigError::new(
                format!("{bp}.{key}"),
                "TLS settings on a plain-HTTP backend are never used",
                "set scheme = \"https\", or remove the key",
            ));
        }
    }
    if let Some(name) = &h.tls_server_name
        && rustls::pki_types::ServerName::try_from(name.as_str()).is_err()
    {
        errs.push(ConfigError::new(
            format!("{bp}.tls_server_name"),
            format!("\"{name}\" is not a DNS name or IP address"),
            "give the name the backend's certificate is issued for",
        ));
    }
    // With `#variables#`, address and path are checked per stage by compile.
    if !h.address.contains('#')
        && let Err(why) = super::compile::split_address(&h.address, if https { 443 } else { 80 })
    {
        errs.push(ConfigError::new(
            format!("{bp}.address"),
            why,
            "write host:port, e.g. \"127.0.0.1:8080\" or \"backend.internal:80\" (port defaults to 80)",
        ));
    }
    if !h.path.starts_with('/') && !h.path.starts_with('#') {
        errs.push(ConfigError::new(
            format!("{bp}.path"),
            format!("backend path \"{}\" does not start with /", h.path),
            "start the path with / (or a #variable# whose value does)",
        ));
    }
    if h.method != "ANY" && parse_method(&h.method).is_none() {
        errs.push(ConfigError::new(
            format!("{bp}.method"),
            format!("unknown method \"{}\"", h.method),
            "use GET, POST, PUT, DELETE, PATCH, HEAD, OPTIONS or ANY (forward the request's method)",
        ));
    }
    if let Some(t) = h.timeout_ms
        && !(1..=spec.settings.max_backend_timeout_ms).contains(&t)
    {
        errs.push(ConfigError::new(
            format!("{bp}.timeout_ms"),
            format!(
                "{t} ms is outside 1..={}",
                spec.settings.max_backend_timeout_ms
            ),
            "use a timeout from 1 ms to settings.max_backend_timeout_ms (behaviour.md §27 C23)",
        ));
    }
}

fn mock_backend(m: &MockBackendSpec, bp: &str, errs: &mut Vec<ConfigError>) {
    if !(200..=599).contains(&m.status) {
        errs.push(ConfigError::new(
            format!("{bp}.status"),
            format!("status {} is not a final status code", m.status),
            "use a status from 200 to 599",
        ));
    }
    for (name, value) in &m.headers {
        let reserved = [
            "content-length",
            "transfer-encoding",
            "connection",
            "server",
            "x-request-id",
        ];
        if !is_token(name) {
            errs.push(ConfigError::new(
                format!("{bp}.headers"),
                format!("\"{name}\" is not a valid header name"),
                "use letters, digits and -, e.g. \"Content-Type\"",
            ));
        } else if reserved.contains(&name.to_ascii_lowercase().as_str()) {
            errs.push(ConfigError::new(
                format!("{bp}.headers"),
                format!("\"{name}\" is set by the gateway"),
                "remove it; the gateway writes framing, Server and X-Request-Id itself",
            ));
        }
        if value.bytes().any(|b| b < 0x20 && b != b'\t' || b == 0x7f) {
            errs.push(ConfigError::new(
                format!("{bp}.headers"),
                format!("the value of \"{name}\" contains control characters"),
                "remove line breaks and control characters from header values",
            ));
        }
    }
}

/// Parses an API method (§6.2); `None` for unknown names.
pub fn parse_method(m: &str) -> Option<crate::route::MethodSpec> {
    use crate::http::Method;
    use crate::route::MethodSpec;
    Some(match m {
        "ANY" => MethodSpec::Any,
        "GET" => MethodSpec::One(Method::Get),
        "POST" => MethodSpec::One(Method::Post),
        "PUT" => MethodSpec::One(Method::Put),
        "DELETE" => MethodSpec::One(Method::Delete),
        "PATCH" => MethodSpec::One(Method::Patch),
        "HEAD" => MethodSpec::One(Method::Head),
        "OPTIONS" => MethodSpec::One(Method::Options),
        _ => return None,
    })
}

/// Parses a parameter location (§6.5), any case.
pub fn parse_location(s: &str) -> Option<crate::policy::params::Location> {
    use crate::policy::params::Location;
    match s.to_ascii_uppercase().as_str() {
        "PATH" => Some(Location::Path),
        "HEADER" => Some(Location::Header),
        "QUERY" => Some(Location::Query),
        _ => None,
    }
}

/// Parses a match mode (§6.4).
pub fn parse_match(m: &str) -> Option<MatchMode> {
    match m {
        "exact" => Some(MatchMode::Exact),
        "prefix" => Some(MatchMode::Prefix),
        _ => None,
    }
}

pub(super) fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

fn is_host_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 253
        && s.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        })
}
