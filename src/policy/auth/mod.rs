//! Authentication (behaviour.md §11): who is calling. App authentication
//! ([`app`]) with the app signature algorithm ([`signature`]), which
//! backend signing (§12) shares, and token authentication ([`token`],
//! §11.6).

pub mod app;
pub mod signature;
pub mod token;
