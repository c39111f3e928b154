//! Validation of backend policies (behaviour.md §8): mode, conditions,
//! their sources, parameters, types and values.

use super::super::spec::{ConditionSpec, ParamSpec, PolicySpec};
use super::model::{Errs, err};

pub(super) fn policy(
    pol: &PolicySpec,
    inputs: &[ParamSpec],
    captures: &[String],
    pp: &str,
    errs: &mut Errs,
) {
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
        "param" | "authorizer" => {
            let name = c.param.as_deref().unwrap_or_default();
            let defined = inputs.iter().any(|p| p.name.eq_ignore_ascii_case(name))
                || captures.iter().any(|p| p.eq_ignore_ascii_case(name));
            // An authorizer condition needs a frontend authorizer on the
            // API: checked with the API's authentication (validate/authorizers.rs).
            if c.source == "authorizer" {
                if !crate::policy::auth::authorizer::context_key_ok(name) {
                    err(
                        errs,
                        format!("{cp}.param"),
                        format!("\"{name}\" is not a valid authorizer context key"),
                        "name a key of the authorizer's context: 1-32 letters, digits, - or _, starting with a letter (behaviour.md §11.9.3)",
                    );
                }
            } else if !defined {
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
        other => err(
            errs,
            format!("{cp}.source"),
            format!("unknown source \"{other}\""),
            "use \"source_ip\", \"param\" or \"authorizer\"",
        ),
    }
}
