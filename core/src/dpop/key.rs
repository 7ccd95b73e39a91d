//! The proof's own key: the header's `jwk`, public only, for the proof's `alg` — imported
//! once per key. A client proves with the same key on every request, and importing it (the
//! point's validation, for Ed25519 its decompression, then the backend's parse) and hashing
//! its thumbprint cost as much as a fifth of the signature check; a server's [`ProofKeys`]
//! keeps the keys it imported, so a proof costs its signature check and no import.
//!
//! Sound: an entry is found only for the very members of a `jwk` imported before, with the
//! same `alg` — the same key, refused or accepted the same way — and the signature is checked
//! on every proof all the same (a proof is never cached). The cache holds public keys only,
//! and at most [`MAX_KEYS`] of them: when full it starts afresh, so a flood of new keys costs
//! each its import, as without a cache.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

use serde::Deserialize;

use super::ProofError;
use crate::alg::Algorithm;
use crate::keys::{Jwk, Key};

/// The most keys a [`ProofKeys`] holds.
pub(super) const MAX_KEYS: usize = 4096;

/// The keys a server imported from proofs, with their thumbprints (shared by its clones).
#[derive(Clone, Default)]
pub(super) struct ProofKeys(Arc<Mutex<HashMap<String, Imported>>>);

/// A key and its RFC 7638 thumbprint.
pub(super) type Imported = Arc<(Key, String)>;

impl ProofKeys {
    /// How many keys it holds.
    pub(super) fn len(&self) -> usize {
        self.lock().len()
    }

    /// The key of the header's `jwk` for `alg` (named `alg_name` in the proof), from the
    /// cache or imported; private members refused.
    pub(super) fn get(
        &self,
        jwk: Option<&serde_json::Value>,
        alg: Algorithm,
        alg_name: &str,
    ) -> Result<Imported, ProofError> {
        let jwk = public_jwk(jwk, alg, alg_name)?;
        let name = identity(&jwk, alg);
        if let Some(found) = self.lock().get(&name) {
            return Ok(Arc::clone(found));
        }
        let key = Key::from_jwk(&jwk, Some(alg)).map_err(|e| ProofError::Key {
            reason: e.to_string(),
        })?;
        let jkt = key.thumbprint();
        let imported = Arc::new((key, jkt));
        let mut keys = self.lock();
        if keys.len() >= MAX_KEYS {
            keys.clear();
        }
        keys.insert(name, Arc::clone(&imported));
        Ok(imported)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Imported>> {
        // Entries are whole or absent: a panic elsewhere leaves nothing half-written.
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl fmt::Debug for ProofKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ProofKeys({} keys)", self.len())
    }
}

/// Every cache is the same as far as a policy's meaning goes.
impl PartialEq for ProofKeys {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl Eq for ProofKeys {}

/// The header's `jwk` as a public JWK without `alg` (the proof's `alg` names the algorithm,
/// whichever of its names it used); private members and an `alg` of another algorithm refused.
fn public_jwk(
    jwk: Option<&serde_json::Value>,
    alg: Algorithm,
    alg_name: &str,
) -> Result<Jwk, ProofError> {
    let jwk = jwk.ok_or_else(|| ProofError::Key {
        reason: "the header has no jwk".to_owned(),
    })?;
    if !jwk.is_object() {
        return Err(ProofError::Key {
            reason: "jwk is not an object".to_owned(),
        });
    }
    // Read from the header as the strict parser left it (duplicates already refused at
    // every depth), without writing it out and parsing it again.
    let jwk = Jwk::deserialize(jwk).map_err(|_| ProofError::Key {
        reason: "a member is missing or has the wrong type".to_owned(),
    })?;
    let private = [&jwk.d, &jwk.p, &jwk.q, &jwk.dp, &jwk.dq, &jwk.qi, &jwk.k]
        .iter()
        .any(|member| member.is_some())
        || jwk.oth.is_some();
    if private {
        return Err(ProofError::Key {
            reason: "it carries private or secret members (a proof carries the public key only)"
                .to_owned(),
        });
    }
    if jwk
        .alg
        .as_deref()
        .is_some_and(|a| a != alg.as_str() && a != alg_name)
    {
        return Err(ProofError::Key {
            reason: format!("its alg is not the proof's {alg}"),
        });
    }
    Ok(Jwk { alg: None, ..jwk })
}

/// Every member the import reads, with `alg`, each length-prefixed: two JWKs share it only
/// when the import cannot tell them apart.
fn identity(jwk: &Jwk, alg: Algorithm) -> String {
    let mut name = String::with_capacity(256);
    let mut push = |value: Option<&str>| match value {
        None => name.push('-'),
        Some(value) => {
            name.push_str(&value.len().to_string());
            name.push(':');
            name.push_str(value);
        }
    };
    push(Some(alg.as_str()));
    push(Some(&jwk.kty));
    for member in [
        &jwk.crv, &jwk.x, &jwk.y, &jwk.n, &jwk.e, &jwk.use_, &jwk.kid,
    ] {
        push(member.as_deref());
    }
    match &jwk.key_ops {
        None => push(None),
        Some(ops) => {
            push(Some(&ops.len().to_string()));
            ops.iter().for_each(|op| push(Some(op)));
        }
    }
    name
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use serde_json::json;

    use super::*;

    fn public(key: &Key) -> serde_json::Value {
        serde_json::from_str(&key.to_public_jwk().unwrap().to_json()).unwrap()
    }

    /// The same members find the same key; a member changed, another `alg` or a new key is
    /// imported (and refused) on its own.
    #[test]
    fn a_key_is_found_only_by_its_very_members() {
        let keys = ProofKeys::default();
        let key = Key::generate(Algorithm::ES256).unwrap();
        let jwk = public(&key);
        let first = keys.get(Some(&jwk), Algorithm::ES256, "ES256").unwrap();
        let again = keys.get(Some(&jwk), Algorithm::ES256, "ES256").unwrap();
        assert!(Arc::ptr_eq(&first, &again));
        assert_eq!(first.1, key.thumbprint());
        assert_eq!(keys.len(), 1);

        let mut encrypting = jwk.clone();
        encrypting["use"] = json!("enc");
        assert_eq!(
            keys.get(Some(&encrypting), Algorithm::ES256, "ES256")
                .unwrap_err()
                .code(),
            "ERR_DPOP_PROOF_KEY"
        );
        let mut off_curve = jwk.clone();
        off_curve["y"] = off_curve["x"].clone();
        assert!(matches!(
            keys.get(Some(&off_curve), Algorithm::ES256, "ES256"),
            Err(ProofError::Key { reason }) if reason.contains("not a valid point")
        ));
        assert!(matches!(
            keys.get(Some(&jwk), Algorithm::EdDSA, "EdDSA"),
            Err(ProofError::Key { .. })
        ));
        let mut private = jwk.clone();
        private["d"] = json!("AAAA");
        assert!(matches!(
            keys.get(Some(&private), Algorithm::ES256, "ES256"),
            Err(ProofError::Key { reason }) if reason.contains("private")
        ));
        assert_eq!(keys.len(), 1, "nothing refused is kept");
    }

    /// Full, the cache starts afresh: it never holds more than its bound.
    #[test]
    fn the_cache_holds_at_most_its_bound() {
        let keys = ProofKeys::default();
        let key = Key::generate(Algorithm::EdDSA).unwrap();
        let jwk = public(&key);
        for kid in 0..=MAX_KEYS {
            let mut named = jwk.clone();
            named["kid"] = json!(kid.to_string());
            keys.get(Some(&named), Algorithm::EdDSA, "EdDSA").unwrap();
            assert!(keys.len() <= MAX_KEYS);
        }
        assert_eq!(keys.len(), 1);
    }
}
