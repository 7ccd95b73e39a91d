//! The key ring in SQL: one row, its version beside it.

use jwtkit_core::UnixTime;
use rusqlite::{OptionalExtension, params};

use super::SqliteStore;
use crate::store::StoreFuture;
use crate::store::keys::{KeyRecords, StoredRing};

pub(super) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS key_ring (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    version INTEGER NOT NULL,
    document TEXT NOT NULL
);
";

impl KeyRecords for SqliteStore {
    fn key_ring(&self, _now: UnixTime) -> StoreFuture<'_, StoredRing> {
        // One machine, one clock: the file's readers share the reader's.
        self.run(|conn| {
            let found: Option<(i64, String)> = conn
                .prepare_cached("SELECT version, document FROM key_ring WHERE id = 1")?
                .query_row([], |row| Ok((row.get(0)?, row.get(1)?)))
                .optional()?;
            Ok(match found {
                Some((version, document)) => StoredRing {
                    version: version.unsigned_abs(),
                    document: Some(document),
                    clock_shift: 0.0,
                },
                None => StoredRing {
                    version: 0,
                    document: None,
                    clock_shift: 0.0,
                },
            })
        })
    }

    fn replace_key_ring(&self, version: u64, document: String) -> StoreFuture<'_, bool> {
        let version = i64::try_from(version).unwrap_or(i64::MAX);
        self.run(move |conn| {
            // In the writer's transaction: the read of the version and the write are one step
            // for every process on the file.
            let written = if version == 0 {
                conn.prepare_cached(
                    "INSERT OR IGNORE INTO key_ring (id, version, document) VALUES (1, 1, ?1)",
                )?
                .execute(params![document])?
            } else {
                conn.prepare_cached(
                    "UPDATE key_ring SET version = version + 1, document = ?2
                     WHERE id = 1 AND version = ?1",
                )?
                .execute(params![version, document])?
            };
            Ok(written == 1)
        })
    }
}
