//! Running the server: the store and its background tasks, binding, the startup banner,
//! graceful shutdown.

use std::fmt;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use jwtkit_core::PolicyError;
use tokio::net::TcpListener;

use crate::config::{Config, ResourceConfig};
use crate::remote::{RemoteKeys, RemoteOptions};
use crate::revocations;
use crate::routes::{AppState, app};
use crate::store::{self, Store, StoreError};
use crate::time::SharedClock;

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
}

impl fmt::Display for ServeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Policy(error) => error.fmt(f),
            Self::Store(error) => error.fmt(f),
            Self::Remote(error) => write!(f, "cannot fetch the trusted issuer's keys: {error}"),
        }
    }
}

impl std::error::Error for ServeError {}

/// Serves the API on `listener` until `shutdown` resolves, then finishes in-flight requests.
/// Opens the configured store, keeps this instance's revocations in step with it, and prunes
/// it while serving.
pub async fn serve(
    config: &Config,
    listener: TcpListener,
    clock: SharedClock,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    let store = store::open(&config.store)
        .await
        .map_err(ServeError::Store)?;
    serve_with_store(config, listener, clock, store, shutdown).await
}

/// [`serve`] with a store already opened.
pub async fn serve_with_store(
    config: &Config,
    listener: TcpListener,
    clock: SharedClock,
    store: Arc<dyn Store>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    let config = &match listener.local_addr() {
        Ok(addr) => config.listening_on(addr),
        Err(_) => config.clone(),
    };
    let state = Arc::new(AppState::new(config, clock.clone(), store).map_err(ServeError::Policy)?);
    let watcher = tokio::spawn(revocations::watch(
        state.store().clone(),
        state.revocations().clone(),
        clock.clone(),
    ));
    let pruner = tokio::spawn(prune(state.store().clone(), clock));
    warp::serve(app(state, &config.cors_origins, config.web_dir.clone()))
        .incoming(listener)
        .graceful(shutdown)
        .run()
        .await;
    watcher.abort();
    pruner.abort();
    Ok(())
}

/// Serves a pure resource server on `listener` until `shutdown` resolves, verifying with
/// `auth` (from [`resource_authenticator`]).
pub async fn serve_resource(
    config: &ResourceConfig,
    auth: crate::filters::Authenticator,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    warp::serve(crate::routes::resource_app(auth, &config.cors_origins))
        .incoming(listener)
        .graceful(shutdown)
        .run()
        .await;
}

/// The authenticator of a resource server: RFC 9068 access tokens of the trusted issuer for
/// the configured audience, under its keys.
pub async fn resource_authenticator(
    config: &ResourceConfig,
    clock: SharedClock,
) -> Result<crate::filters::Authenticator, ServeError> {
    let policy = jwtkit_core::Validation::builder()
        .expect_issuer(&config.trust_issuer)
        .expect_audience(&config.audience)
        .expect_type(crate::issuer::ACCESS_TOKEN_TYPE)
        .require_claim("sub")
        .leeway_seconds(config.leeway_seconds)
        .build()
        .map_err(ServeError::Policy)?;
    let options = RemoteOptions {
        refetch_interval: config.jwks_refetch_interval,
        cache_bytes: config.token_cache_bytes,
        ..RemoteOptions::default()
    };
    let keys = RemoteKeys::discover(&config.trust_issuer, policy, options)
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

/// Resolves on SIGINT (Ctrl-C) or SIGTERM.
pub async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::warn!(%error, "cannot listen for SIGTERM; stop with Ctrl-C");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        result = interrupt => {
            if let Err(error) = result {
                tracing::warn!(%error, "cannot listen for Ctrl-C");
                std::future::pending::<()>().await;
            }
        },
        () = terminate => {},
    }
    tracing::info!(target: "jwtkit", "shutting down: finishing in-flight requests");
}

/// Whether `/` serves the demo page: from `--web-dir`, or built into this binary.
fn has_demo_page(config: &Config) -> bool {
    config.web_dir.is_some() || crate::routes::demo_built_in()
}

/// Where the server listens and, in the development setup, the generated API keys, as one
/// JSON line for scripts: `{"url", "issuer", "demo_page", "development": {"api_keys":
/// [{"name", "key", "roles"}]}}` (`demo_page` and `development` are `null` when there is
/// none).
pub fn banner_json(config: &Config, addr: SocketAddr) -> String {
    let url = format!("http://{addr}");
    let development = config.dev.as_ref().map(|dev| {
        let keys: Vec<_> = dev
            .api_keys
            .iter()
            .map(|(name, key, roles)| serde_json::json!({"name": name, "key": key, "roles": roles}))
            .collect();
        serde_json::json!({ "api_keys": keys })
    });
    serde_json::json!({
        "url": url,
        "issuer": config.issuer,
        "demo_page": has_demo_page(config).then(|| format!("{url}/")),
        "development": development,
    })
    .to_string()
}

/// The startup banner: where the server listens and, in the development setup, the
/// generated API keys with a loud warning.
pub fn banner(config: &Config, addr: SocketAddr) -> String {
    let mut text = format!(
        "jwtkit listening on http://{addr}\nissuer: {} (metadata: {}{})\n",
        config.issuer,
        config.public_url,
        crate::routes::AS_METADATA.path
    );
    if has_demo_page(config) {
        text.push_str(&format!("demo page: http://{addr}/\n"));
    }
    if let Some(dev) = &config.dev {
        text.push_str(
            "\n  ****************************************************************\n  \
             *  DEVELOPMENT SETUP: nothing was configured, so jwtkit made an *\n  \
             *  ephemeral EdDSA signing key and these API keys. Tokens die   *\n  \
             *  with the process. Never use this setup in production.        *\n  \
             ****************************************************************\n\n",
        );
        for (name, key, roles) in &dev.api_keys {
            text.push_str(&format!(
                "  API key {name:<10} (roles: {}): {key}\n",
                roles.join(", ")
            ));
        }
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
