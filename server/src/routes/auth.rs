//! `POST /api/v3/auth`: an API key for an access token (the tutorial's `GET` with a JSON body
//! is accepted too).

use std::net::SocketAddr;
use std::sync::Arc;

use bytes::{Buf, Bytes};
use futures_util::{Stream, StreamExt};
use serde_json::{Value, json};
use warp::http::header::{CACHE_CONTROL, HeaderValue, PRAGMA};
use warp::reply::Response;
use warp::{Filter, Rejection, Reply};

use super::{AUTH, AppState};
use crate::error::{ApiError, BodyFault, Problem};
use crate::filters::reject;

/// The largest `/api/v3/auth` request body accepted.
pub const MAX_AUTH_BODY_BYTES: usize = 4 * 1024;

/// The name of the member that carries the API key (the tutorial's).
const API_KEY_MEMBER: &str = "api-key";

/// The route.
pub(super) fn route(
    state: Arc<AppState>,
) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    AUTH.filter()
        .and(warp::any().map(move || state.clone()))
        .and(warp::addr::remote())
        .and(warp::header::optional::<String>("content-type"))
        .and(limited_body(MAX_AUTH_BODY_BYTES))
        .and_then(issue_token)
}

/// Reads the body, refusing more than `limit` bytes (with or without `Content-Length`).
fn limited_body(limit: usize) -> impl Filter<Extract = (Bytes,), Error = Rejection> + Clone {
    warp::header::optional::<u64>("content-length")
        .and_then(move |length: Option<u64>| async move {
            match length {
                Some(length) if length > limit as u64 => {
                    Err(reject(Problem::PayloadTooLarge { limit }))
                }
                _ => Ok(()),
            }
        })
        .untuple_one()
        .and(warp::body::stream())
        .and_then(move |stream| read_limited(stream, limit))
}

async fn read_limited<S, B>(stream: S, limit: usize) -> Result<Bytes, Rejection>
where
    S: Stream<Item = Result<B, warp::Error>>,
    B: Buf,
{
    let mut stream = std::pin::pin!(stream);
    let mut body = Vec::new();
    while let Some(chunk) = stream.next().await {
        let mut chunk = chunk.map_err(|_| reject(Problem::BodyUnreadable))?;
        if body.len() + chunk.remaining() > limit {
            return Err(reject(Problem::PayloadTooLarge { limit }));
        }
        while chunk.has_remaining() {
            let part = chunk.chunk();
            body.extend_from_slice(part);
            let n = part.len();
            chunk.advance(n);
        }
    }
    Ok(Bytes::from(body))
}

async fn issue_token(
    state: Arc<AppState>,
    remote: Option<SocketAddr>,
    content_type: Option<String>,
    body: Bytes,
) -> Result<Response, Rejection> {
    let now = state
        .clock
        .now()
        .map_err(|e| reject(ApiError::from_core(&e.into())))?;
    let ip = remote.map(|addr| addr.ip());
    if let Some(wait) = ip.and_then(|ip| state.limiter.blocked(ip, now)) {
        return Err(reject(
            ApiError::from(Problem::TooManyFailedAttempts).with_retry_after(wait),
        ));
    }
    let is_json = content_type
        .as_deref()
        .and_then(|ct| ct.split(';').next())
        .is_some_and(|mime| mime.trim().eq_ignore_ascii_case("application/json"));
    if !is_json {
        return Err(reject(Problem::UnsupportedMediaType));
    }
    let presented =
        api_key(&body).map_err(|fault| reject(Problem::InvalidRequestBody { fault }))?;
    let Some(entry) = state.api_keys.find(&presented) else {
        if let Some(ip) = ip {
            state.limiter.record_failure(ip, now);
        }
        tracing::info!(target: "jwtkit::auth", client = ?ip, "unknown API key");
        return Err(reject(Problem::ApiKeyInvalid));
    };
    let issued = state
        .issuer
        .issue(entry.name(), entry.roles(), now)
        .map_err(|e| {
            tracing::error!(target: "jwtkit::auth", error = %e, "cannot issue a token");
            reject(Problem::Internal)
        })?;
    tracing::info!(target: "jwtkit::auth", sub = entry.name(), "token issued");
    let mut response = warp::reply::json(&json!({ "data": {
        "code": 200,
        "message": "Token issued.",
        "token": issued.token,
        "token_type": "Bearer",
        "expires_in": issued.expires_in,
        "expiration_at": issued.expires_at_rfc3339(),
    }}))
    .into_response();
    let headers = response.headers_mut();
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(PRAGMA, HeaderValue::from_static("no-cache"));
    Ok(response)
}

/// The presented API key: the string member `"api-key"` of a JSON object.
fn api_key(body: &[u8]) -> Result<String, BodyFault> {
    let body: Value = serde_json::from_slice(body).map_err(|_| BodyFault::NotJson)?;
    match body.as_object().map(|object| object.get(API_KEY_MEMBER)) {
        None => Err(BodyFault::NotAnObject),
        Some(None) => Err(BodyFault::MemberMissing(API_KEY_MEMBER)),
        Some(Some(Value::String(key))) => Ok(key.clone()),
        Some(Some(_)) => Err(BodyFault::NotAString(API_KEY_MEMBER)),
    }
}
