//! `[[throttle]]` and `[[throttle2]]` into [`Policy`]s, and an API's
//! bindings into per-stage [`Binding`]s (behaviour.md §13–§14).
//!
//! Counters are handed over from a previous snapshot ([`ThrottleCarry`])
//! wherever the policy's definition is unchanged, so a reload does not
//! reset the limits of policies it did not touch; a changed policy
//! starts from zero.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use super::super::error::ConfigError;
use super::super::spec::{
    ApiSpec, AppSpec, BasicLimits, ConditionTreeSpec, GatewaySpec, Throttle2Spec,
    ThrottleParamSpec, ThrottleSpec,
};
use super::super::validate::KEY_SLOTS;
use crate::policy::throttle::global::PaddedCounter;
use crate::policy::throttle::policy::{
    Binding, Condition, Definition, Limit, Period, Policy, Rule, ScopeCounters, Tables, Unit, Var,
};
use crate::route::StageTable;
use crate::snapshot::Snapshot;

/// Deepest condition tree (groups within groups).
const MAX_DEPTH: usize = 8;

/// The counters of a previous snapshot, for a reload to keep.
#[derive(Debug, Default)]
pub struct ThrottleCarry {
    policies: HashMap<Box<str>, Arc<Policy>>,
    scopes: HashMap<(Box<str>, Box<str>), Arc<ScopeCounters>>,
    defaults: HashMap<Box<str>, Arc<PaddedCounter>>,
}

impl ThrottleCarry {
    /// Everything `snap` counts with: its policies, each bound scope's
    /// counters, and each API's default-limit counter.
    pub fn from_snapshot(snap: &Snapshot) -> ThrottleCarry {
        let mut carry = ThrottleCarry::default();
        for api in &snap.apis {
            carry
                .defaults
                .insert(api.id.clone(), Arc::clone(&api.rate_all));
            for b in api.throttle.iter().flatten() {
                let name = b.policy.name.clone();
                carry.policies.insert(name.clone(), Arc::clone(&b.policy));
                carry
                    .scopes
                    .insert((name, b.scope.clone()), Arc::clone(&b.counters));
            }
        }
        carry
    }
}

/// The compiled policies and the scopes bound so far.
pub(super) struct ThrottleCx<'a> {
    classic: BTreeMap<String, Compiled>,
    v2: BTreeMap<String, Compiled>,
    scopes: HashMap<(Box<str>, Box<str>), Arc<ScopeCounters>>,
    carry: &'a ThrottleCarry,
}

/// A compiled policy and the path parameters its rules read, by ordinal.
struct Compiled {
    policy: Arc<Policy>,
    paths: Vec<String>,
}

impl<'a> ThrottleCx<'a> {
    /// Compiles every policy of `spec`.
    pub fn new(
        spec: &GatewaySpec,
        carry: &'a ThrottleCarry,
        errs: &mut Vec<ConfigError>,
    ) -> ThrottleCx<'a> {
        let mut cx = ThrottleCx {
            classic: BTreeMap::new(),
            v2: BTreeMap::new(),
            scopes: HashMap::new(),
            carry,
        };
        for t in &spec.throttle {
            let def = classic(t, &spec.app);
            let compiled = cx.policy(&t.name, false, def, Vec::new());
            cx.classic.insert(t.name.clone(), compiled);
        }
        for (i, t) in spec.throttle2.iter().enumerate() {
            let at = format!("throttle2[{i}]");
            let mut paths = Vec::new();
            let def = v2(t, &spec.app, &mut paths, &at, errs);
            let compiled = cx.policy(&t.name, true, def, paths);
            cx.v2.insert(t.name.clone(), compiled);
        }
        cx
    }

    /// The policy, with the previous snapshot's tables when unchanged.
    fn policy(&self, name: &str, v2: bool, def: Definition, paths: Vec<String>) -> Compiled {
        let mut policy = Policy {
            name: name.into(),
            v2,
            tables: Arc::new(Tables::new(&def)),
            def,
        };
        if let Some(old) = self.carry.policies.get(name)
            && old.same_definition(&policy)
        {
            policy.tables = Arc::clone(&old.tables);
        }
        Compiled {
            policy: Arc::new(policy),
            paths,
        }
    }

    /// The API's bindings by stage: its 2.0 policy where it has one, else
    /// its classic policy (§14.1).
    pub fn bind(
        &mut self,
        api: &ApiSpec,
        api_id: &str,
        captures: &[String],
        stages: &StageTable,
        ap: &str,
        errs: &mut Vec<ConfigError>,
    ) -> Vec<Option<Binding>> {
        let mut out = vec![None; stages.len()];
        for (stage, slot) in stages_of(stages).zip(out.iter_mut()) {
            let (key, name, compiled) = match (api.throttle2.get(stage), api.throttle.get(stage)) {
                (Some(name), _) => ("throttle2", name, self.v2.get(name)),
                (None, Some(name)) => ("throttle", name, self.classic.get(name)),
                (None, None) => continue,
            };
            let Some(compiled) = compiled else {
                continue; // reported by validate
            };
            let mut map = Vec::with_capacity(compiled.paths.len());
            for p in &compiled.paths {
                match captures.iter().position(|c| c.eq_ignore_ascii_case(p)) {
                    Some(i) => map.push(i as u8),
                    None => errs.push(ConfigError::new(
                        format!("{ap}.{key}.{stage}"),
                        format!("policy \"{name}\" reads path parameter \"{p}\", but the API's path has no {{{p}}}"),
                        "bind the policy to APIs whose path declares the parameter, or read it another way",
                    )),
                }
            }
            let policy = Arc::clone(&compiled.policy);
            let scope = if policy.def.shared {
                stage.to_owned()
            } else {
                format!("{api_id}\n{stage}")
            };
            let counters = self.scope(&policy, &scope);
            *slot = Some(Binding::new(policy, counters, &scope, map.into()));
        }
        out
    }

    /// The counters of `scope`: already bound (API-shared), kept from the
    /// previous snapshot, or new.
    fn scope(&mut self, policy: &Arc<Policy>, scope: &str) -> Arc<ScopeCounters> {
        let key: (Box<str>, Box<str>) = (policy.name.clone(), scope.into());
        if let Some(c) = self.scopes.get(&key) {
            return Arc::clone(c);
        }
        let kept = self.carry.policies.get(&policy.name).and_then(|old| {
            if !old.same_definition(policy) {
                return None;
            }
            self.carry.scopes.get(&key).cloned()
        });
        let counters = kept.unwrap_or_else(|| Arc::new(ScopeCounters::new(&policy.def)));
        self.scopes.insert(key, Arc::clone(&counters));
        counters
    }

    /// The counter of the API's default limit, kept across a reload.
    pub fn default_counter(&self, api_id: &str) -> Arc<PaddedCounter> {
        match self.carry.defaults.get(api_id) {
            Some(c) => Arc::clone(c),
            None => Arc::default(),
        }
    }
}

/// Stage names in id order.
fn stages_of(stages: &StageTable) -> impl Iterator<Item = &str> {
    (0..stages.len()).map(|s| stages.name(s as crate::route::StageId))
}

fn period(n: u32, unit: &str) -> Period {
    Period {
        n: n.max(1),
        unit: Unit::parse(unit).unwrap_or(Unit::Second),
    }
}

/// Special apps by app ID: an `[[app]]` name becomes that app's ID.
fn special_apps(named: &BTreeMap<String, u64>, apps: &[AppSpec]) -> Box<[(Box<str>, u64)]> {
    named
        .iter()
        .map(|(name, &max)| {
            let id = apps
                .iter()
                .find(|a| &a.name == name)
                .map_or(name.as_str(), |a| a.id.as_deref().unwrap_or(&a.name));
            (id.into(), max)
        })
        .collect()
}

fn tenants(named: &BTreeMap<String, u64>) -> Box<[(Box<str>, u64)]> {
    named
        .iter()
        .map(|(t, &max)| (t.as_str().into(), max))
        .collect()
}

fn definition(b: BasicLimits<'_>, apps: &[AppSpec], rules: Box<[Rule]>) -> Definition {
    let period = period(b.period, b.unit);
    let limit = |max: u64| Limit { max, period };
    let [user, app, ip] = b.limits;
    Definition {
        shared: b.scope.1 == "shared",
        api: limit(b.api_limit),
        user: user.map(limit),
        app: app.map(limit),
        ip: ip.map(limit),
        special_apps: special_apps(b.special_apps.1, apps),
        special_tenants: tenants(b.special_tenants.1),
        rules,
        // Validated; clamped so that a config `check` rejects cannot
        // allocate without bound while compiling for more errors.
        key_slots: b.key_slots.clamp(*KEY_SLOTS.start(), *KEY_SLOTS.end()),
    }
}

fn classic(t: &ThrottleSpec, apps: &[AppSpec]) -> Definition {
    definition(t.basic(), apps, Box::new([]))
}

fn v2(
    t: &Throttle2Spec,
    apps: &[AppSpec],
    paths: &mut Vec<String>,
    at: &str,
    errs: &mut Vec<ConfigError>,
) -> Definition {
    let mut vars = Vars {
        params: &t.param,
        paths,
        at,
        errs,
    };
    vars.check_params();
    let rules = (t.rule.iter().enumerate())
        .map(|(r, rule)| {
            let rp = format!("{at}.rule[{r}]");
            let condition = vars.condition(&rule.condition, &format!("{rp}.condition"), 0);
            let key_by = (rule.key_by.iter().enumerate())
                .filter_map(|(k, name)| vars.var(name, &format!("{rp}.key_by[{k}]")))
                .collect();
            let unit = rule.unit.as_deref().unwrap_or(&t.unit);
            Rule {
                name: rule
                    .name
                    .clone()
                    .unwrap_or_else(|| format!("rule[{r}]"))
                    .into(),
                limit: Limit {
                    max: rule.limit,
                    period: period(rule.period.unwrap_or(t.period), unit),
                },
                condition: condition.unwrap_or(Condition::Any(Box::new([]))),
                key_by,
            }
        })
        .collect();
    definition(t.basic(), apps, rules)
}

/// Resolves the names rules use into [`Var`]s, reporting what it cannot.
struct Vars<'a> {
    params: &'a [ThrottleParamSpec],
    paths: &'a mut Vec<String>,
    at: &'a str,
    errs: &'a mut Vec<ConfigError>,
}

/// The built-in variables (§14.3) and system variables rules can read.
const BUILT_IN: [(&str, Var); 8] = [
    ("reqPath", Var::ReqPath),
    ("method", Var::Method),
    ("sourceIp", Var::SourceIp),
    ("appId", Var::AppId),
    ("userId", Var::UserId),
    ("tenantId", Var::TenantId),
    ("accountName", Var::AccountName),
    ("domain", Var::Domain),
];

fn built_in(name: &str) -> Option<Var> {
    let (_, var) = BUILT_IN
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))?;
    Some(var.clone())
}

impl Vars<'_> {
    /// Each declared parameter has a known location (and a system
    /// variable a known name).
    fn check_params(&mut self) {
        for (i, p) in self.params.iter().enumerate() {
            let pp = format!("{}.param[{i}]", self.at);
            match p.location.to_ascii_lowercase().as_str() {
                "header" | "query" | "path" | "method" => {}
                "system" if built_in(&p.name).is_some() => {}
                "system" => self.errs.push(ConfigError::new(
                    format!("{pp}.name"),
                    format!("unknown system variable \"{}\"", p.name),
                    "use reqPath, method, sourceIp, appId, userId, tenantId, accountName or domain",
                )),
                other => self.errs.push(ConfigError::new(
                    format!("{pp}.location"),
                    format!("unknown location \"{other}\""),
                    "use header, path, query, method or system (behaviour.md §14.1)",
                )),
            }
            if p.name.is_empty() || p.name.bytes().any(|b| b.is_ascii_control()) {
                self.errs.push(ConfigError::new(
                    format!("{pp}.name"),
                    "the name is empty or holds a control character",
                    "name the header, query or path parameter, e.g. \"Host\"",
                ));
            }
        }
    }

    /// The variable `name` refers to: a declared parameter, else a
    /// built-in one.
    fn var(&mut self, name: &str, at: &str) -> Option<Var> {
        let declared = self
            .params
            .iter()
            .find(|p| p.name.eq_ignore_ascii_case(name));
        let var = match declared {
            Some(p) => match p.location.to_ascii_lowercase().as_str() {
                "header" => Some(Var::Header(p.name.to_ascii_lowercase().into_bytes().into())),
                "query" => Some(Var::Query(p.name.as_bytes().into())),
                "method" => Some(Var::Method),
                "path" => {
                    let n = match self.paths.iter().position(|q| q.eq_ignore_ascii_case(name)) {
                        Some(n) => n,
                        None => {
                            self.paths.push(p.name.clone());
                            self.paths.len() - 1
                        }
                    };
                    u8::try_from(n).ok().map(Var::Path)
                }
                _ => built_in(&p.name),
            },
            None => built_in(name),
        };
        if var.is_none() {
            self.errs.push(ConfigError::new(
                at,
                format!("\"{name}\" is neither a declared [[throttle2.param]] nor a built-in variable"),
                "declare it (location + name), or use reqPath, method, sourceIp, appId, userId, tenantId, accountName or domain",
            ));
        }
        var
    }

    /// A condition tree: a comparison, or an `all` / `any` group.
    fn condition(&mut self, c: &ConditionTreeSpec, at: &str, depth: usize) -> Option<Condition> {
        let form = (
            c.param.is_some() || c.value.is_some() || c.op.is_some(),
            c.all.is_some(),
            c.any.is_some(),
        );
        match form {
            (true, false, false) => {
                let (Some(param), Some(value)) = (&c.param, &c.value) else {
                    self.errs.push(ConfigError::new(
                        at,
                        "a comparison needs both param and value",
                        "write { param = \"reqPath\", value = \"/list\" }",
                    ));
                    return None;
                };
                let negate = match c.op.as_deref().unwrap_or("=") {
                    "=" | "==" => false,
                    "!=" => true,
                    other => {
                        self.errs.push(ConfigError::new(
                            format!("{at}.op"),
                            format!("unknown operator \"{other}\""),
                            "use \"=\" (default) or \"!=\"",
                        ));
                        return None;
                    }
                };
                let var = self.var(param, &format!("{at}.param"))?;
                Some(Condition::Compare {
                    var,
                    value: value.as_bytes().into(),
                    negate,
                })
            }
            (false, true, false) | (false, false, true) => {
                let (list, all) = match (&c.all, &c.any) {
                    (Some(list), _) => (list, true),
                    (None, Some(list)) => (list, false),
                    (None, None) => return None,
                };
                let key = if all { "all" } else { "any" };
                if list.is_empty() || depth >= MAX_DEPTH {
                    self.errs.push(ConfigError::new(
                        format!("{at}.{key}"),
                        if list.is_empty() {
                            "an empty group".to_owned()
                        } else {
                            format!("groups nest deeper than {MAX_DEPTH}")
                        },
                        "group one or more conditions, at most 8 levels deep",
                    ));
                    return None;
                }
                let subs: Option<Vec<Condition>> = (list.iter().enumerate())
                    .map(|(i, sub)| self.condition(sub, &format!("{at}.{key}[{i}]"), depth + 1))
                    .collect();
                let subs = subs?.into_boxed_slice();
                Some(if all {
                    Condition::All(subs)
                } else {
                    Condition::Any(subs)
                })
            }
            _ => {
                self.errs.push(ConfigError::new(
                    at,
                    "a condition is either a comparison { param, value } or one group { all = [...] } / { any = [...] }",
                    "split it: e.g. any = [ { param = \"reqPath\", value = \"/fc\" }, { all = [ ... ] } ]",
                ));
                None
            }
        }
    }
}
