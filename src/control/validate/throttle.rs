//! `[[throttle]]` and `[[throttle2]]` policies and an API's `throttle` /
//! `throttle2` bindings (behaviour.md §13–§14). Condition trees are
//! checked where they are compiled (`compile::throttle`), which resolves
//! their parameters against each bound API.

use std::collections::HashSet;

use super::super::error::ConfigError;
use super::super::spec::{ApiSpec, BasicLimits, GatewaySpec};
use super::model::known_stage;
use crate::policy::throttle::policy::Unit;

/// Most excluded (special) apps, and tenants, per policy (§13.3).
pub const MAX_SPECIALS: usize = 30;
/// Most parameter rules per 2.0 policy (§14.1).
pub const MAX_RULES: usize = 100;
/// Largest limit: counts are kept in 32 bits per window.
pub const MAX_LIMIT: u64 = 1_000_000_000;
/// Longest period: a year of seconds.
pub const MAX_PERIOD_SECONDS: u64 = 366 * 86_400;
/// Smallest and largest per-key table.
pub const KEY_SLOTS: std::ops::RangeInclusive<usize> = 64..=16 * 1024 * 1024;
/// Most memory all policies' per-key tables may take together.
pub const MAX_TABLE_BYTES: usize = 1 << 30;
/// Bytes of one slot of a per-key table (a tag and two counts).
const SLOT_BYTES: usize = 24;

pub(super) fn throttles(spec: &GatewaySpec, errs: &mut Vec<ConfigError>) {
    let mut names = HashSet::new();
    let mut name = |at: &str, name: &str, errs: &mut Vec<ConfigError>| {
        if name.trim().is_empty() || !names.insert(name.to_owned()) {
            errs.push(ConfigError::new(
                format!("{at}.name"),
                format!("policy name \"{name}\" is empty or used twice"),
                "give every [[throttle]] and [[throttle2]] its own name",
            ));
        }
    };
    for (i, t) in spec.throttle.iter().enumerate() {
        let at = format!("throttle[{i}]");
        name(&at, &t.name, errs);
        basic(&at, t.basic(), errs);
    }
    for (i, t) in spec.throttle2.iter().enumerate() {
        let at = format!("throttle2[{i}]");
        name(&at, &t.name, errs);
        if t.rule.len() > MAX_RULES {
            errs.push(ConfigError::new(
                format!("{at}.rule"),
                format!(
                    "{} rules; at most {MAX_RULES} are allowed (§14.1)",
                    t.rule.len()
                ),
                "merge rules with `any` conditions, or split the APIs over two policies",
            ));
        }
        for (r, rule) in t.rule.iter().enumerate() {
            let rp = format!("{at}.rule[{r}]");
            limit_range(&format!("{rp}.limit"), rule.limit, errs);
            let unit = rule.unit.as_deref().unwrap_or(&t.unit);
            period(&rp, rule.period.unwrap_or(t.period), unit, errs);
            if rule.key_by.len() > 8 {
                errs.push(ConfigError::new(
                    format!("{rp}.key_by"),
                    format!("{} parameters; at most 8 are allowed", rule.key_by.len()),
                    "count by fewer parameters",
                ));
            }
        }
        basic(&at, t.basic(), errs);
    }
    table_memory(spec, errs);
    let s = &spec.settings;
    if s.default_api_rate_limit > MAX_LIMIT {
        errs.push(ConfigError::new(
            "settings.default_api_rate_limit",
            format!("{} is above {MAX_LIMIT}", s.default_api_rate_limit),
            "set requests per second per API, or 0 to turn the default limit off",
        ));
    }
}

/// The per-key tables of all policies together stay under
/// [`MAX_TABLE_BYTES`]: they are allocated at load, whatever the traffic.
fn table_memory(spec: &GatewaySpec, errs: &mut Vec<ConfigError>) {
    let bytes = |slots: usize, tables: usize| {
        let slots = slots.clamp(*KEY_SLOTS.start(), *KEY_SLOTS.end());
        slots.next_power_of_two() * SLOT_BYTES * tables
    };
    let dims = |b: BasicLimits<'_>| b.limits.iter().filter(|l| l.is_some()).count();
    let classic = (spec.throttle.iter().enumerate()).map(|(i, t)| {
        let tables = dims(t.basic());
        (
            format!("throttle[{i}].key_slots"),
            bytes(t.key_slots, tables),
        )
    });
    let v2 = (spec.throttle2.iter().enumerate()).map(|(i, t)| {
        let keyed = t.rule.iter().filter(|r| !r.key_by.is_empty()).count();
        let tables = dims(t.basic()) + keyed;
        (
            format!("throttle2[{i}].key_slots"),
            bytes(t.key_slots, tables),
        )
    });
    let all: Vec<(String, usize)> = classic.chain(v2).collect();
    let total: usize = all.iter().map(|(_, b)| b).sum();
    if total > MAX_TABLE_BYTES
        && let Some((at, largest)) = all.iter().max_by_key(|(_, b)| *b)
    {
        errs.push(ConfigError::new(
            at.clone(),
            format!(
                "the per-key tables of all policies need {} MiB (this one {} MiB); at most {} MiB",
                total >> 20,
                largest >> 20,
                MAX_TABLE_BYTES >> 20
            ),
            "lower key_slots (each slot is 24 bytes; one table per user, app or IP limit and per key_by rule)",
        ));
    }
}

fn limit_range(at: &str, limit: u64, errs: &mut Vec<ConfigError>) {
    if !(1..=MAX_LIMIT).contains(&limit) {
        errs.push(ConfigError::new(
            at,
            format!("{limit} is not between 1 and {MAX_LIMIT}"),
            "set the requests admitted per period",
        ));
    }
}

fn period(at: &str, n: u32, unit: &str, errs: &mut Vec<ConfigError>) {
    match Unit::parse(unit) {
        None => errs.push(ConfigError::new(
            format!("{at}.unit"),
            format!("unknown unit \"{unit}\""),
            "use \"second\", \"minute\", \"hour\" or \"day\"",
        )),
        Some(u) if n == 0 || u64::from(n) * u.seconds() > MAX_PERIOD_SECONDS => {
            errs.push(ConfigError::new(
                format!("{at}.period"),
                format!("a period of {n} {unit} is not between 1 second and 366 days"),
                "set period to how many units one window lasts, e.g. period = 10, unit = \"second\"",
            ));
        }
        Some(_) => {}
    }
}

/// Scope, period, limits, their ordering (§13.1, §27 C16) and
/// exclusions (§13.3).
fn basic(at: &str, b: BasicLimits<'_>, errs: &mut Vec<ConfigError>) {
    let (scope_key, scope) = b.scope;
    if scope != "api" && scope != "shared" {
        errs.push(ConfigError::new(
            format!("{at}.{scope_key}"),
            format!("unknown {scope_key} \"{scope}\""),
            "use \"api\" (each bound API counted alone) or \"shared\" (all bound APIs of a stage count together)",
        ));
    }
    period(at, b.period, b.unit, errs);
    limit_range(&format!("{at}.api_limit"), b.api_limit, errs);
    let mut under = |key: &str, value: Option<u64>, bound_key: &str, bound: u64| {
        let Some(v) = value else { return };
        limit_range(&format!("{at}.{key}"), v, errs);
        if v > bound {
            errs.push(ConfigError::new(
                format!("{at}.{key}"),
                format!("{key} {v} is above {bound_key} {bound}"),
                format!("lower {key} to at most {bound} (behaviour.md §13.1)"),
            ));
        }
    };
    let [user, app, ip] = b.limits;
    under("user_limit", user, "api_limit", b.api_limit);
    match user {
        Some(user) => under("app_limit", app, "user_limit", user),
        None => under("app_limit", app, "api_limit", b.api_limit),
    }
    under("ip_limit", ip, "api_limit", b.api_limit);
    for (key, specials) in [b.special_apps, b.special_tenants] {
        if specials.len() > MAX_SPECIALS {
            errs.push(ConfigError::new(
                format!("{at}.{key}"),
                format!(
                    "{} entries; at most {MAX_SPECIALS} are allowed (§13.3)",
                    specials.len()
                ),
                "keep the 30 that need their own threshold",
            ));
        }
        for (id, &v) in specials {
            let vp = format!("{at}.{key}.{id}");
            if id.is_empty() {
                errs.push(ConfigError::new(
                    vp.clone(),
                    "an empty ID",
                    "name the app or tenant",
                ));
            }
            if !(1..=b.api_limit).contains(&v) {
                errs.push(ConfigError::new(
                    vp,
                    format!("threshold {v} is not between 1 and api_limit {}", b.api_limit),
                    "a special threshold may exceed the user or app limit it replaces, never the API limit (behaviour.md §13.3)",
                ));
            }
        }
    }
    if !KEY_SLOTS.contains(&b.key_slots) {
        errs.push(ConfigError::new(
            format!("{at}.key_slots"),
            format!(
                "{} is not between {} and {}",
                b.key_slots,
                KEY_SLOTS.start(),
                KEY_SLOTS.end()
            ),
            "size each per-key table for the keys (IPs, tenants, apps) active in two periods; each slot is 24 bytes",
        ));
    }
}

/// An API's `throttle` and `throttle2` bindings: known stages the API is
/// published in, and existing policies of the right kind.
pub(super) fn api_throttle(
    spec: &GatewaySpec,
    api: &ApiSpec,
    ap: &str,
    errs: &mut Vec<ConfigError>,
) {
    let kinds = [
        (
            "throttle",
            &api.throttle,
            spec.throttle.iter().map(|t| &t.name).collect::<Vec<_>>(),
        ),
        (
            "throttle2",
            &api.throttle2,
            spec.throttle2.iter().map(|t| &t.name).collect(),
        ),
    ];
    for (key, bound, names) in kinds {
        for (stage, name) in bound {
            let at = format!("{ap}.{key}.{stage}");
            if !known_stage(spec, stage) {
                errs.push(ConfigError::new(
                    at.clone(),
                    format!("no [[stage]] is named \"{stage}\""),
                    "add the [[stage]] or bind the policy in a stage the API is published in",
                ));
            } else if !api.stages.contains(stage) {
                errs.push(ConfigError::new(
                    at.clone(),
                    format!("the API is not published in stage \"{stage}\""),
                    "bind policies in the stages listed in the API's stages (one per stage, §13.2)",
                ));
            }
            if !names.contains(&name) {
                errs.push(ConfigError::new(
                    at,
                    format!("no [[{key}]] is named \"{name}\""),
                    format!("add the [[{key}]] or fix the name"),
                ));
            }
        }
    }
}
