//! Compiled throttling policies (behaviour.md §13 classic, §14 2.0) and
//! what one request's check needs from them.
//!
//! A [`Policy`] is the immutable definition (limits, exclusions, rules)
//! plus its per-key [`Tables`]; a [`Binding`] is the policy bound to one
//! API in one stage (or, for an API-shared policy, to a stage) with the
//! counters of that scope. Counters live behind `Arc`s apart from the
//! snapshot, so a reload can hand the counters of an unchanged policy to
//! the new snapshot ([`Policy::same_definition`]).

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use super::global::PaddedCounter;
use super::table::KeyTable;
use crate::http::{RequestHead, query};
use crate::policy::Identity;
use crate::route::RouteMatch;

/// The unit of a throttling period (§13.1, §14.1: day to second).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// Seconds.
    Second,
    /// Minutes.
    Minute,
    /// Hours.
    Hour,
    /// Days (windows start at 00:00 UTC, §14.5).
    Day,
}

impl Unit {
    /// Parses `second`, `minute`, `hour` or `day` (singular or plural,
    /// any case).
    pub fn parse(s: &str) -> Option<Unit> {
        let s = s.to_ascii_lowercase();
        Some(match s.strip_suffix('s').unwrap_or(&s) {
            "second" => Unit::Second,
            "minute" => Unit::Minute,
            "hour" => Unit::Hour,
            "day" => Unit::Day,
            _ => return None,
        })
    }

    /// Seconds in one unit.
    pub fn seconds(self) -> u64 {
        match self {
            Unit::Second => 1,
            Unit::Minute => 60,
            Unit::Hour => 3_600,
            Unit::Day => 86_400,
        }
    }

    /// The singular word the debug headers use (§13.5).
    pub fn word(self) -> &'static str {
        match self {
            Unit::Second => "second",
            Unit::Minute => "minute",
            Unit::Hour => "hour",
            Unit::Day => "day",
        }
    }
}

/// A throttling period: `n` units.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    /// How many units.
    pub n: u32,
    /// Which unit.
    pub unit: Unit,
}

impl Period {
    /// One second (the default limit's period, §13.2).
    pub const SECOND: Period = Period {
        n: 1,
        unit: Unit::Second,
    };

    /// The period's length.
    pub fn duration(self) -> Duration {
        Duration::from_secs(u64::from(self.n) * self.unit.seconds())
    }
}

/// At most `max` requests per `period`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    /// Requests admitted per period.
    pub max: u64,
    /// The period.
    pub period: Period,
}

/// A value a 2.0 parameter rule reads from the request (§14.2–§14.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Var {
    /// A request header (lower-case name); the first value.
    Header(Box<[u8]>),
    /// A path parameter of the bound API's template: the policy's n-th
    /// path parameter, found in each API by [`Binding::captures`].
    Path(u8),
    /// A query parameter (first value, as sent).
    Query(Box<[u8]>),
    /// The method (compared case-insensitively, §14.3 Suggestion).
    Method,
    /// `reqPath`: the request path as sent, without the query.
    ReqPath,
    /// `sourceIp`: the client IP (§16).
    SourceIp,
    /// `appId`: the calling app.
    AppId,
    /// `userId`: the token's user.
    UserId,
    /// `tenantId`: the caller's tenant.
    TenantId,
    /// `accountName`: the token's account.
    AccountName,
    /// `domain`: the `Host` header without its port.
    Domain,
}

/// A condition tree of a 2.0 rule (§14.3): comparisons joined by AND/OR.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Condition {
    /// `var = value` (or `≠` when `negate`).
    Compare {
        /// What is compared.
        var: Var,
        /// The value it must (not) equal.
        value: Box<[u8]>,
        /// `!=` instead of `=`.
        negate: bool,
    },
    /// Every sub-condition holds.
    All(Box<[Condition]>),
    /// At least one sub-condition holds.
    Any(Box<[Condition]>),
}

/// A 2.0 parameter rule: requests matching `condition` are limited to
/// `limit`, counted together or per distinct value of `key_by`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// Name (for logs and errors).
    pub name: Box<str>,
    /// The rule's limit.
    pub limit: Limit,
    /// Which requests it applies to.
    pub condition: Condition,
    /// Count per distinct value of these (empty: one count for the rule).
    pub key_by: Box<[Var]>,
}

/// What a policy says, compared to decide whether a reload may keep its
/// counters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Definition {
    /// API-shared (§13.1): one budget for all bound APIs of a stage.
    pub shared: bool,
    /// Max. API Requests.
    pub api: Limit,
    /// Max. User Requests (per tenant, §27 C16).
    pub user: Option<Limit>,
    /// Max. App Requests.
    pub app: Option<Limit>,
    /// Max. IP Address Requests.
    pub ip: Option<Limit>,
    /// Excluded (special) apps by app ID, with their thresholds (§13.3).
    pub special_apps: Box<[(Box<str>, u64)]>,
    /// Excluded (special) tenants by tenant ID, with their thresholds.
    pub special_tenants: Box<[(Box<str>, u64)]>,
    /// 2.0 parameter rules, first match applies (§14.5).
    pub rules: Box<[Rule]>,
    /// Slots of each per-key table.
    pub key_slots: usize,
}

/// The per-key counters of a policy: one bounded table per dimension that
/// has keys of unbounded cardinality ([`super::table`]).
#[derive(Debug)]
pub struct Tables {
    /// Keys of every table are hashed with this (random per policy, so a
    /// client cannot aim keys at another's probe sequence).
    hasher: ahash::RandomState,
    users: Option<KeyTable>,
    apps: Option<KeyTable>,
    ips: Option<KeyTable>,
    /// One table per rule with `key_by` (by rule index).
    rules: Box<[Option<KeyTable>]>,
}

impl Tables {
    /// Empty tables for `def`'s per-key dimensions.
    pub fn new(def: &Definition) -> Tables {
        let table = |on: bool| on.then(|| KeyTable::new(def.key_slots));
        Tables {
            hasher: ahash::RandomState::new(),
            users: table(def.user.is_some()),
            apps: table(def.app.is_some()),
            ips: table(def.ip.is_some()),
            rules: def
                .rules
                .iter()
                .map(|r| table(!r.key_by.is_empty()))
                .collect(),
        }
    }

    /// Counters allocated, whatever the traffic (tests, docs).
    pub fn slots(&self) -> usize {
        let tables = [&self.users, &self.apps, &self.ips];
        let fixed: usize = tables
            .iter()
            .filter_map(|t| t.as_ref())
            .map(KeyTable::capacity)
            .sum();
        fixed
            + self
                .rules
                .iter()
                .flatten()
                .map(KeyTable::capacity)
                .sum::<usize>()
    }
}

/// A throttling policy as compiled.
#[derive(Debug)]
pub struct Policy {
    /// The policy's name.
    pub name: Box<str>,
    /// A throttling 2.0 policy (§14).
    pub v2: bool,
    /// Limits, exclusions and rules.
    pub def: Definition,
    /// Per-key counters (kept across a reload while `def` is unchanged).
    pub tables: Arc<Tables>,
}

impl Policy {
    /// Whether `other` may keep this policy's counters: same name, kind
    /// and definition.
    pub fn same_definition(&self, other: &Policy) -> bool {
        self.name == other.name && self.v2 == other.v2 && self.def == other.def
    }
}

/// The counters of one scope of a policy: an API in a stage (API-based),
/// or a stage (API-shared).
#[derive(Debug)]
pub struct ScopeCounters {
    /// Max. API Requests.
    pub api: PaddedCounter,
    /// Each special app's count (by position in the definition).
    pub special_apps: Box<[PaddedCounter]>,
    /// Each special tenant's count.
    pub special_tenants: Box<[PaddedCounter]>,
    /// Each rule's count (rules without `key_by`).
    pub rules: Box<[PaddedCounter]>,
    /// Per-key dimensions' overflow counts, by [`Dimension::index`]: the
    /// keys of this scope that found no slot in a full table. One per
    /// possible dimension (3 + rules, at most 103 × 128 bytes per scope),
    /// used or not: bounded by the configuration.
    pub overflow: Box<[PaddedCounter]>,
}

impl ScopeCounters {
    /// Zeroed counters for a scope of `def`.
    pub fn new(def: &Definition) -> ScopeCounters {
        let zeros = |n: usize| (0..n).map(|_| PaddedCounter::default()).collect();
        ScopeCounters {
            api: PaddedCounter::default(),
            special_apps: zeros(def.special_apps.len()),
            special_tenants: zeros(def.special_tenants.len()),
            rules: zeros(def.rules.len()),
            overflow: zeros(3 + def.rules.len()),
        }
    }
}

/// A policy bound to an API in a stage.
#[derive(Debug, Clone)]
pub struct Binding {
    /// The policy.
    pub policy: Arc<Policy>,
    /// The scope's counters (shared by every API of an API-shared
    /// policy's stage).
    pub counters: Arc<ScopeCounters>,
    /// The scope, hashed into every per-key table key: `api id` + stage
    /// (API-based) or the stage (API-shared).
    pub scope: Box<str>,
    /// `scope` hashed once.
    pub scope_hash: u64,
    /// For the policy's n-th path parameter, the bound API's capture
    /// index.
    pub captures: Box<[u8]>,
}

impl Binding {
    /// Binds `policy` to `scope` with `counters`; `captures` maps the
    /// policy's path parameters to the API's captures.
    pub fn new(
        policy: Arc<Policy>,
        counters: Arc<ScopeCounters>,
        scope: &str,
        captures: Box<[u8]>,
    ) -> Binding {
        let scope_hash = policy.tables.hasher.hash_one(scope);
        Binding {
            policy,
            counters,
            scope: scope.into(),
            scope_hash,
            captures,
        }
    }
}

/// Which dimension a per-key table counts (mixed into its keys' hashes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dimension {
    /// Per tenant (Max. User Requests).
    User,
    /// Per app.
    App,
    /// Per client IP.
    Ip,
    /// Per value of a rule's `key_by`.
    Rule(u16),
}

impl Dimension {
    /// Position among a scope's overflow counters.
    pub fn index(self) -> usize {
        match self {
            Dimension::User => 0,
            Dimension::App => 1,
            Dimension::Ip => 2,
            Dimension::Rule(r) => 3 + usize::from(r),
        }
    }
}

/// What a request offers the throttle: the facts its limits and rules
/// read.
#[derive(Debug, Clone, Copy)]
pub struct Facts<'a> {
    /// The request head.
    pub head: &'a RequestHead,
    /// Where routing put it (path parameters).
    pub route: &'a RouteMatch,
    /// Who is calling.
    pub identity: &'a Identity,
    /// The client IP (§16).
    pub source: IpAddr,
    /// The client IP as text.
    pub source_text: &'a [u8],
}

impl Facts<'_> {
    /// The user dimension's key (§27 C16: one counter per tenant): the
    /// caller's tenant (a token's tenant claim, an app's `tenant`), else a
    /// token's account, else its user; an app without a `tenant` belongs
    /// to the gateway owner's own tenant, `""`. `None` for anonymous
    /// callers.
    pub fn user_key(&self) -> Option<&str> {
        let id = self.identity;
        (id.tenant_id.as_deref())
            .or(id.account_name.as_deref())
            .or(id.user_id.as_deref())
            .or(id.app_id.as_ref().map(|_| ""))
    }

    /// The value `var` reads, `None` when the request lacks it;
    /// `captures` is the binding's ([`Binding::captures`]).
    pub fn value(&self, var: &Var, captures: &[u8]) -> Option<&[u8]> {
        let head = self.head;
        match var {
            Var::Header(name) => head.values(name).next(),
            Var::Path(i) => {
                let capture = *captures.get(usize::from(*i))?;
                let span = self.route.params.as_slice().get(usize::from(capture))?;
                Some(span.of(head.routed_path()))
            }
            Var::Query(name) => query::find(head.slice(head.query?), name),
            Var::Method => Some(match head.method.token() {
                Some(token) => token,
                None => head.slice(head.method_span),
            }),
            Var::ReqPath => Some(head.routed_path()),
            Var::SourceIp => Some(self.source_text),
            Var::AppId => self.identity.app_id.as_deref().map(str::as_bytes),
            Var::UserId => self.identity.user_id.as_deref().map(str::as_bytes),
            Var::TenantId => self.identity.tenant_id.as_deref().map(str::as_bytes),
            Var::AccountName => self.identity.account_name.as_deref().map(str::as_bytes),
            Var::Domain => {
                let host = head.slice(head.host?);
                Some(strip_port(host))
            }
        }
    }

    /// Whether `cond` holds for the request. A missing value equals
    /// nothing (so `!=` holds).
    pub fn matches(&self, cond: &Condition, captures: &[u8]) -> bool {
        match cond {
            Condition::Compare { var, value, negate } => {
                let equal = self.value(var, captures).is_some_and(|got| match var {
                    Var::Method | Var::Domain => got.eq_ignore_ascii_case(value),
                    _ => got == &value[..],
                });
                equal != *negate
            }
            Condition::All(all) => all.iter().all(|c| self.matches(c, captures)),
            Condition::Any(any) => any.iter().any(|c| self.matches(c, captures)),
        }
    }
}

/// `host[:port]` without the port (IPv6 literals keep their brackets).
fn strip_port(host: &[u8]) -> &[u8] {
    match host.iter().rposition(|&b| b == b':') {
        Some(i) if !host[i..].contains(&b']') => &host[..i],
        _ => host,
    }
}

/// The per-key table of `dim` in `tables`.
pub(super) fn table(tables: &Tables, dim: Dimension) -> Option<&KeyTable> {
    match dim {
        Dimension::User => tables.users.as_ref(),
        Dimension::App => tables.apps.as_ref(),
        Dimension::Ip => tables.ips.as_ref(),
        Dimension::Rule(r) => tables.rules.get(usize::from(r))?.as_ref(),
    }
}

/// The 64-bit key of `parts` in `dim` of the binding's scope.
pub(super) fn key_hash(binding: &Binding, dim: Dimension, parts: &[&[u8]]) -> u64 {
    use std::hash::{BuildHasher, Hash, Hasher};
    let mut h = binding.policy.tables.hasher.build_hasher();
    binding.scope_hash.hash(&mut h);
    dim.hash(&mut h);
    for p in parts {
        p.hash(&mut h);
    }
    h.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_parse_in_singular_and_plural() {
        assert_eq!(Unit::parse("second"), Some(Unit::Second));
        assert_eq!(Unit::parse("Minutes"), Some(Unit::Minute));
        assert_eq!(Unit::parse("DAY"), Some(Unit::Day));
        assert_eq!(Unit::parse("week"), None);
        let p = Period {
            n: 2,
            unit: Unit::Hour,
        };
        assert_eq!(p.duration(), Duration::from_secs(7_200));
    }

    #[test]
    fn tables_are_allocated_at_load_for_keyed_dimensions_only() {
        let limit = Limit {
            max: 10,
            period: Period::SECOND,
        };
        let rule = |key_by: Vec<Var>| Rule {
            name: "r".into(),
            limit,
            condition: Condition::All(Box::new([])),
            key_by: key_by.into(),
        };
        let def = Definition {
            shared: false,
            api: limit,
            user: None,
            app: None,
            ip: Some(limit),
            special_apps: Box::new([]),
            special_tenants: Box::new([]),
            rules: Box::new([rule(vec![]), rule(vec![Var::ReqPath])]),
            key_slots: 1000,
        };
        // IP and the keyed rule: two tables of 1024 slots (a power of
        // two), whatever the traffic.
        assert_eq!(Tables::new(&def).slots(), 2 * 1024);
    }

    #[test]
    fn ports_are_stripped_from_hosts() {
        assert_eq!(strip_port(b"www.abc.com:8080"), b"www.abc.com");
        assert_eq!(strip_port(b"www.abc.com"), b"www.abc.com");
        assert_eq!(strip_port(b"[::1]"), b"[::1]");
        assert_eq!(strip_port(b"[::1]:80"), b"[::1]");
    }
}
