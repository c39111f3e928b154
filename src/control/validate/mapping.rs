//! Validation of backend parameters (behaviour.md §7.2, §9): the Host
//! rules, mapped inputs, constants and system parameters.

use std::collections::HashSet;

use super::super::spec::{HttpBackendSpec, ParamSpec};
use super::model::{Errs, MAX_PARAMS, err, location_of, name_rules};
use crate::policy::params::Location;

/// Names already given to a backend parameter, per location.
#[derive(Default)]
struct Targets(HashSet<(String, u8)>);

impl Targets {
    /// Checks a target's name rules and that it is not given twice.
    fn check(&mut self, name: &str, location: Option<Location>, path: &str, errs: &mut Errs) {
        name_rules(name, location, &format!("{path}.name"), errs);
        if let Some(l) = location
            && !self.0.insert((name.to_ascii_lowercase(), l as u8))
        {
            err(
                errs,
                format!("{path}.name"),
                format!("backend parameter \"{name}\" is set twice in one location"),
                "keep one",
            );
        }
    }
}

/// Every backend-parameter rule of an HTTP backend.
pub(super) fn backend_params(h: &HttpBackendSpec, inputs: &[ParamSpec], bp: &str, errs: &mut Errs) {
    host(h, bp, errs);
    let mut targets = Targets::default();
    mapped(h, inputs, bp, &mut targets, errs);
    constants(h, bp, &mut targets, errs);
    systems(h, bp, &mut targets, errs);
    let count = h.param.len() + h.constant.len() + h.system.len();
    if count > MAX_PARAMS {
        err(
            errs,
            bp.to_string(),
            format!("{count} backend parameters; at most {MAX_PARAMS}"),
            "remove backend parameters (behaviour.md §6.1: 50 parameters per API)",
        );
    }
}

fn host(h: &HttpBackendSpec, bp: &str, errs: &mut Errs) {
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
}

fn mapped(
    h: &HttpBackendSpec,
    inputs: &[ParamSpec],
    bp: &str,
    targets: &mut Targets,
    errs: &mut Errs,
) {
    for (i, p) in h.param.iter().enumerate() {
        let pp = format!("{bp}.param[{i}]");
        let location = location_of(&p.location, format!("{pp}.location"), errs);
        targets.check(&p.name, location, &pp, errs);
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
}

fn constants(h: &HttpBackendSpec, bp: &str, targets: &mut Targets, errs: &mut Errs) {
    for (i, c) in h.constant.iter().enumerate() {
        let cp = format!("{bp}.constant[{i}]");
        let location = location_of(&c.location, format!("{cp}.location"), errs);
        targets.check(&c.name, location, &cp, errs);
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
}

fn systems(h: &HttpBackendSpec, bp: &str, targets: &mut Targets, errs: &mut Errs) {
    for (i, s) in h.system.iter().enumerate() {
        let sp = format!("{bp}.system[{i}]");
        let location = location_of(&s.location, format!("{sp}.location"), errs);
        targets.check(&s.name, location, &sp, errs);
        // Authorizer keys are checked against the API's and backend's
        // authorizers in validate/authorizers.rs.
        if crate::control::compile::parse_system(&s.from).is_none() {
            err(
                errs,
                format!("{sp}.from"),
                format!("unknown system parameter \"{}\"", s.from),
                "use sourceIp, stage, apiId, appId, requestId, tenantId, userId, accountName, authorizer.frontend.<key> or authorizer.backend.<key> (behaviour.md §9.3)",
            );
        }
    }
}
