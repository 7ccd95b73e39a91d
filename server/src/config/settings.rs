//! Parsing and validating individual settings: durations, origins, API key entries, key
//! files, HMAC secrets, and the zero-configuration development setup.

use std::path::Path;
use std::time::Duration;

use jwtkit_core::{Algorithm, Key, KeySet};

use super::{ConfigError, DevCredentials, error};
use crate::apikeys::{ApiKey, generate_api_key};

pub(super) fn non_empty(setting: &'static str, value: String) -> Result<String, ConfigError> {
    if value.trim().is_empty() {
        Err(error(
            setting,
            "is empty",
            "give it a value or leave it out for the default",
        ))
    } else {
        Ok(value)
    }
}

pub(super) fn duration(setting: &'static str, text: &str) -> Result<Duration, ConfigError> {
    if let Ok(secs) = text.parse::<u64>() {
        return Ok(Duration::from_secs(secs));
    }
    humantime::parse_duration(text).map_err(|_| {
        error(
            setting,
            format!("{text:?} is not a duration"),
            "use e.g. 180, 90s, 3m or 1h",
        )
    })
}

pub(super) fn check_origin(origin: &str) -> Result<(), ConfigError> {
    let bad = || {
        error(
            "cors_origins",
            format!("{origin:?} is not an origin"),
            "use scheme://host[:port], e.g. https://app.example",
        )
    };
    let (scheme, rest) = origin.split_once("://").ok_or_else(bad)?;
    let (host, port) = match rest.rsplit_once(':') {
        Some((host, port)) if !host.ends_with(']') || host.starts_with('[') => (host, Some(port)),
        _ => (rest, None),
    };
    let host_ok = !host.is_empty()
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'[' | b']' | b':'));
    let port_ok = port.is_none_or(|p| !p.is_empty() && p.parse::<u16>().is_ok());
    if matches!(scheme, "http" | "https") && host_ok && port_ok {
        Ok(())
    } else {
        Err(bad())
    }
}

/// `NAME:HASH[:ROLE,ROLE...]`
pub(super) fn parse_api_key_entry(entry: &str) -> Result<ApiKey, String> {
    let mut parts = entry.splitn(3, ':');
    let name = parts.next().unwrap_or_default();
    let (Some(scheme), Some(rest)) = (parts.next(), parts.next()) else {
        return Err(format!(
            "API key entry for {name:?} must be NAME:HASH[:ROLES]"
        ));
    };
    // HASH itself is "sha256:<digest>", so the digest and roles follow the scheme.
    let (digest, roles) = rest.split_once(':').unwrap_or((rest, ""));
    let roles = roles
        .split(',')
        .filter(|r| !r.is_empty())
        .map(str::to_owned)
        .collect();
    ApiKey::from_hash(name, &format!("{scheme}:{digest}"), roles)
}

pub(super) fn load_keys(
    path: &Path,
    signing_kid: Option<&str>,
) -> Result<(KeySet, Key), ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        error(
            "keys",
            format!("cannot read {}: {e}", path.display()),
            "check the path",
        )
    })?;
    let keys = KeySet::from_json(&text, None).map_err(|e| {
        error(
            "keys",
            format!("{}: {e} ({})", path.display(), e.code()),
            "create keys with `jwtkit keygen --alg EdDSA`",
        )
    })?;
    let signing = match signing_kid {
        Some(kid) => keys.get(kid).ok_or_else(|| {
            error(
                "signing_kid",
                format!("no key with kid {kid:?} in {}", path.display()),
                "name the kid of a key in the set",
            )
        })?,
        None => keys.iter().find(|k| k.can_sign()).ok_or_else(|| {
            error(
                "keys",
                format!("no key in {} can sign (all are public)", path.display()),
                "add a private key",
            )
        })?,
    };
    if !signing.can_sign() {
        return Err(error(
            "signing_kid",
            "the named key is public and cannot sign",
            "name a private key",
        ));
    }
    let signing = signing.clone();
    Ok((keys, signing))
}

/// An HS256 key from secret text, refusing short or low-entropy secrets.
pub(super) fn secret_key(secret: &str) -> Result<Key, ConfigError> {
    let fix =
        "generate one with `jwtkit keygen --alg HS256` (or 32+ random bytes, base64url-encoded)";
    if secret.len() < 32 {
        return Err(error(
            "secret",
            format!("is {} bytes; HS256 needs at least 32", secret.len()),
            fix,
        ));
    }
    if estimated_entropy_bits(secret) < 128.0 {
        return Err(error(
            "secret",
            "looks like low-entropy text (repeated or predictable characters)",
            fix,
        ));
    }
    Key::from_hmac_secret(Algorithm::HS256, secret.as_bytes(), None)
        .map_err(|e| error("secret", e.to_string(), fix))
}

/// A crude upper bound on the entropy of `text`: its length times the Shannon entropy of its
/// character distribution. Random base64 of 32+ bytes scores well above 128; words, repeats
/// and short alphabets score below.
fn estimated_entropy_bits(text: &str) -> f64 {
    let mut counts = std::collections::HashMap::new();
    let mut total = 0.0;
    for c in text.chars() {
        *counts.entry(c).or_insert(0.0) += 1.0;
        total += 1.0;
    }
    let per_char: f64 = counts
        .values()
        .map(|&n: &f64| -(n / total) * (n / total).log2())
        .sum();
    per_char * total
}

/// The zero-configuration setup: an ephemeral EdDSA signing key and two generated API keys.
pub(super) fn development_setup() -> Result<(Key, DevCredentials, Vec<ApiKey>), ConfigError> {
    let fail = |e: String| error("keys", e, "configure --keys and --api-key");
    let key = Key::generate(Algorithm::EdDSA).map_err(|e| fail(e.to_string()))?;
    let mut credentials = Vec::new();
    let mut entries = Vec::new();
    for (name, roles) in [
        ("dev", vec!["user".to_owned()]),
        ("dev-admin", vec!["user".to_owned(), "admin".to_owned()]),
    ] {
        let plaintext = generate_api_key().map_err(|e| fail(e.to_string()))?;
        entries.push(ApiKey::from_plaintext(name, &plaintext, roles.clone()).map_err(fail)?);
        credentials.push((name.to_owned(), plaintext, roles));
    }
    Ok((
        key,
        DevCredentials {
            api_keys: credentials,
        },
        entries,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::apikeys::hash_api_key;

    #[test]
    fn weak_secrets_are_refused() {
        let code = |secret: &str| secret_key(secret).map(|_| ());
        assert!(code("").is_err());
        assert!(code("secret").is_err());
        assert!(code(&"a".repeat(64)).is_err());
        assert!(code("passwordpasswordpasswordpassword").is_err());
        assert!(code("correct horse battery staple!!!!").is_err());
        assert!(code("Jx7_qL2vR9mZ0tWc4Ks8Pn1YbH6dFg3eUaQoTiVrXw5").is_ok());
    }

    #[test]
    fn api_key_entries_parse() {
        let hash = hash_api_key("key");
        let key = parse_api_key_entry(&format!("svc:{hash}:admin,user")).unwrap();
        assert_eq!(
            (key.name(), key.roles()),
            ("svc", &["admin".to_owned(), "user".to_owned()][..])
        );
        assert_eq!(
            parse_api_key_entry(&format!("svc:{hash}")).unwrap().roles(),
            &[] as &[String]
        );
        assert!(parse_api_key_entry("svc").is_err());
        assert!(check_origin("https://app.example").is_ok());
        assert!(check_origin("http://127.0.0.1:5173").is_ok());
        assert!(check_origin("https://app.example/path").is_err());
        assert!(check_origin("ftp://app.example").is_err());
        assert!(check_origin("https://app.example:99999").is_err());
    }
}
