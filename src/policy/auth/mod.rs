//! Authentication (behaviour.md §11): who is calling. Today: the app
//! signature algorithm ([`signature`]), which app authentication and
//! backend signing (§12) share.

pub mod app;
pub mod authorizer;
pub mod signature;
