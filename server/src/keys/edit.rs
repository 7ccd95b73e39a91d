//! What an operator does to the store's keys (`jwtkit keys`), each a change of the ring
//! written with the same compare-and-set as the lifecycle's steps: a server stepping at the
//! same moment never loses it, nor makes it lose its own.

use std::sync::atomic::AtomicU64;

use jwtkit_core::{Key, UnixTime};

use super::kek::Kek;
use super::ring::{KeyRecord, KeyRing, RingError, RingPolicy};
use super::store_seconds;
use crate::store::{KeyRecords, StoreError};

/// How many times an edit reads and applies again after losing the compare-and-set.
const ATTEMPTS: usize = 5;

/// Why an edit was not made.
#[derive(Debug, Clone, PartialEq)]
pub enum EditError {
    /// The store failed.
    Store(StoreError),
    /// The ring cannot be read, or a key not sealed.
    Ring(RingError),
    /// The edit does not apply to this ring (what to do instead).
    Refused(String),
}

impl std::fmt::Display for EditError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Store(error) => write!(f, "{error}"),
            Self::Ring(error) => write!(f, "{error}"),
            Self::Refused(reason) => f.write_str(reason),
        }
    }
}

impl std::error::Error for EditError {}

/// The ring as stored at `now`, its MAC checked under `kek`, and `now` on the store's clock.
pub async fn read(
    store: &dyn KeyRecords,
    now: UnixTime,
    kek: &Kek,
) -> Result<(KeyRing, i64), EditError> {
    let stored = store.key_ring(now).await.map_err(EditError::Store)?;
    let ring = super::decode(&stored, kek, &AtomicU64::new(0)).map_err(EditError::Ring)?;
    Ok((ring, store_seconds(now, stored.clock_shift)))
}

/// Applies `change` (given the ring and the store's `now`) and writes its result under
/// `kek`; the ring written. Read and applied again when another writer came first.
pub async fn edit(
    store: &dyn KeyRecords,
    now: UnixTime,
    kek: &Kek,
    mut change: impl FnMut(&KeyRing, i64) -> Result<KeyRing, EditError>,
) -> Result<KeyRing, EditError> {
    for _ in 0..ATTEMPTS {
        let stored = store.key_ring(now).await.map_err(EditError::Store)?;
        let ring = super::decode(&stored, kek, &AtomicU64::new(0)).map_err(EditError::Ring)?;
        let mut changed = change(&ring, store_seconds(now, stored.clock_shift))?;
        changed.serial = ring.serial.saturating_add(1);
        if store
            .replace_key_ring(stored.version, changed.to_document(kek))
            .await
            .map_err(EditError::Store)?
        {
            return Ok(changed);
        }
    }
    Err(EditError::Refused(
        "the store's keys kept changing meanwhile: try again".to_owned(),
    ))
}

/// The lifecycle the servers plan `ring` by.
fn policy(ring: &KeyRing) -> Result<&RingPolicy, EditError> {
    ring.policy.as_ref().ok_or_else(|| {
        EditError::Refused(
            "no server has planned the store's keys yet: start `jwtkit serve` with key_encryption_key first"
                .to_owned(),
        )
    })
}

/// The next key signs as soon as its announcement allows (the servers'
/// `key_announcement_period` after it was published), or at once with `at_once` — then
/// resource servers that have not fetched it yet fetch it on its first token.
pub fn rotate(ring: &KeyRing, now: i64, at_once: bool) -> Result<KeyRing, EditError> {
    let announcement = policy(ring)?.announcement;
    let Some(next) = ring.upcoming(now).first().map(|key| key.kid.clone()) else {
        return Err(EditError::Refused(
            "there is no next key to rotate to: the servers make one at their next read of the store"
                .to_owned(),
        ));
    };
    let mut ring = ring.clone();
    for key in ring.keys.iter_mut().filter(|key| key.kid == next) {
        let earliest = if at_once {
            now
        } else {
            key.announced.saturating_add(announcement).max(now)
        };
        key.signs_from = key.signs_from.min(earliest);
    }
    Ok(ring)
}

/// Removes `kid` at once, for good (its kid is remembered: it can never come back): tokens
/// it signed are refused by every instance once it reads the store again. When it was the
/// key signing, no key that signed before it signs again, and the earliest next key signs
/// from now (with none, the servers make one at their next read).
pub fn retire(ring: &KeyRing, now: i64, kid: &str) -> Result<KeyRing, EditError> {
    let Some(removed) = ring.get(kid).cloned() else {
        let kids: Vec<&str> = ring.keys.iter().map(|key| key.kid.as_str()).collect();
        let hint = match jwtkit_core::suggest::closest(kid, &kids) {
            Some(close) => format!("did you mean {close}?"),
            None => "`jwtkit keys list` shows them".to_owned(),
        };
        return Err(EditError::Refused(format!(
            "there is no key {kid:?} in the store: {hint}"
        )));
    };
    let was_current = ring.current(now).is_some_and(|key| key.kid == kid);
    let mut ring = ring.clone();
    ring.keys.retain(|key| key.kid != kid);
    ring.retired.push(kid.to_owned());
    if was_current {
        for key in ring
            .keys
            .iter_mut()
            .filter(|key| key.signs_from < removed.signs_from)
        {
            key.stopped = Some(
                key.stopped
                    .unwrap_or(removed.signs_from)
                    .min(removed.signs_from),
            );
        }
        if let Some(next) = ring.upcoming(now).first().map(|key| key.kid.clone()) {
            for key in ring.keys.iter_mut().filter(|key| key.kid == next) {
                key.signs_from = now;
            }
        }
    }
    Ok(ring)
}

/// Adds `key` (a key pair of the servers' algorithm) sealed under `kek`, published from
/// `now`: it signs a rotation interval after the last key planned, and never before it was
/// announced for the announcement period.
pub fn import(ring: &KeyRing, now: i64, key: &Key, kek: &Kek) -> Result<KeyRing, EditError> {
    let policy = policy(ring)?;
    if key.algorithm().as_str() != policy.alg {
        return Err(EditError::Refused(format!(
            "it is an {} key, and the servers' key_algorithm is {}: they would withdraw it",
            key.algorithm(),
            policy.alg
        )));
    }
    if ring.get(key.kid()).is_some() || ring.retired.iter().any(|kid| kid == key.kid()) {
        return Err(EditError::Refused(format!(
            "the store holds or retired a key {} already",
            key.kid()
        )));
    }
    let latest = ring.keys.iter().map(|k| k.signs_from).max().unwrap_or(now);
    let signs_from = now
        .saturating_add(policy.announcement)
        .max(latest.saturating_add(policy.rotation));
    let record = KeyRecord::seal(key, kek, now, signs_from).map_err(EditError::Ring)?;
    let mut ring = ring.clone();
    ring.keys.push(record);
    Ok(ring)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use jwtkit_core::Algorithm;

    use super::*;

    fn kek() -> Kek {
        Kek::from_base64url(&Kek::generate().unwrap()).unwrap()
    }

    fn record(kek: &Kek, announced: i64, from: i64) -> KeyRecord {
        KeyRecord::seal(
            &Key::generate(Algorithm::EdDSA).unwrap(),
            kek,
            announced,
            from,
        )
        .unwrap()
    }

    /// k1 signed from 0 until 50 (retired, still kept), k2 signs from 50, k3 (published at
    /// 50) from 150: rotation 100, announcement 30.
    fn ring(kek: &Kek) -> KeyRing {
        KeyRing {
            keys: vec![record(kek, 0, 0), record(kek, 0, 50), record(kek, 50, 150)],
            policy: Some(RingPolicy {
                rotation: 100,
                announcement: 30,
                retention: 50,
                alg: "EdDSA".to_owned(),
            }),
            ..KeyRing::default()
        }
    }

    #[test]
    fn rotating_brings_the_next_key_forward_as_far_as_its_announcement_allows() {
        let kek = kek();
        let ring = ring(&kek);
        let next = ring.keys[2].kid.clone();
        let rotated = rotate(&ring, 60, false).unwrap();
        assert_eq!(rotated.get(&next).unwrap().signs_from, 80);
        let rotated = rotate(&ring, 100, false).unwrap();
        assert_eq!(rotated.current(100).unwrap().kid, next);
        let at_once = rotate(&ring, 60, true).unwrap();
        assert_eq!(at_once.current(60).unwrap().kid, next);
        let alone = KeyRing {
            keys: ring.keys[..2].to_vec(),
            ..ring.clone()
        };
        assert!(matches!(
            rotate(&alone, 60, false),
            Err(EditError::Refused(reason)) if reason.contains("no next key")
        ));
        let unplanned = KeyRing {
            policy: None,
            ..ring
        };
        assert!(matches!(
            rotate(&unplanned, 60, false),
            Err(EditError::Refused(reason)) if reason.contains("start `jwtkit serve`")
        ));
    }

    /// Retiring the key that signs: the next one signs at once, and the retired key before
    /// it, still kept for its tokens, never signs again — not even with no next key.
    #[test]
    fn retiring_the_signing_key_revives_no_older_key() {
        let kek = kek();
        let ring = ring(&kek);
        let (old, current, next) = (
            ring.keys[0].kid.clone(),
            ring.keys[1].kid.clone(),
            ring.keys[2].kid.clone(),
        );
        let retired = retire(&ring, 60, &current).unwrap();
        assert!(retired.get(&current).is_none());
        assert_eq!(retired.retired, std::slice::from_ref(&current));
        assert_eq!(retired.current(60).unwrap().kid, next);
        assert_eq!(retired.signs_until(retired.get(&old).unwrap()), Some(50));
        let without_next = KeyRing {
            keys: ring.keys[..2].to_vec(),
            ..ring.clone()
        };
        let retired = retire(&without_next, 60, &current).unwrap();
        assert!(
            retired.current(60).is_none(),
            "no key signs: the servers make one"
        );
        assert!(retired.current(10_000).is_none());
        let typo = &current[..current.len() - 1];
        assert!(matches!(
            retire(&ring, 60, typo),
            Err(EditError::Refused(reason)) if reason.contains("did you mean")
        ));
    }

    #[test]
    fn an_imported_key_is_announced_in_full_after_the_planned_ones() {
        let kek = kek();
        let ring = ring(&kek);
        let key = Key::generate(Algorithm::EdDSA).unwrap();
        let imported = import(&ring, 60, &key, &kek).unwrap();
        let record = imported.get(key.kid()).unwrap();
        assert_eq!((record.announced, record.signs_from), (60, 250));
        assert_eq!(record.open(&kek).unwrap().kid(), key.kid());
        assert!(matches!(
            import(&imported, 60, &key, &kek),
            Err(EditError::Refused(reason)) if reason.contains("already")
        ));
        let es256 = Key::generate(Algorithm::ES256).unwrap();
        assert!(matches!(
            import(&ring, 60, &es256, &kek),
            Err(EditError::Refused(reason)) if reason.contains("key_algorithm is EdDSA")
        ));
        let retired = retire(&ring, 60, &ring.keys[0].kid.clone()).unwrap();
        let again = ring.keys[0].open(&kek).unwrap();
        assert!(matches!(
            import(&retired, 60, &again, &kek),
            Err(EditError::Refused(reason)) if reason.contains("retired")
        ));
    }
}
