//! The clients registered with the OpenID provider (the `clients` setting): who may ask
//! people to sign in, and where the answers may go.
//!
//! Redirect URIs are compared as exact strings (RFC 9700 §4.1.3: no wildcards, no prefix
//! matching, no normalisation), so each is checked when it is registered: absolute, no
//! fragment, no user information, no `*`, and `https` — or `http` to a loopback host only
//! (RFC 8252 §7.3; a development page on this machine).
//!
//! A public client (RFC 6749 §2.1: a page in the browser, an app on a device) holds no
//! secret, so PKCE with `S256` is what binds a code to the client that asked for it. A
//! confidential client (a server-side application) also authenticates at the token endpoint
//! with its `client_secret`, which jwtkit keeps only as a SHA-256 hash (a 256-bit random
//! secret, like an API key: a fast hash is enough).
//!
//! Clients are registered in the configuration or in the store (`jwtkit clients add`); both
//! are written in the same JSON.

use serde::{Deserialize, Serialize};
use url::Url;

use sha2::{Digest, Sha256};

use crate::apikeys;

/// The scopes the provider grants, as OpenID Connect Core §5.4 names them.
pub const SCOPES: [&str; 3] = ["openid", "profile", "email"];

/// One registered client.
#[derive(Clone, PartialEq, Eq)]
pub struct Client {
    /// Its `client_id`.
    pub id: String,
    /// What the consent and error pages call it.
    pub name: String,
    /// Where authorization responses may go, exactly.
    pub redirect_uris: Vec<String>,
    /// Where RP-initiated logout may send the browser afterwards, exactly.
    pub post_logout_redirect_uris: Vec<String>,
    /// The scopes it may ask for.
    pub scopes: Vec<String>,
    /// A first-party client (the application's own pages) signs people in without asking
    /// them to consent; others ask.
    pub first_party: bool,
    /// Every token request must carry a DPoP proof (RFC 9449 §5.2,
    /// `dpop_bound_access_tokens`): the client's tokens are always bound to its key.
    pub dpop_bound_access_tokens: bool,
    /// The SHA-256 digest of a confidential client's `client_secret`; `None` for a public
    /// client.
    pub(crate) secret_hash: Option<[u8; 32]>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("id", &self.id)
            .field("redirect_uris", &self.redirect_uris)
            .field("confidential", &self.is_confidential())
            .finish_non_exhaustive()
    }
}

/// A client's registration as written in the configuration (JSON for the flag and the
/// variable, a `[[clients]]` table in the file).
#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    client_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    client_name: Option<String>,
    redirect_uris: Vec<String>,
    #[serde(default)]
    post_logout_redirect_uris: Vec<String>,
    #[serde(default)]
    scopes: Option<Vec<String>>,
    #[serde(default)]
    first_party: bool,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    dpop_bound_access_tokens: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    client_secret_hash: Option<String>,
}

/// The keys of a client's registration.
pub const CLIENT_FIELDS: [&str; 8] = [
    "client_id",
    "client_name",
    "redirect_uris",
    "post_logout_redirect_uris",
    "scopes",
    "first_party",
    "dpop_bound_access_tokens",
    "client_secret_hash",
];

impl Client {
    /// A registration given as JSON, checked; the error says what is wrong and how to write
    /// it.
    pub fn from_json(json: &str) -> Result<Self, String> {
        let entry: Entry = serde_json::from_str(json).map_err(|e| {
            format!(
                "{e}: write {{\"client_id\": \"app\", \"redirect_uris\": [\"https://app.example/callback\"]}} \
                 (its keys are {})",
                CLIENT_FIELDS.join(", ")
            )
        })?;
        let id = entry.client_id;
        if id.is_empty()
            || id.len() > 64
            || !id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        {
            return Err(format!(
                "client_id {id:?} must be 1 to 64 letters, digits, `-`, `_` or `.`"
            ));
        }
        if entry.redirect_uris.is_empty() {
            return Err(format!(
                "client {id:?} has no redirect_uris: register at least one"
            ));
        }
        for uri in entry
            .redirect_uris
            .iter()
            .chain(&entry.post_logout_redirect_uris)
        {
            check_redirect_uri(uri).map_err(|why| format!("client {id:?}: {uri:?} {why}"))?;
        }
        let scopes = entry
            .scopes
            .unwrap_or_else(|| SCOPES.iter().map(|s| (*s).to_owned()).collect());
        if let Some(scope) = scopes.iter().find(|s| !SCOPES.contains(&s.as_str())) {
            return Err(format!(
                "client {id:?}: the scope {scope:?} is not one the provider grants ({})",
                SCOPES.join(", ")
            ));
        }
        let secret_hash = match &entry.client_secret_hash {
            Some(hash) => Some(apikeys::decode_hash(hash).map_err(|why| {
                format!(
                    "client {id:?}: client_secret_hash {why} (`jwtkit clients add --confidential` \
                     makes a secret and stores its hash)"
                )
            })?),
            None => None,
        };
        Ok(Self {
            name: entry.client_name.unwrap_or_else(|| id.clone()),
            id,
            redirect_uris: entry.redirect_uris,
            post_logout_redirect_uris: entry.post_logout_redirect_uris,
            scopes,
            first_party: entry.first_party,
            dpop_bound_access_tokens: entry.dpop_bound_access_tokens,
            secret_hash,
        })
    }

    /// The registration as JSON, what [`Client::from_json`] reads back (a confidential
    /// client's secret as its hash only).
    pub fn to_json(&self) -> String {
        let entry = Entry {
            client_id: self.id.clone(),
            client_name: (self.name != self.id).then(|| self.name.clone()),
            redirect_uris: self.redirect_uris.clone(),
            post_logout_redirect_uris: self.post_logout_redirect_uris.clone(),
            scopes: Some(self.scopes.clone()),
            first_party: self.first_party,
            dpop_bound_access_tokens: self.dpop_bound_access_tokens,
            client_secret_hash: self.secret_hash.as_ref().map(apikeys::encode_hash),
        };
        serde_json::to_string(&entry).unwrap_or_default()
    }

    /// The same client, made confidential with the `client_secret` `secret`.
    #[must_use]
    pub fn with_secret(mut self, secret: &str) -> Self {
        self.secret_hash = Some(Sha256::digest(secret.as_bytes()).into());
        self
    }

    /// What a person's consent is remembered for: its `client_id` and a digest of its whole
    /// registration, so that a client registered again under the same `client_id` (another
    /// application, perhaps) or with other redirect URIs or scopes asks again.
    pub fn consent_key(&self) -> String {
        let digest = Sha256::digest(self.to_json().as_bytes());
        let hex: String = digest[..12].iter().map(|b| format!("{b:02x}")).collect();
        format!("{}:{hex}", self.id)
    }

    /// Whether it authenticates with a `client_secret` (a confidential client).
    pub fn is_confidential(&self) -> bool {
        self.secret_hash.is_some()
    }

    /// Whether `presented` is its `client_secret` (compared by hash, in constant time);
    /// never for a public client.
    pub fn secret_matches(&self, presented: &str) -> bool {
        self.secret_hash
            .as_ref()
            .is_some_and(|hash| apikeys::hash_matches(hash, presented))
    }

    /// Whether `uri` is one of its redirect URIs, character for character.
    pub fn redirects_to(&self, uri: &str) -> bool {
        self.redirect_uris
            .iter()
            .any(|registered| registered == uri)
    }
}

/// Why `uri` cannot be registered, if it cannot.
fn check_redirect_uri(uri: &str) -> Result<(), &'static str> {
    if uri.contains('*') {
        return Err("has a wildcard: register every redirect URI in full");
    }
    let url = Url::parse(uri).map_err(|_| "is not an absolute URL")?;
    if url.fragment().is_some() {
        return Err("has a fragment (#), which a redirect URI must not have");
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("has user information (user@), which a redirect URI must not have");
    }
    let loopback = matches!(url.host(), Some(url::Host::Domain("localhost")))
        || matches!(url.host(), Some(url::Host::Ipv4(ip)) if ip.is_loopback())
        || matches!(url.host(), Some(url::Host::Ipv6(ip)) if ip.is_loopback());
    match url.scheme() {
        "https" => Ok(()),
        "http" if loopback => Ok(()),
        "http" => Err("is http to another host than this machine: use https"),
        _ => Err("must be an https URL (or http to a loopback host)"),
    }
}

/// The registered clients.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Clients(Vec<Client>);

impl Clients {
    /// `clients`, or the `client_id` registered twice.
    pub fn new(clients: Vec<Client>) -> Result<Self, String> {
        for (i, client) in clients.iter().enumerate() {
            if clients[..i].iter().any(|c| c.id == client.id) {
                return Err(format!("the client_id {:?} is registered twice", client.id));
            }
        }
        Ok(Self(clients))
    }

    /// The client `id` names.
    pub fn get(&self, id: &str) -> Option<&Client> {
        self.0.iter().find(|c| c.id == id)
    }

    /// Every client.
    pub fn iter(&self) -> impl Iterator<Item = &Client> {
        self.0.iter()
    }

    /// Whether none is registered.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(redirect: &str) -> Result<Client, String> {
        Client::from_json(&format!(
            r#"{{"client_id": "app", "redirect_uris": [{redirect:?}]}}"#
        ))
    }

    #[test]
    fn redirect_uris_are_registered_only_when_exact_matching_is_safe() {
        assert!(client("https://app.example/callback").is_ok());
        assert!(client("http://127.0.0.1:8080/cb").is_ok());
        assert!(client("http://localhost/cb").is_ok());
        assert!(client("http://[::1]:9/cb").is_ok());
        for (uri, why) in [
            ("https://*.example/cb", "wildcard"),
            ("https://app.example/cb#x", "fragment"),
            ("https://u:p@app.example/cb", "user information"),
            ("http://app.example/cb", "use https"),
            ("javascript:alert(1)", "must be an https URL"),
            ("/callback", "not an absolute URL"),
        ] {
            let error = client(uri).unwrap_err();
            assert!(error.contains(why), "{uri}: {error}");
        }
        let app = client("https://app.example/cb").unwrap();
        assert!(app.redirects_to("https://app.example/cb"));
        assert!(
            !app.redirects_to("https://app.example/cb/"),
            "no prefix matching"
        );
        assert!(!app.redirects_to("https://app.example/cb?x=1"));
        assert!(
            !app.redirects_to("HTTPS://app.example/cb"),
            "no normalisation"
        );
        assert_eq!(app.scopes, SCOPES, "every scope by default");
        assert!(!app.first_party);
        assert!(!app.is_confidential() && !app.secret_matches(""));
        let other = client("https://app.example/other").unwrap();
        assert_eq!(app.consent_key(), app.clone().consent_key());
        assert!(app.consent_key().starts_with("app:"));
        assert_ne!(
            app.consent_key(),
            other.consent_key(),
            "another registration, another consent"
        );
    }

    #[test]
    fn a_confidential_client_keeps_only_its_secrets_hash() {
        let secret = apikeys::generate_client_secret().unwrap();
        let app = client("https://app.example/cb")
            .unwrap()
            .with_secret(&secret);
        assert!(app.is_confidential());
        assert!(app.secret_matches(&secret));
        assert!(!app.secret_matches(&secret[..secret.len() - 1]));
        let json = app.to_json();
        assert!(!json.contains(&secret) && json.contains("\"client_secret_hash\":\"sha256:"));
        assert!(!format!("{app:?}").contains("sha256"));
        let again = Client::from_json(&json).unwrap();
        assert_eq!(again, app, "the registration reads back as written");
        assert!(again.secret_matches(&secret));
        let error = Client::from_json(
            r#"{"client_id": "a", "redirect_uris": ["https://a.example/"], "client_secret_hash": "hunter2"}"#,
        )
        .unwrap_err();
        assert!(
            error.contains("client_secret_hash must start with"),
            "{error}"
        );
    }

    #[test]
    fn the_settings_help_names_every_key_of_a_registration() {
        let help = crate::config::table::CLIENTS.help;
        for field in CLIENT_FIELDS {
            assert!(help.contains(&format!("\"{field}\"")), "{field}");
        }
    }

    #[test]
    fn registrations_are_refused_for_the_right_reason() {
        let error = |json: &str| Client::from_json(json).unwrap_err();
        assert!(
            error(r#"{"client_id": "a", "redirect_uri": []}"#)
                .contains("unknown field `redirect_uri`")
        );
        assert!(
            error(r#"{"client_id": "a b", "redirect_uris": ["https://a.example/"]}"#)
                .contains("must be 1 to 64")
        );
        assert!(
            error(r#"{"client_id": "a", "redirect_uris": []}"#).contains("has no redirect_uris")
        );
        assert!(error(r#"{"client_id": "a", "redirect_uris": ["https://a.example/"], "scopes": ["admin"]}"#).contains("not one the provider grants"));
        let a = Client::from_json(r#"{"client_id": "a", "redirect_uris": ["https://a.example/"]}"#)
            .unwrap();
        assert!(
            Clients::new(vec![a.clone(), a])
                .unwrap_err()
                .contains("registered twice")
        );
    }
}
