//! Every setting of `jwtkit serve`, declared once: its name (the config file's key), flag,
//! `JWTKIT_*` variable, default, range and help. The flags, the variables, the file's keys,
//! the validation errors, `jwtkit serve --help` and the README's settings table all come
//! from [`SETTINGS`].

pub use super::setting::{Range, Setting};

/// The defaults of a [`Setting`], for `..` in the declarations below.
const SETTING: Setting = Setting {
    name: "",
    flag: "",
    env: "",
    value_name: "VALUE",
    default: None,
    range: Range::Any,
    list: None,
    path: false,
    secret: false,
    help: "",
};

/// Declares each setting (`NAME { fields }`, the rest from [`SETTING`]'s defaults) and
/// [`SETTINGS`], every one of them in declaration order: the order of the help and the
/// README.
macro_rules! settings {
    ($( $(#[$doc:meta])* $name:ident { $($field:ident: $value:expr),+ $(,)? } ),+ $(,)?) => {
        $(
            $(#[$doc])*
            pub const $name: Setting = Setting { $($field: $value,)+ ..SETTING };
        )+

        /// Every setting, in the order of the help and the README.
        pub const SETTINGS: &[Setting] = &[$($name),+];
    };
}

settings! {
    /// `config`: the TOML file with the other settings.
    CONFIG {
        name: "config",
        flag: "config",
        env: "JWTKIT_CONFIG",
        value_name: "FILE",
        help: "TOML configuration file: the settings below by name (flag > variable > file > default)",
    },
    /// `bind`.
    BIND {
        name: "bind",
        flag: "bind",
        env: "JWTKIT_BIND",
        value_name: "ADDR",
        default: Some("127.0.0.1:3030"),
        help: "listening address (IP and port)",
    },
    /// `public_url`.
    PUBLIC_URL {
        name: "public_url",
        flag: "public-url",
        env: "JWTKIT_PUBLIC_URL",
        value_name: "URL",
        help: "the URL clients reach this server at (behind a proxy, the proxy's), e.g. https://auth.example: the base of the endpoints in the OAuth metadata, and of the URL a DPoP proof names (a resource server's too) [default: http:// and the listening address]",
    },
    /// `issuer`.
    ISSUER {
        name: "issuer",
        flag: "issuer",
        env: "JWTKIT_ISSUER",
        value_name: "ISSUER",
        help: "the `iss` written into and required of every token, and the `issuer` of the OAuth metadata (discovery needs it to be the public URL) [default: the public URL]",
    },
    /// `audience`.
    AUDIENCE {
        name: "audience",
        flag: "audience",
        env: "JWTKIT_AUDIENCE",
        value_name: "AUDIENCE",
        default: Some("jwtkit-api"),
        help: "the `aud` written into and required of every token",
    },
    /// `token_ttl`.
    TOKEN_TTL {
        name: "token_ttl",
        flag: "token-ttl",
        env: "JWTKIT_TOKEN_TTL",
        value_name: "DURATION",
        default: Some("3m"),
        range: Range::Seconds {
            min: 1,
            max: 24 * 3600,
        },
        help: "lifetime of issued access tokens, e.g. 3m, 90s, 1h",
    },
    /// `leeway`.
    LEEWAY {
        name: "leeway",
        flag: "leeway",
        env: "JWTKIT_LEEWAY",
        value_name: "DURATION",
        default: Some("0s"),
        range: Range::Seconds {
            min: 0,
            max: jwtkit_core::MAX_LEEWAY_SECONDS as u64,
        },
        help: "clock-skew allowance when verifying, whole seconds",
    },
    /// `keys`.
    KEYS {
        name: "keys",
        flag: "keys",
        env: "JWTKIT_KEYS",
        value_name: "FILE",
        path: true,
        help: "JWK Set file: the signing key plus older keys kept for verification, so keys rotate without rejecting live tokens",
    },
    /// `signing_kid`.
    SIGNING_KID {
        name: "signing_kid",
        flag: "signing-kid",
        env: "JWTKIT_SIGNING_KID",
        value_name: "KID",
        help: "`kid` of the signing key in `keys` [default: the first key that can sign]",
    },
    /// `secret`.
    SECRET {
        name: "secret",
        flag: "secret",
        env: "JWTKIT_SECRET",
        value_name: "SECRET",
        secret: true,
        help: "instead of `keys`: an HS256 secret as text (32+ bytes, high entropy); prefer the variable or the file to the flag, which other local users can read",
    },
    /// `key_encryption_key`.
    KEY_ENCRYPTION_KEY {
        name: "key_encryption_key",
        flag: "key-encryption-key",
        env: "JWTKIT_KEY_ENCRYPTION_KEY",
        value_name: "KEY",
        secret: true,
        help: "instead of `keys` and `secret`: jwtkit generates the signing keys, keeps them in the store sealed with this key (32 random bytes in base64url: `jwtkit keygen --kek`) and rotates them; every instance on the store needs the same",
    },
    /// `key_algorithm`.
    KEY_ALGORITHM {
        name: "key_algorithm",
        flag: "key-algorithm",
        env: "JWTKIT_KEY_ALGORITHM",
        value_name: "ALG",
        default: Some("EdDSA"),
        help: "algorithm of the keys jwtkit generates in the store: EdDSA, ES256, ES384, RS256 or PS256; a change goes through the lifecycle (the next key is replaced, then announced in full)",
    },
    /// `key_rotation_interval`.
    KEY_ROTATION_INTERVAL {
        name: "key_rotation_interval",
        flag: "key-rotation-interval",
        env: "JWTKIT_KEY_ROTATION_INTERVAL",
        value_name: "DURATION",
        default: Some("30d"),
        range: Range::Seconds {
            min: 1,
            max: 365 * 24 * 3600,
        },
        help: "how long a generated key signs before the next one takes over (at least 1d unless `accelerated_key_lifecycle`)",
    },
    /// `key_announcement_period`.
    KEY_ANNOUNCEMENT_PERIOD {
        name: "key_announcement_period",
        flag: "key-announcement-period",
        env: "JWTKIT_KEY_ANNOUNCEMENT_PERIOD",
        value_name: "DURATION",
        default: Some("7d"),
        range: Range::Seconds {
            min: 1,
            max: 90 * 24 * 3600,
        },
        help: "how long a generated key is in the JWK Set before it signs: longer than any resource server caches the set (at least 1h unless `accelerated_key_lifecycle`; the set's max-age is at most half of it)",
    },
    /// `key_retention`.
    KEY_RETENTION {
        name: "key_retention",
        flag: "key-retention",
        env: "JWTKIT_KEY_RETENTION",
        value_name: "DURATION",
        default: Some("7d"),
        range: Range::Seconds {
            min: 1,
            max: 365 * 24 * 3600,
        },
        help: "how long a retired key stays in the JWK Set: at least the longest life of what it signed (`token_ttl` and the leeway, and `refresh_absolute_ttl` and `login_ttl` for ID tokens presented at logout)",
    },
    /// `accelerated_key_lifecycle`.
    ACCELERATED_KEY_LIFECYCLE {
        name: "accelerated_key_lifecycle",
        flag: "accelerated-key-lifecycle",
        env: "JWTKIT_ACCELERATED_KEY_LIFECYCLE",
        value_name: "BOOL",
        default: Some("false"),
        help: "for tests and development only: lets the key lifecycle's periods go below their floors (seconds instead of days), and a resource server (`trust_issuer`) refresh the issuer's key set as often as its max-age says, down to a second instead of a minute; `jwtkit serve` warns while it is on",
    },
    /// `api_keys`.
    API_KEYS {
        name: "api_keys",
        flag: "api-key",
        env: "JWTKIT_API_KEYS",
        value_name: "ENTRY",
        list: Some(';'),
        help: "API key entries NAME:sha256:HASH[:ROLE,ROLE] from `jwtkit keygen --api-key` (repeat the flag; `;`-separated in the variable; `[[api_keys]]` tables with name, hash, roles in the file)",
    },
    /// `clients`.
    CLIENTS {
        name: "clients",
        flag: "client",
        env: "JWTKIT_CLIENTS",
        value_name: "JSON",
        list: Some(';'),
        help: "OpenID Connect clients, each {\"client_id\", \"redirect_uris\": [exact URIs], \"post_logout_redirect_uris\", \"scopes\", \"first_party\", \"dpop_bound_access_tokens\" (every token request must carry a DPoP proof), \"client_name\", \"client_secret_hash\"} as JSON (repeat the flag; `;`-separated in the variable; `[[clients]]` tables in the file; more with `jwtkit clients add`); PKCE S256 required, and a confidential client's secret (its sha256: hash from `jwtkit keygen --client-secret`)",
    },
    /// `login_ttl`.
    LOGIN_TTL {
        name: "login_ttl",
        flag: "login-ttl",
        env: "JWTKIT_LOGIN_TTL",
        value_name: "DURATION",
        default: Some("12h"),
        range: Range::Seconds {
            min: 60,
            max: 30 * 24 * 3600,
        },
        help: "how long a person stays signed in at the OpenID provider (its sign-in cookie): within it, another client or a reload gets its code without the form",
    },
    /// `cors_origins`.
    CORS_ORIGINS {
        name: "cors_origins",
        flag: "cors-origin",
        env: "JWTKIT_CORS_ORIGINS",
        value_name: "ORIGIN",
        list: Some(','),
        help: "origins allowed to call the API from a browser, e.g. https://app.example (repeat the flag; `,`-separated in the variable)",
    },
    /// `auth_failure_limit`.
    AUTH_FAILURE_LIMIT {
        name: "auth_failure_limit",
        flag: "auth-failure-limit",
        env: "JWTKIT_AUTH_FAILURE_LIMIT",
        value_name: "COUNT",
        default: Some("10"),
        range: Range::Count {
            min: 1,
            max: 1_000_000,
        },
        help: "failed authentications (/api/v3/auth, OAuth client credentials, sign-ins) allowed per client address, and sign-ins per username, per window before 429",
    },
    /// `auth_failure_window`.
    AUTH_FAILURE_WINDOW {
        name: "auth_failure_window",
        flag: "auth-failure-window",
        env: "JWTKIT_AUTH_FAILURE_WINDOW",
        value_name: "DURATION",
        default: Some("1m"),
        range: Range::Seconds {
            min: 1,
            max: 24 * 3600,
        },
        help: "the window in which failed attempts are counted",
    },
    /// `token_cache_mib`.
    TOKEN_CACHE_MIB {
        name: "token_cache_mib",
        flag: "token-cache-mib",
        env: "JWTKIT_TOKEN_CACHE_MIB",
        value_name: "MIB",
        default: Some("4"),
        range: Range::Count { min: 0, max: 1024 },
        help: "memory for the cache of verified tokens, in MiB (0: verify every token in full)",
    },
    /// `store`.
    STORE {
        name: "store",
        flag: "store",
        env: "JWTKIT_STORE",
        value_name: "URL",
        default: Some("sqlite:jwtkit.sqlite3"),
        secret: true,
        help: "where sessions, revocations, the /auth failure counters, the people who sign in (`jwtkit users`) and the clients registered with `jwtkit clients` live: `sqlite:FILE` (one instance, survives restarts) or `redis://HOST:PORT[/DB]` (shared by several instances)",
    },
    /// `refresh_idle_ttl`.
    REFRESH_IDLE_TTL {
        name: "refresh_idle_ttl",
        flag: "refresh-idle-ttl",
        env: "JWTKIT_REFRESH_IDLE_TTL",
        value_name: "DURATION",
        default: Some("12h"),
        range: Range::Seconds {
            min: 60,
            max: 30 * 24 * 3600,
        },
        help: "a session ends unless refreshed within this long (sliding)",
    },
    /// `refresh_absolute_ttl`.
    REFRESH_ABSOLUTE_TTL {
        name: "refresh_absolute_ttl",
        flag: "refresh-absolute-ttl",
        env: "JWTKIT_REFRESH_ABSOLUTE_TTL",
        value_name: "DURATION",
        default: Some("7d"),
        range: Range::Seconds {
            min: 60,
            max: 365 * 24 * 3600,
        },
        help: "a session ends this long after it started, refreshed or not",
    },
    /// `refresh_grace`.
    REFRESH_GRACE {
        name: "refresh_grace",
        flag: "refresh-grace",
        env: "JWTKIT_REFRESH_GRACE",
        value_name: "DURATION",
        default: Some("10s"),
        range: Range::Seconds { min: 0, max: 60 },
        help: "how long after a rotation a second use of the immediate predecessor gets the current refresh token back instead of ending the session (honest races)",
    },
    /// `dpop_proof_max_age`.
    DPOP_PROOF_MAX_AGE {
        name: "dpop_proof_max_age",
        flag: "dpop-proof-max-age",
        env: "JWTKIT_DPOP_PROOF_MAX_AGE",
        value_name: "DURATION",
        default: Some("60s"),
        range: Range::Seconds { min: 5, max: 300 },
        help: "how old a DPoP proof may be (its iat; 5 s ahead of the clock are allowed too): each proof is remembered this long, so that it is accepted once",
    },
    /// `dpop_nonce_interval`.
    DPOP_NONCE_INTERVAL {
        name: "dpop_nonce_interval",
        flag: "dpop-nonce-interval",
        env: "JWTKIT_DPOP_NONCE_INTERVAL",
        value_name: "DURATION",
        default: Some("0s"),
        range: Range::Seconds { min: 0, max: 3600 },
        help: "ask every DPoP proof for the server's nonce (RFC 9449 §8, §9), a new one this often (the one before is accepted too): a proof cannot be made ahead of time; 0s: no nonce",
    },
    /// `max_sessions_per_subject`.
    MAX_SESSIONS_PER_SUBJECT {
        name: "max_sessions_per_subject",
        flag: "max-sessions-per-subject",
        env: "JWTKIT_MAX_SESSIONS_PER_SUBJECT",
        value_name: "COUNT",
        default: Some("1000"),
        range: Range::Count {
            min: 1,
            max: 1_000_000,
        },
        help: "the most live sessions one subject (API key) may have: starting one more ends the oldest",
    },
    /// `trusted_proxies`.
    TRUSTED_PROXIES {
        name: "trusted_proxies",
        flag: "trusted-proxy",
        env: "JWTKIT_TRUSTED_PROXIES",
        value_name: "CIDR",
        list: Some(','),
        help: "reverse proxies whose forwarding header (`forwarded_header`) names the client, e.g. 10.0.0.0/8 (repeat the flag; `,`-separated in the variable); other peers are the client themselves",
    },
    /// `forwarded_header`.
    FORWARDED_HEADER {
        name: "forwarded_header",
        flag: "forwarded-header",
        env: "JWTKIT_FORWARDED_HEADER",
        value_name: "HEADER",
        default: Some("x-forwarded-for"),
        help: "the one forwarding header the trusted proxies write, `x-forwarded-for` or `forwarded` (RFC 7239); the other is never read, as a proxy passes it through from the client",
    },
    /// `metrics_bind`.
    METRICS_BIND {
        name: "metrics_bind",
        flag: "metrics-bind",
        env: "JWTKIT_METRICS_BIND",
        value_name: "ADDR",
        default: Some("127.0.0.1:9464"),
        help: "where /metrics is served, apart from the API (a management port: keep it off the public network), or `off`",
    },
    /// `trust_issuer`.
    TRUST_ISSUER {
        name: "trust_issuer",
        flag: "trust-issuer",
        env: "JWTKIT_TRUST_ISSUER",
        value_name: "URL",
        help: "run as a pure resource server: verify the tokens of this issuer with the keys its metadata (RFC 8414 or OpenID discovery) points to, and issue none (no keys or API keys of its own)",
    },
    /// `jwks_refetch_interval`.
    JWKS_REFETCH_INTERVAL {
        name: "jwks_refetch_interval",
        flag: "jwks-refetch-interval",
        env: "JWTKIT_JWKS_REFETCH_INTERVAL",
        value_name: "DURATION",
        default: Some("30s"),
        range: Range::Seconds { min: 1, max: 3600 },
        help: "with `trust_issuer`: the least time between two fetches of its key set caused by tokens under an unknown `kid`",
    },
    /// `web_dir`.
    WEB_DIR {
        name: "web_dir",
        flag: "web-dir",
        env: "JWTKIT_WEB_DIR",
        value_name: "DIR",
        path: true,
        help: "directory served at / instead of the demo page built into the binary (`cargo xtask run` builds it in)",
    },
}

/// The README's settings table, derived from [`SETTINGS`] (a test keeps them in step).
pub fn markdown_table() -> String {
    let mut table =
        String::from("| setting | flag | variable | default | |\n|---|---|---|---|---|\n");
    for setting in SETTINGS {
        let mut help = setting.help.to_owned();
        if let Some(range) = setting.range.describe() {
            help.push_str(&format!(" ({range})"));
        }
        table.push_str(&format!(
            "| `{}` | `--{}` | `{}` | {} | {} |\n",
            setting.name,
            setting.flag,
            setting.env,
            setting.default.map_or("—".to_owned(), |d| format!("`{d}`")),
            help.replace('|', "\\|"),
        ));
    }
    table
}

/// The config file's reference, derived from [`SETTINGS`] (`jwtkit config` prints it): a
/// TOML file with every key commented out, each with its help, range, flag and variable,
/// and its default as the value (the settings without one show the form of a value).
pub fn toml_reference() -> String {
    let mut text = String::from(
        "# jwtkit.toml: the keys of a `jwtkit serve --config FILE` file, each the name of a setting.\n\
         # A flag or a JWTKIT_* variable overrides the file; paths are relative to the file.\n\
         # Durations are text (\"90s\", \"3m\", \"12h\", \"7d\") or whole seconds.\n",
    );
    for setting in SETTINGS.iter().filter(|s| s.name != CONFIG.name) {
        let mut help = setting.help.to_owned();
        if let Some(range) = setting.range.describe() {
            help.push_str(&format!(" ({range})"));
        }
        text.push_str(&format!(
            "\n# {help}\n# (--{}, {})\n",
            setting.flag, setting.env
        ));
        let value = setting.default.unwrap_or(setting.value_name);
        if setting.name == API_KEYS.name {
            text.push_str(
                "#[[api_keys]]\n#name = \"billing\"\n#hash = \"sha256:...\"   # from `jwtkit keygen --api-key billing`\n#roles = [\"user\"]\n",
            );
        } else if setting.name == CLIENTS.name {
            text.push_str(
                "#[[clients]]\n#client_id = \"app\"\n#redirect_uris = [\"https://app.example/callback\"]   # exact: no wildcard, no prefix\n#post_logout_redirect_uris = [\"https://app.example/\"]\n#scopes = [\"openid\", \"profile\", \"email\"]\n#first_party = false   # true: no consent screen\n#client_secret_hash = \"sha256:...\"   # a confidential client: `jwtkit keygen --client-secret`\n",
            );
        } else if setting.list.is_some() {
            text.push_str(&format!("#{} = [{value:?}]\n", setting.name));
        } else {
            text.push_str(&format!("#{} = {value:?}\n", setting.name));
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reference_has_every_key_and_its_defaults_are_read_back() {
        let reference = toml_reference();
        for setting in SETTINGS.iter().filter(|s| s.name != CONFIG.name) {
            assert!(
                reference.contains(&format!("\n#{} = ", setting.name))
                    || reference.contains(&format!("\n#[[{}]]", setting.name)),
                "{}",
                setting.name
            );
        }
        // Uncommented, the keys with a default make a file whose settings are the defaults.
        let defaults: String = reference
            .lines()
            .filter_map(|line| line.strip_prefix('#'))
            .filter(|line| {
                SETTINGS
                    .iter()
                    .any(|s| s.default.is_some() && line.starts_with(&format!("{} = ", s.name)))
            })
            .map(|line| format!("{line}\n"))
            .collect();
        let path =
            std::env::temp_dir().join(format!("jwtkit-reference-{}.toml", std::process::id()));
        std::fs::write(&path, &defaults).unwrap();
        // Each read as its key (the values equal the defaults, so resolving alone shows nothing).
        let read = super::super::file::read(&path).map(|file| file.values.len());
        let defaulted = SETTINGS.iter().filter(|s| s.default.is_some()).count();
        let config = super::super::ServeArgs::default()
            .with(&CONFIG, path.to_str().unwrap())
            .resolve();
        std::fs::remove_file(&path).unwrap();
        assert_eq!(read, Ok(defaulted), "{defaults}");
        let config = config.unwrap();
        assert_eq!(config.token_ttl.as_secs(), 180, "{defaults}");
    }

    #[test]
    fn the_cache_default_is_the_authenticators() {
        let mib = crate::filters::Authenticator::DEFAULT_CACHE_BYTES >> 20;
        assert_eq!(TOKEN_CACHE_MIB.default, Some(mib.to_string().as_str()));
    }

    #[test]
    fn names_flags_and_variables_are_consistent_and_unique() {
        let mut seen = std::collections::BTreeSet::new();
        for setting in SETTINGS {
            assert_eq!(
                setting.env,
                format!("JWTKIT_{}", setting.name.to_uppercase()),
                "{}",
                setting.name
            );
            assert!(
                setting
                    .flag
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b == b'-'),
                "{}",
                setting.flag
            );
            assert!(!setting.help.is_empty(), "{}", setting.name);
            for key in [
                format!("name {}", setting.name),
                format!("flag {}", setting.flag),
                format!("variable {}", setting.env),
            ] {
                assert!(seen.insert(key.clone()), "{key} twice");
            }
        }
    }

    #[test]
    fn ranges_are_described() {
        assert_eq!(TOKEN_TTL.range.describe().as_deref(), Some("1s to 24h"));
        assert_eq!(
            AUTH_FAILURE_LIMIT.range.describe().as_deref(),
            Some("1 to 1000000")
        );
        assert_eq!(
            TOKEN_TTL.full_help(),
            "lifetime of issued access tokens, e.g. 3m, 90s, 1h (1s to 24h) [default: 3m]"
        );
    }
}
