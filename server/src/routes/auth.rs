//! `POST /api/v3/auth`: an API key for an access token and a new session (the tutorial's
//! `GET` with a JSON body is accepted too). The refresh token comes in the body, or with
//! `"refresh_token_delivery": "cookie"` in an `HttpOnly` cookie.

use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use warp::http::HeaderMap;
use warp::reply::Response;
use warp::{Filter, Rejection};

use super::body::{body, json_object, required_member};
use super::session::{Delivery, grant_response, session_rejection};
use super::{AUTH, AppState};
use crate::error::Problem;
use crate::filters::reject;

/// The member that carries the API key (the tutorial's).
const API_KEY_MEMBER: &str = "api-key";

/// The route.
pub(super) fn route(
    state: Arc<AppState>,
) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    AUTH.filter()
        .and(warp::any().map(move || state.clone()))
        .and(warp::addr::remote())
        .and(warp::header::headers_cloned())
        .and(body())
        .and_then(issue_token)
}

async fn issue_token(
    state: Arc<AppState>,
    remote: Option<SocketAddr>,
    headers: HeaderMap,
    mime: Option<String>,
    body: Bytes,
) -> Result<Response, Rejection> {
    let now = state.now()?;
    let attempt = state.limiter.key(remote, &headers);
    state.admit(&attempt, now).await.map_err(reject)?;
    let object = json_object(mime.as_deref(), &body)?;
    let presented = required_member(&object, API_KEY_MEMBER)?;
    let delivery = Delivery::requested(&object)?.unwrap_or(Delivery::Body);
    let Some(entry) = state.api_keys.find(presented) else {
        tracing::info!(target: "jwtkit::auth", client = %attempt, "unknown API key");
        return Err(reject(Problem::ApiKeyInvalid));
    };
    if let Err(error) = state.store.forget_attempt(attempt).await {
        // The attempt stays counted: a little stricter, never looser.
        tracing::warn!(target: "jwtkit::auth", %error, "cannot take back a successful attempt");
    }
    let grant = state
        .sessions
        .start(entry.name(), entry.roles(), now)
        .await
        .map_err(|e| session_rejection(&state, e))?;
    tracing::info!(target: "jwtkit::auth", sub = entry.name(), "token issued");
    Ok(grant_response(&grant, delivery, "Token issued."))
}
