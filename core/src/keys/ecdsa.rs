//! ES256 and ES384 (RFC 7518 §3.4): ECDSA with the fixed-length `R || S` signature format.
//! DER-encoded signatures, `r` or `s` of zero or not below the group order are rejected.

use crate::error::{KeyError, SignatureError};

macro_rules! ecdsa_key {
    ($name:ident, $curve:ident, $len:expr) => {
        #[derive(Clone)]
        pub(crate) struct $name {
            pub(crate) public: $curve::ecdsa::VerifyingKey,
            pub(crate) private: Option<$curve::ecdsa::SigningKey>,
        }

        impl $name {
            /// Field element size in bytes; signatures are twice this.
            pub(crate) const LEN: usize = $len;

            pub(crate) fn from_parts(
                x: &[u8],
                y: &[u8],
                d: Option<&[u8]>,
            ) -> Result<Self, KeyError> {
                let invalid = KeyError::InvalidJwk {
                    reason: "EC public key is not a valid point",
                };
                if x.len() != Self::LEN || y.len() != Self::LEN {
                    return Err(invalid);
                }
                let mut sec1 = Vec::with_capacity(1 + 2 * Self::LEN);
                sec1.push(0x04);
                sec1.extend_from_slice(x);
                sec1.extend_from_slice(y);
                let public =
                    $curve::ecdsa::VerifyingKey::from_sec1_bytes(&sec1).map_err(|_| invalid)?;
                let private = match d {
                    None => None,
                    Some(d) => {
                        if d.len() != Self::LEN {
                            return Err(KeyError::InvalidJwk {
                                reason: "EC private key has the wrong length",
                            });
                        }
                        let private = $curve::ecdsa::SigningKey::from_slice(d).map_err(|_| {
                            KeyError::InvalidJwk {
                                reason: "EC private key is out of range",
                            }
                        })?;
                        if *private.verifying_key() != public {
                            return Err(KeyError::InvalidJwk {
                                reason: "private and public parts do not match",
                            });
                        }
                        Some(private)
                    }
                };
                Ok(Self { public, private })
            }

            /// A key from random bytes, or `None` when they are not a valid scalar.
            pub(crate) fn from_random(d: &[u8]) -> Option<Self> {
                let private = $curve::ecdsa::SigningKey::from_slice(d).ok()?;
                Some(Self {
                    public: *private.verifying_key(),
                    private: Some(private),
                })
            }

            /// The public point's affine coordinates `(x, y)`.
            pub(crate) fn coordinates(&self) -> (Vec<u8>, Vec<u8>) {
                let point = self.public.to_sec1_point(false);
                let bytes = point.as_bytes();
                (
                    bytes[1..1 + Self::LEN].to_vec(),
                    bytes[1 + Self::LEN..].to_vec(),
                )
            }

            pub(crate) fn private_scalar(&self) -> Option<Vec<u8>> {
                self.private.as_ref().map(|key| key.to_bytes().to_vec())
            }

            #[cfg_attr(feature = "aws-lc", allow(dead_code))]
            pub(crate) fn sign(&self, input: &[u8]) -> Option<Vec<u8>> {
                use $curve::ecdsa::signature::Signer as _;
                let key = self.private.as_ref()?;
                let signature: $curve::ecdsa::Signature = key.sign(input);
                Some(signature.to_bytes().to_vec())
            }

            #[cfg_attr(feature = "aws-lc", allow(dead_code))]
            pub(crate) fn verify(
                &self,
                input: &[u8],
                signature: &[u8],
            ) -> Result<(), SignatureError> {
                use $curve::ecdsa::signature::Verifier as _;
                if signature.len() != 2 * Self::LEN {
                    return Err(SignatureError::VerificationFailed);
                }
                let signature = $curve::ecdsa::Signature::from_slice(signature)
                    .map_err(|_| SignatureError::VerificationFailed)?;
                self.public
                    .verify(input, &signature)
                    .map_err(|_| SignatureError::VerificationFailed)
            }
        }
    };
}

ecdsa_key!(P256Key, p256, 32);
ecdsa_key!(P384Key, p384, 48);
