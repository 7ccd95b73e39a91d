//! The lifecycle's rules: from the ring and the moment, the ring as it should be. Each step
//! is due at most once (the result planned again asks for nothing), so an instance that
//! loses the store's compare-and-set to another simply finds nothing left to do.
//!
//! - A retired key is removed once the retention has passed since it stopped signing: no
//!   token it signed is still alive.
//! - When no key signs (the first start, or the current one was retired by hand), the
//!   earliest announced key signs from now, or, with none, a new key does — the only keys
//!   that sign unannounced.
//! - There is always a next key: generated as soon as the current one signs, it signs one
//!   rotation interval after the current one started, and never before it has been announced
//!   for the announcement period.
//! - A next key of another algorithm than the schedule's (the algorithm changed) is replaced
//!   by a new one, announced for the full period in turn.

use jwtkit_core::Algorithm;

use super::ring::{KeyRecord, KeyRing, RingPolicy};

/// The lifecycle's periods, in seconds, and the algorithm of new keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Schedule {
    /// How long a key signs before the next one takes over.
    pub rotation: i64,
    /// How long a key is published before it signs (at least the JWK Set's `max-age` plus
    /// the longest resource-server cache).
    pub announcement: i64,
    /// How long a retired key stays published (at least the longest token lifetime).
    pub retention: i64,
    /// The algorithm of the keys generated.
    pub alg: Algorithm,
}

/// What one step changed, for the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// A retired key was removed.
    Removed(String),
    /// An announced key signs from now, earlier than planned, because none did.
    BroughtForward(String),
    /// A new key was generated, signing from `signs_from`.
    Generated {
        /// Its `kid`.
        kid: String,
        /// When it signs.
        signs_from: i64,
    },
    /// A next key of an algorithm no longer in use was withdrawn before it signed.
    Withdrawn(String),
    /// The lifecycle's settings were written into the ring (first, or changed).
    Rescheduled,
}

/// The ring as the lifecycle wants it at `now`, and what changed (nothing when nothing is
/// due). `generate` makes a sealed record of a new key of the algorithm, announced at `now`,
/// signing from the time given.
pub fn plan<E>(
    ring: &KeyRing,
    now: i64,
    schedule: &Schedule,
    mut generate: impl FnMut(Algorithm, i64) -> Result<KeyRecord, E>,
) -> Result<(KeyRing, Vec<Change>), E> {
    let mut ring = ring.clone();
    let mut changes = Vec::new();
    // The lifecycle written beside the keys, for the operators' commands to follow.
    let policy = RingPolicy {
        rotation: schedule.rotation,
        announcement: schedule.announcement,
        retention: schedule.retention,
        alg: schedule.alg.as_str().to_owned(),
    };
    if ring.policy.as_ref() != Some(&policy) {
        ring.policy = Some(policy);
        changes.push(Change::Rescheduled);
    }
    // Retired long enough: gone.
    let gone: Vec<String> = ring
        .keys
        .iter()
        .filter(|key| {
            ring.signs_until(key)
                .is_some_and(|until| until.saturating_add(schedule.retention) <= now)
        })
        .map(|key| key.kid.clone())
        .collect();
    ring.keys.retain(|key| !gone.contains(&key.kid));
    changes.extend(gone.into_iter().map(Change::Removed));
    // A next key of another algorithm: withdrawn before it signs (the replacement below is
    // announced for the full period).
    let withdrawn: Vec<String> = ring
        .upcoming(now)
        .into_iter()
        .filter(|key| key.algorithm() != Some(schedule.alg))
        .map(|key| key.kid.clone())
        .collect();
    ring.keys.retain(|key| !withdrawn.contains(&key.kid));
    changes.extend(withdrawn.into_iter().map(Change::Withdrawn));
    // No key signs: the earliest announced one does from now, or a new one.
    if ring.current(now).is_none() {
        let earliest = ring.upcoming(now).first().map(|key| key.kid.clone());
        match earliest {
            Some(kid) => {
                if let Some(key) = ring.keys.iter_mut().find(|key| key.kid == kid) {
                    key.signs_from = now;
                }
                changes.push(Change::BroughtForward(kid));
            }
            None => {
                let record = generate(schedule.alg, now)?;
                changes.push(Change::Generated {
                    kid: record.kid.clone(),
                    signs_from: now,
                });
                ring.keys.push(record);
            }
        }
    }
    // Always a next key, announced for the full period before it signs.
    if ring.upcoming(now).is_empty() {
        let current_from = ring.current(now).map_or(now, |key| key.signs_from);
        let signs_from = current_from
            .saturating_add(schedule.rotation)
            .max(now.saturating_add(schedule.announcement));
        let record = generate(schedule.alg, signs_from)?;
        changes.push(Change::Generated {
            kid: record.kid.clone(),
            signs_from,
        });
        ring.keys.push(record);
    }
    Ok((ring, changes))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::convert::Infallible;

    use super::*;

    const SCHEDULE: Schedule = Schedule {
        rotation: 100,
        announcement: 30,
        retention: 50,
        alg: Algorithm::EdDSA,
    };

    /// Records that need no key: the planner never looks inside them.
    fn generator(
        now: &std::cell::Cell<i64>,
        count: &std::cell::Cell<u32>,
    ) -> impl FnMut(Algorithm, i64) -> Result<KeyRecord, Infallible> {
        move |alg, signs_from| {
            count.set(count.get() + 1);
            Ok(KeyRecord {
                kid: format!("k{}", count.get()),
                alg: alg.as_str().to_owned(),
                public: String::new(),
                sealed: String::new(),
                announced: now.get(),
                signs_from,
                stopped: None,
            })
        }
    }

    /// Second by second over several rotations: one key signs at every moment, each signed
    /// only after it was announced for the full period (the first excepted), each rotation
    /// comes on time, retired keys go after the retention, and planning again at the same
    /// moment changes nothing.
    #[test]
    fn a_lifecycle_second_by_second() {
        let (now, count) = (std::cell::Cell::new(0), std::cell::Cell::new(0));
        let mut ring = KeyRing::default();
        let mut signers = Vec::new();
        for t in 0..=450 {
            now.set(t);
            let (planned, _) = plan(&ring, t, &SCHEDULE, generator(&now, &count)).unwrap();
            let (again, changes) = plan(&planned, t, &SCHEDULE, generator(&now, &count)).unwrap();
            assert!(changes.is_empty(), "at {t}, planned twice: {changes:?}");
            assert_eq!(again, planned);
            ring = planned;
            let current = ring.current(t).unwrap();
            if current.kid != "k1" {
                assert!(
                    current.signs_from - current.announced >= SCHEDULE.announcement,
                    "{current:?} signs unannounced at {t}"
                );
            }
            if signers.last() != Some(&current.kid) {
                signers.push(current.kid.clone());
            }
            assert_eq!(ring.upcoming(t).len(), 1, "one next key at {t}");
            for key in &ring.keys {
                if let Some(until) = ring.signs_until(key) {
                    assert!(
                        until + SCHEDULE.retention > t,
                        "{key:?} kept too long at {t}"
                    );
                }
            }
        }
        assert_eq!(signers, ["k1", "k2", "k3", "k4", "k5"]);
        assert_eq!(ring.current(450).unwrap().signs_from, 400);
        // Published at 450: k5 (current) and k6 (next); k4, retired at 400, went at 450.
        let kids: Vec<&str> = ring.keys.iter().map(|k| k.kid.as_str()).collect();
        assert_eq!(kids, ["k5", "k6"]);
    }

    /// With the current key removed (retired by hand), the announced next key signs at once;
    /// with none left at all, a new one does.
    #[test]
    fn no_key_signing_is_mended_at_once() {
        let (now, count) = (std::cell::Cell::new(0), std::cell::Cell::new(0));
        let (mut ring, _) =
            plan(&KeyRing::default(), 0, &SCHEDULE, generator(&now, &count)).unwrap();
        now.set(10);
        ring.keys.retain(|key| key.kid != "k1");
        let (ring, changes) = plan(&ring, 10, &SCHEDULE, generator(&now, &count)).unwrap();
        assert_eq!(changes[0], Change::BroughtForward("k2".to_owned()));
        assert_eq!(ring.current(10).unwrap().kid, "k2");
        assert_eq!(ring.upcoming(10)[0].signs_from, 110);
        let (ring, changes) =
            plan(&KeyRing::default(), 10, &SCHEDULE, generator(&now, &count)).unwrap();
        assert_eq!(
            changes[0],
            Change::Rescheduled,
            "the lifecycle written first"
        );
        assert!(matches!(
            &changes[1],
            Change::Generated { signs_from: 10, .. }
        ));
        assert_eq!(ring.keys.len(), 2);
    }

    /// A new algorithm: the next key of the old one is withdrawn, and the new key is
    /// announced for the full period before it signs.
    #[test]
    fn an_algorithm_change_goes_through_the_lifecycle() {
        let (now, count) = (std::cell::Cell::new(0), std::cell::Cell::new(0));
        let (ring, _) = plan(&KeyRing::default(), 0, &SCHEDULE, generator(&now, &count)).unwrap();
        now.set(90);
        let es256 = Schedule {
            alg: Algorithm::ES256,
            ..SCHEDULE
        };
        let (ring, changes) = plan(&ring, 90, &es256, generator(&now, &count)).unwrap();
        assert_eq!(
            changes[..2],
            [Change::Rescheduled, Change::Withdrawn("k2".to_owned())]
        );
        let next = ring.upcoming(90)[0];
        assert_eq!((next.alg.as_str(), next.signs_from), ("ES256", 120));
        assert_eq!(ring.current(119).unwrap().kid, "k1");
    }
}
