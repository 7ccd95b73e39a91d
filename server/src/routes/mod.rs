//! The API: the tutorial's endpoints, done right. [`ROUTES`] declares each route once
//! (method, path, what it does); the filters are built from it and the README's table is
//! checked against it.
//!
//! - [`auth`]: `POST /api/v3/auth`, an API key for an access token;
//! - [`protected`]: the public and the token-protected endpoints;
//! - [`meta`]: the key set, liveness, and the demo page's files.

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
use crate::ratelimit::FailureLimiter;
use crate::time::SharedClock;

mod auth;
mod meta;
mod protected;

pub use auth::MAX_AUTH_BODY_BYTES;

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

/// Every route of the API, in the README's order.
pub const ROUTES: &[Route] = &[AUTH, HOME, SECRET, ADMIN, JWKS, HEALTHZ];

impl Route {
    /// Matches this route's exact path, then its methods (405 for another method).
    fn filter(self) -> impl Filter<Extract = (), Error = Rejection> + Clone {
        warp::path::full()
            .and(warp::method())
            .and_then(move |path: FullPath, method: Method| async move {
                if path.as_str() != self.path {
                    Err(warp::reject::not_found())
                } else if !self.methods.contains(&method) {
                    Err(crate::filters::reject(Problem::MethodNotAllowed))
                } else {
                    Ok(())
                }
            })
            .untuple_one()
    }
}

/// Everything the handlers share.
pub struct AppState {
    auth: Authenticator,
    issuer: TokenIssuer,
    api_keys: ApiKeys,
    limiter: FailureLimiter,
    jwks: Bytes,
    clock: SharedClock,
}

impl AppState {
    /// The state for `config`, reading time from `clock`.
    pub fn new(config: &Config, clock: SharedClock) -> Result<Self, PolicyError> {
        let policy = Validation::builder()
            .expect_issuer(&config.issuer)
            .expect_audience(&config.audience)
            .expect_type(ACCESS_TOKEN_TYPE)
            .require_claim("sub")
            .leeway_seconds(config.leeway_seconds)
            .build()?;
        let verifier = Verifier::new(config.keys.clone(), policy);
        let signer = jwtkit_core::Signer::new(config.signing_key.clone());
        Ok(Self {
            auth: Authenticator::new(verifier, clock.clone()),
            issuer: TokenIssuer::new(signer, &config.issuer, &config.audience, config.token_ttl),
            api_keys: config.api_keys.clone(),
            limiter: FailureLimiter::new(config.auth_failure_limit, config.auth_failure_window),
            jwks: Bytes::from(config.keys.to_public_jwks().to_json()),
            clock,
        })
    }

    /// The authenticator, for protecting further routes.
    pub fn authenticator(&self) -> &Authenticator {
        &self.auth
    }
}

/// Every route, with rejections recovered, CORS (when origins are configured) and one log
/// line per request.
pub fn app(
    state: Arc<AppState>,
    cors_origins: &[String],
    web_dir: Option<PathBuf>,
) -> BoxedFilter<(Response,)> {
    let api = auth::route(state.clone())
        .or(protected::home())
        .unify()
        .or(protected::secret(state.auth.clone()))
        .unify()
        .or(protected::admin(state.auth.clone()))
        .unify()
        .or(meta::jwks(state))
        .unify()
        .or(meta::healthz())
        .unify();
    let routes = match web_dir {
        None => api.boxed(),
        Some(dir) => api.or(meta::static_files(dir)).unify().boxed(),
    };
    tail(routes, cors_origins)
}

/// The tail every request passes: rejections recovered into the error table's responses,
/// CORS when origins are configured (its own refusals recovered too), one log line.
fn tail(routes: BoxedFilter<(Response,)>, cors_origins: &[String]) -> BoxedFilter<(Response,)> {
    let log = warp::log::custom(|info| {
        tracing::info!(
            target: "jwtkit::http",
            method = %info.method(),
            path = info.path(),
            status = info.status().as_u16(),
            latency_ms = info.elapsed().as_secs_f64() * 1000.0,
        );
    });
    let recovered = routes.recover(recover).unify().map(Reply::into_response);
    if cors_origins.is_empty() {
        return recovered.with(log).map(Reply::into_response).boxed();
    }
    let cors = warp::cors()
        .allow_origins(cors_origins.iter().map(String::as_str))
        .allow_methods([Method::GET, Method::POST])
        .allow_headers(["authorization", "content-type"])
        .expose_headers(["www-authenticate", "retry-after", "date"])
        .max_age(600);
    recovered
        .with(cors)
        .map(Reply::into_response)
        .recover(recover)
        .unify()
        .with(log)
        .map(Reply::into_response)
        .boxed()
}
