//! The public key set, liveness, readiness and metrics.

use std::sync::Arc;

use serde_json::json;
use warp::http::header::{CACHE_CONTROL, CONTENT_TYPE, HeaderValue};
use warp::reply::Response;
use warp::{Filter, Rejection, Reply};

use super::state::{AppState, Guard};
use super::table::{HEALTHZ, JWKS, METRICS, READYZ};
use crate::error::{ApiError, Problem};

/// `GET /.well-known/jwks.json`: the public verification keys (RFC 7517 §5).
pub(super) fn jwks(
    state: Arc<AppState>,
) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    JWKS.filter().map(move || {
        let keys = state.keys.in_force();
        let mut response = Response::new(keys.jwks().clone().into());
        let headers = response.headers_mut();
        headers.insert(
            CONTENT_TYPE,
            HeaderValue::from_static("application/jwk-set+json"),
        );
        // Shorter than the announcement period of keys kept in the store: a resource server
        // that honours it has a key before the first token signed with it.
        headers.insert(
            CACHE_CONTROL,
            HeaderValue::from_str(&format!("public, max-age={}", keys.jwks_max_age()))
                .unwrap_or(HeaderValue::from_static("no-cache")),
        );
        response
    })
}

/// `GET /healthz`: liveness.
pub(super) fn healthz() -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    HEALTHZ
        .filter()
        .map(|| warp::reply::json(&json!({"status": "ok"})).into_response())
}

/// `GET /readyz`: 200 when the store answers within a second and the revocation view is in
/// step with it, else 503 (a load balancer then sends traffic elsewhere). The store is asked
/// at most once a second ([`Readiness`](super::state::Readiness)), so probes cannot flood it.
pub(super) fn readyz(
    state: Arc<AppState>,
) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    READYZ.filter().and_then(move || {
        let state = state.clone();
        async move {
            let answers = state.readiness.check(&*state.store).await;
            if answers && state.revocations.in_step() {
                Ok::<_, Rejection>(warp::reply::json(&json!({"status": "ready"})).into_response())
            } else {
                Ok(ApiError::from(Problem::StoreUnavailable).into_response())
            }
        }
    })
}

/// `GET /readyz` of a resource server: 200 once it holds the trusted issuer's keys, 503
/// until then (the issuer was unreachable at start: the keys are fetched again meanwhile).
pub(super) fn remote_readyz(
    auth: crate::filters::Authenticator,
) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    READYZ.filter().map(move || {
        if auth.remote_keys().is_none_or(|remote| remote.has_keys()) {
            warp::reply::json(&json!({"status": "ready"})).into_response()
        } else {
            ApiError::from(Problem::JwksUnavailable).into_response()
        }
    })
}

/// `GET /metrics`: the Prometheus text exposition.
pub(super) fn metrics(
    guard: Guard,
) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    METRICS.filter().map(move || {
        let remote = guard.auth.remote_keys().map(|remote| remote.stats());
        let text = guard.metrics.encode(guard.auth.cache_stats(), remote);
        let mut response = Response::new(text.into());
        response.headers_mut().insert(
            CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
        );
        response
    })
}
