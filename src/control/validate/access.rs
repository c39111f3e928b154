//! `[[acl]]` (IP and account policies), an API's `acl` bindings and the
//! real-IP settings (behaviour.md §15–§16).

use std::collections::HashSet;

use super::super::error::ConfigError;
use super::super::spec::{ApiSpec, GatewaySpec};
use super::model::known_stage;
use crate::policy::acl::IpEntry;

/// Most entries per policy (§15).
pub const MAX_ACL_VALUES: usize = 100;

pub(super) fn acls(spec: &GatewaySpec, errs: &mut Vec<ConfigError>) {
    let mut names = HashSet::new();
    for (i, acl) in spec.acl.iter().enumerate() {
        let at = format!("acl[{i}]");
        if acl.name.trim().is_empty() || !names.insert(acl.name.as_str()) {
            errs.push(ConfigError::new(
                format!("{at}.name"),
                format!("policy name \"{}\" is empty or used twice", acl.name),
                "give every [[acl]] its own name",
            ));
        }
        let ip = match acl.kind.as_str() {
            "ip" => Some(true),
            "account" => Some(false),
            other => {
                errs.push(ConfigError::new(
                    format!("{at}.type"),
                    format!("unknown access-control type \"{other}\""),
                    "use \"ip\" (addresses) or \"account\" (account names of token-authenticated callers)",
                ));
                None
            }
        };
        if acl.effect != "allow" && acl.effect != "deny" {
            errs.push(ConfigError::new(
                format!("{at}.effect"),
                format!("unknown effect \"{}\"", acl.effect),
                "use \"allow\" (only these) or \"deny\" (all but these)",
            ));
        }
        if acl.values.is_empty() || acl.values.len() > MAX_ACL_VALUES {
            errs.push(ConfigError::new(
                format!("{at}.values"),
                format!(
                    "{} entries; 1 to {MAX_ACL_VALUES} are allowed",
                    acl.values.len()
                ),
                if ip == Some(false) {
                    "list account names (behaviour.md §15)"
                } else {
                    "list addresses, CIDRs or first-last ranges (behaviour.md §15)"
                },
            ));
        }
        for (v, value) in acl.values.iter().enumerate() {
            let vp = format!("{at}.values[{v}]");
            if ip == Some(true) && IpEntry::parse(value).is_none() {
                errs.push(ConfigError::new(
                    vp,
                    format!("\"{value}\" is not an address, CIDR or range"),
                    "write e.g. \"10.0.0.1\", \"10.0.0.0/8\", \"10.0.0.1-10.0.0.50\" or \"2001:db8::/32\"",
                ));
            } else if ip == Some(false) && !is_account_name(value) {
                errs.push(ConfigError::new(
                    vp,
                    format!("\"{value}\" is not an account name"),
                    "write one account per string, without commas, spaces at the ends or control characters: [\"aaa\", \"bbb\"]",
                ));
            }
        }
    }
    let s = &spec.settings;
    for (i, p) in s.trusted_proxies.iter().enumerate() {
        if p.parse::<ipnet::IpNet>().is_err() && p.parse::<std::net::IpAddr>().is_err() {
            errs.push(ConfigError::new(
                format!("settings.trusted_proxies[{i}]"),
                format!("\"{p}\" is not an address or CIDR"),
                "list the proxies in front of the gateway, e.g. \"10.0.0.0/8\"",
            ));
        }
    }
    if s.real_ip_index == 0 {
        errs.push(ConfigError::new(
            "settings.real_ip_index",
            "0 names no X-Forwarded-For entry",
            "use 1 for the left-most entry, -1 for the right-most (behaviour.md §16)",
        ));
    }
}

/// Account names as the console takes them (§15: comma-separated there,
/// so one name has no comma).
fn is_account_name(name: &str) -> bool {
    !name.is_empty()
        && name.trim() == name
        && !name.contains(',')
        && !name.chars().any(char::is_control)
}

/// An API's `acl` bindings: known stages and policies; account policies
/// only on token-authenticated APIs (§15: "Only applies to
/// IAM-authenticated APIs").
pub(super) fn api_acl(spec: &GatewaySpec, api: &ApiSpec, ap: &str, errs: &mut Vec<ConfigError>) {
    for (stage, name) in &api.acl {
        let at = format!("{ap}.acl.{stage}");
        if !known_stage(spec, stage) || !api.stages.contains(stage) {
            errs.push(ConfigError::new(
                at.clone(),
                format!("the API is not published in stage \"{stage}\""),
                "bind policies in the stages listed in the API's stages",
            ));
        }
        match spec.acl.iter().find(|a| &a.name == name) {
            None => errs.push(ConfigError::new(
                at,
                format!("no [[acl]] is named \"{name}\""),
                "add the [[acl]] or fix the name",
            )),
            Some(acl) if acl.kind == "account" && api.auth.kind != "token" => {
                errs.push(ConfigError::new(
                    at,
                    format!("\"{name}\" is an account policy, but the API does not use token authentication"),
                    "account policies apply only to token-authenticated APIs (behaviour.md §15): set [group.api.auth] type = \"token\", or bind an IP policy",
                ));
            }
            Some(_) => {}
        }
    }
}

/// `[[signature_key]]` (§12): unique names, usable key and secret.
pub(super) fn signature_keys(spec: &GatewaySpec, errs: &mut Vec<ConfigError>) {
    let mut names = HashSet::new();
    for (i, k) in spec.signature_key.iter().enumerate() {
        let at = format!("signature_key[{i}]");
        if k.name.trim().is_empty() || !names.insert(k.name.as_str()) {
            errs.push(ConfigError::new(
                format!("{at}.name"),
                format!("signature key name \"{}\" is empty or used twice", k.name),
                "give every [[signature_key]] its own name",
            ));
        }
        if k.key.is_empty() || !k.key.bytes().all(|b| b.is_ascii_graphic() && b != b',') {
            errs.push(ConfigError::new(
                format!("{at}.key"),
                "the key is empty or not printable ASCII without commas",
                "use letters and digits, e.g. 32 hex digits",
            ));
        }
        if k.secret.is_empty() {
            errs.push(ConfigError::new(
                format!("{at}.secret"),
                "the secret is empty",
                "set secret to a random string (e.g. 32 hex digits)",
            ));
        }
    }
}

/// An API's `signature_key` bindings.
pub(super) fn api_signature_key(
    spec: &GatewaySpec,
    api: &ApiSpec,
    ap: &str,
    errs: &mut Vec<ConfigError>,
) {
    for (stage, name) in &api.signature_key {
        let at = format!("{ap}.signature_key.{stage}");
        if !known_stage(spec, stage) || !api.stages.contains(stage) {
            errs.push(ConfigError::new(
                at.clone(),
                format!("the API is not published in stage \"{stage}\""),
                "bind keys in the stages listed in the API's stages",
            ));
        }
        if !spec.signature_key.iter().any(|k| &k.name == name) {
            errs.push(ConfigError::new(
                at,
                format!("no [[signature_key]] is named \"{name}\""),
                "add the [[signature_key]] or fix the name",
            ));
        }
    }
}
