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
            // One statement: a new proof is recorded, one past its window (pruning may not
            // have come yet) recorded afresh, one still remembered left as it is.
            let recorded = conn
                .prepare_cached(
                    "INSERT INTO dpop_proofs (hash, until) VALUES (?1, ?2)
                     ON CONFLICT (hash) DO UPDATE SET until = excluded.until
                     WHERE dpop_proofs.until <= ?3",
                )?
                .execute(params![&proof[..], until.as_secs_f64(), now.as_secs_f64()])?;
            Ok(recorded == 1)
        })
    }
}
