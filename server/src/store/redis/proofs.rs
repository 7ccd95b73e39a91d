//! DPoP proofs seen, in Redis, shared by every instance: `jwtkit:dpop:{hex sha256}` (string)
//! lives as long as the proof's window, set only if absent.

use jwtkit_core::UnixTime;

use super::scripts::hex;
use super::{RedisStore, error};
use crate::store::proofs::ProofReplays;
use crate::store::{StoreFuture, TokenHash};

impl ProofReplays for RedisStore {
    fn first_use_of_proof(
        &self,
        proof: TokenHash,
        now: UnixTime,
        until: UnixTime,
    ) -> StoreFuture<'_, bool> {
        let mut conn = self.conn.clone();
        Box::pin(async move {
            // A lifetime, not an instant: Redis's clock and this instance's need not agree.
            let millis = ((until.as_secs_f64() - now.as_secs_f64()) * 1000.0)
                .ceil()
                .max(1.0) as u64;
            let set: Option<String> = redis::cmd("SET")
                .arg(format!("jwtkit:dpop:{}", hex(&proof)))
                .arg(1)
                .arg("NX")
                .arg("PX")
                .arg(millis)
                .query_async(&mut conn)
                .await
                .map_err(error)?;
            Ok(set.is_some())
        })
    }
}
