//! # jwtkit-server
//!
//! The jwtkit HTTP API (a strict rebuild of the classic "API key → short-lived token →
//! protected endpoint" tutorial), and the reusable warp [`filters`] it is made of, so that any
//! warp application can protect its routes the same way.
//!
//! - [`filters`]: `authenticated`, `require_role`, `recover` (RFC 6750 responses).
//! - [`routes`]: the API's endpoints; [`serve`]: binding, logging and graceful shutdown.
//! - [`config`]: settings from flags, `JWTKIT_*` variables and a TOML file.
//! - [`remote`]: the keys of another issuer, by discovery or from its JWK Set's URL.

pub mod apikeys;
mod cache;
pub mod config;
pub mod error;
pub mod fetchable;
pub mod filters;
#[cfg(any(test, feature = "fuzzing"))]
#[doc(hidden)]
pub mod fuzzing;
pub mod issuer;
pub mod metrics;
pub mod oauth;
pub mod ratelimit;
pub mod remote;
pub mod revocations;
pub mod routes;
pub mod serve;
pub mod sessions;
pub mod store;
pub mod time;

pub use time::{SharedClock, SystemClock};
