//! RS256 (RSASSA-PKCS1-v1_5) and PS256 (RSASSA-PSS, salt = 32 bytes), RFC 7518 §3.3 and §3.5.
//! Moduli under 2048 bits and ROCA-vulnerable moduli (CVE-2017-15361) are refused.

use rsa::traits::{PrivateKeyParts, PublicKeyParts};
use rsa::{BoxedUint, PrivateKey, PublicKey, pkcs1v15, pss};
use sha2::Sha256;

use crate::alg::Algorithm;
use crate::error::{KeyError, SignatureError};

/// The smallest modulus accepted, in bits (RFC 7518 §3.3).
pub(crate) const MIN_BITS: usize = 2048;
/// The largest modulus accepted, in bits (bounds the cost of a verification).
const MAX_BITS: usize = 8192;

#[derive(Clone)]
pub(crate) struct RsaKey {
    pub(crate) public: PublicKey,
    pub(crate) private: Option<PrivateKey>,
    #[cfg_attr(feature = "aws-lc", allow(dead_code))]
    verifier: Verifier,
}

#[derive(Clone)]
#[cfg_attr(feature = "aws-lc", allow(dead_code))]
enum Verifier {
    Pkcs1(pkcs1v15::VerifyingKey<Sha256>),
    Pss(pss::VerifyingKey<Sha256>),
}

/// The RSA members of a JWK, decoded (RFC 7518 §6.3).
pub(crate) struct RsaParts<'a> {
    pub(crate) n: &'a [u8],
    pub(crate) e: &'a [u8],
    pub(crate) d: Option<&'a [u8]>,
    pub(crate) primes: Option<(&'a [u8], &'a [u8])>,
}

impl RsaKey {
    pub(crate) fn from_parts(alg: Algorithm, parts: RsaParts<'_>) -> Result<Self, KeyError> {
        let invalid = |reason| KeyError::InvalidJwk { reason };
        let n = BoxedUint::from_be_slice_vartime(parts.n);
        let e = BoxedUint::from_be_slice_vartime(parts.e);
        let bits = n.bit_width_vartime() as usize;
        if bits < MIN_BITS {
            return Err(KeyError::TooWeak { min_bits: MIN_BITS });
        }
        if is_roca_vulnerable(parts.n) {
            return Err(invalid(
                "RSA modulus has the ROCA fingerprint (CVE-2017-15361)",
            ));
        }
        let public = PublicKey::new_with_size_limits(n.clone(), e.clone(), MIN_BITS..=MAX_BITS)
            .map_err(|_| invalid("RSA public key is invalid"))?;
        let private = match parts.d {
            None => None,
            Some(d) => {
                let d = BoxedUint::from_be_slice_vartime(d);
                let primes = match parts.primes {
                    Some((p, q)) => vec![
                        BoxedUint::from_be_slice_vartime(p),
                        BoxedUint::from_be_slice_vartime(q),
                    ],
                    None => Vec::new(),
                };
                let key = PrivateKey::from_components(n, e, d, primes)
                    .map_err(|_| invalid("RSA private key is invalid or does not match"))?;
                Some(key)
            }
        };
        Self::new(alg, public, private)
    }

    pub(crate) fn generate(alg: Algorithm) -> Result<Self, KeyError> {
        let private = PrivateKey::new(&mut getrandom::SysRng, MIN_BITS)
            .map_err(|_| KeyError::RandomnessUnavailable)?;
        Self::new(alg, private.to_public_key(), Some(private))
    }

    fn new(
        alg: Algorithm,
        public: PublicKey,
        private: Option<PrivateKey>,
    ) -> Result<Self, KeyError> {
        let verifier = match alg {
            Algorithm::RS256 => Verifier::Pkcs1(pkcs1v15::VerifyingKey::new(public.clone())),
            Algorithm::PS256 => Verifier::Pss(pss::VerifyingKey::new(public.clone())),
            _ => return Err(KeyError::AlgorithmMismatch),
        };
        Ok(Self {
            public,
            private,
            verifier,
        })
    }

    /// `(n, e)` as unsigned big-endian bytes without leading zeros.
    pub(crate) fn public_parts(&self) -> (Vec<u8>, Vec<u8>) {
        (
            self.public.n_bytes().into_vec(),
            self.public.e_bytes().into_vec(),
        )
    }

    /// `[d, p, q, dp, dq, qi]` for a private JWK, or `None` for a public key.
    pub(crate) fn private_parts(&self) -> Option<Vec<Vec<u8>>> {
        let key = self.private.as_ref()?;
        let bytes = |v: &BoxedUint| v.to_be_bytes_trimmed_vartime().into_vec();
        let primes = key.primes();
        let (p, q) = (primes.first()?, primes.get(1)?);
        Some(vec![
            bytes(key.d()),
            bytes(p.as_ref()),
            bytes(q.as_ref()),
            bytes(key.dp()?),
            bytes(key.dq()?),
            bytes(&key.crt_coefficient()?),
        ])
    }

    #[cfg_attr(feature = "aws-lc", allow(dead_code))]
    pub(crate) fn sign(&self, input: &[u8]) -> Option<Result<Vec<u8>, KeyError>> {
        use rsa::signature::{RandomizedSigner as _, SignatureEncoding as _, Signer as _};
        let private = self.private.clone()?;
        Some(match self.verifier {
            Verifier::Pkcs1(_) => Ok(pkcs1v15::SigningKey::<Sha256>::new(private)
                .sign(input)
                .to_vec()),
            Verifier::Pss(_) => pss::SigningKey::<Sha256>::new(private)
                .try_sign_with_rng(&mut getrandom::SysRng, input)
                .map(|s| s.to_vec())
                .map_err(|_| KeyError::RandomnessUnavailable),
        })
    }

    #[cfg_attr(feature = "aws-lc", allow(dead_code))]
    pub(crate) fn verify(&self, input: &[u8], signature: &[u8]) -> Result<(), SignatureError> {
        use rsa::signature::Verifier as _;
        let fail = |_| SignatureError::VerificationFailed;
        // RFC 8017 §8.2.2 step 1: the signature is exactly as long as the modulus.
        if signature.len() != self.public.size() {
            return Err(SignatureError::VerificationFailed);
        }
        match &self.verifier {
            Verifier::Pkcs1(key) => key.verify(
                input,
                &pkcs1v15::Signature::try_from(signature).map_err(fail)?,
            ),
            Verifier::Pss(key) => {
                key.verify(input, &pss::Signature::try_from(signature).map_err(fail)?)
            }
        }
        .map_err(fail)
    }
}

/// The ROCA fingerprint test of Nemec et al. (CCS 2017): moduli made by the vulnerable
/// Infineon library are, modulo each small prime below, in the subgroup generated by 65537.
fn is_roca_vulnerable(n: &[u8]) -> bool {
    const PRIMES: [u64; 38] = [
        3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67, 71, 73, 79, 83, 89,
        97, 101, 103, 107, 109, 113, 127, 131, 137, 139, 149, 151, 157, 163, 167,
    ];
    PRIMES.iter().all(|&p| {
        let residue = n
            .iter()
            .fold(0u64, |acc, &byte| (acc * 256 + u64::from(byte)) % p);
        let generator = 65537 % p;
        let mut element = 1u64;
        for _ in 0..p {
            if element == residue {
                return true;
            }
            element = element * generator % p;
        }
        false
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn roca_fingerprint_matches_only_the_subgroup() {
        // 65537^k mod every small prime: a modulus equal to 65537 itself has the fingerprint.
        assert!(is_roca_vulnerable(&[1, 0, 1]));
        // 2 is not a power of 65537 modulo 7 (65537 ≡ 3, whose powers are all of 1..6, but
        // modulo 11, 65537 ≡ 10 generates only {1, 10}).
        assert!(!is_roca_vulnerable(&[2]));
    }
}
