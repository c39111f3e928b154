//! Tollgate: a self-hosted, thread-per-core API gateway.

pub mod http;
pub mod route;
