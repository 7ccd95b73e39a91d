//! The native backend (feature `aws-lc`, never on wasm32): every signature through aws-lc-rs
//! — constant-time, FIPS-validated code, an order of magnitude faster than the portable
//! arithmetic for ECDSA and RSA. HMAC is not here: for token-sized inputs the portable
//! HMAC-SHA (RustCrypto, on the CPU's SHA extensions where present) is measured faster
//! (sign 0.75 against 0.85 µs, verify 0.88 against 0.95 µs; docs/benchmarks.md), so it
//! serves every target.
//!
//! Which keys are accepted stays the core's: a key is imported and checked by the portable
//! code (sizes, curves, the ROCA fingerprint, weak Ed25519 points, private and public parts
//! matching, the algorithm binding) exactly as on wasm32, and only then handed here, once,
//! in parsed form. Signatures are held to the same rules as on the portable backend (fixed
//! lengths, `r`/`s` and `S` ranges, PSS salt of the hash length); the conformance suites run
//! against both.

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{
    self, EcdsaKeyPair, Ed25519KeyPair, ParsedPublicKey, RsaKeyPair, RsaPublicKeyComponents,
};

use super::Material;
use crate::alg::Algorithm;
use crate::error::{KeyError, SignatureError};

/// What this backend is called in reports and benchmarks.
pub(crate) const NAME: &str = "aws-lc-rs";

/// A key in aws-lc-rs's parsed form, ready for every signature. One per key, behind an
/// `Arc`.
pub(super) enum Native {
    Ed25519 {
        public: ParsedPublicKey,
        private: Option<Ed25519KeyPair>,
    },
    Ecdsa {
        public: ParsedPublicKey,
        private: Option<EcdsaKeyPair>,
        signature_len: usize,
    },
    Rsa {
        public: ParsedPublicKey,
        private: Option<RsaKeyPair>,
        encoding: &'static dyn signature::RsaEncoding,
        modulus_len: usize,
    },
}

impl Native {
    /// The native form of a key the portable code imported and checked (none for HMAC).
    pub(super) fn new(alg: Algorithm, material: &Material) -> Result<Option<Self>, KeyError> {
        Ok(Some(match material {
            Material::Hmac(_) => return Ok(None),
            Material::Ed25519(key) => {
                let public_bytes = key.public.to_bytes();
                let public =
                    ParsedPublicKey::new(&signature::ED25519, public_bytes).map_err(rejected)?;
                let private = match &key.private {
                    None => None,
                    Some(private) => Some(
                        Ed25519KeyPair::from_seed_and_public_key(private.as_bytes(), &public_bytes)
                            .map_err(rejected)?,
                    ),
                };
                Self::Ed25519 { public, private }
            }
            Material::P256(key) => Self::ecdsa(
                &signature::ECDSA_P256_SHA256_FIXED,
                &signature::ECDSA_P256_SHA256_FIXED_SIGNING,
                key.public.to_sec1_point(false).as_bytes(),
                key.private_scalar().as_deref(),
                2 * super::P256Key::LEN,
            )?,
            Material::P384(key) => Self::ecdsa(
                &signature::ECDSA_P384_SHA384_FIXED,
                &signature::ECDSA_P384_SHA384_FIXED_SIGNING,
                key.public.to_sec1_point(false).as_bytes(),
                key.private_scalar().as_deref(),
                2 * super::P384Key::LEN,
            )?,
            Material::Rsa(key) => {
                let (n, e) = key.public_parts();
                let (verification, encoding): (
                    &'static signature::RsaParameters,
                    &'static dyn signature::RsaEncoding,
                ) = if alg == Algorithm::PS256 {
                    (
                        &signature::RSA_PSS_2048_8192_SHA256,
                        &signature::RSA_PSS_SHA256,
                    )
                } else {
                    (
                        &signature::RSA_PKCS1_2048_8192_SHA256,
                        &signature::RSA_PKCS1_SHA256,
                    )
                };
                let public = RsaPublicKeyComponents { n: &n, e: &e }
                    .to_parsed_public_key(verification)
                    .map_err(rejected)?;
                let private = match key.private_parts() {
                    None => None,
                    Some(parts) => {
                        let der = rsa_private_key_der(&n, &e, &parts);
                        Some(RsaKeyPair::from_der(&der).map_err(rejected)?)
                    }
                };
                Self::Rsa {
                    public,
                    private,
                    encoding,
                    modulus_len: n.len(),
                }
            }
        }))
    }

    fn ecdsa(
        verification: &'static signature::EcdsaVerificationAlgorithm,
        signing: &'static signature::EcdsaSigningAlgorithm,
        sec1: &[u8],
        d: Option<&[u8]>,
        signature_len: usize,
    ) -> Result<Self, KeyError> {
        let public = ParsedPublicKey::new(verification, sec1).map_err(rejected)?;
        let private = match d {
            None => None,
            Some(d) => Some(
                EcdsaKeyPair::from_private_key_and_public_key(signing, d, sec1)
                    .map_err(rejected)?,
            ),
        };
        Ok(Self::Ecdsa {
            public,
            private,
            signature_len,
        })
    }

    /// The signature over `input`, or `None` for a public key.
    pub(super) fn sign(&self, input: &[u8]) -> Option<Result<Vec<u8>, KeyError>> {
        let failed = |_| KeyError::RandomnessUnavailable;
        Some(match self {
            Self::Ed25519 { private, .. } => Ok(private.as_ref()?.sign(input).as_ref().to_vec()),
            Self::Ecdsa { private, .. } => {
                let key = private.as_ref()?;
                key.sign(&SystemRandom::new(), input)
                    .map(|s| s.as_ref().to_vec())
                    .map_err(failed)
            }
            Self::Rsa {
                private, encoding, ..
            } => {
                let key = private.as_ref()?;
                let mut signature = vec![0; key.public_modulus_len()];
                key.sign(*encoding, &SystemRandom::new(), input, &mut signature)
                    .map(|()| signature)
                    .map_err(failed)
            }
        })
    }

    /// Verifies `signature` over `input`; lengths are checked first, as the portable code
    /// checks them.
    pub(super) fn verify(&self, input: &[u8], signature: &[u8]) -> Result<(), SignatureError> {
        let fail = |_| SignatureError::VerificationFailed;
        match self {
            Self::Ed25519 { public, .. } if signature.len() == 64 => {
                public.verify_sig(input, signature).map_err(fail)
            }
            Self::Ecdsa {
                public,
                signature_len,
                ..
            } if signature.len() == *signature_len => {
                public.verify_sig(input, signature).map_err(fail)
            }
            Self::Rsa {
                public,
                modulus_len,
                ..
            } if signature.len() == *modulus_len => {
                public.verify_sig(input, signature).map_err(fail)
            }
            _ => Err(SignatureError::VerificationFailed),
        }
    }
}

/// An RSAPrivateKey (RFC 8017 §A.1.2) in DER: version 0, `n`, `e`, then `[d, p, q, dp, dq,
/// qi]`, each an unsigned big-endian integer.
fn rsa_private_key_der(n: &[u8], e: &[u8], private: &[Vec<u8>]) -> Vec<u8> {
    fn length(out: &mut Vec<u8>, len: usize) {
        if len < 0x80 {
            out.push(len as u8);
        } else {
            let bytes: Vec<u8> = len
                .to_be_bytes()
                .into_iter()
                .skip_while(|&b| b == 0)
                .collect();
            out.push(0x80 | bytes.len() as u8);
            out.extend_from_slice(&bytes);
        }
    }
    fn integer(out: &mut Vec<u8>, value: &[u8]) {
        let value: &[u8] = match value.iter().position(|&b| b != 0) {
            Some(first) => &value[first..],
            None => &[],
        };
        let pad = value.first().is_none_or(|&b| b & 0x80 != 0);
        out.push(0x02);
        length(out, value.len() + usize::from(pad));
        if pad {
            out.push(0);
        }
        out.extend_from_slice(value);
    }
    let mut body = Vec::new();
    integer(&mut body, &[0]);
    integer(&mut body, n);
    integer(&mut body, e);
    for part in private {
        integer(&mut body, part);
    }
    let mut der = vec![0x30];
    length(&mut der, body.len());
    der.extend_from_slice(&body);
    der
}

/// A key the portable code accepted and aws-lc-rs did not (it is stricter in places).
fn rejected<E>(_: E) -> KeyError {
    KeyError::InvalidJwk {
        reason: "key rejected by the native backend",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::Key;

    #[test]
    fn each_backend_verifies_what_the_other_signs_and_both_refuse_a_changed_byte() {
        for alg in Algorithm::ALL {
            let key = Key::generate(alg).unwrap();
            let Some(native_key) = &key.native else {
                assert!(alg.to_string().starts_with("HS"), "{alg} has no native key");
                continue;
            };
            let input = b"eyJhbGciOiJub25lIn0.eyJzdWIiOiJhbm4ifQ";
            let native = native_key.sign(input).unwrap().unwrap();
            let portable = key.material.sign(input).unwrap().unwrap();
            assert_eq!(
                key.material.verify(input, &native),
                Ok(()),
                "{alg}: native → portable"
            );
            assert_eq!(
                native_key.verify(input, &portable),
                Ok(()),
                "{alg}: portable → native"
            );
            for signature in [native, portable] {
                let mut changed = signature.clone();
                changed[signature.len() / 2] ^= 1;
                assert!(native_key.verify(input, &changed).is_err(), "{alg}");
                assert!(key.material.verify(input, &changed).is_err(), "{alg}");
                assert!(native_key.verify(input, &signature[1..]).is_err(), "{alg}");
                assert!(native_key.verify(b"other", &signature).is_err(), "{alg}");
            }
        }
    }

    #[test]
    fn an_rsa_key_given_without_its_primes_still_signs() {
        // RFC 7518 §6.3.2 makes p, q and the CRT values optional: the portable code recovers
        // them, and the native key is built from what it recovered.
        let key = Key::generate(Algorithm::PS256).unwrap();
        let mut jwk = key.to_private_jwk();
        (jwk.p, jwk.q, jwk.dp, jwk.dq, jwk.qi) = (None, None, None, None, None);
        let bare = Key::from_jwk(&jwk, None).unwrap();
        let signature = bare.sign(b"input").unwrap();
        assert_eq!(key.verify(b"input", &signature), Ok(()));
        assert_eq!(bare.material.verify(b"input", &signature), Ok(()));
    }

    #[test]
    fn der_integers_are_minimal_and_unsigned() {
        let der = rsa_private_key_der(&[0x00, 0x80], &[1, 0, 1], &[vec![0x7f]]);
        assert_eq!(
            der,
            [0x30, 15, 2, 1, 0, 2, 2, 0, 0x80, 2, 3, 1, 0, 1, 2, 1, 0x7f]
        );
        let mut long = vec![0x30, 0x82];
        let big = rsa_private_key_der(&[0x11; 300], &[3], &[]);
        long.extend_from_slice(&((big.len() - 4) as u16).to_be_bytes());
        assert_eq!(&big[..4], &long[..]);
    }
}
