//! DPoP proofs seen, in SQL (keyed by their hash: one B-tree).

use jwtkit_core::UnixTime;
use rusqlite::params;

use super::SqliteStore;
use crate::store::proofs::ProofReplays;
use crate::store::{StoreError, StoreFuture, TokenHash};

pub(super) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS dpop_proofs (
    hash BLOB PRIMARY KEY,
    until REAL NOT NULL
) WITHOUT ROWID;
";

/// The transactions the proofs are forgotten in, each a range of their hashes.
const SLICES: u8 = 64;

/// Forgets the proofs whose window has passed, a slice of the hashes at a time: at thousands
/// of proofs a second the table holds hundreds of thousands, nearly all of them past their
/// window at each prune, and one transaction deleting them would hold the store's thread for a
/// good part of a second, every request waiting on it. A slice's records lie on pages of their
/// own (the table is ordered by hash), so the slices write what one transaction would, and
/// requests run between them.
pub(super) async fn prune(store: &SqliteStore, now: f64) -> Result<(), StoreError> {
    for slice in 0..SLICES {
        let (from, to) = slice_bounds(slice);
        store
            .run(move |conn| {
                conn.prepare_cached(
                    "DELETE FROM dpop_proofs WHERE hash >= ?1 AND hash < ?2 AND until <= ?3",
                )?
                .execute(params![from, to, now])
                .map(drop)
            })
            .await?;
    }
    Ok(())
}

/// The hashes of `slice` (of [`SLICES`]): from its first byte, up to the next slice's (the
/// last one's bound, 33 bytes of `FF`, is above every 32-byte hash).
fn slice_bounds(slice: u8) -> (Vec<u8>, Vec<u8>) {
    let step = u8::MAX / SLICES + 1;
    let from = vec![slice * step];
    let to = match slice.checked_add(1).filter(|next| *next < SLICES) {
        Some(next) => vec![next * step],
        None => vec![u8::MAX; 33],
    };
    (from, to)
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
