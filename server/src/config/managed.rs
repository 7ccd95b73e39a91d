//! The settings of keys jwtkit generates and rotates in the store: the key-encryption key,
//! the algorithm, and the lifecycle's periods with their floors.

use std::time::Duration;

use base64::Engine as _;
use jwtkit_core::Algorithm;

use super::sources::Sources;
use super::table::*;
use super::{ConfigError, KeyEncryptionKey, ManagedKeys, error, values};

/// The shortest rotation interval outside `accelerated_key_lifecycle`.
pub const ROTATION_FLOOR: Duration = Duration::from_secs(24 * 3600);
/// The shortest announcement period outside `accelerated_key_lifecycle`: well past the
/// JWK Set's usual caching.
pub const ANNOUNCEMENT_FLOOR: Duration = Duration::from_secs(3600);
/// The shortest retention outside `accelerated_key_lifecycle`.
pub const RETENTION_FLOOR: Duration = Duration::from_secs(3600);

/// The longest-lived things a key signs, which its retention must outlast.
pub(super) struct Lifetimes {
    /// `token_ttl` plus the leeway.
    pub(super) access: Duration,
    /// `refresh_absolute_ttl` and `login_ttl`: how long an ID token may come back as a
    /// logout's `id_token_hint`.
    pub(super) id_token_uses: Duration,
}

/// The managed keys' settings, `key_encryption_key` being `kek`.
pub(super) fn read(
    sources: &Sources,
    kek: &str,
    lifetimes: &Lifetimes,
) -> Result<ManagedKeys, ConfigError> {
    let accelerated = values::boolean(
        &ACCELERATED_KEY_LIFECYCLE,
        sources.value(&ACCELERATED_KEY_LIFECYCLE)?,
    )?;
    let period = |setting: &'static Setting, floor: Duration| -> Result<Duration, ConfigError> {
        let value = values::duration(setting, sources.value(setting)?)?;
        if value < floor && !accelerated {
            return Err(error(
                setting,
                format!(
                    "is {}s, below its floor of {}s",
                    value.as_secs(),
                    floor.as_secs()
                ),
                "lengthen it (only tests and development may go below, with accelerated_key_lifecycle = true)",
            ));
        }
        Ok(value)
    };
    let rotation = period(&KEY_ROTATION_INTERVAL, ROTATION_FLOOR)?;
    let announcement = period(&KEY_ANNOUNCEMENT_PERIOD, ANNOUNCEMENT_FLOOR)?;
    let retention = period(&KEY_RETENTION, RETENTION_FLOOR)?;
    if announcement > rotation {
        return Err(error(
            &KEY_ANNOUNCEMENT_PERIOD,
            "is longer than key_rotation_interval: each key would be announced before the one it follows had signed",
            "shorten key_announcement_period, or lengthen key_rotation_interval",
        ));
    }
    let longest = lifetimes.access.max(lifetimes.id_token_uses);
    if retention < longest && !accelerated {
        return Err(error(
            &KEY_RETENTION,
            format!(
                "is {}s, shorter than what a key signs lives ({}s: token_ttl and the leeway, refresh_absolute_ttl, login_ttl)",
                retention.as_secs(),
                longest.as_secs()
            ),
            format!("set key_retention to at least {}s", longest.as_secs()),
        ));
    }
    Ok(ManagedKeys {
        key_encryption_key: key_encryption_key(kek)?,
        algorithm: algorithm(sources.value(&KEY_ALGORITHM)?)?,
        rotation,
        announcement,
        retention,
        accelerated,
    })
}

/// `key_encryption_key`: base64url of 32 bytes.
pub(super) fn key_encryption_key(value: &str) -> Result<KeyEncryptionKey, ConfigError> {
    let fix =
        "generate one with `jwtkit keygen --kek` (every instance on the store needs the same)";
    let bytes = zeroize::Zeroizing::new(
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(value.trim())
            .map_err(|_| {
                error(
                    &KEY_ENCRYPTION_KEY,
                    "is not base64url (A-Z a-z 0-9 - _, no padding)",
                    fix,
                )
            })?,
    );
    let bytes: [u8; 32] = bytes.as_slice().try_into().map_err(|_| {
        error(
            &KEY_ENCRYPTION_KEY,
            format!("is {} bytes; a key-encryption key is 32", bytes.len()),
            fix,
        )
    })?;
    Ok(KeyEncryptionKey(zeroize::Zeroizing::new(bytes)))
}

/// `key_algorithm`: an asymmetric algorithm (a key set published to resource servers).
pub(super) fn algorithm(value: &str) -> Result<Algorithm, ConfigError> {
    let fix = "choose one of EdDSA, ES256, ES384, RS256, PS256";
    let alg: Algorithm = value.parse().map_err(|_| {
        error(
            &KEY_ALGORITHM,
            format!("{value:?} is not an algorithm jwtkit signs with"),
            fix,
        )
    })?;
    if alg.is_symmetric() {
        return Err(error(
            &KEY_ALGORITHM,
            format!("{alg} is symmetric: a key shared with every resource server"),
            fix,
        ));
    }
    Ok(alg)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::super::{ServeArgs, Signing};
    use super::*;
    use crate::apikeys::hash_api_key;

    const KEK: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8";

    fn managed() -> ServeArgs {
        ServeArgs::default()
            .with(&API_KEYS, format!("svc:{}:user", hash_api_key("k")))
            .with(&KEY_ENCRYPTION_KEY, KEK)
    }

    fn refused(args: ServeArgs) -> (&'static str, String) {
        let error = args.resolve().unwrap_err();
        (
            error.setting.name,
            format!("{}: {}", error.problem, error.fix),
        )
    }

    #[test]
    fn a_key_encryption_key_without_keys_keeps_them_in_the_store() {
        let config = managed().resolve().unwrap();
        let Signing::Managed(keys) = &config.signing else {
            panic!("keys kept in the store")
        };
        assert_eq!(keys.key_encryption_key.0[31], 31);
        assert_eq!(keys.algorithm, Algorithm::EdDSA);
        assert_eq!(
            (keys.rotation, keys.announcement, keys.retention),
            (
                Duration::from_secs(30 * 86_400),
                Duration::from_secs(7 * 86_400),
                Duration::from_secs(7 * 86_400)
            )
        );
        assert!(format!("{keys:?}").contains("KeyEncryptionKey(…)"));
        assert!(!format!("{keys:?}").contains(KEK));
        // Configured keys win.
        let secret = "Jx7_qL2vR9mZ0tWc4Ks8Pn1YbH6dFg3eUaQoTiVrXw5";
        let config = managed().with(&SECRET, secret).resolve().unwrap();
        assert!(config.signing.fixed().is_some());
        // The development setup keeps its keys in the store too when given one.
        let dev = ServeArgs::default()
            .with(&KEY_ENCRYPTION_KEY, KEK)
            .resolve()
            .unwrap();
        assert!(dev.dev.is_some() && matches!(dev.signing, Signing::Managed(_)));
    }

    #[test]
    fn bad_managed_settings_are_refused_for_their_reason() {
        let (setting, says) = refused(managed().with(&KEY_ENCRYPTION_KEY, "c2hvcnQ"));
        assert_eq!(setting, "key_encryption_key");
        assert!(
            says.contains("is 5 bytes") && says.contains("jwtkit keygen --kek"),
            "{says}"
        );
        let (setting, says) = refused(managed().with(&KEY_ENCRYPTION_KEY, format!("{KEK}=")));
        assert_eq!(setting, "key_encryption_key");
        assert!(says.contains("not base64url"), "{says}");
        let (setting, says) = refused(managed().with(&KEY_ALGORITHM, "HS256"));
        assert_eq!(setting, "key_algorithm");
        assert!(says.contains("symmetric"), "{says}");
        let (setting, says) = refused(managed().with(&KEY_ALGORITHM, "none"));
        assert_eq!(setting, "key_algorithm");
        assert!(says.contains("EdDSA, ES256"), "{says}");
        let (setting, says) = refused(managed().with(&KEY_ROTATION_INTERVAL, "1h"));
        assert_eq!(setting, "key_rotation_interval");
        assert!(says.contains("below its floor") && says.contains("accelerated_key_lifecycle"));
        let (setting, _) = refused(managed().with(&KEY_ANNOUNCEMENT_PERIOD, "10m"));
        assert_eq!(setting, "key_announcement_period");
        let (setting, says) = refused(
            managed()
                .with(&KEY_ROTATION_INTERVAL, "2d")
                .with(&KEY_ANNOUNCEMENT_PERIOD, "3d"),
        );
        assert_eq!(setting, "key_announcement_period");
        assert!(says.contains("longer than key_rotation_interval"), "{says}");
        let (setting, says) = refused(managed().with(&KEY_RETENTION, "2d"));
        assert_eq!(setting, "key_retention");
        assert!(says.contains("at least 604800s"), "{says}");
        let (setting, says) = refused(managed().with(&ACCELERATED_KEY_LIFECYCLE, "yes"));
        assert_eq!(setting, "accelerated_key_lifecycle");
        assert!(says.contains("true or false"), "{says}");
    }

    #[test]
    fn an_accelerated_lifecycle_lifts_the_floors_only() {
        let config = managed()
            .with(&ACCELERATED_KEY_LIFECYCLE, "true")
            .with(&KEY_ROTATION_INTERVAL, "6s")
            .with(&KEY_ANNOUNCEMENT_PERIOD, "3s")
            .with(&KEY_RETENTION, "5s")
            .resolve()
            .unwrap();
        let Signing::Managed(keys) = &config.signing else {
            panic!("keys kept in the store")
        };
        assert!(keys.accelerated);
        assert_eq!(keys.announcement, Duration::from_secs(3));
        let (setting, _) = refused(
            managed()
                .with(&ACCELERATED_KEY_LIFECYCLE, "true")
                .with(&KEY_ROTATION_INTERVAL, "2s")
                .with(&KEY_ANNOUNCEMENT_PERIOD, "3s"),
        );
        assert_eq!(setting, "key_announcement_period", "the order still holds");
    }

    #[test]
    fn a_resource_server_refuses_the_issuers_key_settings() {
        let error = ServeArgs::default()
            .with(&TRUST_ISSUER, "https://auth.example")
            .with(&KEY_ENCRYPTION_KEY, KEK)
            .resolve_mode()
            .unwrap_err();
        assert_eq!(error.setting.name, "key_encryption_key");
    }
}
