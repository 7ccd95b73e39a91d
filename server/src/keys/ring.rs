//! The key ring as the store keeps it: one JSON document of key records, replaced whole with a
//! compare-and-set on its version (see `crate::store::KeyRecords`). A record holds the public
//! JWK in the clear and the private JWK sealed under the KEK; its times are Unix seconds
//! written by the instance that planned them, so every instance reads the same switch time.
//!
//! A key's phase follows from the times alone, with no write at the switch: *next* before its
//! `signs_from`; *current* from then until the next key's `signs_from`; *retired* after, still
//! published until the schedule's retention has passed, then removed.

use base64::Engine as _;
use jwtkit_core::{Key, KeySet};
use serde::{Deserialize, Serialize};

use super::kek::{Kek, KekError};
pub use super::record::KeyRecord;

/// The keys in the store.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyRing {
    /// Every key not yet removed, in the order written.
    pub keys: Vec<KeyRecord>,
    /// The keys retired by hand (`jwtkit keys retire`): never taken back into the ring.
    #[serde(default)]
    pub retired: Vec<String>,
    /// Bumped at every write: an instance refuses a ring older than one it has read.
    #[serde(default)]
    pub serial: u64,
    /// The servers' lifecycle as they last planned it (operators' commands follow it).
    #[serde(default)]
    pub policy: Option<RingPolicy>,
}

/// The lifecycle the servers plan the ring by, written into it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RingPolicy {
    /// `key_rotation_interval`, in seconds.
    pub rotation: i64,
    /// `key_announcement_period`, in seconds.
    pub announcement: i64,
    /// `key_retention`, in seconds.
    pub retention: i64,
    /// `key_algorithm`.
    pub alg: String,
}

/// What the store holds: the ring's JSON as text, and its MAC under the KEK.
#[derive(Serialize, Deserialize)]
struct Document {
    ring: String,
    mac: String,
}

/// Where a key is in its life at some moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Published, not yet signing.
    Next,
    /// Signing.
    Current,
    /// Published, no longer signing since `since`.
    Retired {
        /// When its successor started signing.
        since: i64,
    },
}

impl Phase {
    /// The phase's name, as `jwtkit keys list` prints it.
    pub fn name(self) -> &'static str {
        match self {
            Self::Next => "next",
            Self::Current => "current",
            Self::Retired { .. } => "retired",
        }
    }
}

/// Why the ring cannot be read or opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RingError {
    /// The document is not a key ring (written by something else, or damaged).
    Malformed(String),
    /// The document's MAC does not verify: changed by someone without the KEK, or sealed
    /// with another.
    Forged,
    /// The store holds no ring, though this instance read one (`seen`, its serial).
    Vanished {
        /// The highest serial read before.
        seen: u64,
    },
    /// The document is older than one this instance has read (rolled back).
    RolledBack {
        /// Its serial.
        serial: u64,
        /// The highest serial read before.
        seen: u64,
    },
    /// The KEK does not open a key (its `kid`).
    Sealed {
        /// The key that did not open.
        kid: String,
        /// Why.
        error: KekError,
    },
}

impl std::fmt::Display for RingError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Malformed(reason) => write!(f, "the store's key ring is not readable: {reason}"),
            Self::Forged => f.write_str(
                "the store's key ring does not verify under the key-encryption key: it was sealed with another, or changed by someone without it",
            ),
            Self::Vanished { seen } => write!(
                f,
                "the store's key ring is gone (serial {seen} was read): the store lost it, or someone removed it"
            ),
            Self::RolledBack { serial, seen } => write!(
                f,
                "the store's key ring went back (serial {serial}, after {seen} was read): the store lost writes, or someone wrote an earlier ring"
            ),
            Self::Sealed { kid, error } => write!(
                f,
                "the key-encryption key cannot open the store's key {kid}: {error}"
            ),
        }
    }
}

impl std::error::Error for RingError {}

/// The keys opened: what verifies and what signs at one moment.
#[derive(Debug, Clone)]
pub struct OpenRing {
    /// Every published key (next, current, retired), private parts included.
    pub keys: KeySet,
    /// The key that signs now, when one does.
    pub signing: Option<Key>,
}

impl KeyRing {
    /// The ring in `document` (as [`KeyRing::to_document`] wrote it), its MAC checked with
    /// `kek`: a ring changed by anyone without the KEK — a key added, a time moved, a
    /// retired key put back — is refused as a whole.
    pub fn from_document(document: &str, kek: &Kek) -> Result<Self, RingError> {
        let malformed = |e: String| RingError::Malformed(e);
        let document: Document =
            serde_json::from_str(document).map_err(|e| malformed(e.to_string()))?;
        let mac = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(&document.mac)
            .map_err(|_| malformed("its MAC is not base64url".to_owned()))?;
        if !kek.verify_mac(document.ring.as_bytes(), &mac) {
            return Err(RingError::Forged);
        }
        let ring: Self =
            serde_json::from_str(&document.ring).map_err(|e| malformed(e.to_string()))?;
        if let Some(key) = ring.keys.iter().find(|key| ring.retired.contains(&key.kid)) {
            return Err(malformed(format!(
                "it holds {}, a key retired by hand",
                key.kid
            )));
        }
        Ok(ring)
    }

    /// The document the store keeps: the ring and its MAC under `kek`.
    pub fn to_document(&self, kek: &Kek) -> String {
        #[allow(clippy::expect_used)]
        let ring = serde_json::to_string(self).expect("invariant: strings and integers serialize");
        let mac = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(kek.mac(ring.as_bytes()));
        #[allow(clippy::expect_used)]
        serde_json::to_string(&Document { ring, mac }).expect("invariant: strings serialize")
    }

    /// The key `kid`.
    pub fn get(&self, kid: &str) -> Option<&KeyRecord> {
        self.keys.iter().find(|key| key.kid == kid)
    }

    /// The key that signs at `now`: the one whose `signs_from` is the latest not after it,
    /// unless it stopped.
    pub fn current(&self, now: i64) -> Option<&KeyRecord> {
        self.keys
            .iter()
            .filter(|key| key.signs_from <= now)
            .max_by_key(|key| (key.signs_from, key.announced))
            .filter(|key| key.stopped.is_none_or(|stopped| stopped > now))
    }

    /// When `key` stops signing: its successor's `signs_from`, or when it stopped (none
    /// while neither).
    pub fn signs_until(&self, key: &KeyRecord) -> Option<i64> {
        self.keys
            .iter()
            .filter(|other| (other.signs_from, other.announced) > (key.signs_from, key.announced))
            .map(|other| other.signs_from)
            .chain(key.stopped)
            .min()
    }

    /// `key`'s phase at `now`.
    pub fn phase(&self, key: &KeyRecord, now: i64) -> Phase {
        if key.signs_from > now {
            return Phase::Next;
        }
        match self.signs_until(key) {
            Some(since) if since <= now => Phase::Retired { since },
            _ => Phase::Current,
        }
    }

    /// The keys that sign after `now`, earliest first.
    pub fn upcoming(&self, now: i64) -> Vec<&KeyRecord> {
        let mut next: Vec<&KeyRecord> = self.keys.iter().filter(|k| k.signs_from > now).collect();
        next.sort_by_key(|key| (key.signs_from, key.announced));
        next
    }

    /// Every key opened with `kek` (none for an empty ring).
    pub fn open_all(&self, kek: &Kek) -> Result<Vec<Key>, RingError> {
        self.keys.iter().map(|record| record.open(kek)).collect()
    }

    /// Every key opened with `kek`, and the one signing at `now`; an empty ring has none to
    /// verify with, and is refused.
    pub fn open(&self, kek: &Kek, now: i64) -> Result<OpenRing, RingError> {
        let keys = self.open_all(kek)?;
        let signing = self
            .current(now)
            .and_then(|current| keys.iter().find(|key| key.kid() == current.kid))
            .cloned();
        let keys = KeySet::new(keys).map_err(|e| RingError::Malformed(e.to_string()))?;
        Ok(OpenRing { keys, signing })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use jwtkit_core::Algorithm;

    use super::*;

    fn kek() -> Kek {
        Kek::from_base64url(&Kek::generate().unwrap()).unwrap()
    }

    fn record(kek: &Kek, announced: i64, signs_from: i64) -> KeyRecord {
        let key = Key::generate(Algorithm::EdDSA).unwrap();
        KeyRecord::seal(&key, kek, announced, signs_from).unwrap()
    }

    #[test]
    fn phases_follow_from_the_times_alone() {
        let kek = kek();
        let ring = KeyRing {
            keys: vec![record(&kek, 0, 0), record(&kek, 50, 100)],
            ..KeyRing::default()
        };
        let (first, second) = (&ring.keys[0], &ring.keys[1]);
        assert_eq!(ring.phase(first, 99), Phase::Current);
        assert_eq!(ring.phase(second, 99), Phase::Next);
        assert_eq!(ring.current(99).unwrap().kid, first.kid);
        assert_eq!(ring.phase(first, 100), Phase::Retired { since: 100 });
        assert_eq!(ring.phase(second, 100), Phase::Current);
        assert_eq!(ring.current(100).unwrap().kid, second.kid);
        assert_eq!(ring.upcoming(99).len(), 1);
        assert!(ring.upcoming(100).is_empty());
        assert_eq!(
            KeyRing::from_document(&ring.to_document(&kek), &kek).unwrap(),
            ring
        );
    }

    /// The document is the ring's and its MAC's: a time moved, a key added or a retired key
    /// put back by someone without the KEK is refused, and another KEK's document too.
    #[test]
    fn a_ring_changed_without_the_kek_is_refused() {
        let kek = kek();
        let ring = KeyRing {
            keys: vec![record(&kek, 0, 0), record(&kek, 0, 100)],
            ..KeyRing::default()
        };
        let document = ring.to_document(&kek);
        let moved = document.replace("\\\"signs_from\\\":100", "\\\"signs_from\\\":1");
        assert_ne!(moved, document, "the time is in the document");
        assert_eq!(
            KeyRing::from_document(&moved, &kek).unwrap_err(),
            RingError::Forged
        );
        assert_eq!(
            KeyRing::from_document(&document, &self::kek()).unwrap_err(),
            RingError::Forged
        );
        let mut back = ring.clone();
        back.retired.push(ring.keys[0].kid.clone());
        assert!(matches!(
            KeyRing::from_document(&back.to_document(&kek), &kek),
            Err(RingError::Malformed(reason)) if reason.contains("retired by hand")
        ));
    }

    #[test]
    fn the_store_holds_no_private_key_in_the_clear_and_a_wrong_kek_opens_nothing() {
        let kek = kek();
        let key = Key::generate(Algorithm::ES256).unwrap();
        let record = KeyRecord::seal(&key, &kek, 0, 0).unwrap();
        let ring = KeyRing {
            keys: vec![record.clone()],
            ..KeyRing::default()
        };
        let document = ring.to_document(&kek);
        let d = key.to_private_jwk().d.unwrap();
        assert!(!document.contains(&d), "the private scalar in the clear");
        assert!(!record.public.contains("\"d\""));
        let open = ring.open(&kek, 0).unwrap();
        assert_eq!(open.signing.unwrap().kid(), key.kid());
        assert!(matches!(
            ring.open(&self::kek(), 0),
            Err(RingError::Sealed {
                error: KekError::WrongKey,
                ..
            })
        ));
        // A sealed part moved under another key's record does not open there.
        let other = KeyRecord::seal(&Key::generate(Algorithm::ES256).unwrap(), &kek, 0, 0).unwrap();
        let swapped = KeyRecord {
            sealed: other.sealed,
            ..record
        };
        assert!(matches!(
            swapped.open(&kek),
            Err(RingError::Sealed {
                error: KekError::WrongKey,
                ..
            })
        ));
    }

    #[test]
    fn only_key_pairs_are_kept() {
        let secret = Key::generate(Algorithm::HS256).unwrap();
        assert!(matches!(
            KeyRecord::seal(&secret, &kek(), 0, 0),
            Err(RingError::Malformed(reason)) if reason.contains("symmetric")
        ));
    }
}
