//! # jwtkit-core
//!
//! The one strict JSON Web Token parser, claims model and validation policy that the jwtkit
//! server and the jwtkit browser package share. No I/O and no clock: `now` is always passed
//! in, so the crate builds and behaves the same on wasm32.
//!
//! - [`parse`]: the strict compact-JWS parser (through [`dangerous::decode_unverified`] or
//!   [`Verifier`]).
//! - [`Claims`], [`Header`]: typed registered claims plus the JSON map view.
//! - [`Validation`]: the Tink-like policy (`exp` required, exact expectations, leeway ≤ 10 min).
//! - [`Key`], [`KeySet`], [`Jwk`]: keys bound to one [`Algorithm`] (feature `crypto`).
//! - [`Verifier`], [`Signer`]: verification and issuance (feature `crypto`), on the portable
//!   RustCrypto code, or with the feature `aws-lc` (native targets) on aws-lc-rs; keys are
//!   imported and checked by the same code either way ([`BACKEND`] names the one built).
//! - [`Error`]: one table per phase, each variant with a stable `code()` and its message.
//! - [`suggest`]: the name a typo meant, for every "did you mean" of jwtkit's messages.
//!
//! ```
//! use jwtkit_core::{dangerous, ParseOptions, UnixTime};
//! // {"alg":"HS256","typ":"JWT"} . {"sub":"1234567890","exp":1700000180}
//! let token = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.\
//!              eyJzdWIiOiIxMjM0NTY3ODkwIiwiZXhwIjoxNzAwMDAwMTgwfQ.c2ln";
//! let decoded = dangerous::decode_unverified(token, &ParseOptions::default())?;
//! assert_eq!(decoded.claims().sub(), Some("1234567890"));
//! let now = UnixTime::from_secs(1_700_000_000).unwrap();
//! assert_eq!(decoded.seconds_until_expiry(now), Some(180.0));
//! # Ok::<(), jwtkit_core::MalformedError>(())
//! ```
#![forbid(unsafe_code)]

#[cfg(all(feature = "aws-lc", target_arch = "wasm32"))]
compile_error!(
    "the `aws-lc` feature is for native targets; wasm32 builds use the portable backend"
);

mod alg;
mod b64;
mod claims;
pub mod dangerous;
mod error;
#[cfg(any(test, feature = "fuzzing"))]
#[doc(hidden)]
pub mod fuzzing;
mod header;
mod json;
pub mod parse;
mod policy;
pub mod protocol;
pub mod suggest;
mod time;

#[cfg(feature = "crypto")]
pub mod dpop;
#[cfg(feature = "crypto")]
mod keys;
#[cfg(feature = "crypto")]
mod sign;
#[cfg(feature = "crypto")]
mod verify;

pub use alg::{Algorithm, UnknownAlgorithm};
pub use claims::{Audience, Claims};
pub use error::{
    ClaimsError, ClockError, Error, ErrorEntry, KeyError, MalformedError, Phase, PolicyError,
    Segment, SignatureError,
};
pub use header::{Header, media_type_eq};
pub use json::MAX_DEPTH;
pub use parse::ParseOptions;
pub use policy::{MAX_LEEWAY_SECONDS, Validation, ValidationBuilder, check_expiry};
pub use time::{Clock, FixedClock, MAX_UNIX_SECONDS, UnixTime};

#[cfg(feature = "crypto")]
pub use keys::{BACKEND, Jwk, JwkSet, Key, KeySet};
#[cfg(feature = "crypto")]
pub use sign::Signer;
#[cfg(feature = "crypto")]
pub use verify::{VerifiedJws, VerifiedToken, Verifier};
