//! Decoding without verification. **Nothing returned here is authenticated.**
//!
//! For showing a token to a person, or for a client deciding whether its own token is still
//! worth sending. Never for deciding what a token's bearer may do: use [`crate::Verifier`].

use crate::claims::Claims;
use crate::error::{ClaimsError, MalformedError};
use crate::header::Header;
use crate::parse::{self, ParseOptions};
use crate::policy::check_expiry;
use crate::time::UnixTime;

/// A token that passed the strict parser but whose signature was **not** checked.
#[derive(Debug, Clone, PartialEq)]
pub struct UnverifiedToken {
    header: Header,
    claims: Claims,
}

/// Decodes a token with the same strict parser the verifier uses, **verifying nothing**.
///
/// ```
/// use jwtkit_core::{dangerous, ParseOptions, UnixTime};
/// // {"alg":"HS256"} . {"exp":1700000000}
/// let token = "eyJhbGciOiJIUzI1NiJ9.eyJleHAiOjE3MDAwMDAwMDB9.c2ln";
/// let decoded = dangerous::decode_unverified(token, &ParseOptions::default())?;
/// let now = UnixTime::from_secs(1_700_000_000).unwrap();
/// assert!(decoded.is_expired(now, 0)?);
/// # Ok::<(), jwtkit_core::Error>(())
/// ```
pub fn decode_unverified(
    token: &str,
    options: &ParseOptions,
) -> Result<UnverifiedToken, MalformedError> {
    let jws = parse::parse_jws(token, options)?;
    Ok(UnverifiedToken {
        claims: parse::parse_claims(jws.payload)?,
        header: jws.header.into_owned(),
    })
}

impl UnverifiedToken {
    /// The header, unverified.
    pub fn header(&self) -> &Header {
        &self.header
    }

    /// The claims, unverified.
    pub fn claims(&self) -> &Claims {
        &self.claims
    }

    /// The header's JSON text exactly as decoded (valid, duplicate-free JSON), unverified.
    pub fn header_json(&self) -> &str {
        self.header.json()
    }

    /// The claims' JSON text exactly as decoded (valid, duplicate-free JSON), unverified.
    pub fn claims_json(&self) -> &str {
        self.claims.json()
    }

    /// Splits into header and claims, unverified.
    pub fn into_parts(self) -> (Header, Claims) {
        (self.header, self.claims)
    }

    /// The expiry rule the verifier applies: [`ClaimsError::Expired`] when
    /// `now >= exp + leeway`, and [`ClaimsError::Missing`] without `exp` (a policy requires
    /// it unless told otherwise, as the server's does: such a token is not "unexpired").
    pub fn check_expiry(&self, now: UnixTime, leeway_seconds: u32) -> Result<(), ClaimsError> {
        match self.claims.exp() {
            Some(exp) => check_expiry(exp, now, leeway_seconds),
            None => Err(ClaimsError::Missing { name: "exp".into() }),
        }
    }

    /// Whether the token is expired at `now` under the verifier's rule; `Err` without `exp`.
    pub fn is_expired(&self, now: UnixTime, leeway_seconds: u32) -> Result<bool, ClaimsError> {
        match self.check_expiry(now, leeway_seconds) {
            Ok(()) => Ok(false),
            Err(ClaimsError::Expired { .. }) => Ok(true),
            Err(error) => Err(error),
        }
    }

    /// Seconds from `now` until `exp` (negative once passed); `None` without `exp`.
    pub fn seconds_until_expiry(&self, now: UnixTime) -> Option<f64> {
        self.claims
            .exp()
            .map(|exp| exp.as_secs_f64() - now.as_secs_f64())
    }
}
