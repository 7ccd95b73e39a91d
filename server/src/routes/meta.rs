//! The public key set, liveness, and the demo page's files.

use std::path::PathBuf;
use std::sync::Arc;

use serde_json::json;
use warp::http::header::{CACHE_CONTROL, CONTENT_TYPE, HeaderValue};
use warp::reply::Response;
use warp::{Filter, Rejection, Reply};

use super::{AppState, HEALTHZ, JWKS};

/// `GET /.well-known/jwks.json`: the public verification keys (RFC 7517 §5).
pub(super) fn jwks(
    state: Arc<AppState>,
) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    JWKS.filter().map(move || {
        let mut response = Response::new(state.jwks.clone().into());
        let headers = response.headers_mut();
        headers.insert(
            CONTENT_TYPE,
            HeaderValue::from_static("application/jwk-set+json"),
        );
        headers.insert(
            CACHE_CONTROL,
            HeaderValue::from_static("public, max-age=300"),
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

/// The demo page's files, with a Content-Security-Policy that allows nothing but this origin
/// (and WebAssembly compilation).
pub(super) fn static_files(
    dir: PathBuf,
) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    const CSP: &str = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; connect-src 'self'; \
                       img-src 'self' data:; style-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
    warp::get()
        .and(warp::fs::dir(dir))
        .map(|file: warp::filters::fs::File| {
            let mut response = file.into_response();
            let headers = response.headers_mut();
            headers.insert("content-security-policy", HeaderValue::from_static(CSP));
            headers.insert(
                "x-content-type-options",
                HeaderValue::from_static("nosniff"),
            );
            headers.insert("referrer-policy", HeaderValue::from_static("no-referrer"));
            headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
            response
        })
}
