//! The replay cache of a server without a store (a resource server trusting a remote
//! issuer, or an app embedding the filters): the proofs this process has seen, forgotten when
//! their window ends. One process only — instances behind one URL share a store instead.

use std::collections::HashMap;
use std::sync::Mutex;

use jwtkit_core::UnixTime;

use crate::store::{ProofReplays, StoreError, StoreFuture, TokenHash};

/// Proofs seen by this process, in memory.
#[derive(Debug, Default)]
pub struct MemoryReplays {
    seen: Mutex<Seen>,
}

#[derive(Debug, Default)]
struct Seen {
    until: HashMap<TokenHash, UnixTime>,
    /// The number of entries after the last sweep: the next sweeps when it has doubled, so
    /// sweeping costs a constant per insertion.
    after_sweep: usize,
}

impl MemoryReplays {
    /// An empty cache.
    pub fn new() -> Self {
        Self::default()
    }

    fn first_use(
        &self,
        proof: TokenHash,
        now: UnixTime,
        until: UnixTime,
    ) -> Result<bool, StoreError> {
        let mut seen = self
            .seen
            .lock()
            .map_err(|_| StoreError::new("the replay cache was poisoned by a panic"))?;
        if seen.until.len() >= 2 * seen.after_sweep.max(512) {
            seen.until.retain(|_, until| *until > now);
            seen.after_sweep = seen.until.len();
        }
        match seen.until.get(&proof) {
            Some(kept) if *kept > now => Ok(false),
            _ => {
                seen.until.insert(proof, until);
                Ok(true)
            }
        }
    }
}

impl ProofReplays for MemoryReplays {
    fn first_use_of_proof(
        &self,
        proof: TokenHash,
        now: UnixTime,
        until: UnixTime,
    ) -> StoreFuture<'_, bool> {
        let result = self.first_use(proof, now, until);
        Box::pin(async move { result })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: i64) -> UnixTime {
        UnixTime::from_secs(secs).unwrap()
    }

    #[test]
    fn a_proof_is_accepted_once_within_its_window_and_forgotten_after() {
        let cache = MemoryReplays::new();
        assert_eq!(cache.first_use([1; 32], at(100), at(160)), Ok(true));
        assert_eq!(cache.first_use([1; 32], at(159), at(219)), Ok(false));
        assert_eq!(cache.first_use([2; 32], at(159), at(219)), Ok(true));
        assert_eq!(cache.first_use([1; 32], at(160), at(220)), Ok(true));
    }

    #[test]
    fn expired_entries_are_swept() {
        let cache = MemoryReplays::new();
        for i in 0..5_000u32 {
            let mut key = [0; 32];
            key[..4].copy_from_slice(&i.to_be_bytes());
            assert_eq!(
                cache.first_use(key, at(i64::from(i)), at(i64::from(i) + 10)),
                Ok(true)
            );
        }
        assert!(cache.seen.lock().unwrap().until.len() < 1_100);
    }
}
