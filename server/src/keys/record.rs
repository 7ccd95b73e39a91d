//! One key of the ring: its public JWK in the clear, its private JWK sealed under the KEK for
//! its `kid` and `alg`, and the times that make its phases.

use jwtkit_core::{Algorithm, Jwk, Key};
use serde::{Deserialize, Serialize};

use super::kek::Kek;
use super::ring::RingError;

/// One key. Its `Debug` shows no sealed material.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyRecord {
    /// Its `kid` (the RFC 7638 thumbprint when jwtkit generated it).
    pub kid: String,
    /// Its algorithm's name.
    pub alg: String,
    /// The public JWK, as JSON.
    pub public: String,
    /// The private JWK sealed under the KEK for this `kid` and `alg` (see `kek`).
    pub sealed: String,
    /// When it was written to the store: published from then.
    pub announced: i64,
    /// When it starts signing.
    pub signs_from: i64,
    /// When it stopped signing before a successor took over (the key that signed when the
    /// one after it was retired by hand): it never signs again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stopped: Option<i64>,
}

impl std::fmt::Debug for KeyRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyRecord")
            .field("kid", &self.kid)
            .field("alg", &self.alg)
            .field("announced", &self.announced)
            .field("signs_from", &self.signs_from)
            .finish_non_exhaustive()
    }
}

impl KeyRecord {
    /// A record of `key` (a key pair), sealed under `kek`, published at `announced`, signing
    /// from `signs_from`.
    pub fn seal(key: &Key, kek: &Kek, announced: i64, signs_from: i64) -> Result<Self, RingError> {
        let sealed_error = |error| RingError::Sealed {
            kid: key.kid().to_owned(),
            error,
        };
        let public = key
            .to_public_jwk()
            .ok_or_else(|| {
                RingError::Malformed(format!(
                    "{} is symmetric: only key pairs are kept in the ring",
                    key.algorithm()
                ))
            })?
            .to_json();
        if !key.can_sign() {
            return Err(RingError::Malformed(format!(
                "{} has no private part to sign with",
                key.kid()
            )));
        }
        let private = zeroize::Zeroizing::new(key.to_private_jwk().to_json());
        let sealed = kek
            .seal(
                &name(key.kid(), key.algorithm().as_str()),
                private.as_bytes(),
            )
            .map_err(sealed_error)?;
        Ok(Self {
            kid: key.kid().to_owned(),
            alg: key.algorithm().as_str().to_owned(),
            public,
            sealed,
            announced,
            signs_from,
            stopped: None,
        })
    }

    /// A record with no key behind it, for drawing a plan before its keys are made (never
    /// written: it opens to nothing).
    pub(super) fn placeholder(alg: Algorithm, announced: i64, signs_from: i64, n: usize) -> Self {
        Self {
            kid: format!("planned-{n}"),
            alg: alg.as_str().to_owned(),
            public: String::new(),
            sealed: String::new(),
            announced,
            signs_from,
            stopped: None,
        }
    }

    /// Its algorithm, when jwtkit knows it.
    pub fn algorithm(&self) -> Option<Algorithm> {
        self.alg.parse().ok()
    }

    /// The key with its private part, opened with `kek`; it must be the record's public key.
    pub fn open(&self, kek: &Kek) -> Result<Key, RingError> {
        let private = kek
            .open(&name(&self.kid, &self.alg), &self.sealed)
            .map_err(|error| RingError::Sealed {
                kid: self.kid.clone(),
                error,
            })?;
        let text = std::str::from_utf8(&private)
            .map_err(|_| RingError::Malformed(format!("key {} is not JSON", self.kid)))?;
        let key = Key::from_jwk(
            &Jwk::from_json(text).map_err(|e| RingError::Malformed(e.to_string()))?,
            self.algorithm(),
        )
        .map_err(|e| RingError::Malformed(format!("key {}: {e}", self.kid)))?;
        // The record's public part is the sealed key's: the same kid and thumbprint.
        let public = Key::from_jwk_json(&self.public, self.algorithm())
            .map_err(|e| RingError::Malformed(format!("key {}'s public part: {e}", self.kid)))?;
        if key.kid() != self.kid || key.thumbprint() != public.thumbprint() {
            return Err(RingError::Malformed(format!(
                "key {}'s sealed part is another key",
                self.kid
            )));
        }
        Ok(key)
    }
}

/// What a sealed key is sealed for: its `kid` and `alg`.
fn name(kid: &str, alg: &str) -> String {
    format!("jwtkit signing key {kid} {alg}")
}
