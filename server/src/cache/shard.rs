//! One shard of the verified-token cache: S3-FIFO (Yang et al., SOSP 2023) over a byte
//! budget.
//!
//! A token seen for the first time enters the small queue (a tenth of the budget). Leaving
//! it, a token that was used again moves to the main queue; one that was not is dropped and
//! its hash kept in the ghost queue, so that it enters the main queue directly if it comes
//! back. The main queue is a CLOCK: an entry used since the hand last passed (up to three
//! times) goes round again, the others leave. So a client minting tokens and using each once
//! only ever churns the small queue, and the tokens clients keep sending stay in the main
//! one. Expired entries leave whenever they are met, and at most a second after their `exp`
//! when the shard next takes an entry.

use std::collections::hash_map::Entry as Slot;
use std::collections::{HashMap, HashSet, VecDeque};
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};

use jwtkit_core::{UnixTime, VerifiedToken};

/// How many ghosts a shard keeps per entry it holds.
pub(super) const GHOSTS_PER_ENTRY: usize = 4;

/// The most uses an entry of the main queue is credited with.
const MAX_FREQUENCY: u8 = 3;

/// One cached token.
pub(super) struct Entry {
    text: Box<str>,
    pub(super) verified: Arc<VerifiedToken>,
    exp: Option<UnixTime>,
    /// What the entry counts against the budget.
    cost: usize,
    /// Uses since it entered its queue or the hand last passed.
    frequency: AtomicU8,
    /// Which queue holds it, and its place there: a queue's record of an entry that left and
    /// came back is recognised as stale by its sequence number.
    main: bool,
    sequence: u64,
}

impl Entry {
    pub(super) fn new(text: &str, verified: Arc<VerifiedToken>, cost: usize) -> Self {
        Self {
            text: text.into(),
            exp: verified.claims().exp(),
            verified,
            cost,
            frequency: AtomicU8::new(0),
            main: false,
            sequence: 0,
        }
    }

    /// Whether it is `token`, counting the use when it is.
    pub(super) fn is(&self, token: &str) -> bool {
        let hit = *self.text == *token;
        if hit {
            // A lost increment between two readers costs nothing but a credit.
            let frequency = self.frequency.load(Ordering::Relaxed);
            if frequency < MAX_FREQUENCY {
                self.frequency.store(frequency + 1, Ordering::Relaxed);
            }
        }
        hit
    }

    pub(super) fn expired(&self, now: UnixTime) -> bool {
        self.exp.is_some_and(|exp| exp <= now)
    }
}

/// The hashes are a keyed hash of the token already: used as they are.
#[derive(Default)]
pub(super) struct Prehashed(u64);

impl Hasher for Prehashed {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.0 = (self.0 << 8) | u64::from(byte);
        }
    }
    fn write_u64(&mut self, value: u64) {
        self.0 = value;
    }
}

type ByHash<V> = HashMap<u64, V, BuildHasherDefault<Prehashed>>;

/// What a shard holds: entries by hash, the two queues and the ghosts.
#[derive(Default)]
pub(super) struct Shard {
    entries: ByHash<Entry>,
    small: VecDeque<(u64, u64)>,
    main: VecDeque<(u64, u64)>,
    ghosts: VecDeque<u64>,
    ghost_set: HashSet<u64, BuildHasherDefault<Prehashed>>,
    small_bytes: usize,
    main_bytes: usize,
    sequence: u64,
    /// When expired entries are next swept out.
    next_sweep: i64,
    /// Entries that left to make room.
    pub(super) evictions: u64,
}

impl Shard {
    pub(super) fn get(&self, hash: u64) -> Option<&Entry> {
        self.entries.get(&hash)
    }

    pub(super) fn len(&self) -> usize {
        self.entries.len()
    }

    pub(super) fn bytes(&self) -> usize {
        self.small_bytes + self.main_bytes
    }

    /// Takes `entry` under `hash` at `now`, making room within `budget` bytes.
    pub(super) fn insert(&mut self, hash: u64, mut entry: Entry, now: UnixTime, budget: usize) {
        if now.as_secs() >= self.next_sweep {
            self.sweep(now);
        }
        let Slot::Vacant(slot) = self.entries.entry(hash) else {
            // Another request took it meanwhile, or (rarely) another token hashes alike: the
            // entry there stays.
            return;
        };
        self.sequence += 1;
        entry.sequence = self.sequence;
        entry.main = self.ghost_set.remove(&hash);
        if entry.main {
            self.main.push_back((hash, entry.sequence));
            self.main_bytes += entry.cost;
        } else {
            self.small.push_back((hash, entry.sequence));
            self.small_bytes += entry.cost;
        }
        slot.insert(entry);
        while self.bytes() > budget {
            if self.small_bytes > budget / 10 || self.main.is_empty() {
                self.evict_small(now);
            } else {
                self.evict_main(now);
            }
        }
    }

    /// Takes the entry of `hash` out if it has expired.
    pub(super) fn remove_expired(&mut self, hash: u64, now: UnixTime) {
        if self.entries.get(&hash).is_some_and(|e| e.expired(now)) {
            self.take(hash);
        }
    }

    fn evict_small(&mut self, now: UnixTime) {
        let Some((hash, sequence)) = self.small.pop_front() else {
            return;
        };
        let Some(entry) = self.current(hash, sequence, false) else {
            return;
        };
        let (expired, cost) = (entry.expired(now), entry.cost);
        if entry.frequency.load(Ordering::Relaxed) > 0 && !expired {
            // Used again while in the small queue: into the main one.
            entry.frequency.store(0, Ordering::Relaxed);
            entry.main = true;
            self.small_bytes -= cost;
            self.main_bytes += cost;
            self.main.push_back((hash, sequence));
            return;
        }
        self.take(hash);
        if !expired {
            self.evictions += 1;
            // Remembered for as long as the shard takes to turn over its entries a few times.
            self.ghosts.push_back(hash);
            self.ghost_set.insert(hash);
            self.trim_ghosts();
        }
    }

    fn evict_main(&mut self, now: UnixTime) {
        let Some((hash, sequence)) = self.main.pop_front() else {
            return;
        };
        let Some(entry) = self.current(hash, sequence, true) else {
            return;
        };
        let frequency = entry.frequency.load(Ordering::Relaxed);
        let expired = entry.expired(now);
        if frequency > 0 && !expired {
            entry.frequency.store(frequency - 1, Ordering::Relaxed);
            self.main.push_back((hash, sequence));
        } else {
            self.take(hash);
            self.evictions += u64::from(!expired);
        }
    }

    /// The entry a queue's record points at, unless the record is stale.
    fn current(&mut self, hash: u64, sequence: u64, main: bool) -> Option<&mut Entry> {
        self.entries
            .get_mut(&hash)
            .filter(|e| e.sequence == sequence && e.main == main)
    }

    fn take(&mut self, hash: u64) {
        if let Some(entry) = self.entries.remove(&hash) {
            if entry.main {
                self.main_bytes -= entry.cost;
            } else {
                self.small_bytes -= entry.cost;
            }
        }
    }

    fn trim_ghosts(&mut self) {
        while self.ghosts.len() > GHOSTS_PER_ENTRY * self.entries.len().max(1) {
            if let Some(hash) = self.ghosts.pop_front() {
                self.ghost_set.remove(&hash);
            }
        }
    }

    /// Drops the expired entries and the queues' stale records.
    fn sweep(&mut self, now: UnixTime) {
        self.next_sweep = now.as_secs() + 1;
        let expired: Vec<u64> = self
            .entries
            .iter()
            .filter(|(_, e)| e.expired(now))
            .map(|(hash, _)| *hash)
            .collect();
        if expired.is_empty() && self.small.len() + self.main.len() <= 2 * self.entries.len() {
            return;
        }
        for hash in expired {
            self.take(hash);
        }
        let entries = &self.entries;
        let live = |main: bool| {
            move |(hash, sequence): &(u64, u64)| {
                entries
                    .get(hash)
                    .is_some_and(|e| e.sequence == *sequence && e.main == main)
            }
        };
        self.small.retain(live(false));
        self.main.retain(live(true));
        self.trim_ghosts();
    }
}
