//! Running the server: the listeners (the API's, and the metrics' apart from it), the store
//! and its background tasks, the startup banner, graceful shutdown.

use std::fmt;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use jwtkit_core::PolicyError;
use tokio::net::TcpListener;
use warp::filters::BoxedFilter;
use warp::reply::Response;

use crate::config::table::{BIND, METRICS_BIND};
use crate::config::{Config, ResourceConfig, Setting};
use crate::remote::{RemoteKeys, RemoteOptions};
use crate::revocations;
use crate::routes::{AppState, app, metrics_app};
use crate::store::{self, Store, StoreError};
use crate::time::SharedClock;

/// The sockets a server listens on: the API's and, unless metrics are off, the metrics'
/// (a management port, kept off the API's).
#[derive(Debug)]
pub struct Listeners {
    /// The API's.
    pub api: TcpListener,
    /// `/metrics`'.
    pub metrics: Option<TcpListener>,
}

/// An address that could not be listened on.
#[derive(Debug)]
pub struct BindError {
    /// The address.
    pub addr: SocketAddr,
    /// The setting that names it.
    pub setting: &'static Setting,
    /// Why.
    pub error: std::io::Error,
}

impl fmt::Display for BindError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "cannot listen on {} (`{}`): {}\n  fix: choose another --{} address, or stop what uses it",
            self.addr, self.setting.name, self.error, self.setting.flag
        )
    }
}

impl std::error::Error for BindError {}

impl Listeners {
    /// Listens on `api` and, when given, `metrics`.
    pub async fn bind(api: SocketAddr, metrics: Option<SocketAddr>) -> Result<Self, BindError> {
        let bind = |addr: SocketAddr, setting: &'static Setting| async move {
            TcpListener::bind(addr).await.map_err(|error| BindError {
                addr,
                setting,
                error,
            })
        };
        let api = bind(api, &BIND).await?;
        let metrics = match metrics {
            Some(addr) => Some(bind(addr, &METRICS_BIND).await?),
            None => None,
        };
        Ok(Self { api, metrics })
    }

    /// Where the API listens.
    pub fn api_addr(&self) -> Option<SocketAddr> {
        self.api.local_addr().ok()
    }

    /// Where `/metrics` is served.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics.as_ref().and_then(|l| l.local_addr().ok())
    }
}

/// Serves `api` (and `metrics`) on `listeners` until `shutdown` resolves, then lets both
/// finish their in-flight requests.
async fn run(
    listeners: Listeners,
    api: BoxedFilter<(Response,)>,
    metrics: BoxedFilter<(Response,)>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    let (stop, stopped) = tokio::sync::watch::channel(());
    tokio::spawn(async move {
        shutdown.await;
        // Nobody left to tell is fine: the servers are already done.
        let _ = stop.send(());
    });
    let until_stopped = |mut stopped: tokio::sync::watch::Receiver<()>| async move {
        // A send or the sender gone: either way, time to stop.
        let _ = stopped.changed().await;
    };
    let api = warp::serve(api)
        .incoming(listeners.api)
        .graceful(until_stopped(stopped.clone()))
        .run();
    let metrics = async move {
        if let Some(listener) = listeners.metrics {
            warp::serve(metrics)
                .incoming(listener)
                .graceful(until_stopped(stopped))
                .run()
                .await;
        }
    };
    tokio::join!(api, metrics);
}

/// How often the store forgets what has expired.
const PRUNE_INTERVAL: Duration = Duration::from_secs(60);

/// Why the server could not start.
#[derive(Debug)]
#[non_exhaustive]
pub enum ServeError {
    /// The validation policy could not be built.
    Policy(PolicyError),
    /// The store could not be opened.
    Store(StoreError),
    /// The trusted issuer's keys could not be fetched.
    Remote(crate::remote::RemoteError),
    /// The signing keys could not be put in force (what to fix).
    Keys(String),
}

impl fmt::Display for ServeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Policy(error) => error.fmt(f),
            Self::Store(error) => error.fmt(f),
            Self::Remote(error) => write!(f, "cannot fetch the trusted issuer's keys: {error}"),
            Self::Keys(reason) => write!(f, "cannot put the signing keys in force: {reason}"),
        }
    }
}

impl std::error::Error for ServeError {}

/// Serves the API on `listeners` until `shutdown` resolves, then finishes in-flight
/// requests. Opens the configured store, keeps this instance's revocations in step with it,
/// and prunes it while serving.
pub async fn serve(
    config: &Config,
    listeners: Listeners,
    clock: SharedClock,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    let store = store::open(&config.store)
        .await
        .map_err(ServeError::Store)?;
    serve_with_store(config, listeners, clock, store, shutdown).await
}

/// [`serve`] with a store already opened.
pub async fn serve_with_store(
    config: &Config,
    listeners: Listeners,
    clock: SharedClock,
    store: Arc<dyn Store>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    let started = start_keys(config, store.clone(), &clock).await?;
    serve_with_keys(config, listeners, clock, store, started, shutdown).await
}

/// The signing keys `config` names, put in force (see [`crate::keys::start`]).
pub async fn start_keys(
    config: &Config,
    store: Arc<dyn Store>,
    clock: &SharedClock,
) -> Result<crate::keys::Started, ServeError> {
    let now = clock
        .now()
        .map_err(|e| ServeError::Keys(format!("cannot read the clock: {e}")))?;
    crate::keys::start(config, store, now)
        .await
        .map_err(ServeError::Keys)
}

/// [`serve_with_store`] with the signing keys already in force ([`start_keys`]).
pub async fn serve_with_keys(
    config: &Config,
    listeners: Listeners,
    clock: SharedClock,
    store: Arc<dyn Store>,
    started: crate::keys::Started,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    let config = &match listeners.api_addr() {
        Some(addr) => config.listening_on(addr),
        None => config.clone(),
    };
    if let Some(dev) = &config.dev {
        development_user(store.as_ref(), &dev.user, &clock).await?;
    }
    let state = Arc::new(
        AppState::new(config, clock.clone(), store, started.keys.clone())
            .map_err(ServeError::Policy)?,
    );
    let keeper = started.managed.map(|(manager, ring)| {
        tokio::spawn(crate::keys::keep_in_force(
            manager,
            started.keys,
            ring,
            clock.clone(),
        ))
    });
    let watcher = tokio::spawn(revocations::watch(
        state.store().clone(),
        state.revocations().clone(),
        clock.clone(),
    ));
    let pruner = tokio::spawn(prune(state.store().clone(), clock));
    let metrics = metrics_app(&state);
    let api = app(state, &config.cors_origins, config.web_dir.clone());
    run(listeners, api, metrics, shutdown).await;
    watcher.abort();
    pruner.abort();
    if let Some(keeper) = keeper {
        keeper.abort();
    }
    Ok(())
}

/// The development setup's person, with its generated password (set anew on every start),
/// before the first request is served.
async fn development_user(
    store: &dyn Store,
    (username, password): &(String, String),
    clock: &SharedClock,
) -> Result<(), ServeError> {
    use crate::users::accounts::{self, AccountError, NewUser};
    let failed =
        |e: AccountError| ServeError::Store(StoreError::new(format!("the development user: {e}")));
    let now = clock
        .now()
        .map_err(|e| ServeError::Store(StoreError::new(e)))?;
    let hasher = crate::users::PasswordHasher::new();
    let password = crate::users::Password::new(password.clone());
    let user = NewUser {
        username: username.clone(),
        password: password.clone(),
        name: Some("Demo User".to_owned()),
        email: Some("demo@example.org".to_owned()),
        email_verified: true,
    };
    match accounts::add(store, &hasher, user, now).await {
        Ok(_) => Ok(()),
        Err(AccountError::Taken(_)) => {
            accounts::set_password(store, &hasher, username, &password, now)
                .await
                .map(drop)
                .map_err(failed)
        }
        Err(error) => Err(failed(error)),
    }
}

/// Serves a pure resource server on `listeners` until `shutdown` resolves, verifying with
/// `auth` (from [`resource_authenticator`]).
pub async fn serve_resource(
    config: &ResourceConfig,
    auth: crate::filters::Authenticator,
    listeners: Listeners,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    // Proofs are remembered in memory: instances behind one URL share an issuer's store
    // instead (`jwtkit serve` with `store`).
    let checker = listeners
        .api_addr()
        .and_then(|addr| crate::dpop::resource_checker(config.dpop, &config.public_url_on(addr)));
    let auth = match checker {
        Some(checker) => auth.with_dpop(checker),
        None => auth,
    };
    let (api, metrics) = crate::routes::resource_apps(auth, &config.cors_origins);
    run(listeners, api, metrics, shutdown).await;
}

/// The authenticator of a resource server: RFC 9068 access tokens of the trusted issuer for
/// the configured audience, under its keys (fetched now or, while the issuer cannot be
/// reached, in the background: not ready until then).
pub async fn resource_authenticator(
    config: &ResourceConfig,
    clock: SharedClock,
) -> Result<crate::filters::Authenticator, ServeError> {
    let policy = crate::issuer::access_token_policy(
        &config.trust_issuer,
        &config.audience,
        config.leeway_seconds,
    )
    .map_err(ServeError::Policy)?;
    let options = RemoteOptions {
        refetch_interval: config.jwks_refetch_interval,
        cache_bytes: config.token_cache_bytes,
        min_refresh: if config.accelerated_key_lifecycle {
            Duration::from_secs(1)
        } else {
            crate::remote::MIN_REFRESH
        },
        ..RemoteOptions::default()
    };
    let keys = RemoteKeys::discover_in_background(&config.trust_issuer, policy, options)
        .await
        .map_err(ServeError::Remote)?;
    Ok(crate::filters::Authenticator::remote(keys, clock))
}

/// Forgets expired sessions, revocations and counters every [`PRUNE_INTERVAL`].
async fn prune(store: Arc<dyn Store>, clock: SharedClock) {
    let mut interval = tokio::time::interval(PRUNE_INTERVAL);
    loop {
        interval.tick().await;
        if let Ok(now) = clock.now()
            && let Err(error) = store.prune(now).await
        {
            tracing::warn!(%error, "cannot prune the store");
        }
    }
}

/// A future that resolves on SIGINT (Ctrl-C) or SIGTERM. The signals are caught from the
/// moment this is called (inside the runtime), before the future is first polled: call it
/// before saying that the server is up, so that a SIGTERM right after is a graceful stop.
pub fn shutdown_signal() -> impl Future<Output = ()> + Send + 'static {
    #[cfg(unix)]
    let signals = {
        use tokio::signal::unix::{SignalKind, signal};
        [
            ("SIGINT", signal(SignalKind::interrupt())),
            ("SIGTERM", signal(SignalKind::terminate())),
        ]
    };
    async move {
        #[cfg(unix)]
        {
            let [interrupt, terminate] = signals.map(|(name, signal)| async move {
                match signal {
                    Ok(mut signal) => {
                        signal.recv().await;
                    }
                    Err(error) => {
                        tracing::warn!(%error, "cannot listen for {name}");
                        std::future::pending::<()>().await;
                    }
                }
            });
            tokio::select! {
                () = interrupt => {},
                () = terminate => {},
            }
        }
        #[cfg(not(unix))]
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::warn!(%error, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
        tracing::info!(target: "jwtkit", "shutting down: finishing in-flight requests");
    }
}

/// Whether `/` serves the demo page: from `--web-dir`, or built into this binary.
fn has_demo_page(config: &Config) -> bool {
    config.web_dir.is_some() || crate::routes::demo_built_in()
}

/// What makes this server of no use to anyone, with what to add: no API key and no OpenID
/// client (nobody can obtain a token), clients but no person in the store (nobody can sign
/// in), or people but no client (nowhere to sign in). Shown at start; empty when nothing is
/// missing. The store is read for its clients and people; one it cannot answer adds nothing
/// (serving reports it soon enough).
pub async fn warnings(config: &Config, store: &dyn Store) -> Vec<String> {
    let mut warnings = Vec::new();
    let clients = !config.clients.is_empty()
        || store
            .clients()
            .await
            .is_ok_and(|clients| !clients.is_empty());
    let people = config.dev.is_some() || store.has_users().await.unwrap_or(false);
    let on_store = |command: &str| format!("`jwtkit {command} --store {:?}`", config.store);
    if config.api_keys.is_empty() && !clients {
        warnings.push(format!(
            "no API key and no OpenID client is configured, so nobody can obtain a token (every \
             {} and {} request is refused): add an API key with --api-key ENTRY (or \
             [[api_keys]] in the config file; `jwtkit keygen --api-key NAME --role user` prints a \
             key and its entry), or let people sign in: a client with {} and a person with {}",
            crate::routes::AUTH.path,
            crate::routes::TOKEN.path,
            on_store("clients add JSON"),
            on_store("users add NAME"),
        ));
    } else if clients && !people {
        warnings.push(format!(
            "OpenID clients are registered but there is nobody to sign in as (no person in the \
             store): add one with {}",
            on_store("users add NAME"),
        ));
    }
    if people && !clients {
        warnings.push(format!(
            "people are in the store but no OpenID client is registered, so nobody can sign in: \
             add one with --client JSON (or [[clients]] in the config file) or {}",
            on_store("clients add JSON"),
        ));
    }
    if let crate::config::Signing::Managed(keys) = &config.signing
        && keys.accelerated
    {
        warnings.push(format!(
            "accelerated_key_lifecycle is on: signing keys rotate every {}s, announced {}s ahead: for tests and development only; turn it off (and use periods of days) in production",
            keys.rotation.as_secs(),
            keys.announcement.as_secs(),
        ));
    }
    warnings
}

/// `/metrics`' URL on `addr`.
fn metrics_url(addr: Option<SocketAddr>) -> Option<String> {
    addr.map(|addr| format!("http://{addr}{}", crate::routes::METRICS.path))
}

/// Where the server listens and, in the development setup, the generated API keys, as one
/// JSON line for scripts: `{"url", "issuer", "store", "metrics", "demo_page", "development":
/// {"api_keys": [{"name", "key", "roles"}]}, "warnings": [...]}` (`metrics`, `demo_page` and
/// `development` are `null` when there is none; `warnings` are [`warnings`]).
pub fn banner_json(
    config: &Config,
    addr: SocketAddr,
    metrics: Option<SocketAddr>,
    warnings: &[String],
) -> String {
    let url = format!("http://{addr}");
    let development = config.dev.as_ref().map(|dev| {
        let keys: Vec<_> = dev
            .api_keys
            .iter()
            .map(|(name, key, roles)| serde_json::json!({"name": name, "key": key, "roles": roles}))
            .collect();
        serde_json::json!({
            "api_keys": keys,
            "user": {"username": dev.user.0, "password": dev.user.1},
            "client": {"client_id": crate::config::DEMO_CLIENT_ID, "redirect_uri": format!("{}/", config.public_url)},
        })
    });
    serde_json::json!({
        "url": url,
        "issuer": config.issuer,
        "store": format!("{:?}", config.store),
        "metrics": metrics_url(metrics),
        "demo_page": has_demo_page(config).then(|| format!("{url}/")),
        "development": development,
        "warnings": warnings,
    })
    .to_string()
}

/// The startup banner: where the server listens and, in the development setup, the
/// generated API keys with a loud warning, and the [`warnings`].
pub fn banner(
    config: &Config,
    addr: SocketAddr,
    metrics: Option<SocketAddr>,
    warnings: &[String],
) -> String {
    let mut text = format!(
        "jwtkit listening on http://{addr}\nissuer: {} (metadata: {}{})\n",
        config.issuer,
        config.public_url,
        crate::routes::AS_METADATA.path
    );
    text.push_str(&format!("store: {:?}\n", config.store));
    if let Some(url) = metrics_url(metrics) {
        text.push_str(&format!("metrics: {url}\n"));
    }
    if has_demo_page(config) {
        text.push_str(&format!("demo page: http://{addr}/\n"));
    }
    for warning in warnings {
        text.push_str(&format!("\nWARNING: {warning}\n"));
    }
    if let Some(dev) = &config.dev {
        text.push_str(
            "\n  ****************************************************************\n  \
             *  DEVELOPMENT SETUP: nothing was configured, so jwtkit made an *\n  \
             *  ephemeral EdDSA signing key, these API keys and a person's   *\n  \
             *  password. Tokens die with the process. Never use this setup  *\n  \
             *  in production.                                               *\n  \
             ****************************************************************\n\n",
        );
        for (name, key, roles) in &dev.api_keys {
            text.push_str(&format!(
                "  API key {name:<10} (roles: {}): {key}\n",
                roles.join(", ")
            ));
        }
        text.push_str(&format!(
            "  Sign in as {:<10} password: {}\n  OpenID client {} (public, PKCE), redirect URI {}/\n",
            dev.user.0,
            dev.user.1,
            crate::config::DEMO_CLIENT_ID,
            config.public_url
        ));
        let example = dev
            .api_keys
            .first()
            .map(|(_, key, _)| key.as_str())
            .unwrap_or("...");
        text.push_str(&format!(
            "\n  Try it:\n    curl -s -X POST http://{addr}/api/v3/auth -H 'content-type: application/json' \\\n      -d '{{\"api-key\": \"{example}\"}}'\n"
        ));
    }
    text
}
