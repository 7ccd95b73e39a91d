//! DPoP proofs seen, in SQL (keyed by their hash: one B-tree).

use jwtkit_core::UnixTime;
use rusqlite::params;

use super::SqliteStore;
use crate::store::proofs::ProofReplays;
use crate::store::{StoreFuture, TokenHash};

pub(super) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS dpop_proofs (
    hash BLOB PRIMARY KEY,
    until REAL NOT NULL
) WITHOUT ROWID;
";

/// Forgets the proofs whose window has passed.
pub(super) fn prune(conn: &rusqlite::Connection, now: f64) -> rusqlite::Result<()> {
    conn.prepare_cached("DELETE FROM dpop_proofs WHERE until <= ?1")?
        .execute(params![now])
        .map(drop)
}

impl ProofReplays for SqliteStore {
    fn first_use_of_proof(
        &self,
        proof: TokenHash,
        now: UnixTime,
        until: UnixTime,
    ) -> StoreFuture<'_, bool> {
        self.run(move |conn| {
            // One that is past its window is forgotten (pruning may not have come yet).
            conn.prepare_cached("DELETE FROM dpop_proofs WHERE hash = ?1 AND until <= ?2")?
                .execute(params![&proof[..], now.as_secs_f64()])?;
            let added = conn
                .prepare_cached("INSERT OR IGNORE INTO dpop_proofs (hash, until) VALUES (?1, ?2)")?
                .execute(params![&proof[..], until.as_secs_f64()])?;
            Ok(added == 1)
        })
    }
}
