//! An issuer's own keys for its authenticator: the keys in force (configured, or the store's
//! ring), each generation verified with a cache of its own — a token verified under a key
//! since removed is never answered from the cache.

use std::sync::{Arc, PoisonError, RwLock};

use jwtkit_core::{Validation, Verifier};

use crate::cache::VerifiedCache;
use crate::keys::SigningKeys;
use crate::remote::CachedVerifier;

pub(super) struct LocalKeys {
    keys: SigningKeys,
    policy: Validation,
    cache_bytes: usize,
    /// The generation verified with, and its verifier and cache.
    current: RwLock<(u64, Arc<CachedVerifier>)>,
}

impl LocalKeys {
    pub(super) fn new(keys: SigningKeys, policy: Validation, cache_bytes: usize) -> Self {
        let current = verifier(&keys, &policy, cache_bytes);
        Self {
            keys,
            policy,
            cache_bytes,
            current: RwLock::new(current),
        }
    }

    /// The verifier of the keys in force, made anew (with an empty cache) when they changed.
    pub(super) fn current(&self) -> Arc<CachedVerifier> {
        let generation = self.keys.generation();
        {
            let current = self.current.read().unwrap_or_else(PoisonError::into_inner);
            if current.0 == generation {
                return current.1.clone();
            }
        }
        let mut current = self.current.write().unwrap_or_else(PoisonError::into_inner);
        if current.0 != generation {
            *current = verifier(&self.keys, &self.policy, self.cache_bytes);
        }
        current.1.clone()
    }

    /// The memory each generation's cache may use.
    pub(super) fn cache_bytes(&self) -> usize {
        self.cache_bytes
    }
}

fn verifier(
    keys: &SigningKeys,
    policy: &Validation,
    cache_bytes: usize,
) -> (u64, Arc<CachedVerifier>) {
    let in_force = keys.in_force();
    (
        in_force.generation(),
        Arc::new(CachedVerifier {
            verifier: Verifier::new(in_force.keys().clone(), policy.clone()),
            cache: VerifiedCache::new(cache_bytes),
        }),
    )
}
