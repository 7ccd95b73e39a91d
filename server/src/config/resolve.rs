//! Validating the settings for what they ask to run: an issuer ([`ServeArgs::resolve`]), or
//! with `trust_issuer` a pure resource server ([`ServeArgs::resolve_mode`]).

use super::managed::{self, Lifetimes};
use super::sources::{ServeArgs, Sources};
use super::table::*;
use super::{
    Config, ConfigError, DpopSettings, FollowsAddress, Mode, ResourceConfig, Signing, check,
    default_public_url, error, signing, values,
};
use crate::apikeys::ApiKeys;
use crate::clients::Clients;
use crate::config::StoreLocation;
use jwtkit_core::KeySet;

/// The settings only an issuer has, refused beside `trust_issuer`.
const ISSUER_ONLY: [&Setting; 10] = [
    &KEYS,
    &SECRET,
    &SIGNING_KID,
    &API_KEYS,
    &ISSUER,
    &KEY_ENCRYPTION_KEY,
    &KEY_ALGORITHM,
    &KEY_ROTATION_INTERVAL,
    &KEY_ANNOUNCEMENT_PERIOD,
    &KEY_RETENTION,
];

impl ServeArgs {
    /// Validates the settings for what they ask to run: an issuer, or with `trust_issuer` a
    /// pure resource server.
    pub fn resolve_mode(&self) -> Result<Mode, ConfigError> {
        let sources = Sources::read(self)?;
        check::each_value(&sources)?;
        let Some(issuer) = sources.one(&TRUST_ISSUER) else {
            return self.resolve().map(|config| Mode::Issuer(Box::new(config)));
        };
        if let Some(setting) = ISSUER_ONLY.iter().find(|s| !sources.list(s).is_empty()) {
            return Err(error(
                setting,
                "is set, but a resource server (trust_issuer) issues no tokens",
                format!(
                    "leave out `{}`, or `trust_issuer` to run an issuer",
                    setting.name
                ),
            ));
        }
        // Taken as written: the metadata's `issuer` and the tokens' `iss` must be this text.
        crate::fetchable::fetchable_url(issuer).map_err(|e| {
            error(
                &TRUST_ISSUER,
                e.to_string(),
                "use the issuer's https URL (plain http only for 127.0.0.1, [::1] or localhost), \
                 exactly as its tokens' `iss` names it, e.g. https://auth.example",
            )
        })?;
        let leeway = values::duration(&LEEWAY, sources.value(&LEEWAY)?)?;
        Ok(Mode::Resource(Box::new(ResourceConfig {
            bind: values::address(&BIND, sources.value(&BIND)?)?,
            trust_issuer: issuer.to_owned(),
            audience: values::text(&AUDIENCE, sources.value(&AUDIENCE)?)?,
            leeway_seconds: u32::try_from(leeway.as_secs())
                .map_err(|_| error(&LEEWAY, "is too long", "use e.g. 30s"))?,
            token_cache_bytes: (values::count(&TOKEN_CACHE_MIB, sources.value(&TOKEN_CACHE_MIB)?)?
                as usize)
                << 20,
            accelerated_key_lifecycle: values::boolean(
                &ACCELERATED_KEY_LIFECYCLE,
                sources.value(&ACCELERATED_KEY_LIFECYCLE)?,
            )?,
            jwks_refetch_interval: values::duration(
                &JWKS_REFETCH_INTERVAL,
                sources.value(&JWKS_REFETCH_INTERVAL)?,
            )?,
            cors_origins: sources
                .list(&CORS_ORIGINS)
                .iter()
                .map(|origin| values::origin(origin))
                .collect::<Result<_, _>>()?,
            metrics_bind: values::optional_address(&METRICS_BIND, sources.value(&METRICS_BIND)?)?,
            public_url: sources
                .one(&PUBLIC_URL)
                .map(|url| values::public_url(&PUBLIC_URL, url))
                .transpose()?,
            dpop: dpop_settings(&sources)?,
        })))
    }

    /// Validates the settings of an issuer (reading the config and key files they name).
    pub fn resolve(&self) -> Result<Config, ConfigError> {
        let sources = Sources::read(self)?;
        check::each_value(&sources)?;
        if sources.one(&TRUST_ISSUER).is_some() {
            return Err(error(
                &TRUST_ISSUER,
                "makes a resource server, not an issuer",
                "resolve the settings with `resolve_mode`",
            ));
        }
        let leeway = values::duration(&LEEWAY, sources.value(&LEEWAY)?)?;
        let web_dir = sources.path(&WEB_DIR);
        if let Some(dir) = &web_dir
            && !dir.join("index.html").is_file()
        {
            return Err(error(
                &WEB_DIR,
                format!("{} has no index.html", dir.display()),
                "name a directory with an index.html (in a checkout, `cargo xtask run` assembles \
                 the demo page into target/web), or leave it out",
            ));
        }
        let mut api_keys = sources
            .list(&API_KEYS)
            .iter()
            .map(|entry| values::api_key(entry))
            .collect::<Result<Vec<_>, _>>()?;
        let mut clients = sources
            .list(&CLIENTS)
            .iter()
            .map(|entry| values::client(entry))
            .collect::<Result<Vec<_>, _>>()
            .and_then(|clients| {
                Clients::new(clients)
                    .map_err(|p| error(&CLIENTS, p, "give each client its own client_id"))
            })?;
        let signing_kid = sources
            .one(&SIGNING_KID)
            .map(|kid| values::text(&SIGNING_KID, kid))
            .transpose()?;
        let token_ttl = values::duration(&TOKEN_TTL, sources.value(&TOKEN_TTL)?)?;
        let refresh_absolute_ttl =
            values::duration(&REFRESH_ABSOLUTE_TTL, sources.value(&REFRESH_ABSOLUTE_TTL)?)?;
        let login_ttl = values::duration(&LOGIN_TTL, sources.value(&LOGIN_TTL)?)?;
        let mut dev = None;
        // Configured keys win over keys kept in the store.
        let kek = sources.one(&KEY_ENCRYPTION_KEY);
        let signing = match (sources.path(&KEYS), sources.one(&SECRET)) {
            (Some(_), Some(_)) => {
                return Err(error(
                    &SECRET,
                    "both a key set and a secret are configured",
                    "configure only one of --keys and --secret",
                ));
            }
            (Some(path), None) => {
                let (keys, signing_key) = signing::load_keys(&path, signing_kid.as_deref())?;
                Signing::Fixed { keys, signing_key }
            }
            (None, Some(secret)) => {
                let key = signing::secret_key(secret)?;
                Signing::Fixed {
                    keys: KeySet::from(key.clone()),
                    signing_key: key,
                }
            }
            (None, None) => {
                let zero_config = api_keys.is_empty();
                if zero_config {
                    let (credentials, entries) = signing::development_credentials()?;
                    api_keys = entries;
                    dev = Some(credentials);
                    clients = signing::development_clients(&clients, &super::default_issuer());
                }
                match kek {
                    Some(kek) => {
                        let lifetimes = Lifetimes {
                            access: token_ttl + leeway,
                            id_token_uses: refresh_absolute_ttl.max(login_ttl),
                        };
                        Signing::Managed(managed::read(&sources, kek, &lifetimes)?)
                    }
                    None if zero_config => {
                        let key = signing::development_key()?;
                        Signing::Fixed {
                            keys: KeySet::from(key.clone()),
                            signing_key: key,
                        }
                    }
                    None => {
                        return Err(error(
                            &KEYS,
                            "API keys are configured but no signing key",
                            "let jwtkit generate and rotate keys in the store: `jwtkit keygen --kek`, then --key-encryption-key KEY; or give a key set: `jwtkit keygen --alg EdDSA > keys.json`, then --keys keys.json",
                        ));
                    }
                }
            }
        };
        let bind = values::address(&BIND, sources.value(&BIND)?)?;
        if dev.is_some() && !bind.ip().is_loopback() {
            return Err(error(
                &BIND,
                format!(
                    "the development setup (generated keys) listens on {bind}, not on loopback"
                ),
                "configure --keys and --api-key for a server others can reach, or bind 127.0.0.1",
            ));
        }
        let public_url = sources
            .one(&PUBLIC_URL)
            .map(|url| values::public_url(&PUBLIC_URL, url))
            .transpose()?;
        let issuer = sources
            .one(&ISSUER)
            .map(|issuer| values::text(&ISSUER, issuer))
            .transpose()?;
        let follows_address = FollowsAddress {
            public_url: public_url.is_none(),
            issuer: issuer.is_none(),
        };
        let public_url = public_url.unwrap_or_else(|| default_public_url(bind));
        let store = match values::store(sources.value(&STORE)?)? {
            // A file's paths are relative to it, the store's too.
            StoreLocation::Sqlite(path) if path.is_relative() => StoreLocation::Sqlite(
                sources
                    .file_base(&STORE)
                    .map_or_else(|| path.clone(), |base| base.join(&path)),
            ),
            store => store,
        };
        if matches!(store, StoreLocation::Redis(_))
            && follows_address.public_url
            && follows_address.issuer
        {
            return Err(error(
                &PUBLIC_URL,
                "is not set, but the store is shared: each instance would name its own address as the issuer and refuse the others' tokens",
                "set public_url to the URL clients reach the instances at (the load balancer's), e.g. https://auth.example, or set issuer",
            ));
        }
        // The token endpoint tells an API key's credentials from an OpenID client's by the
        // name: one name cannot be both.
        if let Some(client) = clients
            .iter()
            .find(|c| api_keys.iter().any(|key| key.name() == c.id))
        {
            return Err(error(
                &CLIENTS,
                format!("the client_id {:?} is also an API key's name", client.id),
                "give the OpenID client another client_id (or the API key another name)",
            ));
        }
        Ok(Config {
            bind,
            issuer: issuer.unwrap_or_else(|| public_url.clone()),
            public_url,
            follows_address,
            audience: values::text(&AUDIENCE, sources.value(&AUDIENCE)?)?,
            token_ttl,
            leeway_seconds: u32::try_from(leeway.as_secs())
                .map_err(|_| error(&LEEWAY, "is too long", "use e.g. 30s"))?,
            signing,
            api_keys: ApiKeys::new(api_keys)
                .map_err(|p| error(&API_KEYS, p, "give each API key its own name and key"))?,
            clients,
            cors_origins: sources
                .list(&CORS_ORIGINS)
                .iter()
                .map(|origin| values::origin(origin))
                .collect::<Result<_, _>>()?,
            auth_failure_limit: values::count(
                &AUTH_FAILURE_LIMIT,
                sources.value(&AUTH_FAILURE_LIMIT)?,
            )?,
            auth_failure_window: values::duration(
                &AUTH_FAILURE_WINDOW,
                sources.value(&AUTH_FAILURE_WINDOW)?,
            )?,
            token_cache_bytes: (values::count(&TOKEN_CACHE_MIB, sources.value(&TOKEN_CACHE_MIB)?)?
                as usize)
                << 20,
            store,
            refresh_idle_ttl: values::duration(
                &REFRESH_IDLE_TTL,
                sources.value(&REFRESH_IDLE_TTL)?,
            )?,
            refresh_absolute_ttl,
            refresh_grace: values::duration(&REFRESH_GRACE, sources.value(&REFRESH_GRACE)?)?,
            login_ttl,
            dpop: dpop_settings(&sources)?,
            max_sessions_per_subject: values::count(
                &MAX_SESSIONS_PER_SUBJECT,
                sources.value(&MAX_SESSIONS_PER_SUBJECT)?,
            )?,
            trusted_proxies: sources
                .list(&TRUSTED_PROXIES)
                .iter()
                .map(|cidr| values::network(cidr))
                .collect::<Result<_, _>>()?,
            forwarded_header: values::forwarded_header(sources.value(&FORWARDED_HEADER)?)?,
            metrics_bind: values::optional_address(&METRICS_BIND, sources.value(&METRICS_BIND)?)?,
            web_dir,
            dev,
        })
    }
}

/// The DPoP settings, read the same way for an issuer and a resource server.
fn dpop_settings(sources: &Sources) -> Result<DpopSettings, ConfigError> {
    Ok(DpopSettings {
        proof_max_age: values::duration(&DPOP_PROOF_MAX_AGE, sources.value(&DPOP_PROOF_MAX_AGE)?)?,
        nonce_interval: values::duration(
            &DPOP_NONCE_INTERVAL,
            sources.value(&DPOP_NONCE_INTERVAL)?,
        )?,
    })
}
