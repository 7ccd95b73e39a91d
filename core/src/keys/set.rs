//! Key sets: the keys a verifier trusts, looked up by `kid`.

use super::{Jwk, JwkSet, Key};
use crate::alg::Algorithm;
use crate::error::{KeyError, SignatureError};

/// A non-empty set of keys with distinct `kid`s, all symmetric or all asymmetric.
///
/// Mixing is refused because a set that holds both an HMAC secret and public keys is one
/// configuration mistake away from algorithm confusion.
#[derive(Debug, Clone)]
pub struct KeySet {
    keys: Vec<Key>,
}

impl KeySet {
    /// A set of these keys; refuses an empty set, duplicate `kid`s and mixed key kinds.
    pub fn new(keys: Vec<Key>) -> Result<Self, KeyError> {
        let first = keys.first().ok_or(KeyError::EmptyKeySet)?;
        let symmetric = first.algorithm().is_symmetric();
        if keys
            .iter()
            .any(|k| k.algorithm().is_symmetric() != symmetric)
        {
            return Err(KeyError::MixedKeyTypes);
        }
        for (i, key) in keys.iter().enumerate() {
            if keys[..i].iter().any(|other| other.kid() == key.kid()) {
                return Err(KeyError::DuplicateKeyId);
            }
        }
        Ok(Self { keys })
    }

    /// Loads a JWK Set, or a single JWK, from JSON; keys without `alg` get `default_alg`.
    pub fn from_json(text: &str, default_alg: Option<Algorithm>) -> Result<Self, KeyError> {
        let jwks = match JwkSet::from_json(text) {
            Ok(set) => set.keys,
            Err(set_error) => match Jwk::from_json(text) {
                Ok(jwk) => vec![jwk],
                Err(_) => return Err(set_error),
            },
        };
        Self::new(
            jwks.iter()
                .map(|jwk| Key::from_jwk(jwk, default_alg))
                .collect::<Result<_, _>>()?,
        )
    }

    /// The key with this `kid`.
    pub fn get(&self, kid: &str) -> Option<&Key> {
        self.keys.iter().find(|k| k.kid() == kid)
    }

    /// The key to sign with: the one with this `kid`, or without a `kid` the first that can
    /// sign. [`KeyError::KidNotFound`] for an unknown `kid`; [`KeyError::NotAPrivateKey`]
    /// when the named key, or every key, is public.
    pub fn signing_key(&self, kid: Option<&str>) -> Result<&Key, KeyError> {
        let key = match kid {
            Some(kid) => self.get(kid).ok_or(KeyError::KidNotFound)?,
            None => self
                .keys
                .iter()
                .find(|k| k.can_sign())
                .ok_or(KeyError::NotAPrivateKey)?,
        };
        if key.can_sign() {
            Ok(key)
        } else {
            Err(KeyError::NotAPrivateKey)
        }
    }

    /// The keys, in configuration order.
    pub fn iter(&self) -> impl Iterator<Item = &Key> {
        self.keys.iter()
    }

    /// The public JWK Set: empty for symmetric keys, never any private or secret material.
    pub fn to_public_jwks(&self) -> JwkSet {
        JwkSet {
            keys: self.keys.iter().filter_map(Key::to_public_jwk).collect(),
        }
    }

    /// The key that must verify a token with this `alg` and `kid`.
    ///
    /// With a `kid`, only that key (unknown → [`SignatureError::NoMatchingKey`]; bound to
    /// another algorithm → [`SignatureError::KeyAlgorithmMismatch`]). Without one, the single
    /// key bound to `alg`, or [`SignatureError::MultipleMatchingKeys`].
    pub fn select(&self, alg: Algorithm, kid: Option<&str>) -> Result<&Key, SignatureError> {
        if let Some(kid) = kid {
            let key = self.get(kid).ok_or(SignatureError::NoMatchingKey)?;
            return if key.algorithm() == alg {
                Ok(key)
            } else {
                Err(SignatureError::KeyAlgorithmMismatch)
            };
        }
        let mut matching = self.keys.iter().filter(|k| k.algorithm() == alg);
        match (matching.next(), matching.next()) {
            (Some(key), None) => Ok(key),
            (Some(_), Some(_)) => Err(SignatureError::MultipleMatchingKeys),
            (None, _) if self.keys.len() == 1 => Err(SignatureError::KeyAlgorithmMismatch),
            (None, _) => Err(SignatureError::NoMatchingKey),
        }
    }
}

impl From<Key> for KeySet {
    fn from(key: Key) -> Self {
        Self { keys: vec![key] }
    }
}
