//! The serde mirror of the TOML configuration: what the operator wrote.
//!
//! Every table denies unknown fields, so a typo is an error with its key path.
//! Defaults are the documented values of behaviour.md §3 and §7.2; each
//! `DEFAULT_*` says its unit and source. Nothing here is used on the request
//! path: `compile` turns a validated spec into a `Snapshot`.

use std::collections::BTreeMap;

use serde::Deserialize;

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
    /// `[[group]]`: API groups (§4.1).
    #[serde(default)]
    pub group: Vec<GroupSpec>,
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
        }
    }
}

/// `[[listener]]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListenerSpec {
    /// `ip:port`; port 0 picks a free port (tests).
    pub address: String,
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
    /// Longest pause while reading a request body, ms.
    pub body_timeout_ms: u64,
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
            send_timeout_ms: DEFAULT_SEND_TIMEOUT_MS,
            connect_timeout_ms: DEFAULT_CONNECT_TIMEOUT_MS,
            backend_timeout_ms: DEFAULT_BACKEND_TIMEOUT_MS,
            max_backend_timeout_ms: DEFAULT_MAX_BACKEND_TIMEOUT_MS,
            pool_max_idle: DEFAULT_POOL_MAX_IDLE,
            pool_idle_timeout_ms: DEFAULT_POOL_IDLE_TIMEOUT_MS,
            dns_refresh_ms: DEFAULT_DNS_REFRESH_MS,
        }
    }
}

/// `[[group]]`: an API group (behaviour.md §4.1).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupSpec {
    /// Group name; `DEFAULT` is the catch-all group for unmatched hosts.
    pub name: String,
    /// Independent domains bound to this group (§4.2), lower-case host names.
    #[serde(default)]
    pub domains: Vec<String>,
    /// `[[group.api]]`: the group's APIs.
    #[serde(default)]
    pub api: Vec<ApiSpec>,
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
    /// The default backend (§7.1).
    pub backend: BackendSpec,
}

fn default_match() -> String {
    "exact".into()
}

/// `[group.api.backend]` (behaviour.md §7).
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum BackendSpec {
    /// `type = "http"`: an HTTP service (§7.2).
    Http(HttpBackendSpec),
    /// `type = "mock"`: a fixed response (§7.5).
    Mock(MockBackendSpec),
}

/// `type = "http"` backend.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpBackendSpec {
    /// `"http"` (HTTPS backends arrive with TLS support).
    #[serde(default = "default_scheme")]
    pub scheme: String,
    /// `host:port`, host an IP literal or a DNS name; port defaults to 80 (§7.2).
    pub address: String,
    /// Backend path template; `{name}` takes the frontend path parameter `name`.
    /// Default `/` plus, for prefix APIs, the request's remainder (§6.4).
    #[serde(default = "default_path")]
    pub path: String,
    /// Backend method; `ANY` (default) forwards the request's method (§7.2).
    #[serde(default = "default_any")]
    pub method: String,
    /// Backend timeout, ms (§7.2; default `settings.backend_timeout_ms`).
    pub timeout_ms: Option<u64>,
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
