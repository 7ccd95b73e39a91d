//! Server configuration. Every setting is declared once in [`table`] and read from a
//! `jwtkit serve` flag, a `JWTKIT_*` environment variable, or a key of an optional TOML file
//! (flag > variable > file > default) by [`ServeArgs::resolve`], which validates each value
//! against its range and names the setting, its flag, variable and file key, and the fix
//! in every error.
//!
//! - [`table`]: the settings ([`SETTINGS`]) and the README's table derived from them;
//! - `sources`: flags and variables (through clap) and `file`, the config file;
//! - `resolve`: validating them into a [`Config`] or a [`ResourceConfig`];
//! - `values`: reading each kind of value; `signing`: the keys.

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use ipnet::IpNet;
use jwtkit_core::{Key, KeySet};

use crate::apikeys::ApiKeys;

mod check;
mod file;
mod managed;
mod resolve;
mod setting;
mod signing;

pub use managed::{ANNOUNCEMENT_FLOOR, RETENTION_FLOOR, ROTATION_FLOOR};
pub use signing::{DEMO_CLIENT_ID, DEMO_USERNAME};
mod sources;
pub mod table;
pub(crate) mod values;

pub use sources::ServeArgs;
pub use table::{SETTINGS, Setting};
pub use values::store as store_location;

// Every setting by its name: adding one to the table needs no import here.
use table::*;

/// The validated configuration the server runs with.
#[derive(Debug, Clone)]
pub struct Config {
    /// Listening address.
    pub bind: SocketAddr,
    /// The URL clients reach this server at, without a trailing `/`: the base of the
    /// endpoints in the OAuth metadata.
    pub public_url: String,
    /// Issuer of issued tokens and expected issuer of verified ones (the OAuth metadata's
    /// `issuer`).
    pub issuer: String,
    /// Audience of issued tokens and expected audience of verified ones.
    pub audience: String,
    /// Lifetime of issued tokens.
    pub token_ttl: Duration,
    /// Clock-skew allowance in seconds.
    pub leeway_seconds: u32,
    /// Where the keys that sign and verify tokens come from.
    pub signing: Signing,
    /// The API keys that can obtain tokens.
    pub api_keys: ApiKeys,
    /// The clients registered with the OpenID provider.
    pub clients: crate::clients::Clients,
    /// Origins allowed by CORS (empty: no CORS headers).
    pub cors_origins: Vec<String>,
    /// Failed auth attempts allowed per address per window.
    pub auth_failure_limit: u32,
    /// The failure-counting window.
    pub auth_failure_window: Duration,
    /// The memory of the cache of verified tokens, in bytes (0: none).
    pub token_cache_bytes: usize,
    /// Where sessions, revocations and failure counters live.
    pub store: StoreLocation,
    /// A session ends unless refreshed within this long.
    pub refresh_idle_ttl: Duration,
    /// A session ends this long after it started.
    pub refresh_absolute_ttl: Duration,
    /// How long a rotation's immediate predecessor is still honoured.
    pub refresh_grace: Duration,
    /// How long a person's sign-in at the OpenID provider lasts.
    pub login_ttl: Duration,
    /// How DPoP proofs are checked.
    pub dpop: DpopSettings,
    /// The most live sessions of one subject.
    pub max_sessions_per_subject: u32,
    /// Peers whose forwarding header names the client.
    pub trusted_proxies: Vec<IpNet>,
    /// The forwarding header the trusted proxies write.
    pub forwarded_header: ForwardedHeader,
    /// Where `/metrics` is served (`None`: nowhere).
    pub metrics_bind: Option<SocketAddr>,
    /// A directory of static files served at `/`.
    pub web_dir: Option<PathBuf>,
    /// Generated development credentials, when nothing was configured.
    pub dev: Option<DevCredentials>,
    /// Which of `public_url` and `issuer` were left to follow the listening address.
    follows_address: FollowsAddress,
}

/// Where the signing keys come from.
#[derive(Debug, Clone)]
// One per configuration: boxing would only add a pointer.
#[allow(clippy::large_enum_variant)]
pub enum Signing {
    /// Given: a key file, a secret, or the development setup's generated key.
    Fixed {
        /// Every key that verifies tokens.
        keys: KeySet,
        /// The key that signs new tokens.
        signing_key: Key,
    },
    /// Generated, kept and rotated by jwtkit in the store (`key_encryption_key`).
    Managed(ManagedKeys),
}

impl Signing {
    /// The configured keys and the signing one, unless jwtkit manages them in the store.
    pub fn fixed(&self) -> Option<(&KeySet, &Key)> {
        match self {
            Self::Fixed { keys, signing_key } => Some((keys, signing_key)),
            Self::Managed(_) => None,
        }
    }
}

/// The settings of keys kept in the store (see `crate::keys`).
#[derive(Debug, Clone)]
pub struct ManagedKeys {
    /// The key-encryption key.
    pub key_encryption_key: KeyEncryptionKey,
    /// The algorithm of new keys (`key_algorithm`).
    pub algorithm: jwtkit_core::Algorithm,
    /// `key_rotation_interval`.
    pub rotation: Duration,
    /// `key_announcement_period`.
    pub announcement: Duration,
    /// `key_retention`.
    pub retention: Duration,
    /// `accelerated_key_lifecycle`: the periods may be below their floors.
    pub accelerated: bool,
}

/// The 32 bytes of `key_encryption_key`. Its `Debug` shows none of them.
#[derive(Clone)]
pub struct KeyEncryptionKey(pub zeroize::Zeroizing<[u8; 32]>);

impl fmt::Debug for KeyEncryptionKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("KeyEncryptionKey(…)")
    }
}

/// Which settings were not configured and follow the address the server listens on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct FollowsAddress {
    public_url: bool,
    issuer: bool,
}

impl Config {
    /// This configuration for a server listening on `addr` (which, bound to port 0, only the
    /// listener knows): an unconfigured `public_url` is `http://` and that address (loopback
    /// for an unspecified one), and an unconfigured `issuer` is the public URL.
    pub fn listening_on(&self, addr: SocketAddr) -> Self {
        let mut config = self.clone();
        config.bind = addr;
        if self.follows_address.public_url {
            config.public_url = default_public_url(addr);
        }
        if self.follows_address.issuer {
            config.issuer = config.public_url.clone();
        }
        if self.dev.is_some() {
            // The demo page's client redirects to the page, wherever it is served.
            config.clients = signing::development_clients(&self.clients, &config.public_url);
        }
        config
    }
}

/// The issuer of a server with the default settings: its public URL on the default address.
pub fn default_issuer() -> String {
    let bind = BIND.default.and_then(|bind| bind.parse().ok());
    bind.map_or_else(String::new, default_public_url)
}

/// `http://` and `addr`, an unspecified IP replaced by loopback (it names no host a client
/// could reach; `public_url` should be configured for such a server).
fn default_public_url(addr: SocketAddr) -> String {
    let mut addr = addr;
    if addr.ip().is_unspecified() {
        addr.set_ip(match addr {
            SocketAddr::V4(_) => std::net::Ipv4Addr::LOCALHOST.into(),
            SocketAddr::V6(_) => std::net::Ipv6Addr::LOCALHOST.into(),
        });
    }
    format!("http://{addr}")
}

/// The forwarding header the trusted proxies write: the only one read. A proxy that appends
/// to one header passes the other through as the client wrote it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ForwardedHeader {
    /// `X-Forwarded-For` (nginx `$proxy_add_x_forwarded_for`, HAProxy `forwardfor`, AWS ALB).
    #[default]
    XForwardedFor,
    /// `Forwarded: for=` (RFC 7239).
    Forwarded,
}

impl ForwardedHeader {
    /// The names the `forwarded_header` setting takes, as written there.
    pub const NAMES: [&str; 2] = ["x-forwarded-for", "forwarded"];

    /// The header's name (lower case, as the setting writes it).
    pub fn name(self) -> &'static str {
        match self {
            Self::XForwardedFor => Self::NAMES[0],
            Self::Forwarded => Self::NAMES[1],
        }
    }

    /// The header named `name` (case-insensitive).
    pub fn from_name(name: &str) -> Option<Self> {
        [Self::XForwardedFor, Self::Forwarded]
            .into_iter()
            .find(|header| header.name().eq_ignore_ascii_case(name))
    }
}

/// Where the store is (the `store` setting).
#[derive(Clone, PartialEq, Eq)]
pub enum StoreLocation {
    /// An SQLite file.
    Sqlite(PathBuf),
    /// A Redis server (the URL may carry a password: never printed).
    Redis(String),
}

impl fmt::Debug for StoreLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Sqlite(path) => write!(f, "sqlite:{}", path.display()),
            Self::Redis(_) => f.write_str("redis://…"),
        }
    }
}

/// Credentials generated for the zero-configuration development setup.
#[derive(Debug, Clone)]
pub struct DevCredentials {
    /// `(name, plaintext API key, roles)` of each generated API key.
    pub api_keys: Vec<(String, String, Vec<String>)>,
    /// The username and generated password of the person who signs in to the demo page.
    pub user: (String, String),
}

/// A setting that cannot be used, with what to do about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// The setting.
    pub setting: &'static Setting,
    /// What is wrong.
    pub problem: String,
    /// How to fix it.
    pub fix: String,
    /// The other settings that cannot be used, found with this one.
    pub also: Vec<ConfigError>,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.setting;
        if s.name == table::CONFIG.name {
            return write!(
                f,
                "invalid config file (--{}, {}): {}\n  fix: {}",
                s.flag, s.env, self.problem, self.fix
            );
        }
        write!(
            f,
            "invalid setting `{}` (--{}, {}, or `{}` in the config file): {}\n  fix: {}",
            s.name, s.flag, s.env, s.name, self.problem, self.fix
        )?;
        for other in &self.also {
            write!(f, "\n{other}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigError {}

fn error(
    setting: &'static Setting,
    problem: impl Into<String>,
    fix: impl Into<String>,
) -> ConfigError {
    ConfigError {
        setting,
        problem: problem.into(),
        fix: fix.into(),
        also: Vec::new(),
    }
}

/// The configuration of a pure resource server (`trust_issuer`).
#[derive(Debug, Clone)]
pub struct ResourceConfig {
    /// Listening address.
    pub bind: SocketAddr,
    /// The issuer whose tokens are accepted (their `iss`), found by discovery.
    pub trust_issuer: String,
    /// The audience required of every token.
    pub audience: String,
    /// Clock-skew allowance in seconds.
    pub leeway_seconds: u32,
    /// The memory of the cache of verified tokens, in bytes (0: none).
    pub token_cache_bytes: usize,
    /// The least time between two fetches caused by an unknown `kid`.
    pub jwks_refetch_interval: Duration,
    /// `accelerated_key_lifecycle`: the issuer's key set is refreshed as often as its
    /// `max-age` says, down to a second (for tests and development).
    pub accelerated_key_lifecycle: bool,
    /// Origins allowed by CORS (empty: no CORS headers).
    pub cors_origins: Vec<String>,
    /// Where `/metrics` is served (`None`: nowhere).
    pub metrics_bind: Option<SocketAddr>,
    /// The URL clients reach the server at, which DPoP proofs name (`None`: `http://` and
    /// the listening address).
    pub public_url: Option<String>,
    /// How DPoP proofs are checked.
    pub dpop: DpopSettings,
}

/// How DPoP proofs are checked, by an issuer and a resource server alike.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DpopSettings {
    /// How old a proof may be (`dpop_proof_max_age`).
    pub proof_max_age: Duration,
    /// How often the nonce changes (`dpop_nonce_interval`; zero: proofs need none).
    pub nonce_interval: Duration,
}

impl ResourceConfig {
    /// The URL clients reach the server at, listening on `addr`.
    pub fn public_url_on(&self, addr: SocketAddr) -> String {
        self.public_url
            .clone()
            .unwrap_or_else(|| default_public_url(addr))
    }
}

/// What `jwtkit serve` runs as.
#[derive(Debug, Clone)]
pub enum Mode {
    /// An authorization server and the API (the default).
    Issuer(Box<Config>),
    /// A pure resource server trusting another issuer (`trust_issuer`).
    Resource(Box<ResourceConfig>),
}

#[cfg(test)]
mod tests {
    use super::table::{JWKS_REFETCH_INTERVAL, SIGNING_KID, TRUST_ISSUER};
    use super::*;
    use crate::apikeys::hash_api_key;

    fn setting_of(args: ServeArgs) -> &'static str {
        args.resolve().unwrap_err().setting.name
    }

    fn with(setting: &Setting, value: &str) -> ServeArgs {
        ServeArgs::default().with(setting, value)
    }

    #[test]
    fn zero_config_is_a_development_setup() {
        let config = ServeArgs::default().resolve().unwrap();
        assert_eq!(config.bind.to_string(), "127.0.0.1:3030");
        assert_eq!(config.token_ttl, Duration::from_secs(180));
        assert_eq!(
            (config.auth_failure_limit, config.auth_failure_window),
            (10, Duration::from_secs(60))
        );
        let dev = config.dev.unwrap();
        assert_eq!(dev.api_keys.len(), 2);
        assert_eq!(
            config
                .api_keys
                .find(&dev.api_keys[1].1)
                .map(|k| k.roles().to_vec()),
            Some(vec!["user".into(), "admin".into()])
        );
        assert_eq!(
            config.signing.fixed().map(|(_, key)| key.algorithm()),
            Some(jwtkit_core::Algorithm::EdDSA)
        );
    }

    #[test]
    fn errors_name_the_setting() {
        assert_eq!(setting_of(with(&BIND, "localhost")), "bind");
        assert_eq!(setting_of(with(&TOKEN_TTL, "soon")), "token_ttl");
        assert_eq!(setting_of(with(&TOKEN_TTL, "2d")), "token_ttl");
        assert_eq!(setting_of(with(&LEEWAY, "11m")), "leeway");
        assert_eq!(setting_of(with(&ISSUER, " ")), "issuer");
        assert_eq!(setting_of(with(&AUDIENCE, "a\nb")), "audience");
        assert_eq!(
            setting_of(with(&CORS_ORIGINS, "app.example")),
            "cors_origins"
        );
        assert_eq!(setting_of(with(&API_KEYS, "svc:md5:x")), "api_keys");
        assert_eq!(
            setting_of(with(&AUTH_FAILURE_LIMIT, "0")),
            "auth_failure_limit"
        );
        assert_eq!(
            setting_of(with(&AUTH_FAILURE_WINDOW, "0s")),
            "auth_failure_window"
        );
        assert_eq!(
            setting_of(with(&AUTH_FAILURE_WINDOW, "100000000000y")),
            "auth_failure_window"
        );
        let entry = format!("svc:{}:admin", hash_api_key("k"));
        assert_eq!(
            setting_of(with(&API_KEYS, &entry)),
            "keys",
            "API keys but no key"
        );
        assert_eq!(setting_of(with(&KEYS, "/nonexistent/keys.json")), "keys");
        assert_eq!(setting_of(with(&SIGNING_KID, "")), "signing_kid");
    }

    #[test]
    fn messages_name_the_real_flag_and_variable() {
        let message = |args: ServeArgs| args.resolve().unwrap_err().to_string();
        let ttl = message(with(&TOKEN_TTL, "soon"));
        assert!(
            ttl.contains("--token-ttl") && ttl.contains("JWTKIT_TOKEN_TTL") && ttl.contains("fix:"),
            "{ttl}"
        );
        let keys = message(with(&API_KEYS, "svc:md5:x"));
        assert!(
            keys.contains("--api-key,") && keys.contains("JWTKIT_API_KEYS"),
            "the flag is --api-key: {keys}"
        );
        let origins = message(with(&CORS_ORIGINS, "app.example"));
        assert!(origins.contains("--cors-origin,"), "{origins}");
    }

    /// The values a fix line offers after "e.g. ": "3m or 24h" → ["3m", "24h"].
    fn examples(fix: &str) -> Vec<String> {
        let (_, examples) = fix.split_once("e.g. ").expect(fix);
        examples.split(" or ").map(str::to_owned).collect()
    }

    #[test]
    fn every_range_error_says_why_and_its_examples_are_accepted() {
        for setting in SETTINGS.iter().filter(|s| s.range != Range::Any) {
            // Only a resource server reads `jwks_refetch_interval`.
            let resolve = |args: ServeArgs| {
                let args = if setting.name == JWKS_REFETCH_INTERVAL.name {
                    args.with(&TRUST_ISSUER, "https://auth.example")
                } else {
                    args
                };
                args.resolve_mode().map(|_| ())
            };
            let (past_max, fraction) = match setting.range {
                Range::Seconds { max, .. } => (format!("{}s", max + 1), Some("1.5s")),
                Range::Count { max, .. } => ((max + 1).to_string(), None),
                Range::Any => unreachable!(),
            };
            let error = resolve(with(setting, &past_max)).unwrap_err();
            assert_eq!(error.setting.name, setting.name);
            let range = setting.range.describe().unwrap();
            assert!(
                error.problem.contains("out of range") && error.problem.contains(&range),
                "{error}"
            );
            for example in examples(&error.fix) {
                assert_eq!(resolve(with(setting, &example)), Ok(()), "{error}");
            }
            if let Some(fraction) = fraction {
                let error = resolve(with(setting, fraction)).unwrap_err();
                assert!(error.problem.contains("not whole seconds"), "{error}");
            }
            let error = resolve(with(setting, "soon")).unwrap_err();
            assert!(error.problem.contains("\"soon\" is not a"), "{error}");
        }
    }

    #[test]
    fn every_bad_value_is_reported_at_once() {
        let error = with(&LEEWAY, "1.5s")
            .with(&TOKEN_TTL, "48h")
            .with(&BIND, "localhost")
            .with(&STORE, "postgres://db")
            .resolve()
            .unwrap_err();
        let named: Vec<&str> = std::iter::once(error.setting.name)
            .chain(error.also.iter().map(|e| e.setting.name))
            .collect();
        assert_eq!(
            named,
            ["bind", "token_ttl", "leeway", "store"],
            "in the table's order"
        );
        let text = error.to_string();
        assert_eq!(text.matches("\n  fix: ").count(), 4, "{text}");
        assert_eq!(with(&LEEWAY, "1.5s").resolve().unwrap_err().also, []);
    }

    #[test]
    fn the_development_setup_stays_on_loopback() {
        assert_eq!(setting_of(with(&BIND, "0.0.0.0:3030")), "bind");
        assert_eq!(setting_of(with(&BIND, "[::]:3030")), "bind");
        assert!(with(&BIND, "[::1]:0").resolve().is_ok());
    }

    #[test]
    fn store_locations_and_networks() {
        let store = |value: &str| {
            with(&STORE, value)
                .with(&PUBLIC_URL, "https://auth.example")
                .resolve()
                .map(|c| c.store)
        };
        assert_eq!(
            store("sqlite:/tmp/x.sqlite3"),
            Ok(StoreLocation::Sqlite("/tmp/x.sqlite3".into()))
        );
        assert!(matches!(
            store("redis://:pw@127.0.0.1:6379/2"),
            Ok(StoreLocation::Redis(_))
        ));
        for bad in ["sqlite:", "postgres://x", "x.sqlite3"] {
            let error = with(&STORE, bad).resolve().unwrap_err();
            assert_eq!(error.setting.name, "store");
        }
        let secret = with(&STORE, "mysql://user:hunter2@db")
            .resolve()
            .unwrap_err();
        assert!(!secret.to_string().contains("hunter2"), "{secret}");
        assert!(!format!("{:?}", store("redis://:hunter2@h").unwrap()).contains("hunter2"));
        let proxies = with(&TRUSTED_PROXIES, "10.0.0.0/8")
            .with(&TRUSTED_PROXIES, "::1")
            .resolve()
            .unwrap()
            .trusted_proxies;
        assert_eq!(proxies.len(), 2);
        assert_eq!(
            setting_of(with(&TRUSTED_PROXIES, "10.0.0.0/33")),
            "trusted_proxies"
        );
        assert_eq!(setting_of(with(&REFRESH_GRACE, "61s")), "refresh_grace");
    }

    #[test]
    fn a_shared_store_needs_one_issuer() {
        let shared = with(&STORE, "redis://127.0.0.1:6379/");
        let error = shared.clone().resolve().unwrap_err();
        assert_eq!(error.setting.name, "public_url");
        assert!(error.fix.contains("load balancer"), "{error}");
        assert!(
            shared
                .clone()
                .with(&ISSUER, "https://auth.example")
                .resolve()
                .is_ok()
        );
        assert!(
            shared
                .with(&PUBLIC_URL, "https://auth.example")
                .resolve()
                .is_ok()
        );
        assert!(
            with(&STORE, "sqlite:x.sqlite3").resolve().is_ok(),
            "one instance"
        );
    }

    #[test]
    fn the_last_flag_wins_and_lists_collect() {
        let args = with(&TOKEN_TTL, "1m").with(&TOKEN_TTL, "2m");
        assert_eq!(args.resolve().unwrap().token_ttl, Duration::from_secs(120));
        let args =
            with(&CORS_ORIGINS, "https://a.example").with(&CORS_ORIGINS, "https://b.example");
        assert_eq!(args.resolve().unwrap().cors_origins.len(), 2);
    }

    #[test]
    fn the_public_url_and_the_issuer_follow_the_address_unless_configured() {
        let config = ServeArgs::default().resolve().unwrap();
        assert_eq!(config.issuer, default_issuer(), "`jwtkit issue`'s default");
        let bound = config.listening_on("127.0.0.1:4040".parse().unwrap());
        assert_eq!(
            (bound.public_url.as_str(), bound.issuer.as_str()),
            ("http://127.0.0.1:4040", "http://127.0.0.1:4040")
        );
        let any = config.listening_on("[::]:80".parse().unwrap());
        assert_eq!(any.public_url, "http://[::1]:80");
        let proxied = with(&PUBLIC_URL, "https://Auth.Example/")
            .resolve()
            .unwrap()
            .listening_on("127.0.0.1:4040".parse().unwrap());
        assert_eq!(
            (proxied.public_url.as_str(), proxied.issuer.as_str()),
            ("https://auth.example", "https://auth.example")
        );
        let named = with(&ISSUER, "jwtkit")
            .resolve()
            .unwrap()
            .listening_on("127.0.0.1:4040".parse().unwrap());
        assert_eq!(named.issuer, "jwtkit");
    }
}

#[cfg(test)]
mod client_tests {
    use super::table::{CLIENTS, CONFIG};
    use super::*;

    #[test]
    fn a_client_id_cannot_be_an_api_keys_name() {
        let hash = crate::apikeys::hash_api_key("jwtk_a-key-of-the-test");
        let error = ServeArgs::default()
            .with(
                &CLIENTS,
                r#"{"client_id": "svc", "redirect_uris": ["https://svc.example/cb"]}"#,
            )
            .with(&super::table::API_KEYS, format!("svc:{hash}"))
            .with(
                &super::table::SECRET,
                crate::apikeys::generate_secret().unwrap(),
            )
            .resolve()
            .unwrap_err();
        assert_eq!(error.setting.name, "clients");
        assert!(
            error.problem.contains("also an API key's name"),
            "{}",
            error.problem
        );
    }

    #[test]
    fn clients_come_from_flags_and_from_config_file_tables() {
        let json = r#"{"client_id": "app", "redirect_uris": ["https://app.example/cb"]}"#;
        let config = ServeArgs::default().with(&CLIENTS, json).resolve().unwrap();
        let app = config.clients.get("app").unwrap();
        assert_eq!(app.redirect_uris, ["https://app.example/cb"]);
        assert!(
            config.clients.get(DEMO_CLIENT_ID).is_some(),
            "the development setup adds the demo page's client beside it"
        );

        let dir = std::env::temp_dir().join(format!("jwtkit-clients-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("jwtkit.toml");
        std::fs::write(
            &path,
            "[[clients]]\nclient_id = \"app\"\nredirect_uris = [\"https://app.example/cb\"]\nfirst_party = true\n",
        )
        .unwrap();
        let config = ServeArgs::default()
            .with(&CONFIG, path.display().to_string())
            .resolve()
            .unwrap();
        assert!(config.clients.get("app").unwrap().first_party);

        std::fs::write(
            &path,
            "[[clients]]\nclient_id = \"app\"\nredirect_uri = [\"https://app.example/cb\"]\n",
        )
        .unwrap();
        let error = ServeArgs::default()
            .with(&CONFIG, path.display().to_string())
            .resolve()
            .unwrap_err();
        assert_eq!(error.setting.name, "clients");
        assert!(
            error.problem.contains("unknown field `redirect_uri`")
                && error.problem.contains("line 1"),
            "{error:?}"
        );
        std::fs::write(&path, "clients = 1\n").unwrap();
        let error = ServeArgs::default()
            .with(&CONFIG, path.display().to_string())
            .resolve()
            .unwrap_err();
        assert!(
            error.to_string().contains("takes [[clients]] tables"),
            "{error}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
