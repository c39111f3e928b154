//! Validation of the API model (behaviour.md §5, §6.5, §8, §9, §17, §18):
//! stage names, stage variables, gateway-response sets, input parameters,
//! backend parameters and backend policies. Every documented constraint
//! becomes a `ConfigError` with its TOML path and a fix.

use std::collections::HashSet;

use super::super::error::ConfigError;
use super::super::spec::{ApiSpec, BackendSpec, GatewaySpec, GroupSpec, ParamSpec, RELEASE};
use super::parse_location;
use crate::policy::params::{Location, is_number};
use crate::respond::ResponseType;

/// Stages besides RELEASE (§23: 10 environments).
pub const MAX_STAGES: usize = 10;
/// Variables per group per stage (§5.2).
pub const MAX_VARIABLES: usize = 50;
/// Parameters per API (§6.1).
pub const MAX_PARAMS: usize = 50;
/// Backend policies per API besides the default backend (§8.1).
pub const MAX_POLICIES: usize = 5;

/// Headers the gateway writes or consumes itself: framing, hop-by-hop,
/// `Host` and the forwarding headers. A parameter cannot live in them.
const GATEWAY_HEADERS: &[&str] = &[
    "host",
    "content-length",
    "transfer-encoding",
    "connection",
    "keep-alive",
    "proxy-connection",
    "te",
    "trailer",
    "upgrade",
    "expect",
    "x-request-id",
    "x-forwarded-for",
    "x-forwarded-proto",
    "x-forwarded-host",
];

/// Collected errors.
pub(super) type Errs = Vec<ConfigError>;

/// Records one error.
pub(super) fn err(
    errs: &mut Errs,
    path: impl Into<String>,
    why: impl Into<String>,
    fix: impl Into<String>,
) {
    errs.push(ConfigError::new(path, why, fix));
}

/// `[[stage]]` names (§5.1).
pub(super) fn stages(spec: &GatewaySpec, errs: &mut Errs) {
    let mut seen = HashSet::new();
    for (i, s) in spec.stage.iter().enumerate() {
        let path = format!("stage[{i}].name");
        if !is_stage_name(&s.name) {
            err(
                errs,
                path,
                format!("\"{}\" is not a stage name", s.name),
                "start with a letter, then letters, digits or _ (at most 64), e.g. \"DEVELOP\"",
            );
        } else if !seen.insert(s.name.as_str()) {
            err(
                errs,
                path,
                format!("stage \"{}\" is defined twice", s.name),
                "remove the duplicate [[stage]]",
            );
        }
    }
    let others = spec.stage.iter().filter(|s| s.name != RELEASE).count();
    if others > MAX_STAGES {
        err(
            errs,
            "stage",
            format!("{others} stages besides RELEASE; at most {MAX_STAGES} are allowed"),
            "merge stages (behaviour.md §5.1, §23)",
        );
    }
}

fn is_stage_name(s: &str) -> bool {
    s.len() <= 64
        && s.bytes().next().is_some_and(|b| b.is_ascii_alphabetic())
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

pub(super) fn known_stage(spec: &GatewaySpec, name: &str) -> bool {
    name == RELEASE || spec.stage.iter().any(|s| s.name == name)
}

/// A group's variables and response sets (§5.2, §18).
pub(super) fn group(spec: &GatewaySpec, group: &GroupSpec, gp: &str, errs: &mut Errs) {
    for (stage, vars) in &group.variables {
        let vp = format!("{gp}.variables.{stage}");
        if !known_stage(spec, stage) {
            err(
                errs,
                &vp,
                format!("stage \"{stage}\" is not defined"),
                format!(
                    "add [[stage]] name = \"{stage}\", or fix the name (stages are case-sensitive)"
                ),
            );
        }
        if vars.len() > MAX_VARIABLES {
            err(
                errs,
                &vp,
                format!(
                    "{} variables; at most {MAX_VARIABLES} per stage",
                    vars.len()
                ),
                "remove unused variables (behaviour.md §5.2)",
            );
        }
        for (name, value) in vars {
            if !crate::control::compile::is_var_name(name) {
                err(
                    errs,
                    format!("{vp}.{name}"),
                    format!("\"{name}\" is not a variable name"),
                    "use letters, digits, _ and - (referenced as #name#)",
                );
            }
            if value.bytes().any(|b| b < 0x20 || b == 0x7f) {
                err(
                    errs,
                    format!("{vp}.{name}"),
                    "the value contains control characters",
                    "remove line breaks and control characters",
                );
            }
        }
    }
    for (set, entries) in &group.responses {
        for (key, entry) in entries {
            let ep = format!("{gp}.responses.{set}.{key}");
            if ResponseType::from_key(key).is_none() {
                let keys: Vec<_> = ResponseType::ALL.iter().map(|t| t.key()).collect();
                err(
                    errs,
                    &ep,
                    format!("unknown response type \"{key}\""),
                    format!("use one of {} (behaviour.md §18.2)", keys.join(", ")),
                );
            }
            if let Some(s) = entry.status
                && !(200..=599).contains(&s)
            {
                err(
                    errs,
                    format!("{ep}.status"),
                    format!("status {s} is not a final status code"),
                    "use a status from 200 to 599",
                );
            }
        }
    }
}

/// The API-model keys of one API.
pub(super) fn api(
    spec: &GatewaySpec,
    group: &GroupSpec,
    api: &ApiSpec,
    ap: &str,
    captures: &[String],
    errs: &mut Errs,
) {
    // The name is the default API ID, which system parameters and
    // `$context.apiId` write into headers and bodies.
    if api.name.bytes().any(|b| b < 0x20 || b == 0x7f) {
        err(
            errs,
            format!("{ap}.name"),
            "the API name has control characters",
            "remove them",
        );
    }
    if api.stages.is_empty() {
        err(
            errs,
            format!("{ap}.stages"),
            "the API is published in no stage",
            "publish it, e.g. stages = [\"RELEASE\"] (behaviour.md §5.3)",
        );
    }
    for (i, s) in api.stages.iter().enumerate() {
        if !known_stage(spec, s) {
            err(
                errs,
                format!("{ap}.stages[{i}]"),
                format!("stage \"{s}\" is not defined"),
                format!(
                    "add [[stage]] name = \"{s}\", or fix the name (stages are case-sensitive)"
                ),
            );
        }
    }
    if api.gateway_response != "default" && !group.responses.contains_key(&api.gateway_response) {
        err(
            errs,
            format!("{ap}.gateway_response"),
            format!(
                "the group has no gateway-response set \"{}\"",
                api.gateway_response
            ),
            format!(
                "define [group.responses.{}] or use \"default\"",
                api.gateway_response
            ),
        );
    }
    if api
        .id
        .as_deref()
        .is_some_and(|id| id.trim().is_empty() || id.bytes().any(|b| b < 0x20))
    {
        err(
            errs,
            format!("{ap}.id"),
            "the API ID is empty or has control characters",
            "write a plain ID or remove the key",
        );
    }
    input_params(&api.param, ap, captures, errs);
    if let BackendSpec::Http(h) = &api.backend {
        super::mapping::backend_params(h, &api.param, &format!("{ap}.backend"), errs);
    }
    if api.policy.len() > MAX_POLICIES {
        err(
            errs,
            format!("{ap}.policy"),
            format!(
                "{} backend policies; at most {MAX_POLICIES} per API",
                api.policy.len()
            ),
            "merge policies (behaviour.md §8.1)",
        );
    }
    let mut names = HashSet::new();
    for (p, pol) in api.policy.iter().enumerate() {
        let pp = format!("{ap}.policy[{p}]");
        if !names.insert(pol.name.as_str()) {
            err(
                errs,
                format!("{pp}.name"),
                format!("policy \"{}\" is defined twice", pol.name),
                "give each policy its own name",
            );
        }
        super::policies::policy(pol, &api.param, captures, &pp, errs);
        if let BackendSpec::Http(h) = &pol.backend {
            super::mapping::backend_params(h, &api.param, &format!("{pp}.backend"), errs);
        }
    }
}

/// Name rules shared by input and backend parameters (§6.5, §9.1).
pub(super) fn name_rules(name: &str, location: Option<Location>, path: &str, errs: &mut Errs) {
    let lower = name.to_ascii_lowercase();
    let why = if name.is_empty() {
        Some("the name is empty".to_string())
    } else if lower.starts_with("x-apig-") || lower.starts_with("x-sdk-") {
        Some(format!(
            "\"{name}\" starts with x-apig- or x-sdk-, which the gateway reserves"
        ))
    } else if lower == "x-stage" {
        Some("x-stage is reserved: it selects the stage".to_string())
    } else if location == Some(Location::Header)
        && (lower == "authorization" || lower == "x-auth-token")
    {
        Some(format!("a HEADER parameter may not be named {name}"))
    } else if location == Some(Location::Header) && GATEWAY_HEADERS.contains(&lower.as_str()) {
        Some(format!("the gateway owns the {name} header"))
    } else if location == Some(Location::Header) && name.contains('_') {
        Some(format!("HEADER parameter \"{name}\" contains _"))
    } else if location == Some(Location::Header) && !super::is_token(name) {
        Some(format!("\"{name}\" is not a valid header name"))
    } else {
        None
    };
    if let Some(why) = why {
        err(
            errs,
            path,
            why,
            "rename it (behaviour.md §6.5 / §9.1 naming rules)",
        );
    }
}

pub(super) fn location_of(s: &str, path: String, errs: &mut Errs) -> Option<Location> {
    let l = parse_location(s);
    if l.is_none() {
        err(
            errs,
            path,
            format!("unknown location \"{s}\""),
            "use \"PATH\", \"HEADER\" or \"QUERY\"",
        );
    }
    l
}

fn input_params(params: &[ParamSpec], ap: &str, captures: &[String], errs: &mut Errs) {
    if params.len() > MAX_PARAMS {
        err(
            errs,
            format!("{ap}.param"),
            format!("{} parameters; at most {MAX_PARAMS} per API", params.len()),
            "remove parameters (behaviour.md §6.1)",
        );
    }
    let mut seen = HashSet::new();
    for (i, p) in params.iter().enumerate() {
        let pp = format!("{ap}.param[{i}]");
        let location = location_of(&p.location, format!("{pp}.location"), errs);
        name_rules(&p.name, location, &format!("{pp}.name"), errs);
        if !seen.insert(p.name.to_ascii_lowercase()) {
            err(
                errs,
                format!("{pp}.name"),
                format!(
                    "parameter \"{}\" is defined twice (names are not case-sensitive)",
                    p.name
                ),
                "give each parameter its own name",
            );
        }
        if location == Some(Location::Path)
            && !captures.iter().any(|c| c.eq_ignore_ascii_case(&p.name))
        {
            err(
                errs,
                format!("{pp}.name"),
                format!(
                    "PATH parameter \"{}\" is not a {{name}} of the API's path",
                    p.name
                ),
                "use the name of a path placeholder, or change the location (behaviour.md §6.5)",
            );
        }
        if !(p.kind.eq_ignore_ascii_case("STRING") || p.kind.eq_ignore_ascii_case("NUMBER")) {
            err(
                errs,
                format!("{pp}.type"),
                format!("unknown type \"{}\"", p.kind),
                "use \"STRING\" or \"NUMBER\"",
            );
        }
        if let (Some(min), Some(max)) = (p.min_length, p.max_length)
            && min > max
        {
            err(
                errs,
                format!("{pp}.min_length"),
                format!("min_length {min} is above max_length {max}"),
                "swap them",
            );
        }
        default_value(p, &pp, location, errs);
    }
}

fn default_value(p: &ParamSpec, pp: &str, location: Option<Location>, errs: &mut Errs) {
    let Some(d) = &p.default else {
        return;
    };
    let path = format!("{pp}.default");
    if p.required {
        err(
            errs,
            &path,
            "a required parameter never uses its default",
            "remove default or set required = false",
        );
    }
    if location == Some(Location::Path) {
        err(
            errs,
            &path,
            "a PATH parameter is always present",
            "remove default",
        );
    }
    let chars = d.chars().count();
    if p.min_length.is_some_and(|m| chars < m as usize)
        || p.max_length.is_some_and(|m| chars > m as usize)
    {
        err(
            errs,
            &path,
            "the default is outside min_length..=max_length",
            "shorten or lengthen the default",
        );
    }
    if p.kind.eq_ignore_ascii_case("NUMBER") && !is_number(d.as_bytes()) {
        err(
            errs,
            &path,
            format!("\"{d}\" is not a number"),
            "write a number, e.g. \"10\"",
        );
    }
    if d.bytes().any(|b| b < 0x20 || b == 0x7f) {
        err(
            errs,
            &path,
            "the default contains control characters",
            "remove them",
        );
    }
}

#[cfg(test)]
mod tests;
