//! Compiles backends (behaviour.md §7) for one stage: `#variable#`
//! substitution in address and path (§5.2), the backend path template,
//! the parameter mapping with constant and system parameters (§9), and
//! mock responses (§7.5). Upstream addresses are interned so every backend
//! naming the same `host:port` shares one pool.

use std::collections::{BTreeMap, HashMap};
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::pki_types::ServerName;

use bytes::{BufMut, Bytes, BytesMut};

use super::super::certs::{self, UpstreamTls};
use super::super::error::ConfigError;
use super::super::spec::{BackendSpec, HttpBackendSpec, MockBackendSpec};
use super::super::validate::{parse_location, parse_method};
use super::api::find_param;
use super::ms;
use crate::backend::{
    Backend, HostHeader, HttpBackend, Mapping, MockBackend, PathPart, Source, SystemParam, Target,
};
use crate::http::percent::{self, EncodeSet};
use crate::policy::params::{InputParam, Location};
use crate::route::MethodSpec;
use crate::upstream::{Upstream, UpstreamId};

/// Interned upstream addresses: one per host, port and TLS settings.
pub(super) struct Upstreams {
    pub list: Vec<Upstream>,
    index: HashMap<UpstreamKey, UpstreamId>,
    /// Client TLS configurations by (CA bundle, verify): the system roots
    /// are read once.
    tls_configs: HashMap<(Option<String>, bool), Arc<rustls::ClientConfig>>,
    /// Directory relative CA paths are resolved against.
    base: PathBuf,
}

/// What makes two backends share a pool: the address, and for https the
/// CA bundle, server name and verification.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct UpstreamKey {
    host: String,
    port: u16,
    tls: Option<(Option<String>, String, bool)>,
}

impl Upstreams {
    pub fn new(base: &Path) -> Self {
        Upstreams {
            list: Vec::new(),
            index: HashMap::new(),
            tls_configs: HashMap::new(),
            base: base.to_path_buf(),
        }
    }

    /// The upstream for `host:port`; for https backends (`h.scheme`), with
    /// its TLS client settings (§7.2).
    fn intern(
        &mut self,
        host: &str,
        port: u16,
        h: &HttpBackendSpec,
        bp: &str,
    ) -> Result<UpstreamId, ConfigError> {
        let tls = (h.scheme == "https").then(|| ClientTls {
            ca: h.tls_ca.clone(),
            server_name: h.tls_server_name.clone(),
            verify: h.tls_verify,
        });
        self.intern_address(host, port, tls, bp)
    }

    /// The upstream for `host:port` with these client TLS settings (none:
    /// plain http); `at` names the config entry in errors.
    pub fn intern_address(
        &mut self,
        host: &str,
        port: u16,
        tls: Option<ClientTls>,
        at: &str,
    ) -> Result<UpstreamId, ConfigError> {
        let bare = host.trim_start_matches('[').trim_end_matches(']');
        let tls = tls.map(|t| {
            let name = t.server_name.unwrap_or_else(|| bare.to_string());
            (t.ca, name, t.verify)
        });
        let key = UpstreamKey {
            host: host.to_ascii_lowercase(),
            port,
            tls: tls.clone(),
        };
        if let Some(id) = self.index.get(&key) {
            return Ok(*id);
        }
        let tls = match tls {
            None => None,
            Some((ca, name, verify)) => Some(self.client_tls(ca, name, verify, at)?),
        };
        let id = self.list.len() as UpstreamId;
        let literal = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
            .ok()
            .map(|ip| SocketAddr::new(ip, port));
        self.list.push(Upstream {
            host: host.into(),
            port,
            literal,
            tls,
        });
        self.index.insert(key, id);
        Ok(id)
    }

    fn client_tls(
        &mut self,
        ca: Option<String>,
        name: String,
        verify: bool,
        bp: &str,
    ) -> Result<UpstreamTls, ConfigError> {
        let server_name = ServerName::try_from(name.clone()).map_err(|_| {
            ConfigError::new(
                format!("{bp}.tls_server_name"),
                format!("\"{name}\" is not a DNS name or IP address"),
                "set tls_server_name to the name the server's certificate is issued for",
            )
        })?;
        let config = match self.tls_configs.get(&(ca.clone(), verify)) {
            Some(c) => c.clone(),
            None => {
                let c = certs::upstream_config(&self.base, ca.as_deref(), verify, bp)?;
                self.tls_configs.insert((ca, verify), c.clone());
                c
            }
        };
        if !verify {
            log::warn!("{bp}: tls_verify = false: the certificate of {name} is not verified");
        }
        Ok(UpstreamTls {
            config,
            server_name,
        })
    }
}

/// Client TLS settings of an https upstream (§7.2): CA bundle (default the
/// system roots), server name (default the host), verification.
pub(super) struct ClientTls {
    pub ca: Option<String>,
    pub server_name: Option<String>,
    pub verify: bool,
}

/// Backend compilation state shared by every API.
pub(super) struct BackendCx<'a> {
    pub upstreams: &'a mut Upstreams,
    pub default_timeout_ms: u64,
    /// Authorizer ids by `[[authorizer]]` name (§11.9.6).
    pub authorizers: &'a BTreeMap<String, crate::policy::auth::authorizer::AuthorizerId>,
}

impl BackendCx<'_> {
    /// Compiles a backend for one stage (`vars` = that stage's variables).
    #[allow(clippy::too_many_arguments)] // the backend's surroundings, passed explicitly
    pub fn backend(
        &mut self,
        spec: &BackendSpec,
        params: &[InputParam],
        captures: &[String],
        vars: Option<&BTreeMap<String, String>>,
        stage: &str,
        bp: &str,
        errs: &mut Vec<ConfigError>,
    ) -> Option<Backend> {
        match spec {
            BackendSpec::Mock(m) => Some(mock_backend(m)),
            BackendSpec::Http(h) => {
                let before = errs.len();
                let mut sub = |text: &str, key: &str| {
                    substitute(text, vars).map_err(|var| {
                        errs.push(ConfigError::new(
                            format!("{bp}.{key}"),
                            format!("uses #{var}#, which stage {stage} does not define"),
                            format!(
                                "add {var} = \"…\" under [group.variables.{stage}], or unpublish the API from {stage} (behaviour.md §5.2)"
                            ),
                        ))
                    })
                };
                let address = sub(&h.address, "address");
                let path = sub(&h.path, "path");
                if errs.len() != before {
                    return None;
                }
                let (address, path) = (address.ok()?, path.ok()?);
                self.http(h, &address, &path, params, captures, bp, errs)
            }
        }
    }

    #[allow(clippy::too_many_arguments)] // the backend's parts, passed explicitly
    fn http(
        &mut self,
        h: &HttpBackendSpec,
        address: &str,
        path: &str,
        params: &[InputParam],
        captures: &[String],
        bp: &str,
        errs: &mut Vec<ConfigError>,
    ) -> Option<Backend> {
        let at =
            |key: &str, why: String, fix: &str| ConfigError::new(format!("{bp}.{key}"), why, fix);
        let default_port = if h.scheme == "https" { 443 } else { 80 };
        let (host, port) = match split_address(address, default_port) {
            Ok(hp) => hp,
            Err(why) => {
                errs.push(at(
                    "address",
                    why,
                    "write host:port after substitution, e.g. \"127.0.0.1:8080\"",
                ));
                return None;
            }
        };
        if let Some(b) = path
            .bytes()
            .find(|&b| b <= 0x20 || b >= 0x7f || b == b'?' || b == b'#')
        {
            let why = format!(
                "the backend path \"{}\" has the byte 0x{b:02x}, which cannot go in a request line",
                path.escape_debug()
            );
            errs.push(at("path", why, "use only visible ASCII without ? and # (after #variable# substitution); write other bytes percent-encoded"));
            return None;
        }
        let mapping = mapping(h, params);
        let path = match backend_path(path, captures, &mapping) {
            Ok(p) => p,
            Err(why) => {
                errs.push(at(
                    "path",
                    why,
                    "use {name} only for backend PATH parameters or frontend path parameters",
                ));
                return None;
            }
        };
        let path_targets = mapping.paths.len();
        let mut seen = vec![false; path_targets];
        for part in &path {
            if let PathPart::Mapped(k) = part
                && let Some(slot) = seen.get_mut(*k as usize)
            {
                *slot = true;
            }
        }
        let used = seen.iter().filter(|s| **s).count();
        if used < path_targets {
            let why = format!(
                "{path_targets} PATH backend parameter(s) but {used} {{name}} placeholder(s) in the path: a mapped value would be lost"
            );
            errs.push(at(
                "path",
                why,
                "put a {name} placeholder for every PATH backend parameter (behaviour.md §9.1)",
            ));
            return None;
        }
        let host_header = match (&h.host_header, h.preserve_host) {
            (Some(name), _) => HostHeader::Fixed(name.as_str().into()),
            (None, true) => HostHeader::Preserve,
            (None, false) => HostHeader::Address,
        };
        Some(Backend::Http(HttpBackend {
            upstream: match self.upstreams.intern(&host, port, h, bp) {
                Ok(id) => id,
                Err(e) => {
                    errs.push(e);
                    return None;
                }
            },
            address: address.into(),
            host_header,
            path,
            method: match parse_method(&h.method) {
                Some(MethodSpec::One(m)) => Some(m),
                _ => None,
            },
            timeout: ms(h.timeout_ms.unwrap_or(self.default_timeout_ms)),
            mapping,
            authorizer: match &h.authorizer {
                None => None,
                Some(name) => match self.authorizers.get(name) {
                    Some(id) => Some(*id),
                    None => {
                        // Validation reports it; never run without it.
                        errs.push(at(
                            "authorizer",
                            format!("no [[authorizer]] is named \"{name}\""),
                            "add the [[authorizer]] or fix the name",
                        ));
                        return None;
                    }
                },
            },
        }))
    }
}

/// Replaces every `#name#` by the stage's value (§5.2; names are
/// case-sensitive). `Err(name)` for the first undefined variable.
pub(super) fn substitute(
    text: &str,
    vars: Option<&BTreeMap<String, String>>,
) -> Result<String, String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find('#') {
        let after = &rest[open + 1..];
        let Some(close) = after.find('#') else {
            break;
        };
        let name = &after[..close];
        if !is_var_name(name) {
            out.push_str(&rest[..=open]);
            rest = after;
            continue;
        }
        let value = vars
            .and_then(|v| v.get(name))
            .ok_or_else(|| name.to_string())?;
        out.push_str(&rest[..open]);
        out.push_str(value);
        rest = &after[close + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// Characters of a variable name (letters, digits, `_`, `-`).
pub fn is_var_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// HEADER/QUERY targets, drop lists and defaults of an HTTP backend (§9).
fn mapping(h: &HttpBackendSpec, params: &[InputParam]) -> Mapping {
    let mut m = Mapping::default();
    let mut mapped = vec![false; params.len()];
    let mut targets: Vec<(String, Location, Source)> = Vec::new();
    for p in &h.param {
        if let Some(i) = find_param(params, &p.from) {
            mapped[i as usize] = true;
            targets.push((p.name.clone(), loc(&p.location), Source::Input(i)));
        }
    }
    for c in &h.constant {
        let location = loc(&c.location);
        let value = match location {
            Location::Header => c.value.as_bytes().into(),
            Location::Path => encode(&c.value, EncodeSet::Path),
            Location::Query => encode(&c.value, EncodeSet::Query),
        };
        targets.push((c.name.clone(), location, Source::Constant(value)));
    }
    for s in &h.system {
        if let Some(sys) = parse_system(&s.from) {
            targets.push((s.name.clone(), loc(&s.location), Source::System(sys)));
        }
    }
    for (i, p) in params.iter().enumerate() {
        let list = match p.location {
            Location::Header => &mut m.drop_headers,
            Location::Query => &mut m.drop_queries,
            Location::Path => continue,
        };
        if mapped[i] {
            list.push(p.name.to_ascii_lowercase().into_bytes().into());
        } else if p.default.is_some() {
            let defaults = match p.location {
                Location::Header => &mut m.default_headers,
                _ => &mut m.default_queries,
            };
            defaults.push(i as u16);
        }
    }
    for (name, location, source) in targets {
        let lower: Box<[u8]> = name.to_ascii_lowercase().into_bytes().into();
        let name: Box<[u8]> = match location {
            Location::Path => {
                m.paths.push(source.clone());
                m.targets.push(Target {
                    name: lower,
                    location,
                    source,
                });
                continue;
            }
            Location::Header => {
                m.drop_headers.push(lower);
                name.into_bytes().into()
            }
            Location::Query => {
                m.drop_queries.push(lower);
                encode(&name, EncodeSet::Query)
            }
        };
        m.targets.push(Target {
            name,
            location,
            source,
        });
    }
    m
}

fn loc(s: &str) -> Location {
    parse_location(s).unwrap_or(Location::Header)
}

fn encode(v: &str, set: EncodeSet) -> Box<[u8]> {
    let mut out = BytesMut::new();
    percent::encode(v.as_bytes(), set, &mut out);
    out.to_vec().into()
}

/// A system parameter name (§9.3); authorizer keys keep their case.
pub fn parse_system(from: &str) -> Option<SystemParam> {
    if let Some(k) = from.strip_prefix("authorizer.frontend.") {
        return (!k.is_empty()).then(|| SystemParam::Frontend(k.into()));
    }
    if let Some(k) = from.strip_prefix("authorizer.backend.") {
        return (!k.is_empty()).then(|| SystemParam::Backend(k.into()));
    }
    Some(match from {
        "sourceIp" => SystemParam::SourceIp,
        "stage" => SystemParam::Stage,
        "apiId" => SystemParam::ApiId,
        "appId" => SystemParam::AppId,
        "requestId" => SystemParam::RequestId,
        "tenantId" => SystemParam::TenantId,
        "userId" => SystemParam::UserId,
        "accountName" => SystemParam::AccountName,
        _ => return None,
    })
}

fn mock_backend(m: &MockBackendSpec) -> Backend {
    let mut block = BytesMut::new();
    let mut names: Vec<Box<[u8]>> = Vec::new();
    // §7.5: the observed mock response is `Content-Type: application/json`.
    if !m
        .headers
        .keys()
        .any(|k| k.eq_ignore_ascii_case("content-type"))
    {
        block.put_slice(b"Content-Type: application/json\r\n");
    }
    for (name, value) in &m.headers {
        block.put_slice(name.as_bytes());
        block.put_slice(b": ");
        block.put_slice(value.as_bytes());
        block.put_slice(b"\r\n");
        names.push(name.to_ascii_lowercase().into_bytes().into());
    }
    Backend::Mock(MockBackend {
        status: m.status,
        header_block: block.freeze(),
        header_names: names,
        body: Bytes::copy_from_slice(m.body.as_bytes()),
    })
}

/// `host[:port]` → (host, port); port 80 when omitted (behaviour.md §7.2).
/// `host[:port]` → host and port (`default_port` when none: 80 for http,
/// 443 for https, §7.2).
pub fn split_address(address: &str, default_port: u16) -> Result<(String, u16), String> {
    let (host, port) = if let Some(rest) = address.strip_prefix('[') {
        let (h, tail) = rest
            .split_once(']')
            .ok_or_else(|| format!("\"{address}\" has an unclosed IPv6 bracket"))?;
        (h.to_string(), tail.strip_prefix(':'))
    } else {
        match address.rsplit_once(':') {
            Some((h, p)) => (h.to_string(), Some(p)),
            None => (address.to_string(), None),
        }
    };
    if host.is_empty()
        || host.contains(['/', ' ', '@', '?', '#'])
        || host.bytes().any(|b| !(0x20..0x7f).contains(&b))
    {
        return Err(format!("\"{address}\" is not a host:port address"));
    }
    let port = match port {
        None => default_port,
        Some(p) => match p.parse::<u16>() {
            Ok(n) if n >= 1 => n,
            _ => return Err(format!("port \"{p}\" is not in 1..=65535")),
        },
    };
    Ok((host, port))
}

/// Compiles a backend path template. `{name}` is a backend PATH parameter
/// of the mapping (§9.1), else the frontend path parameter of that name
/// (copied as received, §6.3).
pub fn backend_path(
    path: &str,
    captures: &[String],
    mapping: &Mapping,
) -> Result<Vec<PathPart>, String> {
    if !path.starts_with('/') {
        return Err(format!("backend path \"{path}\" does not start with /"));
    }
    let mut parts = Vec::new();
    let mut rest = path;
    while let Some(open) = rest.find('{') {
        let close = rest[open..]
            .find('}')
            .map(|c| open + c)
            .ok_or_else(|| format!("unclosed {{ in backend path \"{path}\""))?;
        if open > 0 {
            parts.push(PathPart::Literal(rest.as_bytes()[..open].into()));
        }
        let name = rest[open + 1..close].trim_end_matches('+');
        parts.push(path_part(name, captures, mapping)?);
        rest = &rest[close + 1..];
    }
    if rest.contains('}') {
        return Err(format!("stray }} in backend path \"{path}\""));
    }
    if !rest.is_empty() {
        parts.push(PathPart::Literal(rest.as_bytes().into()));
    }
    Ok(parts)
}

fn path_part(name: &str, captures: &[String], mapping: &Mapping) -> Result<PathPart, String> {
    let lower = name.to_ascii_lowercase();
    let mapped = (mapping.targets.iter())
        .filter(|t| t.location == Location::Path)
        .position(|t| *t.name == *lower.as_bytes());
    if let Some(k) = mapped {
        return Ok(PathPart::Mapped(k as u8));
    }
    captures
        .iter()
        .position(|c| c == name)
        .map(|i| PathPart::Param(i as u8))
        .ok_or_else(|| {
            format!("{{{name}}} is neither a backend PATH parameter nor a path parameter of the frontend path")
        })
}
