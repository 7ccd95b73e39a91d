//! The keys a server signs and verifies with: a key file, an HS256 secret, or the
//! zero-configuration development setup's generated key.

use crate::clients::{Client, Clients, SCOPES};
use base64::Engine as _;
use std::path::Path;

use jwtkit_core::{Algorithm, Key, KeySet};

use super::table::{API_KEYS, KEYS, SECRET, SIGNING_KID};
use super::{ConfigError, DevCredentials, error};
use crate::apikeys::{ApiKey, generate_api_key};

/// The key set in `path` and its signing key (by `kid`, or the first that can sign).
pub(super) fn load_keys(
    path: &Path,
    signing_kid: Option<&str>,
) -> Result<(KeySet, Key), ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        error(
            &KEYS,
            format!("cannot read {}: {e}", path.display()),
            "check the path",
        )
    })?;
    let keys = KeySet::from_json(&text, None).map_err(|e| {
        error(
            &KEYS,
            format!("{}: {e} ({})", path.display(), e.code()),
            "create keys with `jwtkit keygen --alg EdDSA`",
        )
    })?;
    let signing = keys.signing_key(signing_kid).map_err(|e| {
        let setting = if signing_kid.is_some() {
            &SIGNING_KID
        } else {
            &KEYS
        };
        error(
            setting,
            format!("{}: {e} ({})", path.display(), e.code()),
            "name the kid of a private key in the set, or add one",
        )
    })?;
    let signing = signing.clone();
    Ok((keys, signing))
}

/// An HS256 key from secret text, refusing short or low-entropy secrets.
pub(super) fn secret_key(secret: &str) -> Result<Key, ConfigError> {
    let fix = "generate one with `jwtkit keygen --secret`, or use a key file instead: \
               `jwtkit keygen --alg HS256 > key.json`, then --keys key.json";
    if secret.trim_start().starts_with('{') {
        return Err(error(
            &SECRET,
            "looks like a JWK (JSON): --secret takes the secret text itself",
            "give the JWK's file with --keys FILE instead of --secret",
        ));
    }
    if secret.len() < 32 {
        return Err(error(
            &SECRET,
            format!("is {} bytes; HS256 needs at least 32", secret.len()),
            fix,
        ));
    }
    if estimated_entropy_bits(secret) < 128.0 {
        return Err(error(
            &SECRET,
            "looks like low-entropy text (repeated or predictable characters)",
            fix,
        ));
    }
    Key::from_hmac_secret(Algorithm::HS256, secret.as_bytes(), None)
        .map_err(|e| error(&SECRET, e.to_string(), fix))
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

/// The zero-configuration setup's ephemeral EdDSA signing key.
pub(super) fn development_key() -> Result<Key, ConfigError> {
    Key::generate(Algorithm::EdDSA)
        .map_err(|e| error(&KEYS, e.to_string(), "configure --keys and --api-key"))
}

/// The zero-configuration setup's credentials: two generated API keys and the demo
/// person's password.
pub(super) fn development_credentials() -> Result<(DevCredentials, Vec<ApiKey>), ConfigError> {
    let fail = |e: String| error(&API_KEYS, e, "configure --api-key");
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
    let mut password = [0u8; 15];
    getrandom::fill(&mut password).map_err(|e| fail(e.to_string()))?;
    let password = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(password);
    Ok((
        DevCredentials {
            api_keys: credentials,
            user: (DEMO_USERNAME.to_owned(), password),
        },
        entries,
    ))
}

/// The person the development setup signs in to the demo page.
pub const DEMO_USERNAME: &str = "demo";

/// The `client_id` of the demo page in the development setup.
pub const DEMO_CLIENT_ID: &str = "jwtkit-demo";

/// The development setup's clients: the `configured` ones and the demo page at
/// `public_url`, a first-party public client redirecting to the page itself (replacing the
/// demo page's registration at another URL).
pub(super) fn development_clients(configured: &Clients, public_url: &str) -> Clients {
    let page = format!("{public_url}/");
    let demo = Client {
        id: DEMO_CLIENT_ID.to_owned(),
        name: "the jwtkit demo page".to_owned(),
        redirect_uris: vec![page.clone()],
        post_logout_redirect_uris: vec![page],
        scopes: SCOPES.iter().map(|s| (*s).to_owned()).collect(),
        first_party: true,
        dpop_bound_access_tokens: false,
        secret_hash: None,
    };
    let mut clients: Vec<Client> = configured
        .iter()
        .filter(|c| c.id != DEMO_CLIENT_ID)
        .cloned()
        .collect();
    clients.push(demo);
    Clients::new(clients).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
