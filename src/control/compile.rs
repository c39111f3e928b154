//! Spec → `Snapshot`: the only code that builds snapshots. Runs after
//! `validate`; the few checks only compilation can make (route conflicts)
//! come back as `ConfigError`s too.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use bytes::{BufMut, Bytes, BytesMut};

use super::error::ConfigError;
use super::spec::{
    BackendSpec, GatewaySpec, GroupSpec, HttpBackendSpec, MockBackendSpec, WorkersSpec,
};
use super::validate::{parse_match, parse_method};
use crate::backend::{Api, Backend, HttpBackend, MockBackend, PathPart};
use crate::http::HeadLimits;
use crate::route::path::{BuildError, BuildErrorKind, RouteDef, parse_template};
use crate::route::{HostTable, MatchMode, MethodSpec, PathTree, RouteTable};
use crate::snapshot::{PoolSettings, Snapshot, Timeouts};
use crate::upstream::{Upstream, UpstreamId};

/// Name of the catch-all group (behaviour.md §4.1).
pub const DEFAULT_GROUP: &str = "DEFAULT";

/// Which driver to run workers on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DriverChoice {
    /// io_uring where the kernel allows it, else epoll.
    Auto,
    /// io_uring only.
    IoUring,
    /// epoll only.
    Epoll,
}

/// Process-level settings: not part of a snapshot (a reload cannot change
/// the thread count or the listeners).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuntimeConfig {
    /// Worker count (0 = one per available core).
    pub workers: usize,
    /// Pin workers to cores.
    pub pin_cores: bool,
    /// Driver.
    pub driver: DriverChoice,
    /// io_uring entries.
    pub io_uring_entries: u32,
    /// Listen backlog.
    pub backlog: i32,
    /// Grace period on shutdown.
    pub shutdown_timeout: Duration,
    /// Listener addresses.
    pub listeners: Vec<SocketAddr>,
    /// DNS refresh interval.
    pub dns_refresh: Duration,
}

/// A compiled configuration.
#[derive(Debug, Clone)]
pub struct Compiled {
    /// Process settings.
    pub runtime: RuntimeConfig,
    /// What workers serve.
    pub snapshot: Snapshot,
}

/// Compiles a validated spec.
pub fn compile(spec: &GatewaySpec) -> Result<Compiled, Vec<ConfigError>> {
    let mut out = Builder::default();
    let default_group = spec.group.iter().position(|g| g.name == DEFAULT_GROUP);
    let mut hosts = HostTable::new(default_group.map(|g| g as u32));
    let mut trees = Vec::new();
    for (g, group) in spec.group.iter().enumerate() {
        for d in &group.domains {
            hosts.insert(d, g as u32);
        }
        trees.push(out.group(g, group, spec.settings.backend_timeout_ms));
    }
    let runtime = runtime(spec, &mut out.errs);
    if !out.errs.is_empty() {
        return Err(out.errs);
    }
    let s = &spec.settings;
    Ok(Compiled {
        runtime,
        snapshot: Snapshot {
            limits: HeadLimits {
                max_uri_bytes: s.max_uri_bytes,
                max_header_bytes: s.max_header_bytes,
                max_headers_total_bytes: s.max_headers_total_bytes,
                max_body_bytes: s.max_body_bytes,
            },
            timeouts: Timeouts {
                header: ms(s.header_timeout_ms),
                keepalive: ms(s.keepalive_timeout_ms),
                body: ms(s.body_timeout_ms),
                send: ms(s.send_timeout_ms),
                connect: ms(s.connect_timeout_ms),
            },
            pool: PoolSettings {
                max_idle: s.pool_max_idle,
                idle_timeout: ms(s.pool_idle_timeout_ms),
            },
            routes: RouteTable { hosts, trees },
            apis: out.apis,
            upstreams: out.upstreams.list,
        },
    })
}

/// What compiling the groups accumulates.
#[derive(Default)]
struct Builder {
    apis: Vec<Api>,
    upstreams: Upstreams,
    errs: Vec<ConfigError>,
}

impl Builder {
    /// Compiles one group's APIs and returns its path tree (empty when the
    /// group has errors, which are recorded).
    fn group(&mut self, g: usize, group: &GroupSpec, default_timeout_ms: u64) -> PathTree {
        let first_api = self.apis.len();
        let mut defs = Vec::new();
        for (a, api) in group.api.iter().enumerate() {
            let mode = parse_match(&api.match_mode).unwrap_or(MatchMode::Exact);
            let params: Vec<String> = parse_template(&api.path, mode)
                .map(|t| t.param_names().map(str::to_owned).collect())
                .unwrap_or_default();
            let backend = match &api.backend {
                BackendSpec::Http(h) => {
                    http_backend(h, &params, default_timeout_ms, &mut self.upstreams)
                }
                BackendSpec::Mock(m) => Ok(mock_backend(m)),
            };
            match backend {
                Ok(backend) => self.apis.push(Api {
                    name: api.name.as_str().into(),
                    backend,
                }),
                Err(why) => self.errs.push(ConfigError::new(
                    format!("group[{g}].api[{a}].backend"),
                    why,
                    "fix the backend definition",
                )),
            }
            defs.push(RouteDef {
                method: parse_method(&api.method).unwrap_or(MethodSpec::Any),
                path: &api.path,
                mode,
                id: (first_api + a) as u32,
            });
        }
        match PathTree::build(&defs) {
            Ok(tree) => tree,
            Err(route_errs) => {
                for e in route_errs {
                    self.errs.push(route_error(g, group, e));
                }
                PathTree::default()
            }
        }
    }
}

/// A router build error as a config error at the API's `path`.
fn route_error(g: usize, group: &GroupSpec, e: BuildError) -> ConfigError {
    let path = format!("group[{g}].api[{}].path", e.index);
    match e.kind {
        BuildErrorKind::Template(t) => ConfigError::new(
            path,
            t.to_string(),
            "see behaviour.md §6.3 for path templates",
        ),
        BuildErrorKind::Conflict { with } => ConfigError::new(
            path,
            format!(
                "conflicts with group[{g}].api[{with}] (\"{}\"): same method, match mode and path",
                group.api.get(with).map_or("", |x| x.name.as_str())
            ),
            "remove one of them or change its method, path or match mode",
        ),
    }
}

fn runtime(spec: &GatewaySpec, errs: &mut Vec<ConfigError>) -> RuntimeConfig {
    let sv = &spec.server;
    let mut listeners = Vec::new();
    for (i, l) in spec.listener.iter().enumerate() {
        match l.address.parse() {
            Ok(a) => listeners.push(a),
            Err(_) => errs.push(ConfigError::new(
                format!("listener[{i}].address"),
                "not an ip:port address",
                "e.g. \"127.0.0.1:8080\"",
            )),
        }
    }
    RuntimeConfig {
        workers: match sv.workers {
            WorkersSpec::Count(n) => usize::try_from(n).unwrap_or(1),
            WorkersSpec::Named(_) => 0,
        },
        pin_cores: sv.pin_cores,
        driver: match sv.driver.as_str() {
            "io_uring" => DriverChoice::IoUring,
            "epoll" => DriverChoice::Epoll,
            _ => DriverChoice::Auto,
        },
        io_uring_entries: sv.io_uring_entries,
        backlog: sv.backlog,
        shutdown_timeout: ms(sv.shutdown_timeout_ms),
        listeners,
        dns_refresh: ms(spec.settings.dns_refresh_ms),
    }
}

fn ms(v: u64) -> Duration {
    Duration::from_millis(v)
}

#[derive(Default)]
struct Upstreams {
    list: Vec<Upstream>,
    index: HashMap<(String, u16), UpstreamId>,
}

impl Upstreams {
    fn intern(&mut self, host: &str, port: u16) -> UpstreamId {
        let key = (host.to_ascii_lowercase(), port);
        if let Some(id) = self.index.get(&key) {
            return *id;
        }
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
        });
        self.index.insert(key, id);
        id
    }
}

fn http_backend(
    h: &HttpBackendSpec,
    params: &[String],
    default_timeout_ms: u64,
    upstreams: &mut Upstreams,
) -> Result<Backend, String> {
    let (host, port) = split_address(&h.address)?;
    let path = backend_path(&h.path, params)?;
    Ok(Backend::Http(HttpBackend {
        upstream: upstreams.intern(&host, port),
        host_header: h.address.as_str().into(),
        path,
        method: match parse_method(&h.method) {
            Some(MethodSpec::One(m)) => Some(m),
            _ => None,
        },
        timeout: ms(h.timeout_ms.unwrap_or(default_timeout_ms)),
    }))
}

fn mock_backend(m: &MockBackendSpec) -> Backend {
    let mut block = BytesMut::new();
    for (name, value) in &m.headers {
        block.put_slice(name.as_bytes());
        block.put_slice(b": ");
        block.put_slice(value.as_bytes());
        block.put_slice(b"\r\n");
    }
    Backend::Mock(MockBackend {
        status: m.status,
        header_block: block.freeze(),
        body: Bytes::copy_from_slice(m.body.as_bytes()),
    })
}

/// `host[:port]` → (host, port); port 80 when omitted (behaviour.md §7.2).
pub fn split_address(address: &str) -> Result<(String, u16), String> {
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
    if host.is_empty() || host.contains(['/', ' ', '@', '?', '#']) {
        return Err(format!("\"{address}\" is not a host:port address"));
    }
    let port = match port {
        None => 80,
        Some(p) => match p.parse::<u16>() {
            Ok(n) if n >= 1 => n,
            _ => return Err(format!("port \"{p}\" is not in 1..=65535")),
        },
    };
    Ok((host, port))
}

/// Compiles a backend path template: `{name}` must name a frontend path
/// parameter (behaviour.md §7.2).
pub fn backend_path(path: &str, params: &[String]) -> Result<Vec<PathPart>, String> {
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
        let index = params
            .iter()
            .position(|p| p == name)
            .ok_or_else(|| format!("{{{name}}} is not a path parameter of the frontend path"))?;
        parts.push(PathPart::Param(index as u8));
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_address_defaults_port_80() {
        assert_eq!(
            split_address("10.0.0.1:8080").unwrap(),
            ("10.0.0.1".into(), 8080)
        );
        assert_eq!(
            split_address("backend.internal").unwrap(),
            ("backend.internal".into(), 80)
        );
        assert_eq!(split_address("[::1]:81").unwrap(), ("::1".into(), 81));
        assert!(split_address("h:0").is_err());
        assert!(split_address("h:99999").is_err());
        assert!(split_address("http://h").is_err());
    }

    #[test]
    fn backend_path_substitutes_frontend_params() {
        let params = vec!["id".to_string()];
        let parts = backend_path("/users/{id}/x", &params).unwrap();
        assert_eq!(
            parts,
            vec![
                PathPart::Literal((*b"/users/").into()),
                PathPart::Param(0),
                PathPart::Literal((*b"/x").into())
            ]
        );
        assert!(backend_path("/users/{uid}", &params).is_err());
        assert!(backend_path("users", &params).is_err());
    }
}
