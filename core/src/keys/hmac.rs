//! HS256/HS384/HS512 (RFC 7518 §3.2): HMAC with a pre-keyed state per key.

use hmac::{Hmac, KeyInit, Mac};
use sha2::{Sha256, Sha384, Sha512};
use zeroize::Zeroizing;

use crate::alg::Algorithm;
use crate::error::{KeyError, SignatureError};

/// An HMAC key: the secret (kept for export and thumbprints) and the keyed state, computed
/// once so that each signature costs one clone instead of a key schedule.
#[derive(Clone)]
pub(crate) struct HmacKey {
    secret: Zeroizing<Vec<u8>>,
    #[cfg_attr(feature = "aws-lc", allow(dead_code))]
    state: State,
}

#[derive(Clone)]
#[cfg_attr(feature = "aws-lc", allow(dead_code))]
enum State {
    S256(Hmac<Sha256>),
    S384(Hmac<Sha384>),
    S512(Hmac<Sha512>),
}

impl HmacKey {
    /// A key for `alg`, refusing secrets shorter than the hash output (RFC 7518 §3.2).
    pub(crate) fn new(alg: Algorithm, secret: &[u8]) -> Result<Self, KeyError> {
        let min = min_len(alg).ok_or(KeyError::AlgorithmMismatch)?;
        if secret.len() < min {
            return Err(KeyError::TooWeak { min_bits: min * 8 });
        }
        let invalid = |_| KeyError::InvalidJwk {
            reason: "HMAC key rejected",
        };
        let state = match alg {
            Algorithm::HS256 => State::S256(Hmac::new_from_slice(secret).map_err(invalid)?),
            Algorithm::HS384 => State::S384(Hmac::new_from_slice(secret).map_err(invalid)?),
            _ => State::S512(Hmac::new_from_slice(secret).map_err(invalid)?),
        };
        Ok(Self {
            secret: Zeroizing::new(secret.to_vec()),
            state,
        })
    }

    pub(crate) fn secret(&self) -> &[u8] {
        &self.secret
    }

    #[cfg_attr(feature = "aws-lc", allow(dead_code))]
    pub(crate) fn sign(&self, input: &[u8]) -> Vec<u8> {
        fn tag<M: Mac + Clone>(mac: &M, input: &[u8]) -> Vec<u8> {
            let mut mac = mac.clone();
            mac.update(input);
            mac.finalize().into_bytes().to_vec()
        }
        match &self.state {
            State::S256(mac) => tag(mac, input),
            State::S384(mac) => tag(mac, input),
            State::S512(mac) => tag(mac, input),
        }
    }

    /// Constant-time comparison of the full-length tag (`verify_slice` rejects other lengths).
    #[cfg_attr(feature = "aws-lc", allow(dead_code))]
    pub(crate) fn verify(&self, input: &[u8], signature: &[u8]) -> Result<(), SignatureError> {
        fn check<M: Mac + Clone>(mac: &M, input: &[u8], signature: &[u8]) -> bool {
            let mut mac = mac.clone();
            mac.update(input);
            mac.verify_slice(signature).is_ok()
        }
        let ok = match &self.state {
            State::S256(mac) => check(mac, input, signature),
            State::S384(mac) => check(mac, input, signature),
            State::S512(mac) => check(mac, input, signature),
        };
        if ok {
            Ok(())
        } else {
            Err(SignatureError::VerificationFailed)
        }
    }
}

/// The minimum secret length in bytes: the hash output size.
pub(crate) fn min_len(alg: Algorithm) -> Option<usize> {
    match alg {
        Algorithm::HS256 => Some(32),
        Algorithm::HS384 => Some(48),
        Algorithm::HS512 => Some(64),
        _ => None,
    }
}
