//! The key ring in Redis: one hash, `jwtkit:keys` (`version`, `document`), replaced by a
//! script that compares the version first.

use jwtkit_core::UnixTime;

use super::{RedisStore, clock_shift, error};
use crate::store::StoreFuture;
use crate::store::keys::{KeyRecords, StoredRing};

const KEYS_KEY: &str = "jwtkit:keys";

impl KeyRecords for RedisStore {
    fn key_ring(&self, now: UnixTime) -> StoreFuture<'_, StoredRing> {
        let mut conn = self.conn.clone();
        Box::pin(async move {
            let clock_shift = clock_shift(&mut conn, self.clock, now).await?;
            let (version, document): (Option<u64>, Option<String>) = redis::cmd("HMGET")
                .arg(KEYS_KEY)
                .arg("version")
                .arg("document")
                .query_async(&mut conn)
                .await
                .map_err(error)?;
            Ok(StoredRing {
                version: version.unwrap_or(0),
                document,
                clock_shift,
            })
        })
    }

    fn replace_key_ring(&self, version: u64, document: String) -> StoreFuture<'_, bool> {
        let mut conn = self.conn.clone();
        Box::pin(async move {
            let written: i64 = self
                .scripts
                .replace_key_ring
                .key(KEYS_KEY)
                .arg(version)
                .arg(document)
                .invoke_async(&mut conn)
                .await
                .map_err(error)?;
            Ok(written == 1)
        })
    }
}
