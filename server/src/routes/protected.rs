//! The public endpoint and the token-protected ones.

use jwtkit_core::Claims;
use warp::http::header::{CONTENT_TYPE, HeaderValue};
use warp::http::{HeaderMap, Method};
use warp::path::FullPath;
use warp::reply::Response;
use warp::{Filter, Rejection, Reply};

use super::state::Guard;
use super::table::{ADMIN, HOME, SECRET};
use crate::filters::{AuthRejection, require_role};

/// `GET /api/v3/home`: public.
pub(super) fn home() -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    HOME.filter().map(|| "hello world".into_response())
}

/// The library's `authenticated` filter, with each refusal counted by its code.
pub(super) fn authenticated(
    guard: Guard,
) -> impl Filter<Extract = (Claims,), Error = Rejection> + Clone {
    warp::method()
        .and(warp::path::full())
        .and(warp::header::headers_cloned())
        .and_then(move |method: Method, path: FullPath, headers: HeaderMap| {
            let guard = guard.clone();
            async move {
                guard
                    .auth
                    .authenticate_request(method.as_str(), path.as_str(), &headers)
                    .await
                    .map_err(|rejection| {
                        if let AuthRejection::InvalidToken(_)
                        | AuthRejection::Revoked(_)
                        | AuthRejection::TokenAsBearer
                        | AuthRejection::Dpop(_) = rejection
                        {
                            guard.metrics.refusal(rejection.to_error().code());
                        }
                        warp::reject::custom(rejection)
                    })
            }
        })
}

/// `GET /api/v3/secret`: any valid token.
pub(super) fn secret(
    guard: Guard,
) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    SECRET
        .filter()
        .and(authenticated(guard))
        .map(|claims: Claims| {
            greeting(
                "This is a secret message, for clients with a valid token only.",
                &claims,
            )
        })
}

/// `GET /api/v3/admin`: a valid token with the role `admin`.
pub(super) fn admin(guard: Guard) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    ADMIN
        .filter()
        .and(authenticated(guard).and_then(require_role("admin")))
        .map(|claims: Claims| greeting("Welcome to the admin area.", &claims))
}

/// `{"data":{"code":200,"message":…,"sub":…}}`, written directly into one buffer: this is
/// the hot path of every protected request, so neither a JSON tree nor a formatting pass.
fn greeting(message: &'static str, claims: &Claims) -> Response {
    let sub = claims.sub();
    let mut body = Vec::with_capacity(64 + message.len() + sub.map_or(4, str::len));
    body.extend_from_slice(br#"{"data":{"code":200,"message":"#);
    write_json_string(&mut body, message);
    body.extend_from_slice(br#","sub":"#);
    match sub {
        Some(sub) => write_json_string(&mut body, sub),
        None => body.extend_from_slice(b"null"),
    }
    body.extend_from_slice(b"}}");
    let mut response = Response::new(body.into());
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

/// `text` as a JSON string literal (serde_json's escaping), appended to `out`.
fn write_json_string(out: &mut Vec<u8>, text: &str) {
    let mut serializer = serde_json::Serializer::new(out);
    #[allow(clippy::expect_used)]
    serde::Serializer::serialize_str(&mut serializer, text)
        .expect("invariant: a string serializes into a Vec without fail");
}
