//! `[server]`, `[[listener]]` and `[settings]`: the process and the limits,
//! timeouts and rules of the request path, with their documented defaults.

use serde::Deserialize;

use super::DEFAULT_API_RATE_LIMIT;

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

/// Default `settings.authorizer_cache_entries`.
pub const DEFAULT_AUTHORIZER_CACHE_ENTRIES: usize = 10_000;
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
