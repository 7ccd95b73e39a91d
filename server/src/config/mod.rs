//! Server configuration: every setting as a `jwtkit serve` flag, a `JWTKIT_*` environment
//! variable, or a key of an optional TOML file (flag > environment > file > default),
//! validated at start with errors that name the setting and the fix.

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use jwtkit_core::{Key, KeySet, MAX_LEEWAY_SECONDS};
use serde::Deserialize;

use crate::apikeys::{ApiKey, ApiKeys};

mod settings;

use settings::{
    check_origin, development_setup, duration, load_keys, non_empty, parse_api_key_entry,
    secret_key,
};

/// Settings of `jwtkit serve`; each has a flag, an environment variable and a file key.
#[derive(Debug, Default, Clone, clap::Args)]
pub struct ServeArgs {
    /// TOML configuration file (keys as below, in snake_case).
    #[arg(long, env = "JWTKIT_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Address to listen on [default: 127.0.0.1:3030].
    #[arg(long, env = "JWTKIT_BIND", value_name = "ADDR")]
    pub bind: Option<String>,
    /// The `iss` of issued tokens, and the issuer verified tokens must name [default: jwtkit].
    #[arg(long, env = "JWTKIT_ISSUER", value_name = "ISSUER")]
    pub issuer: Option<String>,
    /// The `aud` of issued tokens, and the audience verified tokens must name [default: jwtkit-api].
    #[arg(long, env = "JWTKIT_AUDIENCE", value_name = "AUDIENCE")]
    pub audience: Option<String>,
    /// Lifetime of issued tokens, e.g. 3m, 90s, 1h [default: 3m].
    #[arg(long, env = "JWTKIT_TOKEN_TTL", value_name = "DURATION")]
    pub token_ttl: Option<String>,
    /// Clock-skew allowance when verifying, at most 10m [default: 0s].
    #[arg(long, env = "JWTKIT_LEEWAY", value_name = "DURATION")]
    pub leeway: Option<String>,
    /// JWK Set file: the active signing key plus older keys kept for verification.
    #[arg(long, env = "JWTKIT_KEYS", value_name = "FILE")]
    pub keys: Option<PathBuf>,
    /// `kid` of the signing key in the key set [default: the first key that can sign].
    #[arg(long, env = "JWTKIT_SIGNING_KID", value_name = "KID")]
    pub signing_kid: Option<String>,
    /// HS256 shared secret as text (at least 32 bytes, high entropy), instead of --keys.
    #[arg(
        long,
        env = "JWTKIT_SECRET",
        value_name = "SECRET",
        hide_env_values = true
    )]
    pub secret: Option<String>,
    /// API key entry NAME:HASH[:ROLE,ROLE...] (from `jwtkit keygen --api-key`); repeatable,
    /// `;`-separated in the environment variable.
    #[arg(
        long = "api-key",
        env = "JWTKIT_API_KEYS",
        value_name = "ENTRY",
        value_delimiter = ';'
    )]
    pub api_keys: Vec<String>,
    /// Origin allowed to call the API from a browser (CORS), e.g. https://app.example; repeatable.
    #[arg(
        long = "cors-origin",
        env = "JWTKIT_CORS_ORIGINS",
        value_name = "ORIGIN",
        value_delimiter = ','
    )]
    pub cors_origins: Vec<String>,
    /// Failed /api/v3/auth attempts allowed per client address per window [default: 10].
    #[arg(long, env = "JWTKIT_AUTH_FAILURE_LIMIT", value_name = "COUNT")]
    pub auth_failure_limit: Option<u32>,
    /// The window of --auth-failure-limit [default: 1m].
    #[arg(long, env = "JWTKIT_AUTH_FAILURE_WINDOW", value_name = "DURATION")]
    pub auth_failure_window: Option<String>,
    /// Directory served at / (the demo page: `cargo xtask run` assembles it) [default: none].
    #[arg(long, env = "JWTKIT_WEB_DIR", value_name = "DIR")]
    pub web_dir: Option<PathBuf>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSettings {
    bind: Option<String>,
    issuer: Option<String>,
    audience: Option<String>,
    token_ttl: Option<String>,
    leeway: Option<String>,
    keys: Option<PathBuf>,
    signing_kid: Option<String>,
    secret: Option<String>,
    #[serde(default)]
    api_keys: Vec<FileApiKey>,
    #[serde(default)]
    cors_origins: Vec<String>,
    auth_failure_limit: Option<u32>,
    auth_failure_window: Option<String>,
    web_dir: Option<PathBuf>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileApiKey {
    name: String,
    hash: String,
    #[serde(default)]
    roles: Vec<String>,
}

/// The validated configuration the server runs with.
#[derive(Debug, Clone)]
pub struct Config {
    /// Listening address.
    pub bind: SocketAddr,
    /// Issuer of issued tokens and expected issuer of verified ones.
    pub issuer: String,
    /// Audience of issued tokens and expected audience of verified ones.
    pub audience: String,
    /// Lifetime of issued tokens.
    pub token_ttl: Duration,
    /// Clock-skew allowance in seconds.
    pub leeway_seconds: u32,
    /// Every key that verifies tokens.
    pub keys: KeySet,
    /// The key that signs new tokens.
    pub signing_key: Key,
    /// The API keys that can obtain tokens.
    pub api_keys: ApiKeys,
    /// Origins allowed by CORS (empty: no CORS headers).
    pub cors_origins: Vec<String>,
    /// Failed auth attempts allowed per address per window.
    pub auth_failure_limit: u32,
    /// The failure-counting window.
    pub auth_failure_window: Duration,
    /// A directory of static files served at `/`.
    pub web_dir: Option<PathBuf>,
    /// Generated development credentials, when nothing was configured.
    pub dev: Option<DevCredentials>,
}

/// Credentials generated for the zero-configuration development setup.
#[derive(Debug, Clone)]
pub struct DevCredentials {
    /// `(name, plaintext API key, roles)` of each generated API key.
    pub api_keys: Vec<(String, String, Vec<String>)>,
}

/// A setting that cannot be used, with what to do about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// The setting's name (as in the TOML file).
    pub setting: &'static str,
    /// What is wrong.
    pub problem: String,
    /// How to fix it.
    pub fix: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let flag = self.setting.replace('_', "-");
        let env = format!("JWTKIT_{}", self.setting.to_uppercase());
        write!(
            f,
            "invalid setting `{}` (--{flag}, {env}, or `{}` in the config file): {}\n  fix: {}",
            self.setting, self.setting, self.problem, self.fix
        )
    }
}

impl std::error::Error for ConfigError {}

pub(super) fn error(
    setting: &'static str,
    problem: impl Into<String>,
    fix: impl Into<String>,
) -> ConfigError {
    ConfigError {
        setting,
        problem: problem.into(),
        fix: fix.into(),
    }
}

impl ServeArgs {
    /// Validates the settings (reading the config and key files they name).
    pub fn resolve(&self) -> Result<Config, ConfigError> {
        let (file, base) = match &self.config {
            None => (FileSettings::default(), PathBuf::from(".")),
            Some(path) => (
                read_file_settings(path)?,
                path.parent().map(Path::to_path_buf).unwrap_or_default(),
            ),
        };
        let pick = |flag: &Option<String>, file: Option<String>| flag.clone().or(file);

        let bind_text = pick(&self.bind, file.bind).unwrap_or_else(|| "127.0.0.1:3030".into());
        let bind = bind_text.parse().map_err(|_| {
            error(
                "bind",
                format!("{bind_text:?} is not an IP address with a port"),
                "use e.g. 127.0.0.1:3030 or [::1]:8080",
            )
        })?;
        let issuer = non_empty(
            "issuer",
            pick(&self.issuer, file.issuer).unwrap_or_else(|| "jwtkit".into()),
        )?;
        let audience = non_empty(
            "audience",
            pick(&self.audience, file.audience).unwrap_or_else(|| "jwtkit-api".into()),
        )?;
        let token_ttl = duration(
            "token_ttl",
            &pick(&self.token_ttl, file.token_ttl).unwrap_or_else(|| "3m".into()),
        )?;
        if token_ttl < Duration::from_secs(1) || token_ttl > Duration::from_secs(24 * 3600) {
            return Err(error(
                "token_ttl",
                "must be between 1s and 24h",
                "access tokens should be short-lived: e.g. 3m",
            ));
        }
        let leeway = duration(
            "leeway",
            &pick(&self.leeway, file.leeway).unwrap_or_else(|| "0s".into()),
        )?;
        let leeway_seconds = u32::try_from(leeway.as_secs()).unwrap_or(u32::MAX);
        if leeway_seconds > MAX_LEEWAY_SECONDS || leeway.subsec_nanos() != 0 {
            return Err(error(
                "leeway",
                "must be whole seconds, at most 10m",
                "use e.g. 30s",
            ));
        }
        let auth_failure_limit = self
            .auth_failure_limit
            .or(file.auth_failure_limit)
            .unwrap_or(10);
        if auth_failure_limit == 0 {
            return Err(error(
                "auth_failure_limit",
                "must be at least 1",
                "use e.g. 10",
            ));
        }
        let auth_failure_window = duration(
            "auth_failure_window",
            &pick(&self.auth_failure_window, file.auth_failure_window)
                .unwrap_or_else(|| "1m".into()),
        )?;
        let web_dir = self
            .web_dir
            .clone()
            .or_else(|| file.web_dir.map(|p| base.join(p)));
        if let Some(dir) = &web_dir
            && !dir.join("index.html").is_file()
        {
            return Err(error(
                "web_dir",
                format!("{} has no index.html", dir.display()),
                "run `cargo xtask run`, which assembles the demo page, or leave it out",
            ));
        }
        let cors_origins = if self.cors_origins.is_empty() {
            file.cors_origins
        } else {
            self.cors_origins.clone()
        };
        for origin in &cors_origins {
            check_origin(origin)?;
        }

        let mut api_keys = if self.api_keys.is_empty() {
            file.api_keys
                .into_iter()
                .map(|k| ApiKey::from_hash(&k.name, &k.hash, k.roles))
                .collect::<Result<Vec<_>, _>>()
        } else {
            self.api_keys
                .iter()
                .map(|entry| parse_api_key_entry(entry))
                .collect()
        }
        .map_err(|problem| {
            error(
                "api_keys",
                problem,
                "generate an entry with `jwtkit keygen --api-key NAME`",
            )
        })?;

        let keys_path = self
            .keys
            .clone()
            .or_else(|| file.keys.map(|p| base.join(p)));
        let secret = self.secret.clone().or(file.secret);
        let signing_kid = pick(&self.signing_kid, file.signing_kid);
        let mut dev = None;
        let (keys, signing_key) = match (keys_path, secret) {
            (Some(_), Some(_)) => {
                return Err(error(
                    "secret",
                    "both a key set and a secret are configured",
                    "configure only one of --keys and --secret",
                ));
            }
            (Some(path), None) => load_keys(&path, signing_kid.as_deref())?,
            (None, Some(secret)) => {
                let key = secret_key(&secret)?;
                (KeySet::from(key.clone()), key)
            }
            (None, None) if api_keys.is_empty() => {
                let (key, credentials, entries) = development_setup()?;
                api_keys = entries;
                dev = Some(credentials);
                (KeySet::from(key.clone()), key)
            }
            (None, None) => {
                return Err(error(
                    "keys",
                    "API keys are configured but no signing key",
                    "add --keys FILE (a JWK Set from `jwtkit keygen`) or --secret",
                ));
            }
        };
        let api_keys = ApiKeys::new(api_keys)
            .map_err(|p| error("api_keys", p, "give each API key its own name and key"))?;
        Ok(Config {
            bind,
            issuer,
            audience,
            token_ttl,
            leeway_seconds,
            keys,
            signing_key,
            api_keys,
            cors_origins,
            auth_failure_limit,
            auth_failure_window,
            web_dir,
            dev,
        })
    }
}

fn read_file_settings(path: &Path) -> Result<FileSettings, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        error(
            "config",
            format!("cannot read {}: {e}", path.display()),
            "check the path",
        )
    })?;
    toml::from_str(&text).map_err(|e| {
        error(
            "config",
            format!(
                "{} is not a valid jwtkit config: {}",
                path.display(),
                e.message()
            ),
            "see the README's configuration section",
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::apikeys::hash_api_key;

    fn resolve(args: ServeArgs) -> Result<Config, ConfigError> {
        args.resolve()
    }

    #[test]
    fn zero_config_is_a_development_setup() {
        let config = resolve(ServeArgs::default()).unwrap();
        assert_eq!(config.bind.to_string(), "127.0.0.1:3030");
        assert_eq!(config.token_ttl, Duration::from_secs(180));
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
            config.signing_key.algorithm(),
            jwtkit_core::Algorithm::EdDSA
        );
    }

    #[test]
    fn errors_name_the_setting() {
        let setting = |args: ServeArgs| resolve(args).unwrap_err().setting;
        assert_eq!(
            setting(ServeArgs {
                bind: Some("localhost".into()),
                ..Default::default()
            }),
            "bind"
        );
        assert_eq!(
            setting(ServeArgs {
                token_ttl: Some("soon".into()),
                ..Default::default()
            }),
            "token_ttl"
        );
        assert_eq!(
            setting(ServeArgs {
                token_ttl: Some("2d".into()),
                ..Default::default()
            }),
            "token_ttl"
        );
        assert_eq!(
            setting(ServeArgs {
                leeway: Some("11m".into()),
                ..Default::default()
            }),
            "leeway"
        );
        assert_eq!(
            setting(ServeArgs {
                issuer: Some(" ".into()),
                ..Default::default()
            }),
            "issuer"
        );
        assert_eq!(
            setting(ServeArgs {
                cors_origins: vec!["app.example".into()],
                ..Default::default()
            }),
            "cors_origins"
        );
        assert_eq!(
            setting(ServeArgs {
                api_keys: vec!["svc:md5:x".into()],
                ..Default::default()
            }),
            "api_keys"
        );
        let entry = format!("svc:{}:admin", hash_api_key("k"));
        assert_eq!(
            setting(ServeArgs {
                api_keys: vec![entry],
                ..Default::default()
            }),
            "keys",
            "API keys but no key"
        );
        assert_eq!(
            setting(ServeArgs {
                keys: Some("/nonexistent/keys.json".into()),
                ..Default::default()
            }),
            "keys"
        );
        let message = resolve(ServeArgs {
            token_ttl: Some("soon".into()),
            ..Default::default()
        })
        .unwrap_err()
        .to_string();
        assert!(
            message.contains("--token-ttl")
                && message.contains("JWTKIT_TOKEN_TTL")
                && message.contains("fix:"),
            "{message}"
        );
    }
}
