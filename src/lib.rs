//! Tollgate: a self-hosted, thread-per-core API gateway with the data plane
//! of a managed cloud API gateway (`../shared/spec/behaviour.md`).
//!
//! One request, one direction (architecture.md):
//!
//! ```text
//! accept (per core, SO_REUSEPORT)                       worker::accept
//!   -> tls            rustls handshake, SNI picks the domain's config (minimum
//!                     version, client certificate); a failure closes only it
//!   -> http::parse    head, framing, limits -> 400/413/414/494
//!   -> route          host -> group, X-Stage -> stage, radix tree on the path -> API
//!   -> policy         protocol (301 to HTTPS, APIG.0607), CORS plan, real
//!                     client IP and IP access control, authentication (app
//!                     signature or AppCode, token, custom authorizer; app or
//!                     token then authorizer for two-factor), account access
//!                     control, input parameters (mandatory, length, type,
//!                     defaults)
//!   -> backend        backend policies (source IP, parameters, authorizer
//!                     context) -> http | mock; a backend authorizer
//!   -> rewrite        backend path, #variables#, mapped/constant/system params,
//!                     Host, X-Forwarded-*, X-Request-Id
//!   -> upstream       resolved address, per-core keep-alive pool (plain or TLS)
//!   -> forward        request out, response head in, body streamed; 502/504
//!   -> respond        gateway headers, CORS, debug latencies; the only writer
//!                     of error responses (gateway-response templates); after
//!                     a WebSocket 101, the tunnel
//!   -> record         per-core counters
//! ```
//!
//! `pipeline` strings the stages together; `worker` owns each core's
//! runtime; `control` is the only code that reads config or blocks.

pub mod backend;
pub mod clock;
pub mod control;
pub mod error;
pub mod forward;
pub mod http;
pub mod io;
pub mod pipeline;
pub mod policy;
pub mod record;
pub mod request_id;
pub mod respond;
pub mod rewrite;
pub mod route;
pub mod secret;
pub mod snapshot;
pub mod tls;
pub mod upstream;
pub mod worker;
