//! The API: the tutorial's endpoints, done right, and the session lifecycle. [`ROUTES`]
//! declares each route once (method, path, what it does); the filters are built from it and
//! the README's table is checked against it.
//!
//! - `auth`: `POST /api/v3/auth`, an API key for an access token and a session;
//! - `session`: refresh, logout, RFC 7009 revocation, and the refresh-token cookie;
//! - `oauth`: the OAuth 2.0 token endpoint and RFC 7662 introspection, with `client`
//!   authentication, and `discovery`: the RFC 8414 metadata;
//! - `protected`: the public and the token-protected endpoints;
//! - `meta`: the key set, liveness, readiness, metrics, and the demo page's files;
//! - `body`: reading request bodies.

use std::path::PathBuf;
use std::sync::Arc;

use bytes::Bytes;
use jwtkit_core::{PolicyError, Validation, Verifier};
use warp::filters::BoxedFilter;
use warp::http::Method;
use warp::path::FullPath;
use warp::reply::Response;
use warp::{Filter, Rejection, Reply};

use crate::apikeys::ApiKeys;
use crate::config::Config;
use crate::error::Problem;
use crate::filters::{Authenticator, recover};
use crate::issuer::{ACCESS_TOKEN_TYPE, TokenIssuer};
use crate::metrics::Metrics;
use crate::ratelimit::AuthLimiter;
use crate::revocations::Revocations;
use crate::sessions::{SessionRules, Sessions};
use crate::store::Store;
use crate::store::instrumented::Instrumented;
use crate::time::SharedClock;

mod auth;
mod body;
mod client;
mod discovery;
mod meta;
mod oauth;
mod page;

pub use page::embedded as demo_built_in;
mod protected;
mod session;

pub use body::MAX_BODY_BYTES;
pub use client::CLIENT_AUTH_METHODS;
pub use oauth::{GRANT_TYPES, INTROSPECT_ROLE};
pub use session::{CSRF_HEADER, REFRESH_COOKIE};

/// One route of the API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    /// The methods it answers.
    pub methods: &'static [Method],
    /// Its exact path.
    pub path: &'static str,
    /// What it does, for the documentation.
    pub summary: &'static str,
}

/// `POST /api/v3/auth` (also the tutorial's `GET` with a JSON body).
pub const AUTH: Route = Route {
    methods: &[Method::POST, Method::GET],
    path: "/api/v3/auth",
    summary: "an API key for an access token",
};
/// `POST /api/v3/auth/refresh`.
pub const REFRESH: Route = Route {
    methods: &[Method::POST],
    path: jwtkit_core::protocol::REFRESH_PATH,
    summary: "a refresh token for a new access token and the next refresh token",
};
/// `POST /api/v3/auth/logout`.
pub const LOGOUT: Route = Route {
    methods: &[Method::POST],
    path: jwtkit_core::protocol::LOGOUT_PATH,
    summary: "ends a session",
};
/// `POST /api/v3/auth/revoke`.
pub const REVOKE: Route = Route {
    methods: &[Method::POST],
    path: "/api/v3/auth/revoke",
    summary: "RFC 7009 token revocation",
};
/// `POST /oauth2/token`.
pub const TOKEN: Route = Route {
    methods: &[Method::POST],
    path: "/oauth2/token",
    summary: "RFC 6749 token endpoint: `client_credentials` and `refresh_token` grants",
};
/// `POST /oauth2/introspect`.
pub const INTROSPECT: Route = Route {
    methods: &[Method::POST],
    path: "/oauth2/introspect",
    summary: "RFC 7662 token introspection, for authenticated clients",
};
/// `GET /.well-known/oauth-authorization-server`.
pub const AS_METADATA: Route = Route {
    methods: &[Method::GET],
    path: "/.well-known/oauth-authorization-server",
    summary: "RFC 8414 authorization server metadata",
};
/// `GET /.well-known/openid-configuration`.
pub const OIDC_CONFIGURATION: Route = Route {
    methods: &[Method::GET],
    path: "/.well-known/openid-configuration",
    summary: "the same metadata, where OpenID Connect discovery looks",
};
/// `GET /api/v3/home`.
pub const HOME: Route = Route {
    methods: &[Method::GET],
    path: "/api/v3/home",
    summary: "public",
};
/// `GET /api/v3/secret`.
pub const SECRET: Route = Route {
    methods: &[Method::GET],
    path: "/api/v3/secret",
    summary: "any valid access token",
};
/// `GET /api/v3/admin`.
pub const ADMIN: Route = Route {
    methods: &[Method::GET],
    path: "/api/v3/admin",
    summary: "a valid access token with the role `admin`",
};
/// `GET /.well-known/jwks.json`.
pub const JWKS: Route = Route {
    methods: &[Method::GET],
    path: "/.well-known/jwks.json",
    summary: "the public verification keys",
};
/// `GET /healthz`.
pub const HEALTHZ: Route = Route {
    methods: &[Method::GET],
    path: "/healthz",
    summary: "liveness",
};

/// `GET /readyz`.
pub const READYZ: Route = Route {
    methods: &[Method::GET],
    path: "/readyz",
    summary: "readiness: the store answers",
};
/// `GET /metrics`, on its own listener (`metrics_bind`), not the API's.
pub const METRICS: Route = Route {
    methods: &[Method::GET],
    path: "/metrics",
    summary: "Prometheus metrics",
};

/// Every route of the API, in the README's order.
pub const ROUTES: &[Route] = &[
    AUTH,
    REFRESH,
    LOGOUT,
    REVOKE,
    TOKEN,
    INTROSPECT,
    HOME,
    SECRET,
    ADMIN,
    JWKS,
    AS_METADATA,
    OIDC_CONFIGURATION,
    HEALTHZ,
    READYZ,
];

impl Route {
    /// Matches this route's exact path, then its methods (405 for another method).
    fn filter(self) -> impl Filter<Extract = (), Error = Rejection> + Clone {
        warp::path::full()
            .and(warp::method())
            .and_then(move |path: FullPath, method: Method| {
                std::future::ready(if path.as_str() != self.path {
                    Err(warp::reject::not_found())
                } else if !self.methods.contains(&method) {
                    Err(crate::filters::reject(Problem::MethodNotAllowed))
                } else {
                    Ok(())
                })
            })
            .untuple_one()
    }
}

/// Everything the handlers share.
pub struct AppState {
    auth: Authenticator,
    sessions: Sessions,
    api_keys: ApiKeys,
    limiter: AuthLimiter,
    store: Arc<dyn Store>,
    revocations: Arc<Revocations>,
    metrics: Arc<Metrics>,
    readiness: meta::Readiness,
    cors_origins: Vec<String>,
    jwks: Bytes,
    metadata: Bytes,
    clock: SharedClock,
}

impl AppState {
    /// The state for `config`, keeping sessions in `store` and reading time from `clock`.
    pub fn new(
        config: &Config,
        clock: SharedClock,
        store: Arc<dyn Store>,
    ) -> Result<Self, PolicyError> {
        let policy = Validation::builder()
            .expect_issuer(&config.issuer)
            .expect_audience(&config.audience)
            .expect_type(ACCESS_TOKEN_TYPE)
            .require_claim("sub")
            .leeway_seconds(config.leeway_seconds)
            .build()?;
        let verifier = Verifier::new(config.keys.clone(), policy);
        let signer = jwtkit_core::Signer::new(config.signing_key.clone());
        let revocations = Arc::new(Revocations::new());
        let metrics = Arc::new(Metrics::new());
        let store: Arc<dyn Store> = Arc::new(Instrumented::new(store, metrics.clone()));
        let rules = SessionRules {
            idle: config.refresh_idle_ttl,
            absolute: config.refresh_absolute_ttl,
            grace: config.refresh_grace,
            access_lifetime: config.token_ttl
                + std::time::Duration::from_secs(u64::from(config.leeway_seconds)),
            leeway: std::time::Duration::from_secs(u64::from(config.leeway_seconds)),
            max_per_subject: config.max_sessions_per_subject,
        };
        let issuer = TokenIssuer::new(signer, &config.issuer, &config.audience, config.token_ttl);
        Ok(Self {
            auth: Authenticator::with_revocations(
                verifier,
                clock.clone(),
                config.token_cache_bytes,
                revocations.clone(),
            ),
            sessions: Sessions::new(
                store.clone(),
                issuer,
                revocations.clone(),
                rules,
                config.api_keys.clone(),
            ),
            api_keys: config.api_keys.clone(),
            limiter: AuthLimiter::new(
                config.auth_failure_limit,
                config.auth_failure_window,
                config.trusted_proxies.clone(),
                config.forwarded_header,
            ),
            store,
            revocations,
            metrics,
            readiness: meta::Readiness::default(),
            cors_origins: config.cors_origins.clone(),
            jwks: Bytes::from(config.keys.to_public_jwks().to_json()),
            metadata: Bytes::from(discovery::document(config).to_string()),
            clock,
        })
    }

    /// The authenticator, for protecting further routes.
    pub fn authenticator(&self) -> &Authenticator {
        &self.auth
    }

    /// The outcome of an authentication (an API key or client credentials) of the client
    /// `attempt` names, judged against the failure limit: a failure is counted, and over
    /// the limit it is a 429 with `Retry-After` rather than `failure`; a success is a 429
    /// too while the failures are at the limit (so guesses past the limit learn nothing);
    /// 503 when the store cannot count.
    async fn limited<T>(
        &self,
        attempt: &str,
        now: jwtkit_core::UnixTime,
        found: Option<T>,
        failure: Problem,
    ) -> Result<T, crate::error::ApiError> {
        let store = self.store.as_ref();
        let admission = match &found {
            Some(_) => self.limiter.succeeded(store, attempt, now).await,
            None => self.limiter.failed(store, attempt, now).await,
        };
        match admission {
            Ok(crate::ratelimit::Admission::Allowed) => found.ok_or_else(|| failure.into()),
            Ok(crate::ratelimit::Admission::Blocked(wait)) => {
                Err(crate::error::ApiError::from(Problem::TooManyFailedAttempts)
                    .with_retry_after(wait))
            }
            Err(error) => Err(session::session_error(
                self,
                crate::sessions::SessionError::Store(error),
            )),
        }
    }

    fn guard(&self) -> protected::Guard {
        protected::Guard {
            auth: self.auth.clone(),
            metrics: self.metrics.clone(),
        }
    }

    /// This instance's view of the revocations (kept in step by [`crate::serve`]).
    pub fn revocations(&self) -> &Arc<Revocations> {
        &self.revocations
    }

    /// The store.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// `now` from the clock (a failed read is a 503, never a guess).
    fn now(&self) -> Result<jwtkit_core::UnixTime, Rejection> {
        self.now_or_error().map_err(crate::filters::reject)
    }

    /// [`AppState::now`] as an error response.
    fn now_or_error(&self) -> Result<jwtkit_core::UnixTime, crate::error::ApiError> {
        self.clock
            .now()
            .map_err(|e| crate::error::ApiError::from_core(&e.into()))
    }
}

/// Every route, with rejections recovered, CORS (when origins are configured) and one log
/// line per request.
pub fn app(
    state: Arc<AppState>,
    cors_origins: &[String],
    web_dir: Option<PathBuf>,
) -> BoxedFilter<(Response,)> {
    // The most requested routes first: each route tried before costs a path comparison.
    let guard = state.guard();
    let api = protected::home()
        .or(protected::secret(guard.clone()))
        .unify()
        .or(protected::admin(guard.clone()))
        .unify()
        .or(auth::route(state.clone()))
        .unify()
        .or(session::refresh(state.clone()))
        .unify()
        .or(session::logout(state.clone()))
        .unify()
        .or(session::revoke(state.clone()))
        .unify()
        .or(oauth::token(state.clone()))
        .unify()
        .or(oauth::introspect(state.clone()))
        .unify()
        .or(meta::jwks(state.clone()))
        .unify()
        .or(discovery::metadata(state.clone()))
        .unify()
        .or(meta::healthz())
        .unify()
        .or(meta::readyz(state.clone()))
        .unify();
    let routes = api.or(page::files(web_dir)).unify().boxed();
    tail(routes, cors_origins, state.metrics.clone())
}

/// What the metrics listener serves: `GET /metrics` of `state`'s server.
pub fn metrics_app(state: &AppState) -> BoxedFilter<(Response,)> {
    management(state.guard())
}

fn management(guard: protected::Guard) -> BoxedFilter<(Response,)> {
    meta::metrics(guard)
        .recover(recover)
        .unify()
        .map(Reply::into_response)
        .boxed()
}

/// The routes of a pure resource server, which trusts another issuer's tokens (`auth` made
/// by [`Authenticator::remote`]): the public and protected endpoints, liveness and
/// readiness (ready once it holds the issuer's keys); and its metrics listener's.
pub fn resource_apps(
    auth: Authenticator,
    cors_origins: &[String],
) -> (BoxedFilter<(Response,)>, BoxedFilter<(Response,)>) {
    let guard = protected::Guard {
        auth,
        metrics: Arc::new(Metrics::new()),
    };
    let routes = protected::home()
        .or(protected::secret(guard.clone()))
        .unify()
        .or(protected::admin(guard.clone()))
        .unify()
        .or(meta::healthz())
        .unify()
        .or(meta::remote_readyz(guard.auth.clone()))
        .unify()
        .boxed();
    (
        tail(routes, cors_origins, guard.metrics.clone()),
        management(guard),
    )
}

/// The tail every request passes: rejections recovered into the error table's responses,
/// CORS when origins are configured (its own refusals recovered too), one log line.
fn tail(
    routes: BoxedFilter<(Response,)>,
    cors_origins: &[String],
    metrics: Arc<Metrics>,
) -> BoxedFilter<(Response,)> {
    let log = warp::log::custom(move |info| {
        metrics.request(info.path(), info.status().as_u16());
        tracing::info!(
            target: "jwtkit::http",
            method = %info.method(),
            path = info.path(),
            status = info.status().as_u16(),
            latency_ms = info.elapsed().as_secs_f64() * 1000.0,
        );
    });
    let recovered = routes
        .recover(recover)
        .unify()
        .map(Reply::into_response)
        .boxed();
    if cors_origins.is_empty() {
        return recovered.with(log).map(Reply::into_response).boxed();
    }
    let cors = warp::cors()
        .allow_origins(cors_origins.iter().map(String::as_str))
        .allow_methods([Method::GET, Method::POST])
        .allow_headers(["authorization", "content-type", CSRF_HEADER])
        .allow_credentials(true)
        .expose_headers(["www-authenticate", "retry-after", "date"])
        .max_age(600);
    // Requests without an Origin, or from this server's own, are not cross-origin: CORS
    // (which would refuse an origin missing from the list) applies to the others only.
    let cross_origin = recovered
        .clone()
        .with(cors)
        .map(Reply::into_response)
        .recover(recover)
        .unify();
    same_origin()
        .and(recovered)
        .or(cross_origin)
        .unify()
        .with(log)
        .map(Reply::into_response)
        .boxed()
}

/// Passes requests without `Origin`, or whose `Origin` names this server (its authority is
/// the `Host`).
fn same_origin() -> impl Filter<Extract = (), Error = Rejection> + Clone {
    warp::header::optional::<String>("origin")
        .and(warp::header::optional::<String>("host"))
        .and_then(|origin: Option<String>, host: Option<String>| async move {
            let authority = origin.as_deref().map(|origin| {
                origin
                    .strip_prefix("https://")
                    .or_else(|| origin.strip_prefix("http://"))
            });
            match authority {
                None => Ok(()),
                Some(authority) if authority.is_some() && authority == host.as_deref() => Ok(()),
                Some(_) => Err(warp::reject::not_found()),
            }
        })
        .untuple_one()
}
