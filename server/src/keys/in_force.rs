//! The keys a server signs and verifies with right now, behind one handle shared by the
//! token issuer, the OpenID provider, the authenticator and the JWK Set route: configured
//! keys that never change, or the store's ring, replaced as a whole when it changes.
//!
//! The ring's switch times travel with it: [`InForce::signing_key`] picks, for the moment it
//! is given, the key whose `signs_from` is the latest not after it (on the store's clock), so
//! an instance switches at the written time even between two reads of the store.

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock};

use bytes::Bytes;
use jwtkit_core::{Key, KeySet, UnixTime};

use super::{KeyRing, Stepped};

/// The keys in force, shared (cheap to clone; clones see every replacement).
#[derive(Clone)]
pub struct SigningKeys {
    current: Arc<RwLock<Arc<InForce>>>,
    generations: Arc<AtomicU64>,
    /// How far this instance's clock is behind the store's, in whole seconds, as the last
    /// read of the store measured it (the ring's switch times are on the store's clock).
    clock_shift: Arc<AtomicI64>,
}

/// One generation of keys: what verifies, what signs from when, and the JWK Set.
#[derive(Debug)]
pub struct InForce {
    keys: KeySet,
    /// Each signing key with the moment it signs from (store's clock), earliest first.
    signers: Vec<(i64, Key)>,
    jwks: Bytes,
    max_age: u32,
    generation: u64,
}

/// How long clients may cache the JWK Set of configured keys, in seconds.
pub const FIXED_JWKS_MAX_AGE: u32 = 300;

impl std::fmt::Debug for SigningKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SigningKeys(generation {})", self.generation())
    }
}

impl SigningKeys {
    /// Configured keys: `keys` verify, `signing` signs, always.
    pub fn fixed(keys: KeySet, signing: Key) -> Self {
        Self::of(
            InForce::new(keys, vec![(i64::MIN, signing)], FIXED_JWKS_MAX_AGE, 0),
            0.0,
        )
    }

    /// One configured key that signs and verifies.
    pub fn single(key: Key) -> Self {
        Self::fixed(KeySet::from(key.clone()), key)
    }

    /// The keys of a ring as a step of the lifecycle left it, the JWK Set cacheable for
    /// `max_age` seconds; none when no key of the ring can sign.
    pub fn managed(stepped: &Stepped, max_age: u32) -> Option<Self> {
        in_force(stepped, max_age, 0).map(|keys| Self::of(keys, stepped.clock_shift))
    }

    fn of(in_force: InForce, clock_shift: f64) -> Self {
        Self {
            current: Arc::new(RwLock::new(Arc::new(in_force))),
            generations: Arc::new(AtomicU64::new(0)),
            clock_shift: Arc::new(AtomicI64::new(round(clock_shift))),
        }
    }

    /// The key that signs at `now` (this instance's clock): see [`InForce::signing_key`].
    pub fn signing_key(&self, now: UnixTime) -> Key {
        let shift = self.clock_shift.load(Ordering::Relaxed);
        self.in_force()
            .signing_key(now.as_secs().saturating_add(shift))
            .clone()
    }

    /// The keys in force now.
    pub fn in_force(&self) -> Arc<InForce> {
        self.current
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The generation in force (a new one at each replacement): a user of the keys that
    /// keeps something made of them (a verifier's cache) rebuilds it when this changes.
    pub fn generation(&self) -> u64 {
        self.generations.load(Ordering::Acquire)
    }

    /// Puts the ring a step left in force, unless it is the ring in force already (or has no
    /// key that can sign); whether it was replaced. The clock's shift is taken either way.
    pub fn replace(&self, stepped: &Stepped, ring_in_force: &mut KeyRing) -> bool {
        self.clock_shift
            .store(round(stepped.clock_shift), Ordering::Relaxed);
        if *ring_in_force == stepped.ring {
            return false;
        }
        let mut current = self.current.write().unwrap_or_else(PoisonError::into_inner);
        let generation = current.generation + 1;
        let Some(next) = in_force(stepped, current.max_age, generation) else {
            return false;
        };
        *current = Arc::new(next);
        self.generations.store(generation, Ordering::Release);
        *ring_in_force = stepped.ring.clone();
        true
    }
}

fn in_force(stepped: &Stepped, max_age: u32, generation: u64) -> Option<InForce> {
    let signers: Vec<(i64, Key)> = stepped
        .ring
        .keys
        .iter()
        // A key that stopped never signs again, whatever the clock's estimate.
        .filter(|record| record.stopped.is_none())
        .filter_map(|record| {
            stepped
                .open
                .keys
                .get(&record.kid)
                .map(|key| (record.signs_from, key.clone()))
        })
        .collect();
    (!signers.is_empty())
        .then(|| InForce::new(stepped.open.keys.clone(), signers, max_age, generation))
}

impl InForce {
    fn new(keys: KeySet, mut signers: Vec<(i64, Key)>, max_age: u32, generation: u64) -> Self {
        signers.sort_by_key(|(from, _)| *from);
        let jwks = Bytes::from(keys.to_public_jwks().to_json());
        Self {
            keys,
            signers,
            jwks,
            max_age,
            generation,
        }
    }

    /// Every key that verifies (next, current and retired ones for a ring).
    pub fn keys(&self) -> &KeySet {
        &self.keys
    }

    /// The key that signs at `at` (the store's clock, in seconds): the latest to start
    /// signing by then (the earliest, should `at` come before them all).
    pub fn signing_key(&self, at: i64) -> &Key {
        #[allow(clippy::expect_used)]
        self.signers
            .iter()
            .rev()
            .find(|(from, _)| *from <= at)
            .or_else(|| self.signers.first())
            .map(|(_, key)| key)
            .expect("invariant: keys in force have a signing key (checked when made)")
    }

    /// The JWK Set document (public keys only).
    pub fn jwks(&self) -> &Bytes {
        &self.jwks
    }

    /// How long the JWK Set may be cached, in seconds.
    pub fn jwks_max_age(&self) -> u32 {
        self.max_age
    }

    /// Its generation (0 for the first).
    pub fn generation(&self) -> u64 {
        self.generation
    }
}

/// A clock shift in whole seconds (saturating).
fn round(shift: f64) -> i64 {
    #[allow(clippy::cast_possible_truncation)]
    let secs = shift.round() as i64;
    secs
}
