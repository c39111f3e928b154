//! Validation of the API model (behaviour.md §5, §6.5, §8, §9, §17, §18):
//! stage names, stage variables, gateway-response sets, input parameters,
//! backend parameters and backend policies. Every documented constraint
//! becomes a `ConfigError` with its TOML path and a fix.

use std::collections::HashSet;

use super::super::error::ConfigError;
use super::super::spec::{
    ApiSpec, BackendSpec, ConditionSpec, GatewaySpec, GroupSpec, HttpBackendSpec, ParamSpec,
    PolicySpec, RELEASE,
};
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

type Errs = Vec<ConfigError>;

fn err(errs: &mut Errs, path: impl Into<String>, why: impl Into<String>, fix: impl Into<String>) {
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

fn known_stage(spec: &GatewaySpec, name: &str) -> bool {
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
        backend_params(h, &api.param, &format!("{ap}.backend"), errs);
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
        policy(pol, &api.param, captures, &pp, errs);
        if let BackendSpec::Http(h) = &pol.backend {
            backend_params(h, &api.param, &format!("{pp}.backend"), errs);
        }
    }
}

/// Name rules shared by input and backend parameters (§6.5, §9.1).
fn name_rules(name: &str, location: Option<Location>, path: &str, errs: &mut Errs) {
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

fn location_of(s: &str, path: String, errs: &mut Errs) -> Option<Location> {
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

fn backend_params(h: &HttpBackendSpec, inputs: &[ParamSpec], bp: &str, errs: &mut Errs) {
    if h.preserve_host && h.host_header.is_some() {
        err(
            errs,
            format!("{bp}.host_header"),
            "preserve_host and host_header both set the Host header",
            "keep one of them",
        );
    }
    if h.host_header
        .as_deref()
        .is_some_and(|v| v.is_empty() || v.bytes().any(|b| b <= 0x20 || b == 0x7f))
    {
        err(
            errs,
            format!("{bp}.host_header"),
            "not a host name",
            "write host[:port], e.g. \"api.internal\"",
        );
    }
    let mut seen = HashSet::new();
    let mut target = |name: &str, location: Option<Location>, path: String, errs: &mut Errs| {
        name_rules(name, location, &format!("{path}.name"), errs);
        if let Some(l) = location
            && !seen.insert((name.to_ascii_lowercase(), l as u8))
        {
            err(
                errs,
                format!("{path}.name"),
                format!("backend parameter \"{name}\" is set twice in one location"),
                "keep one",
            );
        }
    };
    for (i, p) in h.param.iter().enumerate() {
        let pp = format!("{bp}.param[{i}]");
        let location = location_of(&p.location, format!("{pp}.location"), errs);
        target(&p.name, location, pp.clone(), errs);
        match inputs.iter().find(|x| x.name.eq_ignore_ascii_case(&p.from)) {
            None => err(
                errs,
                format!("{pp}.from"),
                format!("\"{}\" is not an input parameter of the API", p.from),
                "define it under [[group.api.param]] first (behaviour.md §9.1)",
            ),
            Some(x)
                if location == Some(Location::Path)
                    && !x.required
                    && x.default.is_none()
                    && !x.location.eq_ignore_ascii_case("PATH") =>
            {
                err(
                    errs,
                    format!("{pp}.from"),
                    format!(
                        "optional input \"{}\" without a default cannot fill a path",
                        p.from
                    ),
                    "make the input required or give it a default",
                );
            }
            Some(_) => {}
        }
    }
    for (i, c) in h.constant.iter().enumerate() {
        let cp = format!("{bp}.constant[{i}]");
        let location = location_of(&c.location, format!("{cp}.location"), errs);
        target(&c.name, location, cp.clone(), errs);
        if location == Some(Location::Header)
            && c.value
                .bytes()
                .any(|b| (b < 0x20 && b != b'\t') || b == 0x7f)
        {
            err(
                errs,
                format!("{cp}.value"),
                "a HEADER constant contains control characters",
                "remove them",
            );
        }
        if location == Some(Location::Path) && (c.value == "." || c.value == "..") {
            err(
                errs,
                format!("{cp}.value"),
                "a PATH constant of . or .. would move the backend path",
                "use another value",
            );
        }
    }
    let targets = h.param.len() + h.constant.len() + h.system.len();
    if targets > MAX_PARAMS {
        err(
            errs,
            bp.to_string(),
            format!("{targets} backend parameters; at most {MAX_PARAMS}"),
            "remove backend parameters (behaviour.md §6.1: 50 parameters per API)",
        );
    }
    for (i, s) in h.system.iter().enumerate() {
        let sp = format!("{bp}.system[{i}]");
        let location = location_of(&s.location, format!("{sp}.location"), errs);
        target(&s.name, location, sp.clone(), errs);
        match crate::control::compile::parse_system(&s.from) {
            None => err(
                errs,
                format!("{sp}.from"),
                format!("unknown system parameter \"{}\"", s.from),
                "use sourceIp, stage, apiId, appId, requestId, authorizer.frontend.<key> or authorizer.backend.<key> (behaviour.md §9.3)",
            ),
            Some(
                crate::backend::SystemParam::Frontend(_) | crate::backend::SystemParam::Backend(_),
            ) => {
                err(
                    errs,
                    format!("{sp}.from"),
                    "authorizer context needs a custom authorizer on the API",
                    "configure custom authentication for this API (behaviour.md §11.9), or use a gateway parameter",
                );
            }
            Some(_) => {}
        }
    }
}

fn policy(pol: &PolicySpec, inputs: &[ParamSpec], captures: &[String], pp: &str, errs: &mut Errs) {
    if pol.name.trim().is_empty() {
        err(
            errs,
            format!("{pp}.name"),
            "policy name is empty",
            "name the policy",
        );
    }
    if !(pol.effective.eq_ignore_ascii_case("any") || pol.effective.eq_ignore_ascii_case("all")) {
        err(
            errs,
            format!("{pp}.effective"),
            format!("unknown mode \"{}\"", pol.effective),
            "use \"any\" or \"all\" (behaviour.md §8.1)",
        );
    }
    if pol.condition.is_empty() {
        err(
            errs,
            format!("{pp}.condition"),
            "the policy has no condition",
            "add [[group.api.policy.condition]] (behaviour.md §8.2)",
        );
    }
    for (c, cond) in pol.condition.iter().enumerate() {
        condition(
            cond,
            inputs,
            captures,
            &format!("{pp}.condition[{c}]"),
            errs,
        );
    }
}

fn condition(
    c: &ConditionSpec,
    inputs: &[ParamSpec],
    captures: &[String],
    cp: &str,
    errs: &mut Errs,
) {
    match c.source.as_str() {
        "source_ip" => {
            if c.value.items().iter().all(|v| v.is_empty()) {
                err(
                    errs,
                    format!("{cp}.value"),
                    "no address is listed",
                    "list addresses or networks, e.g. [\"10.0.0.0/8\"]",
                );
            }
            for v in c.value.items().into_iter().filter(|v| !v.is_empty()) {
                if crate::control::compile::parse_net(&v).is_none() {
                    err(
                        errs,
                        format!("{cp}.value"),
                        format!("\"{v}\" is not an IP address or CIDR"),
                        "write addresses or networks, e.g. [\"10.0.0.0/8\", \"::1\"]",
                    );
                }
            }
        }
        "param" => {
            let name = c.param.as_deref().unwrap_or_default();
            let defined = inputs.iter().any(|p| p.name.eq_ignore_ascii_case(name))
                || captures.iter().any(|p| p.eq_ignore_ascii_case(name));
            if !defined {
                err(
                    errs,
                    format!("{cp}.param"),
                    format!("\"{name}\" is not an input parameter of the API"),
                    "conditions may only use parameters defined in the API request (behaviour.md §8.2)",
                );
            }
            let kind = c.kind.as_deref().unwrap_or("equal");
            // Compiled on its own first, so `a)|(b` cannot escape the
            // anchors compile adds around it.
            if kind == "match"
                && let super::super::spec::ValueSpec::One(pattern) = &c.value
                && let Err(e) = regex::bytes::Regex::new(pattern)
            {
                err(
                    errs,
                    format!("{cp}.value"),
                    format!("the regular expression does not compile: {e}"),
                    "write a Rust regex (RE2 syntax), e.g. \"[0-5]\"; it must match the whole value",
                );
            }
            if !matches!(kind, "equal" | "enum" | "match") {
                err(
                    errs,
                    format!("{cp}.type"),
                    format!("unknown condition type \"{kind}\""),
                    "use \"equal\", \"enum\" or \"match\"",
                );
            }
        }
        "authorizer" => err(
            errs,
            format!("{cp}.source"),
            "authorizer conditions need a frontend custom authorizer on the API",
            "configure custom authentication for this API (behaviour.md §8.2, §11.9), or use source = \"param\"",
        ),
        other => err(
            errs,
            format!("{cp}.source"),
            format!("unknown source \"{other}\""),
            "use \"source_ip\", \"param\" or \"authorizer\"",
        ),
    }
}

#[cfg(test)]
mod tests {
    use crate::control::load;

    /// The error paths `load` reports for an API body added to a DEFAULT group.
    fn errors(api: &str) -> Vec<String> {
        let toml = format!(
            "[[listener]]\naddress = \"127.0.0.1:0\"\n[[stage]]\nname = \"DEV\"\n[[group]]\nname = \"DEFAULT\"\n{api}"
        );
        match load(&toml) {
            Ok(_) => Vec::new(),
            Err(errs) => errs.into_iter().map(|e| e.path).collect(),
        }
    }

    const MOCK: &str = "[group.api.backend]\ntype = \"mock\"\n";

    #[test]
    fn parameter_naming_rules_of_6_5() {
        for (name, location) in [
            ("x-apig-mode", "QUERY"),
            ("X-Sdk-Date", "HEADER"),
            ("x-stage", "QUERY"),
            ("Authorization", "HEADER"),
            ("X-Auth-Token", "HEADER"),
            ("user_id", "HEADER"),
            ("Content-Length", "HEADER"),
            ("Host", "HEADER"),
        ] {
            let api = format!(
                "[[group.api]]\nname = \"a\"\nmethod = \"GET\"\npath = \"/a\"\n[[group.api.param]]\nname = \"{name}\"\nlocation = \"{location}\"\n{MOCK}"
            );
            assert_eq!(
                errors(&api),
                vec!["group[0].api[0].param[0].name"],
                "{name}"
            );
        }
        // Underscores are fine outside headers.
        let ok = format!(
            "[[group.api]]\nname = \"a\"\nmethod = \"GET\"\npath = \"/a\"\n[[group.api.param]]\nname = \"user_id\"\nlocation = \"QUERY\"\n{MOCK}"
        );
        assert!(errors(&ok).is_empty());
    }

    #[test]
    fn policy_count_and_unknown_stage() {
        let mut api = String::from(
            "[[group.api]]\nname = \"a\"\nmethod = \"GET\"\npath = \"/a\"\nstages = [\"QA\"]\n",
        );
        api += MOCK;
        for i in 0..6 {
            api += &format!(
                "[[group.api.policy]]\nname = \"p{i}\"\ncondition = [{{ source = \"source_ip\", value = \"10.0.0.{i}\" }}]\nbackend = {{ type = \"mock\" }}\n"
            );
        }
        let errs = errors(&api);
        assert!(
            errs.contains(&"group[0].api[0].stages[0]".to_string()),
            "{errs:?}"
        );
        assert!(
            errs.contains(&"group[0].api[0].policy".to_string()),
            "{errs:?}"
        );
    }

    #[test]
    fn undefined_stage_variable_is_reported_per_stage() {
        // behaviour.md §5.2: every stage the API is published in must define it.
        let api = "[group.variables.RELEASE]\nhost = \"127.0.0.1:1\"\n[[group.api]]\nname = \"a\"\nmethod = \"GET\"\npath = \"/a\"\nstages = [\"RELEASE\", \"DEV\"]\n[group.api.backend]\ntype = \"http\"\naddress = \"#host#\"\n";
        assert_eq!(errors(api), vec!["group[0].api[0].backend.address"]);
        let fixed = api.replace(
            "[[group.api]]",
            "[group.variables.DEV]\nhost = \"127.0.0.1:2\"\n[[group.api]]",
        );
        assert!(errors(&fixed).is_empty());
    }
}
