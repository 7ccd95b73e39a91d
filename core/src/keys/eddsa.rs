//! EdDSA with Ed25519 (RFC 8032, RFC 8037), verified strictly: canonical `S < L`, no
//! small-order `R` or public key (`verify_strict`).

use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};

use crate::error::{KeyError, SignatureError};

#[derive(Clone)]
pub(crate) struct Ed25519Key {
    pub(crate) public: VerifyingKey,
    pub(crate) private: Option<SigningKey>,
}

impl Ed25519Key {
    pub(crate) fn from_parts(x: &[u8], d: Option<&[u8]>) -> Result<Self, KeyError> {
        let invalid = KeyError::InvalidJwk {
            reason: "Ed25519 key is not a valid point",
        };
        let x: &[u8; 32] = x.try_into().map_err(|_| invalid.clone())?;
        let public = VerifyingKey::from_bytes(x).map_err(|_| invalid.clone())?;
        if public.is_weak() {
            return Err(invalid);
        }
        let private = match d {
            None => None,
            Some(d) => {
                let d: &[u8; 32] = d.try_into().map_err(|_| KeyError::InvalidJwk {
                    reason: "Ed25519 private key is not 32 bytes",
                })?;
                let private = SigningKey::from_bytes(d);
                if private.verifying_key() != public {
                    return Err(KeyError::InvalidJwk {
                        reason: "private and public parts do not match",
                    });
                }
                Some(private)
            }
        };
        Ok(Self { public, private })
    }

    pub(crate) fn from_seed(seed: [u8; 32]) -> Self {
        let private = SigningKey::from_bytes(&seed);
        Self {
            public: private.verifying_key(),
            private: Some(private),
        }
    }

    #[cfg_attr(feature = "aws-lc", allow(dead_code))]
    pub(crate) fn sign(&self, input: &[u8]) -> Option<Vec<u8>> {
        self.private
            .as_ref()
            .map(|key| key.sign(input).to_bytes().to_vec())
    }

    #[cfg_attr(feature = "aws-lc", allow(dead_code))]
    pub(crate) fn verify(&self, input: &[u8], signature: &[u8]) -> Result<(), SignatureError> {
        let bytes: &[u8; 64] = signature
            .try_into()
            .map_err(|_| SignatureError::VerificationFailed)?;
        let signature = Signature::from_bytes(bytes);
        self.public
            .verify_strict(input, &signature)
            .map_err(|_| SignatureError::VerificationFailed)
    }
}
