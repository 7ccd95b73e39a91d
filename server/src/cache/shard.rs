//! One shard of the verified-token cache: a doorkeeper and a CLOCK over a byte budget.
//!
//! A token verified for the first time is not stored: only its hash is remembered, in a
//! bounded FIFO of recently seen hashes (the doorkeeper, a sixteenth of the budget). A token
//! verified again while its hash is remembered is stored. Stored tokens are evicted by CLOCK:
//! an entry used since the hand last passed (credited up to three uses) goes round again;
//! the others leave. So tokens used once — a client minting tokens in a loop, or a pool of
//! clients larger than the cache taking turns — cost a hash each and never displace what is
//! stored, and a miss costs no more than verifying without a cache. Expired entries leave
//! whenever they are met, and at most a second after their `exp` when the shard next stores
//! a token.

use std::collections::{HashMap, HashSet, VecDeque};
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};

use jwtkit_core::{UnixTime, VerifiedToken};

/// The most uses an entry is credited with.
const MAX_CREDIT: u8 = 3;

/// What a remembered hash costs: its place in the FIFO and in the set.
pub(super) const DOORKEEPER_ENTRY_BYTES: usize = 32;

/// One stored token.
pub(super) struct Entry {
    text: Box<str>,
    pub(super) verified: Arc<VerifiedToken>,
    exp: Option<UnixTime>,
    /// What the entry counts against the budget.
    cost: usize,
    /// Uses since it was stored or the hand last passed.
    credit: AtomicU8,
}

impl Entry {
    pub(super) fn new(text: &str, verified: Arc<VerifiedToken>, cost: usize) -> Self {
        Self {
            text: text.into(),
            exp: verified.claims().exp(),
            verified,
            cost,
            credit: AtomicU8::new(0),
        }
    }

    /// Whether it is `token`, counting the use when it is.
    pub(super) fn is(&self, token: &str) -> bool {
        let hit = *self.text == *token;
        if hit {
            // Two readers may both add one: a lost credit is all that costs.
            let credit = self.credit.load(Ordering::Relaxed);
            if credit < MAX_CREDIT {
                self.credit.store(credit + 1, Ordering::Relaxed);
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

type ByHash = BuildHasherDefault<Prehashed>;

/// What a shard holds.
pub(super) struct Shard {
    entries: HashMap<u64, Entry, ByHash>,
    /// The entries' hashes in CLOCK order: the hand is the front.
    clock: VecDeque<u64>,
    bytes: usize,
    /// The budget for entries, and how many hashes the doorkeeper remembers.
    budget: usize,
    remembered: usize,
    doorkeeper: VecDeque<u64>,
    seen: HashSet<u64, ByHash>,
    /// When expired entries are next swept out.
    next_sweep: i64,
    /// Entries that left to make room.
    pub(super) evictions: u64,
}

impl Shard {
    /// A shard of `budget` bytes, a sixteenth of it for the doorkeeper.
    pub(super) fn new(budget: usize) -> Self {
        let doorkeeper = budget / 16;
        Self {
            entries: HashMap::default(),
            clock: VecDeque::new(),
            bytes: 0,
            budget: budget - doorkeeper,
            remembered: doorkeeper / DOORKEEPER_ENTRY_BYTES,
            doorkeeper: VecDeque::new(),
            seen: HashSet::default(),
            next_sweep: i64::MIN,
            evictions: 0,
        }
    }

    pub(super) fn get(&self, hash: u64) -> Option<&Entry> {
        self.entries.get(&hash)
    }

    pub(super) fn len(&self) -> usize {
        self.entries.len()
    }

    pub(super) fn bytes(&self) -> usize {
        self.bytes + self.doorkeeper.len() * DOORKEEPER_ENTRY_BYTES
    }

    /// The costliest entry it stores: an eighth of its room for entries.
    pub(super) fn max_cost(&self) -> usize {
        self.budget / 8
    }

    /// Whether `hash` was seen recently (and is forgotten by the doorkeeper now); if not, it
    /// is remembered.
    pub(super) fn admit(&mut self, hash: u64) -> bool {
        if self.seen.remove(&hash) {
            return true;
        }
        if self.remembered > 0 {
            while self.doorkeeper.len() >= self.remembered {
                if let Some(old) = self.doorkeeper.pop_front() {
                    self.seen.remove(&old);
                }
            }
            self.doorkeeper.push_back(hash);
            self.seen.insert(hash);
        }
        false
    }

    /// Stores `entry` under `hash` at `now`, making room.
    pub(super) fn insert(&mut self, hash: u64, entry: Entry, now: UnixTime) {
        if now.as_secs() >= self.next_sweep {
            self.sweep(now);
        }
        if self.entries.contains_key(&hash) {
            // Another request stored it meanwhile, or (rarely) another token hashes alike:
            // the entry there stays.
            return;
        }
        self.bytes += entry.cost;
        self.entries.insert(hash, entry);
        self.clock.push_back(hash);
        while self.bytes > self.budget {
            let Some(hash) = self.clock.pop_front() else {
                break;
            };
            let Some(entry) = self.entries.get(&hash) else {
                continue;
            };
            let credit = entry.credit.load(Ordering::Relaxed);
            if credit > 0 && !entry.expired(now) {
                entry.credit.store(credit - 1, Ordering::Relaxed);
                self.clock.push_back(hash);
            } else {
                self.evictions += u64::from(!entry.expired(now));
                self.take(hash);
            }
        }
    }

    /// Takes the entry of `hash` out if it has expired.
    pub(super) fn remove_expired(&mut self, hash: u64, now: UnixTime) {
        if self.entries.get(&hash).is_some_and(|e| e.expired(now)) {
            self.take(hash);
            self.clock.retain(|h| *h != hash);
        }
    }

    fn take(&mut self, hash: u64) {
        if let Some(entry) = self.entries.remove(&hash) {
            self.bytes -= entry.cost;
        }
    }

    /// Drops the expired entries.
    fn sweep(&mut self, now: UnixTime) {
        self.next_sweep = now.as_secs() + 1;
        let before = self.entries.len();
        let mut bytes = self.bytes;
        self.entries.retain(|_, entry| {
            let keep = !entry.expired(now);
            if !keep {
                bytes -= entry.cost;
            }
            keep
        });
        self.bytes = bytes;
        if self.entries.len() < before {
            let entries = &self.entries;
            self.clock.retain(|hash| entries.contains_key(hash));
        }
    }
}
