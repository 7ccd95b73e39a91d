//! Authorization server metadata (RFC 8414, written by [`crate::oauth::metadata`]), also at
//! OpenID Connect's discovery path for the clients that only look there.

use std::sync::Arc;

use bytes::Bytes;
use warp::http::header::{CACHE_CONTROL, CONTENT_TYPE, HeaderValue};
use warp::reply::Response;
use warp::{Filter, Rejection};

use super::state::AppState;
use super::table::{AS_METADATA, OIDC_CONFIGURATION};

/// How long clients may cache the metadata.
const MAX_AGE_SECONDS: u32 = 300;

/// `GET /.well-known/oauth-authorization-server` and `GET /.well-known/openid-configuration`.
pub(super) fn metadata(
    state: Arc<AppState>,
) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    let oidc = state.clone();
    AS_METADATA
        .filter()
        .map(move || reply(state.metadata.clone()))
        .or(OIDC_CONFIGURATION
            .filter()
            .map(move || reply(oidc.metadata.clone())))
        .unify()
}

fn reply(document: Bytes) -> Response {
    let mut response = Response::new(document.into());
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    headers.insert(
        CACHE_CONTROL,
        HeaderValue::from_str(&format!("public, max-age={MAX_AGE_SECONDS}"))
            .unwrap_or(HeaderValue::from_static("no-cache")),
    );
    response
}
