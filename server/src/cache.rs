//! A bounded cache of verified tokens, so that a client sending the same token on every
//! request pays for the strict parse and the signature once.
//!
//! Sound because verification is a pure function of the token's bytes, the key set and the
//! policy — except for time. The cache belongs to one [`crate::filters::Authenticator`],
//! whose verifier (keys and policy) never changes; it is keyed by the token's exact text; it
//! only ever holds tokens that passed verification; and on every hit the policy's checks run
//! again at the current time (`exp`, `nbf`, `iat`, and the rest, which are cheap), so a
//! cached token expires exactly when an uncached one would.

use std::collections::HashMap;
use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use jwtkit_core::{Claims, UnixTime, VerifiedToken, Verifier};

/// How many verified tokens an authenticator remembers by default.
pub(crate) const DEFAULT_CAPACITY: usize = 4096;

/// How many trailing bytes of a token are hashed: inside the signature, which no one can
/// choose for a token that verifies, so the entries spread evenly whatever the clients send.
const HASHED_BYTES: usize = 32;

/// Verified tokens by their text: buckets by the (keyed) hash of the token's last bytes, each
/// compared in full.
pub(crate) struct VerifiedCache {
    capacity: usize,
    hasher: RandomState,
    entries: Mutex<Entries>,
    /// Verifications answered from the cache, and in full.
    hits: AtomicU64,
    misses: AtomicU64,
}

/// The tokens whose trailing bytes hash alike, each with what it verified to.
type Bucket = Vec<(Box<str>, Arc<VerifiedToken>)>;

#[derive(Default)]
struct Entries {
    buckets: HashMap<u64, Bucket>,
    len: usize,
}

impl VerifiedCache {
    /// A cache of at most `capacity` tokens (0 disables it).
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            capacity,
            hasher: RandomState::new(),
            entries: Mutex::new(Entries::default()),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }

    /// How many verifications were answered from the cache, and in full.
    pub(crate) fn stats(&self) -> (u64, u64) {
        (
            self.hits.load(Ordering::Relaxed),
            self.misses.load(Ordering::Relaxed),
        )
    }

    fn hash(&self, token: &str) -> u64 {
        let bytes = token.as_bytes();
        self.hasher
            .hash_one(&bytes[bytes.len().saturating_sub(HASHED_BYTES)..])
    }

    pub(crate) fn capacity(&self) -> usize {
        self.capacity
    }

    /// Verifies `token` at `now`: from the cache when it was verified before (its claims
    /// checked again at `now`), else in full, remembering the result when it passes.
    pub(crate) fn verify(
        &self,
        verifier: &Verifier,
        token: &str,
        now: UnixTime,
    ) -> Result<Claims, jwtkit_core::Error> {
        if self.capacity == 0 {
            return verifier.verify(token, now).map(|v| v.into_parts().1);
        }
        let hash = self.hash(token);
        let hit = self.lock().buckets.get(&hash).and_then(|bucket| {
            bucket
                .iter()
                .find(|(text, _)| **text == *token)
                .map(|(_, verified)| verified.clone())
        });
        if let Some(hit) = hit {
            self.hits.fetch_add(1, Ordering::Relaxed);
            verifier.revalidate(&hit, now)?;
            return Ok(hit.claims().clone());
        }
        self.misses.fetch_add(1, Ordering::Relaxed);
        let verified = verifier.verify(token, now)?;
        let claims = verified.claims().clone();
        let mut entries = self.lock();
        let entries = &mut *entries;
        if entries.len >= self.capacity {
            // Forget what has expired; if that is not enough, forget everything (the cache
            // refills itself from the tokens clients keep sending).
            for bucket in entries.buckets.values_mut() {
                bucket.retain(|(_, v)| v.claims().exp().is_none_or(|exp| exp > now));
            }
            entries.buckets.retain(|_, bucket| !bucket.is_empty());
            entries.len = entries.buckets.values().map(Vec::len).sum();
            if entries.len >= self.capacity {
                entries.buckets.clear();
                entries.len = 0;
            }
        }
        let bucket = entries.buckets.entry(hash).or_default();
        if !bucket.iter().any(|(text, _)| **text == *token) {
            bucket.push((token.into(), Arc::new(verified)));
            entries.len += 1;
        }
        Ok(claims)
    }

    fn lock(&self) -> MutexGuard<'_, Entries> {
        // The map is consistent after any panic in a holder (each operation is one call).
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        let entries = self.lock();
        assert_eq!(
            entries.len,
            entries.buckets.values().map(Vec::len).sum::<usize>()
        );
        entries.len
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jwtkit_core::{Algorithm, Key, KeySet, Signer, Validation};

    const NOW: i64 = 1_800_000_000;

    fn at(secs: i64) -> UnixTime {
        UnixTime::from_secs(secs).unwrap()
    }

    fn setup() -> (Verifier, Signer) {
        let key = Key::generate(Algorithm::HS256).unwrap();
        let policy = Validation::builder().require_claim("sub").build().unwrap();
        (
            Verifier::new(KeySet::from(key.clone()), policy),
            Signer::new(key),
        )
    }

    #[test]
    fn a_cached_token_expires_exactly_when_an_uncached_one_does() {
        let (verifier, signer) = setup();
        let token = signer
            .sign(&serde_json::json!({"sub": "ann", "exp": NOW + 60, "nbf": NOW - 5}))
            .unwrap();
        let cache = VerifiedCache::new(8);
        assert_eq!(
            cache.verify(&verifier, &token, at(NOW)).unwrap().sub(),
            Some("ann")
        );
        assert_eq!(cache.len(), 1);
        // Hit: still valid one second before exp, expired at exp, like the full check.
        assert!(cache.verify(&verifier, &token, at(NOW + 59)).is_ok());
        for now in [NOW + 60, NOW + 61] {
            let cached = cache.verify(&verifier, &token, at(now)).unwrap_err();
            let full = verifier.verify(&token, at(now)).unwrap_err();
            assert_eq!(
                (cached.code(), full.code()),
                ("ERR_JWT_EXPIRED", "ERR_JWT_EXPIRED")
            );
        }
        // nbf too, in the other direction.
        let early = cache.verify(&verifier, &token, at(NOW - 10)).unwrap_err();
        assert_eq!(early.code(), "ERR_JWT_NOT_YET_VALID");
    }

    #[test]
    fn only_verified_tokens_are_remembered_and_a_changed_byte_misses() {
        let (verifier, signer) = setup();
        let token = signer
            .sign(&serde_json::json!({"sub": "ann", "exp": NOW + 60}))
            .unwrap();
        let cache = VerifiedCache::new(8);
        cache.verify(&verifier, &token, at(NOW)).unwrap();
        let mut forged = token.clone().into_bytes();
        let inside = forged.len() - 10; // inside the signature, away from its trailing bits
        forged[inside] = if forged[inside] == b'A' { b'B' } else { b'A' };
        let forged = String::from_utf8(forged).unwrap();
        let error = cache.verify(&verifier, &forged, at(NOW)).unwrap_err();
        assert_eq!(error.code(), "ERR_JWS_SIGNATURE_VERIFICATION_FAILED");
        assert_eq!(cache.len(), 1, "a refused token is not remembered");
    }

    #[test]
    fn stays_bounded() {
        let (verifier, signer) = setup();
        let cache = VerifiedCache::new(4);
        for i in 0..10 {
            let token = signer
                .sign(&serde_json::json!({"sub": format!("u{i}"), "exp": NOW + 60}))
                .unwrap();
            cache.verify(&verifier, &token, at(NOW)).unwrap();
            assert!(cache.len() <= 4);
        }
        let off = VerifiedCache::new(0);
        let token = signer
            .sign(&serde_json::json!({"sub": "ann", "exp": NOW + 60}))
            .unwrap();
        off.verify(&verifier, &token, at(NOW)).unwrap();
        assert_eq!(off.len(), 0);
    }
}
