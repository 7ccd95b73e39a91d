//! The public endpoint and the token-protected ones.

use jwtkit_core::Claims;
use warp::http::header::{CONTENT_TYPE, HeaderValue};
use warp::reply::Response;
use warp::{Filter, Rejection, Reply};

use super::{ADMIN, HOME, SECRET};
use crate::filters::{Authenticator, authenticated, require_role};

/// `GET /api/v3/home`: public.
pub(super) fn home() -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    HOME.filter().map(|| "hello world".into_response())
}

/// `GET /api/v3/secret`: any valid token.
pub(super) fn secret(
    auth: Authenticator,
) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    SECRET
        .filter()
        .and(authenticated(auth))
        .map(|claims: Claims| {
            greeting(
                "This is a secret message, for clients with a valid token only.",
                &claims,
            )
        })
}

/// `GET /api/v3/admin`: a valid token with the role `admin`.
pub(super) fn admin(
    auth: Authenticator,
) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    ADMIN
        .filter()
        .and(authenticated(auth).and_then(require_role("admin")))
        .map(|claims: Claims| greeting("Welcome to the admin area.", &claims))
}

/// `{"data":{"code":200,"message":…,"sub":…}}`, written directly: this is the hot path of
/// every protected request, so no JSON tree is built for it.
fn greeting(message: &'static str, claims: &Claims) -> Response {
    let sub = claims.sub().map_or_else(|| "null".to_owned(), json_string);
    let body = format!(
        r#"{{"data":{{"code":200,"message":{},"sub":{sub}}}}}"#,
        json_string(message)
    );
    let mut response = Response::new(body.into());
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

/// `text` as a JSON string literal.
fn json_string(text: &str) -> String {
    serde_json::Value::from(text).to_string()
}
