//! What an operator does to the store's keys (`jwtkit keys`), each a change of the ring
//! written with the same compare-and-set as the lifecycle's steps: a server stepping at the
//! same moment never loses it, nor makes it lose its own.

use jwtkit_core::{Key, UnixTime};

use super::kek::Kek;
use super::ring::{KeyRecord, KeyRing, RingError};
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

/// The ring as stored at `now`, and `now` on the store's clock.
pub async fn read(store: &dyn KeyRecords, now: UnixTime) -> Result<(KeyRing, i64), EditError> {
    let stored = store.key_ring(now).await.map_err(EditError::Store)?;
    let ring = match &stored.document {
        Some(document) => KeyRing::from_json(document).map_err(EditError::Ring)?,
        None => KeyRing::default(),
    };
    Ok((ring, store_seconds(now, stored.clock_shift)))
}

/// Applies `change` (given the ring and the store's `now`) and writes its result; the ring
/// written. Read and applied again when another writer came first.
pub async fn edit(
    store: &dyn KeyRecords,
    now: UnixTime,
    mut change: impl FnMut(&KeyRing, i64) -> Result<KeyRing, EditError>,
) -> Result<KeyRing, EditError> {
    for _ in 0..ATTEMPTS {
        let stored = store.key_ring(now).await.map_err(EditError::Store)?;
        let ring = match &stored.document {
            Some(document) => KeyRing::from_json(document).map_err(EditError::Ring)?,
            None => KeyRing::default(),
        };
        let changed = change(&ring, store_seconds(now, stored.clock_shift))?;
        if store
            .replace_key_ring(stored.version, changed.to_json())
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

/// The next key signs as soon as its announcement allows (`announcement` seconds after it
/// was published), or at once with `at_once` — then resource servers that have not fetched
/// it yet fetch it on its first token.
pub fn rotate(
    ring: &KeyRing,
    now: i64,
    announcement: i64,
    at_once: bool,
) -> Result<KeyRing, EditError> {
    let Some(next) = ring.upcoming(now).first().map(|key| key.kid.clone()) else {
        return Err(EditError::Refused(
            "there is no next key to rotate to: `jwtkit serve` with key_encryption_key makes one as it starts"
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

/// Removes `kid` at once: tokens it signed are refused by every instance once it reads the
/// store again. When it was the key signing, the earliest next key signs from now.
pub fn retire(ring: &KeyRing, now: i64, kid: &str) -> Result<KeyRing, EditError> {
    if ring.get(kid).is_none() {
        let kids: Vec<&str> = ring.keys.iter().map(|key| key.kid.as_str()).collect();
        let hint = match jwtkit_core::suggest::closest(kid, &kids) {
            Some(close) => format!("did you mean {close}?"),
            None => "`jwtkit keys list` shows them".to_owned(),
        };
        return Err(EditError::Refused(format!(
            "there is no key {kid:?} in the store: {hint}"
        )));
    }
    let mut ring = ring.clone();
    ring.keys.retain(|key| key.kid != kid);
    if ring.current(now).is_none()
        && let Some(next) = ring.upcoming(now).first().map(|key| key.kid.clone())
    {
        for key in ring.keys.iter_mut().filter(|key| key.kid == next) {
            key.signs_from = now;
        }
    }
    Ok(ring)
}

/// Adds `key` (a key pair) sealed under `kek`, published from `now`, signing once announced
/// for `announcement` seconds — after the next keys already planned.
pub fn import(
    ring: &KeyRing,
    now: i64,
    announcement: i64,
    key: &Key,
    kek: &Kek,
) -> Result<KeyRing, EditError> {
    if ring.get(key.kid()).is_some() {
        return Err(EditError::Refused(format!(
            "the store holds a key {} already",
            key.kid()
        )));
    }
    let latest = ring.keys.iter().map(|k| k.signs_from).max().unwrap_or(now);
    let signs_from = now
        .saturating_add(announcement)
        .max(latest.saturating_add(1));
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

    /// k1 signs from 0, k2 (announced at 0) from 100.
    fn ring(kek: &Kek) -> KeyRing {
        let record = |announced, from| {
            KeyRecord::seal(
                &Key::generate(Algorithm::EdDSA).unwrap(),
                kek,
                announced,
                from,
            )
            .unwrap()
        };
        KeyRing {
            keys: vec![record(0, 0), record(0, 100)],
        }
    }

    #[test]
    fn rotating_brings_the_next_key_forward_as_far_as_its_announcement_allows() {
        let kek = kek();
        let ring = ring(&kek);
        let next = ring.keys[1].kid.clone();
        let rotated = rotate(&ring, 10, 30, false).unwrap();
        assert_eq!(rotated.get(&next).unwrap().signs_from, 30);
        let rotated = rotate(&ring, 50, 30, false).unwrap();
        assert_eq!(rotated.get(&next).unwrap().signs_from, 50);
        assert_eq!(rotated.current(50).unwrap().kid, next);
        let at_once = rotate(&ring, 10, 30, true).unwrap();
        assert_eq!(at_once.current(10).unwrap().kid, next);
        let alone = KeyRing {
            keys: vec![ring.keys[0].clone()],
        };
        assert!(matches!(
            rotate(&alone, 10, 30, false),
            Err(EditError::Refused(reason)) if reason.contains("no next key")
        ));
    }

    #[test]
    fn retiring_the_signing_key_removes_it_and_the_next_one_signs() {
        let kek = kek();
        let ring = ring(&kek);
        let (current, next) = (ring.keys[0].kid.clone(), ring.keys[1].kid.clone());
        let retired = retire(&ring, 10, &current).unwrap();
        assert!(retired.get(&current).is_none());
        assert_eq!(retired.current(10).unwrap().kid, next);
        let typo = &current[..current.len() - 1];
        assert!(matches!(
            retire(&ring, 10, typo),
            Err(EditError::Refused(reason)) if reason.contains("did you mean")
        ));
    }

    #[test]
    fn an_imported_key_is_announced_in_full_after_the_planned_ones() {
        let kek = kek();
        let ring = ring(&kek);
        let key = Key::generate(Algorithm::ES256).unwrap();
        let imported = import(&ring, 10, 30, &key, &kek).unwrap();
        let record = imported.get(key.kid()).unwrap();
        assert_eq!((record.announced, record.signs_from), (10, 101));
        assert_eq!(record.open(&kek).unwrap().kid(), key.kid());
        assert!(matches!(
            import(&imported, 10, 30, &key, &kek),
            Err(EditError::Refused(reason)) if reason.contains("already")
        ));
        let public = KeyRing::default();
        let only_public = Key::from_jwk(&key.to_public_jwk().unwrap(), None).unwrap();
        assert!(import(&public, 10, 30, &only_public, &kek).is_err());
    }
}
