//! `POST /api/v3/auth`: an API key for an access token and a new session (the tutorial's
//! `GET` with a JSON body is accepted too). The refresh token comes in the body, or with
//! `"refresh_token_delivery": "cookie"` in an `HttpOnly` cookie.

use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use warp::http::{HeaderMap, Method};
use warp::reply::Response;
use warp::{Filter, Rejection};

use super::session::{Delivery, grant_response};
use super::state::{AppState, session_rejection};
use super::table::AUTH;
use crate::error::Problem;
use crate::filters::body::{body, json_object, required_member};
use crate::filters::reject;
use crate::store::Endpoint;

/// The member that carries the API key (the tutorial's).
const API_KEY_MEMBER: &str = "api-key";

/// The route.
pub(super) fn route(
    state: Arc<AppState>,
) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    AUTH.filter()
        .and(warp::any().map(move || state.clone()))
        .and(warp::addr::remote())
        .and(warp::method())
        .and(warp::header::headers_cloned())
        .and(body())
        .and_then(issue_token)
}

async fn issue_token(
    state: Arc<AppState>,
    remote: Option<SocketAddr>,
    method: Method,
    headers: HeaderMap,
    mime: Option<String>,
    body: Bytes,
) -> Result<Response, Rejection> {
    let now = state.now()?;
    let proof = state
        .proof(&headers, method.as_str(), AUTH, now)
        .map_err(reject)?;
    let object = json_object(mime.as_deref(), &body)?;
    let presented = required_member(&object, API_KEY_MEMBER)?;
    let delivery = Delivery::requested(&object)?.unwrap_or(Delivery::Body);
    let attempt = state.limiter.key(remote, &headers);
    let found = state.api_keys.find(presented);
    if found.is_none() {
        tracing::info!(target: "jwtkit::auth", client = %attempt, "unknown API key");
    }
    let entry = state
        .limited(&attempt, now, found, Problem::ApiKeyInvalid)
        .await
        .map_err(reject)?;
    // Remembered once the API key is known: an anonymous proof writes nothing.
    let jkt = state.remember(proof, now).await.map_err(reject)?;
    let grant = state
        .sessions
        .start(
            entry.name(),
            entry.roles(),
            Endpoint::Auth,
            jkt.as_deref(),
            now,
        )
        .await
        .map_err(|e| session_rejection(&state, e))?;
    tracing::info!(target: "jwtkit::auth", sub = entry.name(), "token issued");
    Ok(grant_response(&grant, delivery, "Token issued."))
}
