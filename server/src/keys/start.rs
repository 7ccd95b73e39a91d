//! The keys a server starts with, from its configuration: the configured ones, or the
//! store's ring after one step of the lifecycle (a wrong key-encryption key refuses to
//! start), and a development setup refused a store whose keys it cannot open.

use std::sync::Arc;

use jwtkit_core::UnixTime;

use super::{
    Kek, KeyManager, KeyRing, ManagedKeysError, RingError, Schedule, SigningKeys, jwks_max_age,
    log_changes,
};
use crate::config::{Config, ManagedKeys, Signing};
use crate::store::Store;

/// The keys in force at start, and, with keys in the store, what keeps them in force.
pub struct Started {
    /// The keys in force.
    pub keys: SigningKeys,
    /// The store's lifecycle and the ring in force, to step while serving
    /// ([`super::keep_in_force`]); none for configured keys.
    pub managed: Option<(KeyManager, KeyRing)>,
}

/// The keys `config` names, at `now`; the error says what to fix.
pub async fn start(
    config: &Config,
    store: Arc<dyn Store>,
    now: UnixTime,
) -> Result<Started, String> {
    match &config.signing {
        Signing::Fixed { keys, signing_key } => {
            if config.dev.is_some() {
                refuse_sealed_keys(config, store.as_ref(), now).await?;
            }
            Ok(Started {
                keys: SigningKeys::fixed(keys.clone(), signing_key.clone()),
                managed: None,
            })
        }
        Signing::Managed(settings) => {
            let manager = KeyManager::new(store, kek(settings)?, schedule(settings));
            let stepped = manager.step(now).await.map_err(|error| match &error {
                ManagedKeysError::Ring(RingError::Sealed { .. } | RingError::Forged) => format!(
                    "{error}: check key_encryption_key (it must be the one the store's keys were sealed with); if it is, the store was changed without it: restore it from a backup"
                ),
                ManagedKeysError::Store(_) => format!("{error}: check the store (--store)"),
                ManagedKeysError::Contended => format!("{error}: start it again"),
                _ => error.to_string(),
            })?;
            log_changes(&stepped.changes);
            let keys = SigningKeys::managed(&stepped, jwks_max_age(manager.schedule()))
                .ok_or("the store's key ring has no key that signs")?;
            Ok(Started {
                keys,
                managed: Some((manager, stepped.ring)),
            })
        }
    }
}

/// The KEK of the settings.
pub(super) fn kek(settings: &ManagedKeys) -> Result<Kek, String> {
    Kek::from_bytes(settings.key_encryption_key.0.as_ref())
        .map_err(|e| format!("key_encryption_key {e}"))
}

/// The lifecycle of the settings.
pub(super) fn schedule(settings: &ManagedKeys) -> Schedule {
    let secs = |d: std::time::Duration| i64::try_from(d.as_secs()).unwrap_or(i64::MAX);
    Schedule {
        rotation: secs(settings.rotation),
        announcement: secs(settings.announcement),
        retention: secs(settings.retention),
        alg: settings.algorithm,
    }
}

/// A development setup signs with a key of the moment: a store that holds keys sealed by a
/// key-encryption key was meant to be served with it.
async fn refuse_sealed_keys(
    config: &Config,
    store: &dyn Store,
    now: UnixTime,
) -> Result<(), String> {
    let stored = store.key_ring(now).await.map_err(|e| e.to_string())?;
    if stored.document.is_some() {
        return Err(format!(
            "the store ({:?}) holds signing keys sealed with a key-encryption key, and none is configured: give it with --key-encryption-key (or JWTKIT_KEY_ENCRYPTION_KEY)",
            config.store
        ));
    }
    Ok(())
}
