//! Compiles one `[[group.api]]` into an [`Api`]: input parameters, backend
//! policies, and per published stage a [`Deployment`] whose backends have
//! that stage's `#variables#` substituted (behaviour.md §5.2, §6.5, §8, §9).
//! Problems only compilation can see (an undefined variable in a stage, a
//! regular expression that does not compile, an unknown mapping source)
//! come back as `ConfigError`s with their TOML path.

use crate::policy::protocol::Protocols;
use std::collections::BTreeMap;

use ipnet::IpNet;
use regex::bytes::Regex;

use super::super::error::ConfigError;
use super::super::spec::{ApiSpec, BackendSpec, ConditionSpec, GroupSpec, ParamSpec, PolicySpec};
use super::super::validate::{parse_location, parse_match};
use super::backends::BackendCx;
use crate::backend::{Api, Condition, Deployment, Effective, PolicyRule, ResponseSetId, Test};
use crate::policy::params::{InputParam, Location, ParamType};
use crate::route::path::parse_template;
use crate::route::{GroupId, MatchMode, StageTable};

/// What compiling one API needs from its surroundings.
pub(super) struct ApiCx<'a> {
    pub group: &'a GroupSpec,
    pub g: GroupId,
    pub stages: &'a StageTable,
    /// The group's response sets by name.
    pub sets: &'a BTreeMap<String, ResponseSetId>,
    /// App ids by `[[app]]` name.
    pub apps: &'a BTreeMap<String, crate::policy::auth::app::AppId>,
    /// Access-control policies by name.
    pub acls: &'a BTreeMap<String, std::sync::Arc<crate::policy::acl::AccessPolicy>>,
    /// Token issuers by name.
    pub token_issuers:
        &'a BTreeMap<String, std::sync::Arc<crate::policy::auth::token::TokenIssuer>>,
    /// Backend signature keys by name.
    pub signature_keys: &'a BTreeMap<String, std::sync::Arc<crate::backend::SigningKey>>,
    /// Authorizer ids by `[[authorizer]]` name.
    pub authorizers: &'a BTreeMap<String, crate::policy::auth::authorizer::AuthorizerId>,
}

/// Compiles an API; `None` (with errors recorded) when it has problems.
pub(super) fn api(
    cx: &ApiCx<'_>,
    backends: &mut BackendCx<'_>,
    api: &ApiSpec,
    ap: &str,
    errs: &mut Vec<ConfigError>,
) -> Option<Api> {
    let before = errs.len();
    let captures = captures(api);
    let mut params = input_params(&api.param, &captures, |name| referenced(api, name));
    for (i, p) in params.iter_mut().enumerate() {
        p.to_path = maps_to_path(api, &p.name);
        debug_assert!(i < usize::from(u16::MAX));
    }
    let policies = api
        .policy
        .iter()
        .enumerate()
        .map(|(p, pol)| policy_rule(pol, &params, &format!("{ap}.policy[{p}]"), errs))
        .collect();
    let mut deployed = vec![None; cx.stages.len()];
    for name in &api.stages {
        let Some(stage) = cx.stages.id(name) else {
            continue; // reported by validate
        };
        let vars = cx.group.variables.get(name);
        let mut dep = |spec: &BackendSpec, bp: String| {
            backends.backend(spec, &params, &captures, vars, name, &bp, errs)
        };
        let default = dep(&api.backend, format!("{ap}.backend"));
        let policies: Vec<_> = (api.policy.iter().enumerate())
            .map(|(p, pol)| dep(&pol.backend, format!("{ap}.policy[{p}].backend")))
            .collect();
        if let (Some(default), Some(policies)) = (default, policies.into_iter().collect()) {
            if let Some(slot) = deployed.get_mut(stage as usize) {
                *slot = Some(Deployment { default, policies });
            }
        }
    }
    let responses = cx.sets.get(&api.gateway_response).copied().unwrap_or(0);
    let authorizer = api.auth.authorizer.as_ref().and_then(|name| {
        let id = cx.authorizers.get(name).copied();
        if id.is_none() {
            // Validation reports it too; an API never runs without it.
            errs.push(ConfigError::new(
                format!("{ap}.auth.authorizer"),
                format!("no [[authorizer]] is named \"{name}\""),
                "add the [[authorizer]] or fix the name",
            ));
        }
        id
    });
    (errs.len() == before).then(|| Api {
        name: api.name.as_str().into(),
        id: api.id.as_deref().unwrap_or(&api.name).into(),
        group: cx.g,
        protocols: Protocols::parse(&api.protocol).unwrap_or(Protocols::BOTH),
        app_auth: super::apps::auth(&api.auth, cx.apps, cx.stages, ap, errs),
        authorizer,
        token_auth: super::token::api_issuer(&api.auth, cx.token_issuers, ap, errs),
        acl: super::apps::by_stage(&api.acl, cx.acls, cx.stages),
        throttle: Vec::new(), // bound by the builder
        rate_all: std::sync::Arc::default(),
        signing: super::apps::by_stage(&api.signature_key, cx.signature_keys, cx.stages),
        cors: api.cors,
        responses,
        params,
        policies,
        deployed,
    })
}

/// The names of the API's path placeholders, in template order.
pub(super) fn captures(api: &ApiSpec) -> Vec<String> {
    let mode = parse_match(&api.match_mode).unwrap_or(MatchMode::Exact);
    parse_template(&api.path, mode)
        .map(|t| t.param_names().map(str::to_owned).collect())
        .unwrap_or_default()
}

/// Whether a backend of the API (default or policy) maps input `name`
/// into its path.
fn maps_to_path(api: &ApiSpec, name: &str) -> bool {
    let backends = std::iter::once(&api.backend).chain(api.policy.iter().map(|p| &p.backend));
    backends
        .filter_map(|b| match b {
            BackendSpec::Http(h) => Some(h),
            BackendSpec::Mock(_) => None,
        })
        .flat_map(|h| &h.param)
        .any(|m| m.from.eq_ignore_ascii_case(name) && m.location.eq_ignore_ascii_case("PATH"))
}

/// Whether a mapping or a policy condition of the API reads input `name`.
fn referenced(api: &ApiSpec, name: &str) -> bool {
    let backends = std::iter::once(&api.backend).chain(api.policy.iter().map(|p| &p.backend));
    let mapped = backends
        .filter_map(|b| match b {
            BackendSpec::Http(h) => Some(h),
            BackendSpec::Mock(_) => None,
        })
        .flat_map(|h| &h.param)
        .any(|m| m.from.eq_ignore_ascii_case(name));
    let tested = (api.policy.iter().flat_map(|p| &p.condition)).any(|c| {
        c.param
            .as_deref()
            .is_some_and(|p| p.eq_ignore_ascii_case(name))
    });
    mapped || tested
}

/// The declared input parameters, then one STRING PATH parameter for each
/// path placeholder the operator did not declare but a mapping or policy
/// reads (§6.3 asks for one per placeholder; declaring it is optional
/// here). Unread placeholders need no per-request check: the backend path
/// copies them directly.
pub(super) fn input_params(
    declared: &[ParamSpec],
    captures: &[String],
    referenced: impl Fn(&str) -> bool,
) -> Vec<InputParam> {
    let mut out: Vec<InputParam> = declared.iter().map(|p| input_param(p, captures)).collect();
    for (i, name) in captures.iter().enumerate() {
        let declared = out
            .iter()
            .any(|p| p.location == Location::Path && p.name.eq_ignore_ascii_case(name));
        if !declared && referenced(name) {
            out.push(InputParam {
                name: name.as_str().into(),
                location: Location::Path,
                kind: ParamType::String,
                required: true,
                default: None,
                min_len: None,
                max_len: None,
                capture: i as u8,
                to_path: false,
            });
        }
    }
    out
}

fn input_param(p: &ParamSpec, captures: &[String]) -> InputParam {
    let location = parse_location(&p.location).unwrap_or(Location::Query);
    let capture = captures
        .iter()
        .position(|c| c.eq_ignore_ascii_case(&p.name))
        .unwrap_or(0);
    InputParam {
        name: p.name.as_str().into(),
        location,
        kind: if p.kind.eq_ignore_ascii_case("NUMBER") {
            ParamType::Number
        } else {
            ParamType::String
        },
        required: p.required || location == Location::Path,
        default: p.default.as_ref().map(|d| d.as_bytes().into()),
        min_len: p.min_length,
        max_len: p.max_length,
        capture: capture as u8,
        to_path: false,
    }
}

/// The index of the input parameter named `name` (case-insensitive).
pub(super) fn find_param(params: &[InputParam], name: &str) -> Option<u16> {
    params
        .iter()
        .position(|p| p.name.eq_ignore_ascii_case(name))
        .map(|i| i as u16)
}

fn policy_rule(
    pol: &PolicySpec,
    params: &[InputParam],
    pp: &str,
    errs: &mut Vec<ConfigError>,
) -> PolicyRule {
    let conditions = pol
        .condition
        .iter()
        .enumerate()
        .filter_map(|(c, cond)| condition(cond, params, &format!("{pp}.condition[{c}]"), errs))
        .collect();
    PolicyRule {
        name: pol.name.as_str().into(),
        effective: if pol.effective.eq_ignore_ascii_case("all") {
            Effective::All
        } else {
            Effective::Any
        },
        conditions,
    }
}

fn condition(
    c: &ConditionSpec,
    params: &[InputParam],
    cp: &str,
    errs: &mut Vec<ConfigError>,
) -> Option<Condition> {
    let values = c.value.items();
    match c.source.as_str() {
        "source_ip" => {
            let nets: Option<Vec<IpNet>> = values.iter().map(|v| parse_net(v)).collect();
            nets.map(Condition::SourceIp)
        }
        "param" => {
            let index = find_param(params, c.param.as_deref().unwrap_or_default())?;
            let test = match c.kind.as_deref().unwrap_or("equal") {
                "enum" => Test::Enum(values.iter().map(|v| v.as_bytes().into()).collect()),
                "match" => Test::Match(full_match(&one(&c.value), cp, errs)?),
                _ => Test::Equal(one(&c.value).as_bytes().into()),
            };
            Some(Condition::Param { index, test })
        }
        "authorizer" => {
            // §27 C25: a Boolean condition value matches the JSON Boolean
            // (`"false"` in the context) as well as the text as written.
            let with_bool = |v: &str| -> Vec<Box<[u8]>> {
                let mut out: Vec<Box<[u8]>> = vec![v.as_bytes().into()];
                if v.eq_ignore_ascii_case("true") || v.eq_ignore_ascii_case("false") {
                    out.push(v.to_ascii_lowercase().into_bytes().into());
                }
                out
            };
            let test = match c.kind.as_deref().unwrap_or("equal") {
                "enum" => Test::Enum(values.iter().flat_map(|v| with_bool(v)).collect()),
                "match" => Test::Match(full_match(&one(&c.value), cp, errs)?),
                _ => Test::Enum(with_bool(&one(&c.value))),
            };
            let key = c.param.as_deref().unwrap_or_default().into();
            Some(Condition::Authorizer { key, test })
        }
        _ => None, // reported by validate
    }
}

/// The text of a single-valued condition as written (commas included).
fn one(v: &super::super::spec::ValueSpec) -> String {
    match v {
        super::super::spec::ValueSpec::One(s) => s.clone(),
        super::super::spec::ValueSpec::List(l) => l.join(","),
    }
}

/// An address or network; a bare address is a /32 or /128.
pub fn parse_net(v: &str) -> Option<IpNet> {
    v.parse::<IpNet>()
        .ok()
        .or_else(|| v.parse::<std::net::IpAddr>().ok().map(IpNet::from))
}

/// Compiles a Matching condition, anchored to match the whole value
/// (§8.2 Suggestion).
fn full_match(pattern: &str, cp: &str, errs: &mut Vec<ConfigError>) -> Option<Regex> {
    match Regex::new(&format!("^(?:{pattern})$")) {
        Ok(re) => Some(re),
        Err(e) => {
            errs.push(ConfigError::new(
                format!("{cp}.value"),
                format!("the regular expression does not compile: {e}"),
                "write a Rust regex (RE2 syntax), e.g. \"[0-5]\"; it must match the whole value",
            ));
            None
        }
    }
}
