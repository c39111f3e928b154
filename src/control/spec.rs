//! The serde mirror of the TOML configuration: what the operator wrote.
//!
//! Every table denies unknown fields, so a typo is an error with its key path.
//! Defaults are the documented values of behaviour.md §3 and §7.2; each
//! `DEFAULT_*` says its unit and source. Nothing here is used on the request
//! path: `compile` turns a validated spec into a `Snapshot`.

use std::collections::BTreeMap;

use serde::Deserialize;

mod security;
mod throttle;
pub use security::*;
pub use throttle::*;

/// Largest request-target (behaviour.md §3: 32 KB, read as KiB), bytes.
pub const DEFAULT_MAX_URI_BYTES: usize = 32 * 1024;
/// Largest single header line (§3: 32 KB), bytes.
pub const DEFAULT_MAX_HEADER_BYTES: usize = 32 * 1024;
/// Largest header section (§3: 128 KB), bytes.
pub const DEFAULT_MAX_HEADERS_TOTAL_BYTES: usize = 128 * 1024;
/// Largest request body (§3: 12 MB, not changeable in the product), bytes.
pub const DEFAULT_MAX_BODY_BYTES: u64 = 12 * 1024 * 1024;
/// Time allowed to receive a whole request head once it started (slowloris), ms.
pub const DEFAULT_HEADER_TIMEOUT_MS: u64 = 10_000;
/// Time an idle keep-alive client connection is kept, ms.
pub const DEFAULT_KEEPALIVE_TIMEOUT_MS: u64 = 60_000;
/// Slowest average rate of a request body after the grace, bytes/s
/// (Apache mod_reqtimeout's MinRate default).
pub const DEFAULT_BODY_MIN_RATE_BYTES_PER_S: u64 = 500;
/// Request bodies read whole before the backend is contacted, bytes
/// (nginx `proxy_request_buffering`, on by default there).
pub const DEFAULT_REQUEST_BUFFER_BYTES: u64 = 64 * 1024;
/// Longest pause between two reads of a request body, ms.
pub const DEFAULT_BODY_TIMEOUT_MS: u64 = 60_000;
/// Longest a write to a client may wait for it to read (nginx
/// `send_timeout`), ms.
pub const DEFAULT_SEND_TIMEOUT_MS: u64 = 60_000;
/// Time allowed to open a backend connection, ms.
pub const DEFAULT_CONNECT_TIMEOUT_MS: u64 = 2_000;
/// Default backend timeout of an API (§7.2: 5000 ms), ms.
pub const DEFAULT_BACKEND_TIMEOUT_MS: u64 = 5_000;
/// Upper bound of any API's backend timeout (§27 C23: 60000 ms), ms.
pub const DEFAULT_MAX_BACKEND_TIMEOUT_MS: u64 = 60_000;
/// Idle keep-alive connections kept per backend per worker.
pub const DEFAULT_POOL_MAX_IDLE: usize = 64;
/// Time an idle pooled backend connection is kept, ms.
pub const DEFAULT_POOL_IDLE_TIMEOUT_MS: u64 = 60_000;
/// Interval at which backend host names are resolved again, ms.
pub const DEFAULT_DNS_REFRESH_MS: u64 = 30_000;
/// Time in-flight requests get to finish after SIGTERM/SIGINT, ms.
pub const DEFAULT_SHUTDOWN_TIMEOUT_MS: u64 = 10_000;
/// io_uring submission queue entries per worker.
pub const DEFAULT_IO_URING_ENTRIES: u32 = 1024;
/// Listen backlog per listener socket.
pub const DEFAULT_BACKLOG: i32 = 1024;
/// Bytes all workers together may lend to request heads above the 8 KiB
/// every connection starts with (64 MiB: 400 heads at the 160 KiB limit).
pub const DEFAULT_HEAD_BUFFER_BUDGET_BYTES: u64 = 64 * 1024 * 1024;

/// The whole file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GatewaySpec {
    /// `[server]`: threads, driver, shutdown.
    #[serde(default)]
    pub server: ServerSpec,
    /// `[[listener]]`: addresses to accept on.
    #[serde(default)]
    pub listener: Vec<ListenerSpec>,
    /// `[settings]`: limits and timeouts (behaviour.md §3).
    #[serde(default)]
    pub settings: SettingsSpec,
    /// `[[stage]]`: environments besides RELEASE (§5.1).
    #[serde(default)]
    pub stage: Vec<StageSpec>,
    /// `[[group]]`: API groups (§4.1).
    #[serde(default)]
    pub group: Vec<GroupSpec>,
    /// `[[certificate]]`: PEM certificates bound to domains (§4.3).
    #[serde(default)]
    pub certificate: Vec<CertificateSpec>,
    /// `[[app]]`: apps (credentials) for app authentication (§11.2).
    #[serde(default)]
    pub app: Vec<AppSpec>,
    /// `[[acl]]`: access-control policies (§15).
    #[serde(default)]
    pub acl: Vec<AclSpec>,
    /// `[[signature_key]]`: keys that sign backend requests (§12).
    #[serde(default)]
    pub signature_key: Vec<SignatureKeySpec>,
    /// `[[authorizer]]`: custom authorizers (§11.9).
    #[serde(default)]
    pub authorizer: Vec<AuthorizerSpec>,
    /// `[[token_issuer]]`: issuers of tokens for token authentication (§11.6).
    #[serde(default)]
    pub token_issuer: Vec<TokenIssuerSpec>,
    /// `[[throttle]]`: classic request-throttling policies (§13).
    #[serde(default)]
    pub throttle: Vec<ThrottleSpec>,
    /// `[[throttle2]]`: throttling 2.0 policies (§14).
    #[serde(default)]
    pub throttle2: Vec<Throttle2Spec>,
}

/// Default `settings.authorizer_cache_entries`.
pub const DEFAULT_AUTHORIZER_CACHE_ENTRIES: usize = 10_000;

/// Name of the default environment (behaviour.md §5.1).
pub const RELEASE: &str = "RELEASE";

/// `[[stage]]`: an environment, selected by `X-Stage` (behaviour.md §5.1).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StageSpec {
    /// Name sent in `X-Stage`, matched exactly (case-sensitive).
    pub name: String,
    /// Free text.
    #[serde(default)]
    pub description: String,
}

/// `workers = "auto"` or a count.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum WorkersSpec {
    /// A fixed number of workers.
    Count(i64),
    /// `"auto"`: one per available core.
    Named(String),
}

impl Default for WorkersSpec {
    fn default() -> Self {
        WorkersSpec::Named("auto".into())
    }
}

/// `[server]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerSpec {
    /// `"auto"` (one per available core) or a number ≥ 1.
    pub workers: WorkersSpec,
    /// Pin worker *i* to core *i* (modulo the cores available).
    pub pin_cores: bool,
    /// `"auto"` | `"io_uring"` | `"epoll"`.
    pub driver: String,
    /// io_uring submission queue entries per worker.
    pub io_uring_entries: u32,
    /// Listen backlog.
    pub backlog: i32,
    /// Grace period for in-flight requests on SIGTERM/SIGINT, ms.
    pub shutdown_timeout_ms: u64,
    /// Open client connections per worker; 0 = from the file-descriptor
    /// limit (nginx `worker_connections`).
    pub worker_connections: u64,
    /// Bytes all workers together lend to request heads above 8 KiB.
    pub head_buffer_budget_bytes: u64,
}

impl Default for ServerSpec {
    fn default() -> Self {
        ServerSpec {
            workers: WorkersSpec::default(),
            pin_cores: false,
            driver: "auto".into(),
            io_uring_entries: DEFAULT_IO_URING_ENTRIES,
            backlog: DEFAULT_BACKLOG,
            shutdown_timeout_ms: DEFAULT_SHUTDOWN_TIMEOUT_MS,
            worker_connections: 0,
            head_buffer_budget_bytes: DEFAULT_HEAD_BUFFER_BUDGET_BYTES,
        }
    }
}

/// `[[listener]]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListenerSpec {
    /// `ip:port`; port 0 picks a free port (tests).
    pub address: String,
    /// Terminate TLS on this listener (§4.3): domains' certificates are
    /// chosen by SNI.
    #[serde(default)]
    pub tls: bool,
    /// `[[certificate]]` name for clients without SNI or with a name no
    /// domain has (default: none, the handshake is refused).
    pub default_certificate: Option<String>,
}

/// `[settings]`: behaviour.md §3 limits and the timeouts of the request path.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SettingsSpec {
    /// Longest request-target, bytes (→ 414).
    pub max_uri_bytes: usize,
    /// Longest single header line, bytes (→ 494).
    pub max_header_bytes: usize,
    /// Largest header section, bytes (→ 494).
    pub max_headers_total_bytes: usize,
    /// Largest request body, bytes (→ 413).
    pub max_body_bytes: u64,
    /// Time to receive a request head once it started, ms.
    pub header_timeout_ms: u64,
    /// Idle keep-alive client connection lifetime, ms.
    pub keepalive_timeout_ms: u64,
    /// Longest pause while reading a request body, ms; also the grace
    /// before `body_min_rate_bytes_per_s` applies.
    pub body_timeout_ms: u64,
    /// Slowest average rate a request body may arrive at, bytes/s.
    pub body_min_rate_bytes_per_s: u64,
    /// Request bodies up to this size are read whole before the backend
    /// is contacted; larger ones stream. 0 streams every body.
    pub request_buffer_bytes: u64,
    /// Longest a write to a client may wait for it to read, ms.
    pub send_timeout_ms: u64,
    /// Backend connect timeout, ms.
    pub connect_timeout_ms: u64,
    /// Backend timeout of APIs that set none, ms (§7.2).
    pub backend_timeout_ms: u64,
    /// Upper bound of any API's backend timeout, ms (§27 C23).
    pub max_backend_timeout_ms: u64,
    /// Idle pooled connections kept per backend per worker.
    pub pool_max_idle: usize,
    /// Idle pooled connection lifetime, ms.
    pub pool_idle_timeout_ms: u64,
    /// Backend host-name re-resolution interval, ms.
    pub dns_refresh_ms: u64,
    /// Take the client IP from `X-Forwarded-For` (§16).
    pub real_ip_from_xff: bool,
    /// Which `X-Forwarded-For` entry: 1-based from the left, negative from
    /// the right (-1 = right-most).
    pub real_ip_index: i32,
    /// Peers whose `X-Forwarded-For` is believed (CIDRs; empty = any).
    pub trusted_proxies: Vec<String>,
    /// No usable `X-Forwarded-For` entry → 403 APIG.0401 (else the peer).
    pub real_ip_strict: bool,
    /// Most custom-authorizer results each worker caches (§11.9.4); the
    /// oldest is evicted first. 0 turns caching off.
    pub authorizer_cache_entries: usize,
    /// Requests per second each API admits across all stages, with or
    /// without a bound policy (§13.2, §27 C1); 0 turns it off.
    pub default_api_rate_limit: u64,
    /// Merge runs of `/` in request paths before routing (issue 13).
    pub path_merge_slashes: bool,
    /// A literal `\` in a request path.
    pub path_backslash: PathActionSpec,
    /// `%2F` or `%5C` in a request path.
    pub path_escaped_slash: PathActionSpec,
    /// `;` in a request path.
    pub path_semicolon: PathActionSpec,
    /// Whether API paths match request paths case-sensitively (APIG: yes).
    pub path_case_sensitive: bool,
    /// Request headers whose name contains `_`.
    pub underscore_headers: UnderscoreSpec,
}

/// `drop_owned`, `drop` or `reject` (`[settings] underscore_headers`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnderscoreSpec {
    /// Drop the underscore spellings of headers the gateway owns or frames.
    DropOwned,
    /// Drop every header whose name contains `_`.
    Drop,
    /// Refuse a request with such a header: 400 APIG.0602.
    Reject,
}

/// `reject` or `keep` (a `[settings]` `path_*` rule).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PathActionSpec {
    /// Refuse the request: 400 APIG.0602.
    Reject,
    /// Route and forward the path as it is.
    Keep,
}

impl Default for SettingsSpec {
    fn default() -> Self {
        SettingsSpec {
            max_uri_bytes: DEFAULT_MAX_URI_BYTES,
            max_header_bytes: DEFAULT_MAX_HEADER_BYTES,
            max_headers_total_bytes: DEFAULT_MAX_HEADERS_TOTAL_BYTES,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            header_timeout_ms: DEFAULT_HEADER_TIMEOUT_MS,
            keepalive_timeout_ms: DEFAULT_KEEPALIVE_TIMEOUT_MS,
            body_timeout_ms: DEFAULT_BODY_TIMEOUT_MS,
            body_min_rate_bytes_per_s: DEFAULT_BODY_MIN_RATE_BYTES_PER_S,
            request_buffer_bytes: DEFAULT_REQUEST_BUFFER_BYTES,
            send_timeout_ms: DEFAULT_SEND_TIMEOUT_MS,
            connect_timeout_ms: DEFAULT_CONNECT_TIMEOUT_MS,
            backend_timeout_ms: DEFAULT_BACKEND_TIMEOUT_MS,
            max_backend_timeout_ms: DEFAULT_MAX_BACKEND_TIMEOUT_MS,
            pool_max_idle: DEFAULT_POOL_MAX_IDLE,
            pool_idle_timeout_ms: DEFAULT_POOL_IDLE_TIMEOUT_MS,
            dns_refresh_ms: DEFAULT_DNS_REFRESH_MS,
            real_ip_from_xff: false,
            real_ip_index: -1,
            trusted_proxies: Vec::new(),
            real_ip_strict: false,
            authorizer_cache_entries: DEFAULT_AUTHORIZER_CACHE_ENTRIES,
            default_api_rate_limit: DEFAULT_API_RATE_LIMIT,
            path_merge_slashes: true,
            path_backslash: PathActionSpec::Reject,
            path_escaped_slash: PathActionSpec::Reject,
            path_semicolon: PathActionSpec::Keep,
            path_case_sensitive: true,
            underscore_headers: UnderscoreSpec::DropOwned,
        }
    }
}

/// `[[group]]`: an API group (behaviour.md §4.1).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupSpec {
    /// Group name; `DEFAULT` is the catch-all group for unmatched hosts.
    pub name: String,
    /// Independent domains bound to this group (§4.2), lower-case host
    /// names, without TLS settings.
    #[serde(default)]
    pub domains: Vec<String>,
    /// `[[group.domain]]`: independent domains with TLS settings (§4.2).
    #[serde(default)]
    pub domain: Vec<DomainSpec>,
    /// `[group.variables.<STAGE>]`: `#name#` values per stage (§5.2).
    #[serde(default)]
    pub variables: BTreeMap<String, BTreeMap<String, String>>,
    /// `[group.responses.<set>.<TYPE>]`: gateway-response sets (§18). The
    /// set `default` always exists; entries given here replace its
    /// built-in ones.
    #[serde(default)]
    pub responses: BTreeMap<String, BTreeMap<String, ResponseEntrySpec>>,
    /// `[[group.api]]`: the group's APIs.
    #[serde(default)]
    pub api: Vec<ApiSpec>,
}

/// One entry of a gateway-response set (behaviour.md §18.1): only the
/// status and the content can change.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResponseEntrySpec {
    /// Status code (default: the type's status, §18.2).
    pub status: Option<u16>,
    /// JSON content with `$context.*` variables (default: §18.1 content).
    pub body: Option<String>,
}

/// `[[group.api]]`: one API (behaviour.md §6).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiSpec {
    /// API name, unique in the group.
    pub name: String,
    /// `GET`, `POST`, `PUT`, `DELETE`, `PATCH`, `HEAD`, `OPTIONS` or `ANY` (§6.2).
    pub method: String,
    /// Frontend path template (§6.3).
    pub path: String,
    /// `"exact"` (default) or `"prefix"` (§6.4).
    #[serde(default = "default_match", rename = "match")]
    pub match_mode: String,
    /// API ID for `$context.apiId` and the `apiId` system parameter
    /// (default: the name).
    pub id: Option<String>,
    /// Stages the API is published in (§5.3; default `["RELEASE"]`).
    #[serde(default = "default_stages")]
    pub stages: Vec<String>,
    /// `"HTTP"`, `"HTTPS"` or `"HTTP&HTTPS"` (default): the schemes the API
    /// accepts (§6.2).
    #[serde(default = "default_protocol")]
    pub protocol: String,
    /// CORS on (§17; default off).
    #[serde(default)]
    pub cors: bool,
    /// The group's gateway-response set used for errors (§6.1, §18).
    #[serde(default = "default_response_set")]
    pub gateway_response: String,
    /// `[group.api.auth]`: authentication (§11; default none).
    #[serde(default)]
    pub auth: AuthSpec,
    /// Access-control policy by stage (§15): `{ RELEASE = "office" }`.
    #[serde(default)]
    pub acl: BTreeMap<String, String>,
    /// Backend signature key by stage (§12): `{ RELEASE = "backend" }`.
    #[serde(default)]
    pub signature_key: BTreeMap<String, String>,
    /// Classic throttling policy by stage (§13.2): `{ RELEASE = "basic" }`.
    #[serde(default)]
    pub throttle: BTreeMap<String, String>,
    /// Throttling 2.0 policy by stage (§14.1); where both are bound, it
    /// replaces the classic one.
    #[serde(default)]
    pub throttle2: BTreeMap<String, String>,
    /// `[[group.api.param]]`: input parameters (§6.5).
    #[serde(default)]
    pub param: Vec<ParamSpec>,
    /// The default backend (§7.1).
    pub backend: BackendSpec,
    /// `[[group.api.policy]]`: backend policies, first match wins (§8).
    #[serde(default)]
    pub policy: Vec<PolicySpec>,
}

fn default_protocol() -> String {
    "HTTP&HTTPS".into()
}
fn default_stages() -> Vec<String> {
    vec![RELEASE.into()]
}
fn default_response_set() -> String {
    "default".into()
}

/// `[[group.api.param]]`: an input parameter (behaviour.md §6.5).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ParamSpec {
    /// Name; not case-sensitive. PATH parameters name a `{name}` of the path.
    pub name: String,
    /// `"PATH"`, `"HEADER"` or `"QUERY"`.
    pub location: String,
    /// `"STRING"` (default) or `"NUMBER"`.
    #[serde(rename = "type", default = "default_param_type")]
    pub kind: String,
    /// Requests without it are rejected (400 APIG.0201).
    #[serde(default)]
    pub required: bool,
    /// Sent to the backend when the request omits the parameter.
    pub default: Option<String>,
    /// Shortest value, characters.
    pub min_length: Option<u32>,
    /// Longest value, characters.
    pub max_length: Option<u32>,
    /// Free text.
    #[serde(default)]
    pub description: String,
}

fn default_param_type() -> String {
    "STRING".into()
}

/// `[[group.api.policy]]`: a backend policy (behaviour.md §8.1).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicySpec {
    /// Policy name.
    pub name: String,
    /// `"any"` (default): one condition suffices; `"all"`: every one must hold.
    #[serde(default = "default_effective")]
    pub effective: String,
    /// `[[group.api.policy.condition]]`: at least one.
    #[serde(default)]
    pub condition: Vec<ConditionSpec>,
    /// The backend used when the policy matches.
    pub backend: BackendSpec,
}

fn default_effective() -> String {
    "any".into()
}

/// A policy condition (behaviour.md §8.2).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConditionSpec {
    /// `"source_ip"`, `"param"` (an input parameter) or `"authorizer"` (a
    /// frontend custom authorizer's context key).
    pub source: String,
    /// The input parameter or context key (not for `source_ip`).
    pub param: Option<String>,
    /// `"equal"` (default), `"enum"` or `"match"` (not for `source_ip`).
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// Equal: one value. Enum: values (a list, or text separated by commas).
    /// Match: a regular expression (full match). Source IP: addresses and
    /// CIDRs (a list, or text separated by commas).
    pub value: ValueSpec,
}

/// A string or a list of strings.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum ValueSpec {
    /// `value = "a"` (or `"a,b"` where a list is expected).
    One(String),
    /// `value = ["a", "b"]`.
    List(Vec<String>),
}

impl ValueSpec {
    /// The values: a list as given, or one text split on commas and trimmed.
    pub fn items(&self) -> Vec<String> {
        match self {
            ValueSpec::One(s) => s.split(',').map(|v| v.trim().to_string()).collect(),
            ValueSpec::List(v) => v.clone(),
        }
    }
}

/// `[[...backend.param]]`: an input parameter mapped to the backend (§9.1).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BackendParamSpec {
    /// Backend parameter name (a PATH target names a `{name}` of the backend path).
    pub name: String,
    /// `"PATH"`, `"HEADER"` or `"QUERY"`.
    pub location: String,
    /// The input parameter it takes its value from.
    pub from: String,
}

/// `[[...backend.constant]]`: a constant parameter (§9.2).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConstantSpec {
    /// Backend parameter name.
    pub name: String,
    /// `"PATH"`, `"HEADER"` or `"QUERY"`.
    pub location: String,
    /// Value; percent-encoded for PATH and QUERY (§9.2 tables).
    pub value: String,
}

/// `[[...backend.system]]`: a system parameter (§9.3).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SystemParamSpec {
    /// Backend parameter name.
    pub name: String,
    /// `"PATH"`, `"HEADER"` or `"QUERY"`.
    pub location: String,
    /// `sourceIp`, `stage`, `apiId`, `appId`, `requestId`, or
    /// `authorizer.frontend.<key>` / `authorizer.backend.<key>`.
    pub from: String,
}

fn default_match() -> String {
    "exact".into()
}

/// `[group.api.backend]` (behaviour.md §7).
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum BackendSpec {
    /// `type = "http"`: an HTTP service (§7.2).
    Http(Box<HttpBackendSpec>),
    /// `type = "mock"`: a fixed response (§7.5).
    Mock(MockBackendSpec),
}

/// `type = "http"` backend.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpBackendSpec {
    /// `"http"` (default) or `"https"` (§7.2).
    #[serde(default = "default_scheme")]
    pub scheme: String,
    /// `host:port`, host an IP literal or a DNS name; port defaults to 80,
    /// or 443 for https (§7.2).
    pub address: String,
    /// https: PEM CA bundle the backend's certificate must chain to
    /// (default: the system's roots). Relative to the configuration file.
    pub tls_ca: Option<String>,
    /// https: name sent as SNI and checked against the certificate
    /// (default: the address's host).
    pub tls_server_name: Option<String>,
    /// https: verify the backend's certificate (default true). `false` is
    /// logged as a warning at every load.
    #[serde(default = "default_true")]
    pub tls_verify: bool,
    /// Backend path template; `{name}` takes the frontend path parameter `name`.
    /// Default `/` plus, for prefix APIs, the request's remainder (§6.4).
    #[serde(default = "default_path")]
    pub path: String,
    /// Backend method; `ANY` (default) forwards the request's method (§7.2).
    #[serde(default = "default_any")]
    pub method: String,
    /// Backend timeout, ms (§7.2; default `settings.backend_timeout_ms`).
    pub timeout_ms: Option<u64>,
    /// Send the client's `Host` instead of the backend address (§7.2).
    #[serde(default)]
    pub preserve_host: bool,
    /// A fixed `Host` header for the backend.
    pub host_header: Option<String>,
    /// Input parameters mapped to backend parameters (§9.1).
    #[serde(default)]
    pub param: Vec<BackendParamSpec>,
    /// Constant parameters (§9.2).
    #[serde(default)]
    pub constant: Vec<ConstantSpec>,
    /// System parameters (§9.3).
    #[serde(default)]
    pub system: Vec<SystemParamSpec>,
    /// A backend-type `[[authorizer]]` called before every request to this
    /// backend (§11.9.6); its context feeds `authorizer.backend.*`.
    pub authorizer: Option<String>,
}

pub(crate) fn default_true() -> bool {
    true
}
fn default_scheme() -> String {
    "http".into()
}
fn default_path() -> String {
    "/".into()
}
fn default_any() -> String {
    "ANY".into()
}

/// `type = "mock"` backend (behaviour.md §7.5).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MockBackendSpec {
    /// Status code, 200–599 (default 200).
    #[serde(default = "default_status")]
    pub status: u16,
    /// Response headers, `{ "Content-Type" = "text/plain" }`.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// Response body.
    #[serde(default)]
    pub body: String,
}

fn default_status() -> u16 {
    200
}
