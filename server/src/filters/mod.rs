//! Reusable warp filters: the Rust counterpart of a "token required" decorator, done right.
//!
//! - [`authenticated`], [`require_role`] and the [`Authenticator`] they use (`auth`);
//! - [`recover`]: every rejection as its response from the error table (`recover`);
//! - `body`: request bodies read with a size limit ([`MAX_BODY_BYTES`]) and typed.
//!
//! ```no_run
//! use std::sync::Arc;
//! use jwtkit_core::{Algorithm, Claims, Key, KeySet, Validation, Verifier};
//! use jwtkit_server::filters::{Authenticator, authenticated, recover, require_role};
//! use jwtkit_server::SystemClock;
//! use warp::Filter;
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let key = Key::generate(Algorithm::EdDSA)?;
//! let policy = Validation::builder()
//!     .expect_issuer("https://auth.example")
//!     .expect_audience("orders")
//!     .expect_type("at+jwt")
//!     .require_claim("sub")
//!     .build()?;
//! let auth = Authenticator::new(Verifier::new(KeySet::from(key), policy), Arc::new(SystemClock));
//!
//! // Path first, then the auth filter: unknown paths stay 404, not 401.
//! let orders = warp::path!("orders")
//!     .and(warp::get())
//!     .and(authenticated(auth.clone()))
//!     .map(|claims: Claims| format!("orders of {}", claims.sub().unwrap_or("?")));
//! let admin = warp::path!("admin")
//!     .and(warp::get())
//!     .and(authenticated(auth).and_then(require_role("admin")))
//!     .map(|_claims: Claims| "admin area");
//! let app = orders.or(admin).recover(recover);
//! warp::serve(app).run(([127, 0, 0, 1], 8080)).await;
//! # Ok(()) }
//! ```

mod auth;
pub(crate) mod body;
mod credentials;
mod local;
mod recover;

pub use crate::cache::{CacheStats, MAX_CACHED_TOKEN_BYTES};
pub use auth::{AuthRejection, Authenticator, ROLES_CLAIM, authenticated, require_role};
pub use body::MAX_BODY_BYTES;
pub use recover::{ApiRejection, recover, reject};
