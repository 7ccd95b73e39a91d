//! API keys: stored only as SHA-256 hashes, compared in constant time.
//!
//! API keys are long random strings (256 bits), so a fast hash is enough: unlike a password,
//! a key cannot be guessed from its hash by trying likely values.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// The prefix of a stored API key hash.
pub const HASH_PREFIX: &str = "sha256:";
/// The prefix of every generated API key (makes leaked keys easy to recognise).
pub const KEY_PREFIX: &str = "jwtk_";

/// One configured API key: its name (the tokens' `sub`), hash and roles.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey {
    name: String,
    hash: [u8; 32],
    roles: Vec<String>,
}

impl std::fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiKey")
            .field("name", &self.name)
            .field("roles", &self.roles)
            .finish_non_exhaustive()
    }
}

impl ApiKey {
    /// An entry from a stored hash (`sha256:<base64url>`).
    pub fn from_hash(name: &str, hash: &str, roles: Vec<String>) -> Result<Self, String> {
        if name.is_empty()
            || !name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'@'))
        {
            return Err(format!(
                "API key name {name:?} must be non-empty and use only letters, digits, - _ . @"
            ));
        }
        if let Some(bad) = roles.iter().find(|r| {
            r.is_empty()
                || r.chars()
                    .any(|c| c.is_whitespace() || matches!(c, ',' | ':' | ';'))
        }) {
            // A `:` in a role is most often a second entry joined with `,` (entries are
            // separated by `;` in JWTKIT_API_KEYS): never a role.
            return Err(format!(
                "role {bad:?} of API key {name:?} must be non-empty, without spaces, commas, colons \
                 or semicolons (entries in JWTKIT_API_KEYS are separated by `;`)"
            ));
        }
        let bytes =
            decode_hash(hash).map_err(|why| format!("the hash of API key {name:?} {why}"))?;
        Ok(Self {
            name: name.to_owned(),
            hash: bytes,
            roles,
        })
    }

    /// An entry from its configuration text `NAME:sha256:DIGEST[:ROLE,ROLE...]` (what
    /// [`ApiKey::entry`] writes and `jwtkit keygen --api-key` prints).
    pub fn from_entry(entry: &str) -> Result<Self, String> {
        // Never repeated in a message: it may be the key itself, given by mistake.
        if entry.starts_with(KEY_PREFIX) {
            return Err(format!(
                "an API key entry starts with {KEY_PREFIX:?}: that is an API key itself (what a \
                 client sends), not the entry a server is configured with"
            ));
        }
        let (name, scheme, rest) = match entry.splitn(3, ':').collect::<Vec<_>>()[..] {
            [name, scheme, rest] => (name, scheme, rest),
            [_, ..] => {
                return Err("an API key entry must be NAME:sha256:HASH[:ROLE,ROLE...]".to_owned());
            }
            [] => return Err("an API key entry is empty".to_owned()),
        };
        // HASH itself is "sha256:<digest>", so the digest and roles follow the scheme.
        let (digest, roles) = rest.split_once(':').unwrap_or((rest, ""));
        let roles = roles
            .split(',')
            .filter(|r| !r.is_empty())
            .map(str::to_owned)
            .collect();
        Self::from_hash(name, &format!("{scheme}:{digest}"), roles)
    }

    /// The configuration text of this entry: `NAME:sha256:DIGEST[:ROLE,ROLE...]`.
    pub fn entry(&self) -> String {
        let hash = encode_hash(&self.hash);
        if self.roles.is_empty() {
            format!("{}:{hash}", self.name)
        } else {
            format!("{}:{hash}:{}", self.name, self.roles.join(","))
        }
    }

    /// An entry for a plaintext key (used for generated development keys).
    pub fn from_plaintext(name: &str, key: &str, roles: Vec<String>) -> Result<Self, String> {
        Self::from_hash(name, &hash_api_key(key), roles)
    }

    /// The key's name: the `sub` and `client_id` of the tokens it obtains.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The roles granted to tokens obtained with this key.
    pub fn roles(&self) -> &[String] {
        &self.roles
    }
}

/// The configured API keys.
#[derive(Debug, Clone, Default)]
pub struct ApiKeys(Vec<ApiKey>);

impl ApiKeys {
    /// A set of keys; refuses two keys with the same name or the same hash.
    pub fn new(keys: Vec<ApiKey>) -> Result<Self, String> {
        for (i, key) in keys.iter().enumerate() {
            if let Some(other) = keys[..i]
                .iter()
                .find(|k| k.name == key.name || k.hash == key.hash)
            {
                return Err(format!(
                    "API keys {:?} and {:?} share a name or a key",
                    other.name, key.name
                ));
            }
        }
        Ok(Self(keys))
    }

    /// How many keys are configured.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// The keys.
    pub fn iter(&self) -> impl Iterator<Item = &ApiKey> {
        self.0.iter()
    }

    /// Whether no key is configured.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The key named `name`.
    pub fn named(&self, name: &str) -> Option<&ApiKey> {
        self.0.iter().find(|key| key.name == name)
    }

    /// The entry for a presented key. Every stored hash is compared, in constant time, so
    /// the time taken says nothing about which key (if any) was close.
    pub fn find(&self, presented: &str) -> Option<&ApiKey> {
        let digest: [u8; 32] = Sha256::digest(presented.as_bytes()).into();
        let mut found = None;
        for key in &self.0 {
            if bool::from(key.hash.ct_eq(&digest)) {
                found = Some(key);
            }
        }
        found
    }
}

/// The stored form of an API key: `sha256:<base64url of SHA-256>`.
pub fn hash_api_key(key: &str) -> String {
    encode_hash(&Sha256::digest(key.as_bytes()).into())
}

/// The digest of a stored hash (`sha256:<base64url>`), or why it is not one.
pub fn decode_hash(hash: &str) -> Result<[u8; 32], String> {
    let encoded = hash
        .strip_prefix(HASH_PREFIX)
        .ok_or_else(|| format!("must start with {HASH_PREFIX:?}"))?;
    let bytes = URL_SAFE_NO_PAD
        .decode(encoded)
        .ok()
        .and_then(|b| <[u8; 32]>::try_from(b).ok())
        .ok_or_else(|| "is not 32 bytes of base64url".to_owned())?;
    if bytes[..] == Sha256::digest(b"")[..] {
        return Err("is the hash of an empty secret".to_owned());
    }
    Ok(bytes)
}

/// The stored form of a digest: `sha256:<base64url>`.
pub fn encode_hash(digest: &[u8; 32]) -> String {
    format!("{HASH_PREFIX}{}", URL_SAFE_NO_PAD.encode(digest))
}

/// Whether `presented` hashes to `digest`, compared in constant time.
pub fn hash_matches(digest: &[u8; 32], presented: &str) -> bool {
    let presented: [u8; 32] = Sha256::digest(presented.as_bytes()).into();
    digest.ct_eq(&presented).into()
}

/// A fresh API key: `jwtk_` and 256 bits from the OS CSPRNG, base64url.
pub fn generate_api_key() -> Result<String, getrandom::Error> {
    random_text(KEY_PREFIX)
}

/// A fresh HS256 secret for `jwtkit serve --secret`: `jwts_` and 256 bits from the OS CSPRNG,
/// base64url — text used as written, which a shell never takes for a flag (base64url may
/// begin with `-`).
pub fn generate_secret() -> Result<String, getrandom::Error> {
    random_text("jwts_")
}

/// A fresh `client_secret` for a confidential OpenID client: `jwtcs_` and 256 bits from the
/// OS CSPRNG, base64url (stored only as its SHA-256 hash, as API keys are).
pub fn generate_client_secret() -> Result<String, getrandom::Error> {
    random_text("jwtcs_")
}

/// `prefix` and 256 bits from the OS CSPRNG, base64url.
fn random_text(prefix: &str) -> Result<String, getrandom::Error> {
    Ok(format!("{prefix}{}", crate::random::text(32)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_keys_by_hash_only() {
        let key = generate_api_key().unwrap();
        assert!(key.starts_with(KEY_PREFIX) && key.len() == 5 + 43);
        let entry = ApiKey::from_hash("svc", &hash_api_key(&key), vec!["admin".into()]).unwrap();
        let keys = ApiKeys::new(vec![entry.clone()]).unwrap();
        assert_eq!(keys.find(&key).map(ApiKey::name), Some("svc"));
        assert_eq!(keys.find(&key[..key.len() - 1]), None);
        assert_eq!(keys.find(""), None);
        assert!(!format!("{entry:?}").contains(&hash_api_key(&key)[7..]));
    }

    #[test]
    fn entries_round_trip() {
        let hash = hash_api_key("key");
        for text in [format!("svc:{hash}:admin,user"), format!("svc:{hash}")] {
            assert_eq!(ApiKey::from_entry(&text).unwrap().entry(), text);
        }
        assert!(ApiKey::from_entry("svc").is_err());
        assert!(ApiKey::from_entry("").is_err());
    }

    #[test]
    fn refuses_bad_entries() {
        let hash = hash_api_key("k");
        assert!(ApiKey::from_hash("", &hash, vec![]).is_err());
        assert!(ApiKey::from_hash("a b", &hash, vec![]).is_err());
        assert!(ApiKey::from_hash("a", "md5:abc", vec![]).is_err());
        assert!(ApiKey::from_hash("a", "sha256:abc", vec![]).is_err());
        assert!(ApiKey::from_hash("a", &hash, vec!["".into()]).is_err());
        assert!(
            ApiKey::from_hash("a", &hash_api_key(""), vec![]).is_err(),
            "empty key"
        );
        let a = ApiKey::from_hash("a", &hash, vec![]).unwrap();
        let b = ApiKey::from_hash("b", &hash, vec![]).unwrap();
        assert!(ApiKeys::new(vec![a, b]).is_err(), "same key twice");
    }
}
