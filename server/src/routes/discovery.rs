//! Authorization server metadata (RFC 8414), also at OpenID Connect's discovery path for the
//! clients that only look there: the issuer, where the endpoints are (under the public URL),
//! and what they take. Built once from the configuration.

use std::sync::Arc;

use bytes::Bytes;
use serde_json::{Value, json};
use warp::http::header::{CACHE_CONTROL, CONTENT_TYPE, HeaderValue};
use warp::reply::Response;
use warp::{Filter, Rejection};

use super::client::CLIENT_AUTH_METHODS;
use super::oauth::GRANT_TYPES;
use super::{AS_METADATA, AppState, INTROSPECT, JWKS, OIDC_CONFIGURATION, REVOKE, TOKEN};
use crate::config::Config;

/// How long clients may cache the metadata.
const MAX_AGE_SECONDS: u32 = 300;

/// The metadata document of a server configured by `config`.
pub(super) fn document(config: &Config) -> Value {
    let url = |path: &str| format!("{}{path}", config.public_url);
    let mut algorithms: Vec<&str> = config.keys.iter().map(|k| k.algorithm().as_str()).collect();
    algorithms.sort_unstable();
    algorithms.dedup();
    let mut scopes: Vec<&str> = config
        .api_keys
        .iter()
        .flat_map(|key| key.roles().iter().map(String::as_str))
        .collect();
    scopes.sort_unstable();
    scopes.dedup();
    let mut revocation_auth_methods = CLIENT_AUTH_METHODS.to_vec();
    revocation_auth_methods.push("none");
    json!({
        "issuer": config.issuer,
        "token_endpoint": url(TOKEN.path),
        "jwks_uri": url(JWKS.path),
        "revocation_endpoint": url(REVOKE.path),
        "introspection_endpoint": url(INTROSPECT.path),
        "grant_types_supported": GRANT_TYPES,
        // No authorization endpoint: no response type is supported.
        "response_types_supported": [],
        "scopes_supported": scopes,
        "token_endpoint_auth_methods_supported": CLIENT_AUTH_METHODS,
        // Possession of a token is enough to revoke it; credentials, when given, are checked.
        "revocation_endpoint_auth_methods_supported": revocation_auth_methods,
        "introspection_endpoint_auth_methods_supported": CLIENT_AUTH_METHODS,
        // The algorithms of the access tokens (RFC 9068), whose keys `jwks_uri` holds.
        "access_token_signing_alg_values_supported": algorithms,
    })
}

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
