//! The key-encryption key (KEK): 32 random bytes, given as base64url, that seal the private
//! part of every key the store holds (AES-256-GCM through aws-lc-rs). A sealed key is
//! `base64url(nonce ‖ ciphertext ‖ tag)`, its nonce random, its associated data naming the key
//! (`kid` and `alg`), so a sealed key moved to another record does not open there. The store
//! alone never reveals a private key; a wrong KEK opens nothing.

use std::fmt;

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use zeroize::Zeroizing;

/// The bytes of a KEK.
pub const KEK_LEN: usize = 32;

/// Why a KEK cannot be used or a sealed key cannot be opened. Never carries key material.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KekError {
    /// The text is not base64url of exactly 32 bytes.
    Malformed(String),
    /// The KEK does not open the sealed key: another KEK sealed it, or it was changed.
    WrongKey,
    /// No randomness for a nonce.
    Randomness,
}

impl fmt::Display for KekError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Malformed(reason) => write!(f, "{reason}"),
            Self::WrongKey => {
                f.write_str("it was sealed with another key-encryption key, or changed since")
            }
            Self::Randomness => f.write_str("no randomness for a nonce"),
        }
    }
}

impl std::error::Error for KekError {}

/// A key-encryption key, and the key derived from it that authenticates the ring's document.
/// Its `Debug` shows no key material.
pub struct Kek {
    seal: LessSafeKey,
    mac: Zeroizing<[u8; 32]>,
}

impl fmt::Debug for Kek {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Kek(…)")
    }
}

impl Kek {
    /// The KEK of `text`: base64url (no padding) of 32 bytes, surrounding whitespace ignored.
    pub fn from_base64url(text: &str) -> Result<Self, KekError> {
        let bytes = Zeroizing::new(URL_SAFE_NO_PAD.decode(text.trim()).map_err(|_| {
            KekError::Malformed("is not base64url (A-Z a-z 0-9 - _, no padding)".to_owned())
        })?);
        if bytes.len() != KEK_LEN {
            return Err(KekError::Malformed(format!(
                "is {} bytes; a key-encryption key is {KEK_LEN}",
                bytes.len()
            )));
        }
        Self::from_bytes(&bytes)
    }

    /// The KEK of 32 bytes (`key_encryption_key` as the configuration read it).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, KekError> {
        let seal = UnboundKey::new(&AES_256_GCM, bytes)
            .map(LessSafeKey::new)
            .map_err(|_| KekError::Malformed(format!("is not {KEK_LEN} bytes")))?;
        // A key of its own for the document's MAC, never the sealing key itself.
        let mac = Zeroizing::new(hmac_sha256(bytes, b"jwtkit key ring document"));
        Ok(Self { seal, mac })
    }

    /// The MAC of `document` (HMAC-SHA256 under a key derived from the KEK).
    pub fn mac(&self, document: &[u8]) -> [u8; 32] {
        hmac_sha256(self.mac.as_ref(), document)
    }

    /// Whether `tag` is the MAC of `document` (compared in constant time).
    pub fn verify_mac(&self, document: &[u8], tag: &[u8]) -> bool {
        use subtle::ConstantTimeEq as _;
        bool::from(self.mac(document).ct_eq(tag))
    }

    /// A new random KEK as base64url (`jwtkit keygen --kek`).
    pub fn generate() -> Result<String, KekError> {
        let mut bytes = Zeroizing::new([0u8; KEK_LEN]);
        getrandom::fill(bytes.as_mut()).map_err(|_| KekError::Randomness)?;
        Ok(URL_SAFE_NO_PAD.encode(bytes.as_ref()))
    }

    /// `secret` sealed for the key named `name` (its `kid` and `alg`).
    pub fn seal(&self, name: &str, secret: &[u8]) -> Result<String, KekError> {
        let mut nonce = [0u8; NONCE_LEN];
        getrandom::fill(&mut nonce).map_err(|_| KekError::Randomness)?;
        let mut sealed = Zeroizing::new(secret.to_vec());
        self.seal
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(name.as_bytes()),
                &mut *sealed,
            )
            .map_err(|_| KekError::Randomness)?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        Ok(URL_SAFE_NO_PAD.encode(out))
    }

    /// The secret that [`Kek::seal`] sealed for `name`.
    pub fn open(&self, name: &str, sealed: &str) -> Result<Zeroizing<Vec<u8>>, KekError> {
        let bytes = URL_SAFE_NO_PAD
            .decode(sealed)
            .map_err(|_| KekError::WrongKey)?;
        if bytes.len() < NONCE_LEN {
            return Err(KekError::WrongKey);
        }
        let (nonce, ciphertext) = bytes.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| KekError::WrongKey)?;
        let mut in_out = Zeroizing::new(ciphertext.to_vec());
        let plain = self
            .seal
            .open_in_place(nonce, Aad::from(name.as_bytes()), &mut in_out)
            .map_err(|_| KekError::WrongKey)?
            .to_vec();
        Ok(Zeroizing::new(plain))
    }
}

fn hmac_sha256(key: &[u8], data: &[u8]) -> [u8; 32] {
    use hmac::{KeyInit as _, Mac as _};
    // HMAC takes a key of any length.
    #[allow(clippy::expect_used)]
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(key)
        .expect("invariant: HMAC takes a key of any length");
    mac.update(data);
    mac.finalize().into_bytes().into()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn kek() -> Kek {
        Kek::from_base64url(&Kek::generate().unwrap()).unwrap()
    }

    #[test]
    fn a_sealed_secret_opens_with_its_kek_and_name_only() {
        let (kek, other) = (kek(), kek());
        let sealed = kek.seal("kid-1 EdDSA", b"the private key").unwrap();
        assert!(!sealed.contains("private"));
        assert_eq!(
            &kek.open("kid-1 EdDSA", &sealed).unwrap()[..],
            b"the private key"
        );
        assert_eq!(
            other.open("kid-1 EdDSA", &sealed).unwrap_err(),
            KekError::WrongKey
        );
        assert_eq!(
            kek.open("kid-2 EdDSA", &sealed).unwrap_err(),
            KekError::WrongKey,
            "moved to another key's record"
        );
        let mut changed = sealed.into_bytes();
        let last = changed.len() - 2;
        changed[last] = if changed[last] == b'A' { b'B' } else { b'A' };
        let changed = String::from_utf8(changed).unwrap();
        assert_eq!(
            kek.open("kid-1 EdDSA", &changed).unwrap_err(),
            KekError::WrongKey
        );
        assert_ne!(
            kek.seal("n", b"same").unwrap(),
            kek.seal("n", b"same").unwrap(),
            "a nonce of its own each time"
        );
    }

    #[test]
    fn a_kek_is_32_bytes_of_base64url() {
        assert!(Kek::from_base64url(&URL_SAFE_NO_PAD.encode([7u8; 32])).is_ok());
        for (text, says) in [
            (URL_SAFE_NO_PAD.encode([7u8; 16]), "is 16 bytes"),
            ("not base64url!".to_owned(), "not base64url"),
            (
                base64::engine::general_purpose::STANDARD.encode([0xfbu8; 32]),
                "not base64url",
            ),
        ] {
            let KekError::Malformed(reason) = Kek::from_base64url(&text).unwrap_err() else {
                panic!("{text} refused for another reason");
            };
            assert!(reason.contains(says), "{reason}");
        }
        assert_eq!(format!("{:?}", kek()), "Kek(…)");
    }
}
