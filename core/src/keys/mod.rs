//! Signing and verification keys, each bound to exactly one algorithm when loaded.
//!
//! A [`Key`] never lets a token choose how it is used: the header's `alg` must equal the
//! key's algorithm (RFC 8725 §3.1), so an RSA public key can never be used as an HMAC secret.

mod ecdsa;
mod eddsa;
mod hmac;
mod jwk;
#[cfg(feature = "aws-lc")]
mod native;
mod rsa;
mod set;

use core::fmt;

pub use jwk::{Jwk, JwkSet};
pub use set::KeySet;

use crate::alg::Algorithm;
use crate::error::{KeyError, SignatureError};
use ecdsa::{P256Key, P384Key};
use eddsa::Ed25519Key;
use hmac::HmacKey;
use rsa::RsaKey;

/// The backend that signs and verifies: `"aws-lc-rs"` with the feature `aws-lc` (native
/// targets; HMAC stays portable there, measured faster), else `"RustCrypto"` (portable, and
/// the one on wasm32). Chosen when the crate is built, never by input; which keys and
/// signatures are accepted is the same on both.
#[cfg(feature = "aws-lc")]
pub const BACKEND: &str = native::NAME;
/// The backend that signs and verifies: `"aws-lc-rs"` with the feature `aws-lc` (native
/// targets), else `"RustCrypto"` (portable, and the one on wasm32). Chosen when the crate is
/// built, never by input; which keys and signatures are accepted is the same on both.
#[cfg(not(feature = "aws-lc"))]
pub const BACKEND: &str = "RustCrypto";

/// A key bound to one algorithm, with a key ID. Its `Debug` output shows no key material.
#[derive(Clone)]
pub struct Key {
    alg: Algorithm,
    kid: String,
    material: Material,
    /// The same key in the native backend's parsed form (not for HMAC: see `native`).
    #[cfg(feature = "aws-lc")]
    native: Option<std::sync::Arc<native::Native>>,
}

#[derive(Clone)]
enum Material {
    Hmac(HmacKey),
    Ed25519(Ed25519Key),
    P256(P256Key),
    P384(P384Key),
    Rsa(RsaKey),
}

impl Key {
    /// A fresh key for `alg` from the system's CSPRNG: a secret as long as the hash output
    /// for HMAC, a new key pair otherwise (RSA: 2048 bits). The `kid` is the RFC 7638
    /// thumbprint.
    pub fn generate(alg: Algorithm) -> Result<Self, KeyError> {
        let material = match alg {
            Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512 => {
                let len = hmac::min_len(alg).ok_or(KeyError::AlgorithmMismatch)?;
                let mut secret = zeroize::Zeroizing::new(vec![0u8; len]);
                random(&mut secret)?;
                Material::Hmac(HmacKey::new(alg, &secret)?)
            }
            Algorithm::EdDSA => {
                let mut seed = zeroize::Zeroizing::new([0u8; 32]);
                random(seed.as_mut())?;
                Material::Ed25519(Ed25519Key::from_seed(*seed))
            }
            Algorithm::ES256 => Material::P256(random_scalar(P256Key::LEN, P256Key::from_random)?),
            Algorithm::ES384 => Material::P384(random_scalar(P384Key::LEN, P384Key::from_random)?),
            Algorithm::RS256 | Algorithm::PS256 => Material::Rsa(RsaKey::generate(alg)?),
        };
        Self::with_thumbprint_kid(alg, material)
    }

    /// An HMAC key from a raw shared secret. Secrets shorter than the hash output are refused
    /// ([`KeyError::TooWeak`]); without a `kid` the RFC 7638 thumbprint is used.
    pub fn from_hmac_secret(
        alg: Algorithm,
        secret: &[u8],
        kid: Option<&str>,
    ) -> Result<Self, KeyError> {
        if !alg.is_symmetric() {
            return Err(KeyError::AlgorithmMismatch);
        }
        let material = Material::Hmac(HmacKey::new(alg, secret)?);
        match kid {
            Some(kid) => Self::with_kid(alg, kid, material),
            None => Self::with_thumbprint_kid(alg, material),
        }
    }

    fn with_kid(alg: Algorithm, kid: &str, material: Material) -> Result<Self, KeyError> {
        if kid.is_empty() {
            return Err(KeyError::InvalidJwk {
                reason: "\"kid\" is empty",
            });
        }
        Self::new(alg, kid.to_owned(), material)
    }

    fn with_thumbprint_kid(alg: Algorithm, material: Material) -> Result<Self, KeyError> {
        let mut key = Self::new(alg, String::new(), material)?;
        key.kid = key.thumbprint();
        Ok(key)
    }

    /// Every key is made here: checked by the portable code already, and handed to the
    /// native backend once.
    fn new(alg: Algorithm, kid: String, material: Material) -> Result<Self, KeyError> {
        Ok(Self {
            alg,
            kid,
            #[cfg(feature = "aws-lc")]
            native: native::Native::new(alg, &material)?.map(std::sync::Arc::new),
            material,
        })
    }

    /// The one algorithm this key is used with.
    pub fn algorithm(&self) -> Algorithm {
        self.alg
    }

    /// The key ID: as configured, or the RFC 7638 SHA-256 thumbprint.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// Whether this key can sign (holds a private key or a shared secret).
    pub fn can_sign(&self) -> bool {
        match &self.material {
            Material::Hmac(_) => true,
            Material::Ed25519(k) => k.private.is_some(),
            Material::P256(k) => k.private.is_some(),
            Material::P384(k) => k.private.is_some(),
            Material::Rsa(k) => k.private.is_some(),
        }
    }

    /// Signs the JWS signing input `BASE64URL(header) '.' BASE64URL(payload)`.
    pub fn sign(&self, signing_input: &[u8]) -> Result<Vec<u8>, KeyError> {
        #[cfg(feature = "aws-lc")]
        if let Some(native) = &self.native {
            return native
                .sign(signing_input)
                .transpose()?
                .ok_or(KeyError::NotAPrivateKey);
        }
        self.material
            .sign(signing_input)?
            .ok_or(KeyError::NotAPrivateKey)
    }

    /// Verifies `signature` over the JWS signing input with this key's algorithm.
    pub fn verify(&self, signing_input: &[u8], signature: &[u8]) -> Result<(), SignatureError> {
        #[cfg(feature = "aws-lc")]
        if let Some(native) = &self.native {
            return native.verify(signing_input, signature);
        }
        self.material.verify(signing_input, signature)
    }
}

/// The portable backend (RustCrypto): the one on wasm32 and without the feature `aws-lc`;
/// with it, HMAC's, and the reference the native backend is checked against.
impl Material {
    fn sign(&self, input: &[u8]) -> Result<Option<Vec<u8>>, KeyError> {
        Ok(match self {
            Self::Hmac(k) => Some(k.sign(input)),
            Self::Ed25519(k) => k.sign(input),
            Self::P256(k) => k.sign(input),
            Self::P384(k) => k.sign(input),
            Self::Rsa(k) => k.sign(input).transpose()?,
        })
    }

    fn verify(&self, input: &[u8], signature: &[u8]) -> Result<(), SignatureError> {
        match self {
            Self::Hmac(k) => k.verify(input, signature),
            Self::Ed25519(k) => k.verify(input, signature),
            Self::P256(k) => k.verify(input, signature),
            Self::P384(k) => k.verify(input, signature),
            Self::Rsa(k) => k.verify(input, signature),
        }
    }
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Key")
            .field("alg", &self.alg)
            .field("kid", &self.kid)
            .field("can_sign", &self.can_sign())
            .finish_non_exhaustive()
    }
}

fn random(buf: &mut [u8]) -> Result<(), KeyError> {
    getrandom::fill(buf).map_err(|_| KeyError::RandomnessUnavailable)
}

/// Draws random scalars until one is in range (for P-256 the first draw fails with
/// probability about 2^-32).
fn random_scalar<K>(len: usize, make: impl Fn(&[u8]) -> Option<K>) -> Result<K, KeyError> {
    let mut bytes = zeroize::Zeroizing::new(vec![0u8; len]);
    for _ in 0..64 {
        random(&mut bytes)?;
        if let Some(key) = make(&bytes) {
            return Ok(key);
        }
    }
    Err(KeyError::RandomnessUnavailable)
}
