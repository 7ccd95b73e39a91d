//! # jwtkit-server
//!
//! The jwtkit HTTP API (a strict rebuild of the classic "API key → short-lived token →
//! protected endpoint" tutorial, grown into an OAuth 2.0 authorization server), and the
//! reusable warp [`filters`] it is made of, so that any warp application can protect its
//! routes the same way.
//!
//! ## The floor plan
//!
//! Each layer imports only from the layers below it, and no module imports in a circle:
//!
//! | layer | modules | what lives there |
//! |---|---|---|
//! | the process | `main` (the binary), [`serve`] | listeners, the store's background tasks, the banner, shutdown |
//! | HTTP | [`routes`] | the route table, `AppState`, and one room per endpoint family translating HTTP to the domain and its errors back (RFC 6749/6750/7009/7662) |
//! | filters | [`filters`] | `authenticated`, `require_role`, `recover`, request bodies |
//! | domain | `sessions`, `oauth`, [`users`], [`issuer`], [`keys`], `revocations`, `ratelimit`, [`remote`], `cache` | refresh-token families; client authentication, grants, introspection, metadata; people's accounts and passwords; token issuance; the signing keys' lifecycle in the store; the revocation view; the failure limit; another issuer's keys; the verified-token cache |
//! | store | [`store`] | SQLite and Redis behind one trait |
//! | leaves | [`config`], `metrics`, [`access_log`], [`log_writer`], [`error`], [`apikeys`], `fetchable`, [`time`] | settings, counters, the access log and the writer of every log line, the error table, API keys, the fetchable-URL rule, time |
//!
//! Modules in plain type are the crate's own (`pub(crate)`); the linked ones are its library
//! API. A new capability arrives as a domain module with its warp routes in a room of
//! [`routes`] of its own.

pub mod access_log;
pub mod apikeys;
mod cache;
pub mod clients;
pub mod config;
pub mod dpop;
pub mod error;
pub(crate) mod fetchable;
pub mod filters;
#[cfg(any(test, feature = "fuzzing"))]
#[doc(hidden)]
pub mod fuzzing;
pub mod issuer;
pub mod keys;
pub mod log_writer;
pub(crate) mod metrics;
pub(crate) mod oauth;
pub(crate) mod provider;
mod random;
pub(crate) mod ratelimit;
pub mod remote;
pub(crate) mod revocations;
pub mod routes;
pub mod serve;
pub(crate) mod sessions;
pub mod store;
pub mod time;
pub mod users;

pub use time::{SharedClock, SystemClock};
