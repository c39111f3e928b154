//! Authentication (behaviour.md §11): who is calling. App authentication
//! ([`app`]: signatures and AppCodes) on the signature algorithm
//! ([`signature`], shared with backend signing, §12), token
//! authentication ([`token`], §11.6), and custom authorizers
//! ([`authorizer`], §11.9; also the second factor, §11.7).

pub mod app;
pub mod authorizer;
pub mod signature;
pub mod token;
