//! A bounded cache of verified tokens, so that a client sending the same token on every
//! request pays for the strict parse and the signature once.
//!
//! Sound because verification is a pure function of the token's bytes, the key set and the
//! policy — except for time. The cache belongs to one [`crate::filters::Authenticator`],
//! whose verifier (keys and policy) never changes; it is keyed by the token's exact text; it
//! only ever holds tokens that passed verification; and on every hit the policy's checks run
//! again at the current time (`exp`, `nbf`, `iat`, and the rest, which are cheap), so a
//! cached token expires exactly when an uncached one would.
//!
//! Bounded in bytes, in shards that each take a share of the budget behind their own lock
//! (a hit takes a shard's read lock). A token is stored at its second verification within a
//! window of recently seen ones, and evicted by CLOCK ([`shard`]): tokens used once are never
//! stored, so a client minting tokens in a loop cannot push out the ones clients keep using,
//! and more clients than the cache holds cost what verifying without a cache costs.

mod shard;

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use jwtkit_core::{Claims, UnixTime, Verifier};
use shard::{Entry, Shard};

/// The memory an authenticator's cache may use by default: 4 MiB.
pub(crate) const DEFAULT_BYTES: usize = 4 << 20;

/// Longer tokens are verified in full every time: a few of them would crowd out many.
pub const MAX_CACHED_TOKEN_BYTES: usize = 4096;

/// What an entry costs besides its token's length, times [`TEXT_FACTOR`]: the verified
/// header and claims (their JSON map view included, built when a route reads a claim), and
/// its map and CLOCK slots. Measured by
/// `server/tests/cache_memory.rs`, which holds the cache to its budget.
const ENTRY_OVERHEAD: usize = 1024;
const TEXT_FACTOR: usize = 4;

/// The most shards, and the least budget a shard is given.
const MAX_SHARDS: usize = 16;
const MIN_SHARD_BYTES: usize = 64 << 10;

/// How many trailing bytes of a token are hashed: inside the signature, which no one can
/// choose for a token that verifies, so the entries spread evenly whatever the clients send.
const HASHED_BYTES: usize = 32;

pub use crate::metrics::CacheStats;

/// Verified tokens by their text, in shards by the (keyed) hash of the token's last bytes.
pub(crate) struct VerifiedCache {
    budget: usize,
    /// The costliest entry stored (an eighth of a shard's room for entries).
    max_cost: usize,
    hasher: RandomState,
    shards: Box<[RwLock<Shard>]>,
    hits: AtomicU64,
    misses: AtomicU64,
}

impl VerifiedCache {
    /// A cache of at most `budget` bytes (0 disables it).
    pub(crate) fn new(budget: usize) -> Self {
        let shards = (budget / MIN_SHARD_BYTES).clamp(1, MAX_SHARDS);
        let shards = 1 << shards.ilog2();
        let shard = Shard::new(budget / shards);
        Self {
            budget,
            max_cost: shard.max_cost(),
            hasher: RandomState::new(),
            shards: (0..shards)
                .map(|_| RwLock::new(Shard::new(budget / shards)))
                .collect(),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }

    /// The budget, in bytes.
    pub(crate) fn budget(&self) -> usize {
        self.budget
    }

    /// What the cache did and holds.
    pub(crate) fn stats(&self) -> CacheStats {
        let mut stats = CacheStats {
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
            budget: self.budget,
            ..CacheStats::default()
        };
        for shard in &self.shards {
            let shard = read(shard);
            stats.evictions += shard.evictions;
            stats.entries += shard.len();
            stats.bytes += shard.bytes();
        }
        stats
    }

    /// What a token of `len` bytes counts against the budget.
    fn cost(len: usize) -> usize {
        ENTRY_OVERHEAD + TEXT_FACTOR * len
    }

    fn hash(&self, token: &str) -> u64 {
        let bytes = token.as_bytes();
        self.hasher
            .hash_one(&bytes[bytes.len().saturating_sub(HASHED_BYTES)..])
    }

    fn shard(&self, hash: u64) -> &RwLock<Shard> {
        // Bits the shard's own map does not lean on (it uses the lowest and the highest).
        &self.shards[(hash >> 32) as usize & (self.shards.len() - 1)]
    }

    /// Verifies `token` at `now`: from the cache when it was verified before (its claims
    /// checked again at `now`), else in full, remembering the result when it passes.
    pub(crate) fn verify(
        &self,
        verifier: &Verifier,
        token: &str,
        now: UnixTime,
    ) -> Result<Claims, jwtkit_core::Error> {
        let cost = Self::cost(token.len());
        if token.len() > MAX_CACHED_TOKEN_BYTES || cost > self.max_cost {
            if self.budget > 0 {
                self.misses.fetch_add(1, Ordering::Relaxed);
            }
            return verifier.verify(token, now).map(|v| v.into_parts().1);
        }
        let hash = self.hash(token);
        let shard = self.shard(hash);
        let hit = read(shard)
            .get(hash)
            .filter(|entry| entry.is(token))
            .map(|entry| (entry.verified.clone(), entry.expired(now)));
        if let Some((hit, expired)) = hit {
            self.hits.fetch_add(1, Ordering::Relaxed);
            if expired {
                write(shard).remove_expired(hash, now);
            }
            verifier.revalidate(&hit, now)?;
            return Ok(hit.claims().clone());
        }
        self.misses.fetch_add(1, Ordering::Relaxed);
        let verified = verifier.verify(token, now)?;
        let claims = verified.claims().clone();
        let mut shard = write(shard);
        if shard.admit(hash) {
            let entry = Entry::new(token, Arc::new(verified), cost);
            if !entry.expired(now) {
                shard.insert(hash, entry, now);
            }
        }
        Ok(claims)
    }
}

// A shard is consistent after any panic in a holder (each operation is one call).
fn read(shard: &RwLock<Shard>) -> RwLockReadGuard<'_, Shard> {
    shard.read().unwrap_or_else(PoisonError::into_inner)
}

fn write(shard: &RwLock<Shard>) -> RwLockWriteGuard<'_, Shard> {
    shard.write().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;
    use jwtkit_core::{Algorithm, Key, KeySet, Signer, Validation};

    const NOW: i64 = 1_800_000_000;
    /// One shard's worth: 64 KiB.
    const SMALL: usize = MIN_SHARD_BYTES;

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

    fn mint(signer: &Signer, sub: &str, exp: i64) -> String {
        signer
            .sign(&serde_json::json!({"sub": sub, "exp": exp}))
            .unwrap()
    }

    /// Verifies `token` at `now` twice (it is stored at the second).
    fn twice(cache: &VerifiedCache, verifier: &Verifier, token: &str, now: i64) {
        for _ in 0..2 {
            cache.verify(verifier, token, at(now)).unwrap();
        }
    }

    #[test]
    fn a_cached_token_expires_exactly_when_an_uncached_one_does() {
        let (verifier, signer) = setup();
        let token = signer
            .sign(&serde_json::json!({"sub": "ann", "exp": NOW + 60, "nbf": NOW - 5}))
            .unwrap();
        let cache = VerifiedCache::new(SMALL);
        assert_eq!(
            cache.verify(&verifier, &token, at(NOW)).unwrap().sub(),
            Some("ann")
        );
        assert_eq!(cache.stats().entries, 0, "stored at its second use");
        cache.verify(&verifier, &token, at(NOW)).unwrap();
        assert_eq!(cache.stats().entries, 1);
        // Hit: still valid one second before exp, expired at exp, like the full check.
        assert!(cache.verify(&verifier, &token, at(NOW + 59)).is_ok());
        assert_eq!(cache.stats().hits, 1);
        for now in [NOW + 60, NOW + 61] {
            let cached = cache.verify(&verifier, &token, at(now)).unwrap_err();
            let full = verifier.verify(&token, at(now)).unwrap_err();
            assert_eq!(
                (cached.code(), full.code()),
                ("ERR_JWT_EXPIRED", "ERR_JWT_EXPIRED")
            );
        }
        // nbf too, in the other direction (stored again first: the expired entry left).
        twice(&cache, &verifier, &token, NOW);
        let early = cache.verify(&verifier, &token, at(NOW - 10)).unwrap_err();
        assert_eq!(early.code(), "ERR_JWT_NOT_YET_VALID");
    }

    #[test]
    fn only_verified_tokens_are_remembered_and_a_changed_byte_misses() {
        let (verifier, signer) = setup();
        let token = mint(&signer, "ann", NOW + 60);
        let cache = VerifiedCache::new(SMALL);
        twice(&cache, &verifier, &token, NOW);
        let mut forged = token.clone().into_bytes();
        let inside = forged.len() - 10; // inside the signature, away from its trailing bits
        forged[inside] = if forged[inside] == b'A' { b'B' } else { b'A' };
        let forged = String::from_utf8(forged).unwrap();
        for _ in 0..3 {
            let error = cache.verify(&verifier, &forged, at(NOW)).unwrap_err();
            assert_eq!(error.code(), "ERR_JWS_SIGNATURE_VERIFICATION_FAILED");
        }
        assert_eq!(
            cache.stats().entries,
            1,
            "a refused token is not remembered"
        );
    }

    #[test]
    fn a_token_sharing_the_hashed_tail_of_a_cached_one_is_verified_in_full() {
        // The cache finds entries by the hash of a token's last bytes (its signature), and
        // answers only for the very same text: a payload edited under the original
        // signature must miss, and fail its signature check.
        let (verifier, signer) = setup();
        let cache = VerifiedCache::new(SMALL);
        let token = mint(&signer, "ann", NOW + 60);
        twice(&cache, &verifier, &token, NOW);
        let (head, signature) = token.rsplit_once('.').unwrap();
        let (header, _) = head.split_once('.').unwrap();
        let forged_claims = jwtkit_core::dangerous::decode_unverified(&token, &Default::default())
            .unwrap()
            .claims()
            .members()
            .clone();
        let mut forged_claims = serde_json::Value::Object(forged_claims);
        forged_claims["sub"] = "admin".into();
        let payload = base64::Engine::encode(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD,
            forged_claims.to_string(),
        );
        let forged = format!("{header}.{payload}.{signature}");
        assert_eq!(
            cache.hash(&forged),
            cache.hash(&token),
            "the same hashed tail"
        );
        let before = cache.stats();
        let refused = cache.verify(&verifier, &forged, at(NOW)).unwrap_err();
        assert_eq!(refused.code(), "ERR_JWS_SIGNATURE_VERIFICATION_FAILED");
        assert_eq!(
            cache.stats().hits,
            before.hits,
            "not answered from the cache"
        );
        assert_eq!(
            cache.verify(&verifier, &token, at(NOW)).unwrap().sub(),
            Some("ann")
        );
    }

    #[test]
    fn stays_within_its_budget_and_counts_what_it_does() {
        let (verifier, signer) = setup();
        let cache = VerifiedCache::new(SMALL);
        let mut stats = CacheStats::default();
        for i in 0..1000 {
            let token = mint(&signer, &format!("u{i}"), NOW + 60);
            twice(&cache, &verifier, &token, NOW);
            stats = cache.stats();
            assert!(stats.bytes <= SMALL, "{stats:?}");
        }
        let per_entry = VerifiedCache::cost(mint(&signer, "u999", NOW + 60).len());
        assert_eq!((stats.hits, stats.misses), (0, 2000));
        assert!(
            stats.entries >= SMALL * 15 / 16 / per_entry - 1,
            "{stats:?}"
        );
        assert_eq!(stats.evictions, 1000 - stats.entries as u64);
        let off = VerifiedCache::new(0);
        let token = mint(&signer, "ann", NOW + 60);
        twice(&off, &verifier, &token, NOW);
        assert_eq!(off.stats(), CacheStats::default());
    }

    #[test]
    fn a_client_minting_tokens_cannot_push_out_the_ones_in_use() {
        let (verifier, signer) = setup();
        let cache = VerifiedCache::new(SMALL);
        let per_entry = VerifiedCache::cost(mint(&signer, "hot0", NOW + 600).len());
        // As many clients as the cache holds, each sending its token twice at first...
        let hot: Vec<String> = (0..SMALL * 15 / 16 / per_entry)
            .map(|i| mint(&signer, &format!("hot{i}"), NOW + 600))
            .collect();
        for token in &hot {
            twice(&cache, &verifier, token, NOW);
        }
        // ...then again only after 50 minted tokens, each used once: many times the
        // cache's room goes by between two uses of a hot token.
        let before = cache.stats();
        for round in 0..20 {
            for (i, token) in hot.iter().enumerate() {
                for j in 0..50 {
                    let flood = mint(&signer, &format!("m{round}-{i}-{j}"), NOW + 600);
                    cache.verify(&verifier, &flood, at(NOW)).unwrap();
                }
                let hits = cache.stats().hits;
                cache.verify(&verifier, token, at(NOW)).unwrap();
                assert_eq!(cache.stats().hits, hits + 1, "round {round}, hot {i}");
            }
        }
        let after = cache.stats();
        assert_eq!(
            (after.entries, after.evictions),
            (before.entries, before.evictions)
        );
    }

    #[test]
    fn more_clients_than_fit_leave_the_stored_ones_alone() {
        let (verifier, signer) = setup();
        let cache = VerifiedCache::new(SMALL);
        let hot = mint(&signer, "hot", NOW + 600);
        twice(&cache, &verifier, &hot, NOW);
        // A pool ten times the doorkeeper's window, taking turns: nothing of it is stored.
        let pool: Vec<String> = (0..1300)
            .map(|i| mint(&signer, &format!("p{i}"), NOW + 600))
            .collect();
        for _ in 0..2 {
            for token in &pool {
                cache.verify(&verifier, token, at(NOW)).unwrap();
            }
        }
        let stats = cache.stats();
        assert_eq!((stats.entries, stats.evictions, stats.hits), (1, 0, 0));
        cache.verify(&verifier, &hot, at(NOW)).unwrap();
        assert_eq!(cache.stats().hits, 1);
    }

    #[test]
    fn a_pool_that_fits_is_answered_from_the_cache_from_its_third_round() {
        let (verifier, signer) = setup();
        let cache = VerifiedCache::new(SMALL);
        let per_entry = VerifiedCache::cost(mint(&signer, "p0", NOW + 60).len());
        let pool: Vec<String> = (0..SMALL * 15 / 16 / per_entry * 9 / 10)
            .map(|i| mint(&signer, &format!("p{i}"), NOW + 60))
            .collect();
        for round in 0..4 {
            let before = cache.stats();
            for token in &pool {
                cache.verify(&verifier, token, at(NOW)).unwrap();
            }
            let hits = cache.stats().hits - before.hits;
            let expected = if round < 2 { 0 } else { pool.len() as u64 };
            assert_eq!(hits, expected, "round {round}");
        }
    }

    #[test]
    fn expired_entries_leave_and_long_tokens_are_not_kept() {
        let (verifier, signer) = setup();
        let cache = VerifiedCache::new(SMALL);
        let short = mint(&signer, "ann", NOW + 2);
        twice(&cache, &verifier, &short, NOW);
        assert_eq!(cache.stats().entries, 1);
        // Met after its exp: refused as expired, and gone.
        let error = cache.verify(&verifier, &short, at(NOW + 2)).unwrap_err();
        assert_eq!(error.code(), "ERR_JWT_EXPIRED");
        assert_eq!(cache.stats().entries, 0);
        // Not met again: swept out when the shard next stores a token.
        let single = VerifiedCache::new(SMALL);
        twice(&single, &verifier, &short, NOW);
        let other = mint(&signer, "bob", NOW + 60);
        twice(&single, &verifier, &other, NOW + 3);
        assert_eq!(single.stats().entries, 1);
        // Over the size cap: verified, never kept.
        let long = signer
            .sign(&serde_json::json!({"sub": "x".repeat(MAX_CACHED_TOKEN_BYTES), "exp": NOW + 60}))
            .unwrap();
        for _ in 0..2 {
            let claims = cache.verify(&verifier, &long, at(NOW)).unwrap();
            assert_eq!(claims.sub().map(str::len), Some(MAX_CACHED_TOKEN_BYTES));
        }
        assert_eq!(cache.stats().entries, 0);
    }

    #[test]
    fn shards_take_even_shares_of_the_budget() {
        for (budget, shards) in [(0, 1), (SMALL, 1), (3 * SMALL, 2), (DEFAULT_BYTES, 16)] {
            let cache = VerifiedCache::new(budget);
            assert_eq!(cache.shards.len(), shards, "{budget}");
        }
    }
}
