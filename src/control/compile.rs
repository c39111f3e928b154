//! Spec → `Snapshot`: the only code that builds snapshots. Runs after
//! `validate`; the few checks only compilation can make (route conflicts)
//! come back as `ConfigError`s too.

mod api;
mod apps;
mod authorizers;
mod backends;
mod throttle;
mod tls;
mod token;

use std::collections::{BTreeMap, HashSet};
use std::net::SocketAddr;
use std::time::Duration;

use super::error::ConfigError;
use super::spec::{GatewaySpec, GroupSpec, WorkersSpec};
use super::validate::{parse_match, parse_method};
use crate::backend::{Api, ResponseSetId};
use crate::control::spec::UnderscoreSpec;
use crate::http::HeadLimits;
use crate::http::normalize::{PathAction, PathRules};
use crate::http::parse::Underscores;
use crate::respond::template::Template;
use crate::respond::{ResponseEntry, ResponseSet, ResponseType};
use crate::route::path::{BuildError, BuildErrorKind, RouteDef};
use crate::route::{GroupId, HostTable, PathTree, RouteTable, StageId, StageTable};
use crate::snapshot::{PoolSettings, Snapshot, Timeouts};

use api::ApiCx;
pub use api::parse_net;
use backends::{BackendCx, Upstreams};
pub use backends::{backend_path, is_var_name, parse_system, split_address};
pub use throttle::ThrottleCarry;

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
    /// Open client connections per worker (0 = from the descriptor limit).
    pub worker_connections: usize,
    /// Head bytes all workers together may lend (`worker::admission`).
    pub head_buffer_budget: usize,
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
pub fn compile(spec: &GatewaySpec, base: &std::path::Path) -> Result<Compiled, Vec<ConfigError>> {
    compile_with(spec, base, &ThrottleCarry::default())
}

/// Compiles a validated spec, keeping the throttling counters `carry`
/// holds for policies whose definition is unchanged (a reload).
pub fn compile_with(
    spec: &GatewaySpec,
    base: &std::path::Path,
    carry: &ThrottleCarry,
) -> Result<Compiled, Vec<ConfigError>> {
    let stages = StageTable::new(spec.stage.iter().map(|s| s.name.clone()).collect());
    let (apps, app_names) = apps::apps(&spec.app);
    let mut upstreams = Upstreams::new(base);
    let mut errs = Vec::new();
    let (authorizers, authorizer_names) =
        authorizers::compile(&spec.authorizer, &mut upstreams, &mut errs);
    let throttle = throttle::ThrottleCx::new(spec, carry, &mut errs);
    let mut out = Builder {
        app_names,
        throttle,
        acls: apps::acls(&spec.acl),
        token_issuers: BTreeMap::new(),
        signature_keys: apps::signature_keys(&spec.signature_key),
        stages: stages.clone(),
        apis: Vec::new(),
        authorizer_names,
        upstreams,
        response_sets: vec![ResponseSet::builtin("default")],
        group_sets: Vec::new(),
        fold_case: !spec.settings.path_case_sensitive,
        errs,
    };
    out.token_issuers = token::issuers(&spec.token_issuer, base, &mut out.errs);
    let default_group = spec.group.iter().position(|g| g.name == DEFAULT_GROUP);
    let mut hosts = HostTable::new(default_group.map(|g| g as u32));
    let mut trees = Vec::new();
    for (g, group) in spec.group.iter().enumerate() {
        for d in &group.domains {
            hosts.insert(d, g as u32);
        }
        for d in &group.domain {
            hosts.insert(&d.name, g as u32);
        }
        trees.extend(out.group(g, group, spec.settings.backend_timeout_ms));
    }
    let tls = tls::compile(spec, base, &mut out.errs);
    let runtime = runtime(spec, &mut out.errs);
    if !out.errs.is_empty() {
        return Err(out.errs);
    }
    warn_self_calls(&runtime.listeners, &out.upstreams.list);
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
                body_min_rate: s.body_min_rate_bytes_per_s,
                send: ms(s.send_timeout_ms),
                connect: ms(s.connect_timeout_ms),
            },
            pool: PoolSettings {
                max_idle: s.pool_max_idle,
                idle_timeout: ms(s.pool_idle_timeout_ms),
            },
            routes: RouteTable {
                hosts,
                stages,
                trees,
                fold_case: !s.path_case_sensitive,
            },
            // No body is larger than max_body_bytes (§3 → 413).
            request_buffer: s.request_buffer_bytes.min(s.max_body_bytes),
            path_rules: path_rules(s),
            underscores: match s.underscore_headers {
                UnderscoreSpec::DropOwned => Underscores::DropOwned,
                UnderscoreSpec::Drop => Underscores::Drop,
                UnderscoreSpec::Reject => Underscores::Reject,
            },
            apis: out.apis,
            upstreams: out.upstreams.list,
            response_sets: out.response_sets,
            group_sets: out.group_sets,
            apps,
            authorizers,
            authorizer_cache_entries: s.authorizer_cache_entries,
            default_rate: (s.default_api_rate_limit > 0).then_some(
                crate::policy::throttle::policy::Limit {
                    max: s.default_api_rate_limit,
                    period: crate::policy::throttle::policy::Period::SECOND,
                },
            ),
            real_ip: apps::real_ip(&spec.settings),
            tls: tls.sni,
            domain_rules: tls.domain_rules,
        },
    })
}

/// Warns about backends whose address is one of the gateway's own
/// listeners: each request to them comes back in, until the hop limit
/// answers `500 APIG.0612` (§7.6). Host names are not resolved here.
fn warn_self_calls(listeners: &[SocketAddr], upstreams: &[crate::upstream::Upstream]) {
    for up in upstreams {
        let Some(addr) = up.literal else { continue };
        let own = listeners.iter().position(|l| {
            l.port() == addr.port()
                && (l.ip() == addr.ip() || (l.ip().is_unspecified() && is_local(addr.ip())))
        });
        if let Some(i) = own {
            log::warn!(
                "backend address {addr} is this gateway's own listener[{i}] ({}): a request \
                 sent there comes back to the gateway, and after {} rounds is answered \
                 500 APIG.0612 \"An API cannot call itself.\"; point the backend at the \
                 service, not at the gateway",
                listeners.get(i).map_or(String::new(), ToString::to_string),
                crate::policy::hops::MAX_HOPS,
            );
        }
    }
}

/// Whether `ip` names this host (loopback, or unspecified).
fn is_local(ip: std::net::IpAddr) -> bool {
    ip.is_loopback() || ip.is_unspecified()
}

/// How request paths are normalised before routing (issue 13).
fn path_rules(s: &crate::control::spec::SettingsSpec) -> PathRules {
    use crate::control::spec::PathActionSpec;
    let action = |a: PathActionSpec| match a {
        PathActionSpec::Reject => PathAction::Reject,
        PathActionSpec::Keep => PathAction::Keep,
    };
    PathRules {
        merge_slashes: s.path_merge_slashes,
        backslash: action(s.path_backslash),
        escaped_slash: action(s.path_escaped_slash),
        semicolon: action(s.path_semicolon),
    }
}

/// What compiling the groups accumulates.
struct Builder<'a> {
    throttle: throttle::ThrottleCx<'a>,
    app_names: BTreeMap<String, crate::policy::auth::app::AppId>,
    acls: BTreeMap<String, std::sync::Arc<crate::policy::acl::AccessPolicy>>,
    token_issuers: BTreeMap<String, std::sync::Arc<crate::policy::auth::token::TokenIssuer>>,
    signature_keys: BTreeMap<String, std::sync::Arc<crate::backend::SigningKey>>,
    authorizer_names: BTreeMap<String, crate::policy::auth::authorizer::AuthorizerId>,
    stages: StageTable,
    apis: Vec<Api>,
    upstreams: Upstreams,
    response_sets: Vec<ResponseSet>,
    group_sets: Vec<ResponseSetId>,
    /// Routes match paths case-insensitively (`path_case_sensitive = false`).
    fold_case: bool,
    errs: Vec<ConfigError>,
}

impl Builder<'_> {
    /// Compiles one group's response sets and APIs; returns its path trees,
    /// one per stage (empty where the group has errors, which are recorded).
    fn group(&mut self, g: usize, group: &GroupSpec, default_timeout_ms: u64) -> Vec<PathTree> {
        let sets = self.response_sets(g, group);
        self.group_sets
            .push(sets.get("default").copied().unwrap_or(0));
        let cx = ApiCx {
            group,
            g: g as GroupId,
            stages: &self.stages,
            sets: &sets,
            apps: &self.app_names,
            acls: &self.acls,
            token_issuers: &self.token_issuers,
            signature_keys: &self.signature_keys,
            authorizers: &self.authorizer_names,
        };
        let mut backends = BackendCx {
            upstreams: &mut self.upstreams,
            default_timeout_ms,
            authorizers: &self.authorizer_names,
        };
        let first_api = self.apis.len();
        let mut ok = true;
        for (a, spec) in group.api.iter().enumerate() {
            let ap = format!("group[{g}].api[{a}]");
            match api::api(&cx, &mut backends, spec, &ap, &mut self.errs) {
                Some(mut api) => {
                    let captures = api::captures(spec);
                    api.throttle = self.throttle.bind(
                        spec,
                        &api.id,
                        &captures,
                        &self.stages,
                        &ap,
                        &mut self.errs,
                    );
                    api.rate_all = self.throttle.default_counter(&api.id);
                    self.apis.push(api)
                }
                None => ok = false,
            }
        }
        if !ok {
            return vec![PathTree::default(); self.stages.len()];
        }
        let mut reported = HashSet::new();
        let paths: Vec<std::borrow::Cow<'_, str>> = (group.api.iter())
            .map(|api| match self.fold_case {
                true => crate::route::fold_template_case(&api.path).into(),
                false => api.path.as_str().into(),
            })
            .collect();
        (0..self.stages.len())
            .map(|stage| {
                let defs: Vec<RouteDef<'_>> = (group.api.iter().enumerate())
                    .filter(|(a, _)| {
                        self.apis[first_api + a]
                            .deployment(stage as StageId)
                            .is_some()
                    })
                    // An API whose method or match mode does not parse
                    // (reported by validate) takes no route, so it cannot
                    // cause a made-up conflict.
                    .filter_map(|(a, api)| {
                        Some(RouteDef {
                            method: parse_method(&api.method)?,
                            path: paths.get(a).map_or(api.path.as_str(), |p| p),
                            mode: parse_match(&api.match_mode)?,
                            id: (first_api + a) as u32,
                        })
                    })
                    .collect();
                match PathTree::build(&defs) {
                    Ok(tree) => tree,
                    Err(route_errs) => {
                        for e in route_errs {
                            let e = route_error(g, group, &defs, first_api, e);
                            if reported.insert((e.path.clone(), e.message.clone())) {
                                self.errs.push(e);
                            }
                        }
                        PathTree::default()
                    }
                }
            })
            .collect()
    }

    /// Compiles a group's response sets (§18); returns their ids by name.
    fn response_sets(&mut self, g: usize, group: &GroupSpec) -> BTreeMap<String, ResponseSetId> {
        let mut ids = BTreeMap::new();
        let mut names: Vec<&str> = vec!["default"];
        names.extend(
            group
                .responses
                .keys()
                .map(String::as_str)
                .filter(|n| *n != "default"),
        );
        for name in names {
            let mut set = ResponseSet::builtin(name);
            for (key, entry) in group.responses.get(name).into_iter().flatten() {
                let Some(kind) = ResponseType::from_key(key) else {
                    continue; // reported by validate
                };
                let template = match entry.body.as_deref().map(Template::compile) {
                    None => Template::builtin(),
                    Some(Ok(t)) => t,
                    Some(Err(e)) => {
                        self.errs.push(ConfigError::new(
                            format!("group[{g}].responses.{name}.{key}.body"),
                            e.to_string(),
                            "write JSON; $context variables are listed in behaviour.md §18.3",
                        ));
                        continue;
                    }
                };
                let status = entry.status;
                set.set(kind, ResponseEntry { status, template });
            }
            ids.insert(name.to_string(), self.response_sets.len() as ResponseSetId);
            self.response_sets.push(set);
        }
        ids
    }
}

/// A router build error as a config error at the API's `path`.
fn route_error(
    g: usize,
    group: &GroupSpec,
    defs: &[RouteDef<'_>],
    first_api: usize,
    e: BuildError,
) -> ConfigError {
    let api_of = |i: usize| defs.get(i).map_or(0, |d| d.id as usize - first_api);
    let path = format!("group[{g}].api[{}].path", api_of(e.index));
    match e.kind {
        BuildErrorKind::Template(t) => ConfigError::new(
            path,
            t.to_string(),
            "see behaviour.md §6.3 for path templates",
        ),
        BuildErrorKind::Conflict { with } => {
            let with = api_of(with);
            ConfigError::new(
                path,
                format!(
                    "conflicts with group[{g}].api[{with}] (\"{}\"): same method, match mode and path in a stage both are published in",
                    group.api.get(with).map_or("", |x| x.name.as_str())
                ),
                "remove one of them, change its method, path or match mode, or publish them in different stages",
            )
        }
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
        worker_connections: usize::try_from(sv.worker_connections).unwrap_or(usize::MAX),
        head_buffer_budget: usize::try_from(sv.head_buffer_budget_bytes).unwrap_or(usize::MAX),
    }
}

fn ms(v: u64) -> Duration {
    Duration::from_millis(v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::{Mapping, PathPart};

    #[test]
    fn split_address_defaults_port_80() {
        assert_eq!(
            split_address("10.0.0.1:8080", 80).unwrap(),
            ("10.0.0.1".into(), 8080)
        );
        assert_eq!(
            split_address("backend.internal", 80).unwrap(),
            ("backend.internal".into(), 80)
        );
        assert_eq!(split_address("[::1]:81", 80).unwrap(), ("::1".into(), 81));
        assert!(split_address("h:0", 80).is_err());
        assert!(split_address("h:99999", 80).is_err());
        assert!(split_address("http://h", 80).is_err());
    }

    #[test]
    fn backend_path_substitutes_frontend_params() {
        let params = vec!["id".to_string()];
        let none = Mapping::default();
        let parts = backend_path("/users/{id}/x", &params, &none).unwrap();
        assert_eq!(
            parts,
            vec![
                PathPart::Literal((*b"/users/").into()),
                PathPart::Param(0),
                PathPart::Literal((*b"/x").into())
            ]
        );
        assert!(backend_path("/users/{uid}", &params, &none).is_err());
        assert!(backend_path("users", &params, &none).is_err());
    }

    #[test]
    fn stage_variables_substitute_case_sensitively() {
        // behaviour.md §5.2: `Path` = /Stage/test in one stage, /Stage/AA in another.
        let mut one = BTreeMap::new();
        one.insert("Path".to_string(), "/Stage/test".to_string());
        let mut two = BTreeMap::new();
        two.insert("Path".to_string(), "/Stage/AA".to_string());
        assert_eq!(
            backends::substitute("#Path#", Some(&one)).unwrap(),
            "/Stage/test"
        );
        assert_eq!(
            backends::substitute("#Path#", Some(&two)).unwrap(),
            "/Stage/AA"
        );
        assert_eq!(
            backends::substitute("#path#", Some(&one)),
            Err("path".into())
        );
        one.insert("ip".into(), "10.0.0.1".into());
        one.insert("port".into(), ":81".into());
        assert_eq!(
            backends::substitute("#ip##port#", Some(&one)).unwrap(),
            "10.0.0.1:81"
        );
        assert_eq!(backends::substitute("/a#b", None).unwrap(), "/a#b");
        assert_eq!(backends::substitute("/a# b #c", None).unwrap(), "/a# b #c");
    }
}
