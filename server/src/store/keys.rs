//! The signing keys kept in the store (`crate::keys`), shared by every instance that uses
//! it: one document, the key ring, replaced whole with a compare-and-set on its version, so
//! that of instances planning the same step at once exactly one writes it.

use jwtkit_core::UnixTime;

use super::StoreFuture;

/// The key ring as read, with the store's clock.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredRing {
    /// Its version: 0 before the first is written.
    pub version: u64,
    /// Its document, once written.
    pub document: Option<String>,
    /// How far the reader's clock is behind the store's, in seconds (0 for a store without
    /// a clock of its own): instances that judge the ring's times by `now` plus this judge
    /// them by one clock, and switch keys together whatever theirs say.
    pub clock_shift: f64,
}

/// The key ring's document and its version.
pub trait KeyRecords: Send + Sync {
    /// The key ring, read at `now` (the reader's clock).
    fn key_ring(&self, now: UnixTime) -> StoreFuture<'_, StoredRing>;

    /// Writes `document` as version `version + 1` if the ring is still at `version` (0: none
    /// written yet); `false`, writing nothing, when another writer came first.
    fn replace_key_ring(&self, version: u64, document: String) -> StoreFuture<'_, bool>;
}
