//! The throttling parts of the configuration: classic `[[throttle]]`
//! policies (behaviour.md §13), `[[throttle2]]` policies (§14), and the
//! default limit (`settings.default_api_rate_limit`, §13.2).

use std::collections::BTreeMap;

use serde::Deserialize;

/// Default `settings.default_api_rate_limit`: requests per second per API
/// across all stages (§13.2, §27 C1).
pub const DEFAULT_API_RATE_LIMIT: u64 = 200;
/// Default `key_slots` of a policy: counters in each per-key table.
pub const DEFAULT_KEY_SLOTS: usize = 65_536;

/// `[[throttle]]`: a classic request-throttling policy (§13.1).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ThrottleSpec {
    /// Unique name (among `[[throttle]]` and `[[throttle2]]`); APIs bind
    /// it per stage.
    pub name: String,
    /// `"api"` (API-based: each bound API counted alone, default) or
    /// `"shared"` (API-shared: all bound APIs of a stage count together).
    #[serde(rename = "type", default = "default_scope")]
    pub kind: String,
    /// The period's length, in `unit`s (default 1).
    #[serde(default = "default_period")]
    pub period: u32,
    /// `second` (default), `minute`, `hour` or `day`.
    #[serde(default = "default_unit")]
    pub unit: String,
    /// Max. API Requests per period (required).
    pub api_limit: u64,
    /// Max. User Requests: per tenant (§27 C16); ≤ `api_limit`.
    pub user_limit: Option<u64>,
    /// Max. App Requests: per app; ≤ `user_limit` (else ≤ `api_limit`).
    pub app_limit: Option<u64>,
    /// Max. IP Address Requests: per client IP; ≤ `api_limit`.
    pub ip_limit: Option<u64>,
    /// Excluded apps (§13.3), by `[[app]]` name or app ID: their
    /// threshold replaces `app_limit`; ≤ `api_limit`; at most 30.
    #[serde(default)]
    pub excluded_apps: BTreeMap<String, u64>,
    /// Excluded tenants, by tenant ID: their threshold replaces
    /// `user_limit`; ≤ `api_limit`; at most 30.
    #[serde(default)]
    pub excluded_tenants: BTreeMap<String, u64>,
    /// Counters in each per-key table (user, app, IP): the memory bound.
    #[serde(default = "default_key_slots")]
    pub key_slots: usize,
    /// Free text.
    #[serde(default)]
    pub description: String,
}

/// `[[throttle2]]`: a throttling 2.0 policy (§14.2). Bound to an API in a
/// stage, it replaces the API's classic policy there.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Throttle2Spec {
    /// Unique name (among `[[throttle]]` and `[[throttle2]]`).
    pub name: String,
    /// `"api"` (single API, default) or `"shared"`.
    #[serde(default = "default_scope")]
    pub scope: String,
    /// The period of the basic limits, in `unit`s (default 1).
    #[serde(default = "default_period")]
    pub period: u32,
    /// `second` (default), `minute`, `hour` or `day`.
    #[serde(default = "default_unit")]
    pub unit: String,
    /// Basic: API limit (required).
    pub api_limit: u64,
    /// Basic: user (tenant) limit.
    pub user_limit: Option<u64>,
    /// Basic: credential (app) limit.
    pub app_limit: Option<u64>,
    /// Basic: source-IP limit.
    pub ip_limit: Option<u64>,
    /// Parameters the rules read besides the built-in variables.
    #[serde(default)]
    pub param: Vec<ThrottleParamSpec>,
    /// `[[throttle2.rule]]`: parameter rules, first match applies; at most
    /// 100.
    #[serde(default)]
    pub rule: Vec<ThrottleRuleSpec>,
    /// Special apps (by `[[app]]` name or app ID) and their thresholds.
    #[serde(default)]
    pub special_apps: BTreeMap<String, u64>,
    /// Special tenants (by tenant ID) and their thresholds.
    #[serde(default)]
    pub special_tenants: BTreeMap<String, u64>,
    /// Counters in each per-key table (user, app, IP, each `key_by` rule).
    #[serde(default = "default_key_slots")]
    pub key_slots: usize,
    /// Free text.
    #[serde(default)]
    pub description: String,
}

/// `[[throttle2.param]]`: a parameter rules can read (§14.2).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ThrottleParamSpec {
    /// `header`, `path`, `query`, `method` or `system`.
    pub location: String,
    /// Header, path-parameter or query name; a system variable's name.
    pub name: String,
}

/// `[[throttle2.rule]]`: a parameter rule (§14.2).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ThrottleRuleSpec {
    /// Name (default `rule[N]`).
    pub name: Option<String>,
    /// Requests per period admitted among the matching ones.
    pub limit: u64,
    /// The rule's period (default: the policy's).
    pub period: Option<u32>,
    /// The unit of `period` (default: the policy's).
    pub unit: Option<String>,
    /// Count per distinct value of these parameters (default: one count
    /// for all matching requests, §14.5).
    #[serde(default)]
    pub key_by: Vec<String>,
    /// Which requests the rule applies to.
    pub condition: ConditionTreeSpec,
}

/// A condition tree (§14.3): a comparison `{ param, value, op }`, or a
/// group `{ all = [...] }` / `{ any = [...] }`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConditionTreeSpec {
    /// A declared parameter or a built-in variable (`reqPath`, `method`,
    /// `sourceIp`, `appId`, `userId`, `tenantId`, `accountName`, `domain`).
    pub param: Option<String>,
    /// The value compared with.
    pub value: Option<String>,
    /// `"="` (default) or `"!="`.
    pub op: Option<String>,
    /// AND of these.
    pub all: Option<Vec<ConditionTreeSpec>>,
    /// OR of these.
    pub any: Option<Vec<ConditionTreeSpec>>,
}

/// The basic limits both kinds of policy share, with the TOML keys each
/// kind writes them under (validation and compilation read them alike).
#[derive(Debug, Clone, Copy)]
pub struct BasicLimits<'a> {
    /// `type` or `scope`, and its value.
    pub scope: (&'static str, &'a str),
    /// The period's length in units.
    pub period: u32,
    /// The period's unit.
    pub unit: &'a str,
    /// Max. API Requests.
    pub api_limit: u64,
    /// User, app and IP limits.
    pub limits: [Option<u64>; 3],
    /// `excluded_apps` or `special_apps`, and its entries.
    pub special_apps: (&'static str, &'a BTreeMap<String, u64>),
    /// `excluded_tenants` or `special_tenants`, and its entries.
    pub special_tenants: (&'static str, &'a BTreeMap<String, u64>),
    /// Slots per per-key table.
    pub key_slots: usize,
}

impl ThrottleSpec {
    /// The basic limits.
    pub fn basic(&self) -> BasicLimits<'_> {
        BasicLimits {
            scope: ("type", &self.kind),
            period: self.period,
            unit: &self.unit,
            api_limit: self.api_limit,
            limits: [self.user_limit, self.app_limit, self.ip_limit],
            special_apps: ("excluded_apps", &self.excluded_apps),
            special_tenants: ("excluded_tenants", &self.excluded_tenants),
            key_slots: self.key_slots,
        }
    }
}

impl Throttle2Spec {
    /// The basic limits.
    pub fn basic(&self) -> BasicLimits<'_> {
        BasicLimits {
            scope: ("scope", &self.scope),
            period: self.period,
            unit: &self.unit,
            api_limit: self.api_limit,
            limits: [self.user_limit, self.app_limit, self.ip_limit],
            special_apps: ("special_apps", &self.special_apps),
            special_tenants: ("special_tenants", &self.special_tenants),
            key_slots: self.key_slots,
        }
    }
}

fn default_scope() -> String {
    "api".into()
}
fn default_period() -> u32 {
    1
}
fn default_unit() -> String {
    "second".into()
}
fn default_key_slots() -> usize {
    DEFAULT_KEY_SLOTS
}
