//! The session routes: refresh (rotation with reuse detection), logout, and RFC 7009
//! revocation; and how a grant is delivered — the refresh token in the JSON body, or in an
//! `HttpOnly` cookie out of JavaScript's reach, which then requires a CSRF defence.

use std::sync::Arc;

use bytes::Bytes;
use serde_json::json;
use warp::http::HeaderMap;
use warp::http::header::{CACHE_CONTROL, COOKIE, HOST, HeaderValue, ORIGIN, PRAGMA, SET_COOKIE};
use warp::reply::Response;
use warp::{Filter, Rejection, Reply};

use super::state::{AppState, session_error, session_rejection};
use super::table::{LOGOUT, REFRESH, REVOKE, Route};
use crate::error::{ApiError, BodyFault, CsrfFault, Problem};
use crate::filters::body::{Form, body, json_object, string_member};
use crate::filters::{AuthRejection, reject};
use crate::sessions::{Grant, is_refresh_token};

pub use jwtkit_core::protocol::{CSRF_HEADER, REFRESH_COOKIE};

/// How the refresh token of a grant travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Delivery {
    /// In the JSON body (`refresh_token`).
    Body,
    /// In the `HttpOnly` cookie.
    Cookie,
}

impl Delivery {
    /// The member of an auth or refresh request that asks for a delivery.
    pub(super) const MEMBER: &str = "refresh_token_delivery";

    /// The delivery a request body asks for (`"body"` or `"cookie"`), if it names one.
    pub(super) fn requested(
        object: &serde_json::Map<String, serde_json::Value>,
    ) -> Result<Option<Self>, Rejection> {
        match string_member(object, Self::MEMBER)? {
            None => Ok(None),
            Some("body") => Ok(Some(Self::Body)),
            Some("cookie") => Ok(Some(Self::Cookie)),
            Some(_) => Err(reject(Problem::InvalidRequestBody {
                fault: BodyFault::NotOneOf(Self::MEMBER, "\"body\" or \"cookie\""),
            })),
        }
    }
}

/// What the session handlers take: the state, the headers and the body (with its type).
fn request(
    route: Route,
    state: Arc<AppState>,
) -> impl Filter<Extract = (Arc<AppState>, HeaderMap, Option<String>, Bytes), Error = Rejection> + Clone
{
    route
        .filter()
        .and(warp::any().map(move || state.clone()))
        .and(warp::header::headers_cloned())
        .and(body())
}

/// `POST /api/v3/auth/refresh`: `{"refresh_token": "..."}` (with `"refresh_token_delivery":
/// "cookie"` to have the next one as the cookie), or the cookie with the CSRF defence;
/// answers a new access token and the current refresh token.
pub(super) fn refresh(
    state: Arc<AppState>,
) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    request(REFRESH, state).and_then(refresh_token)
}

async fn refresh_token(
    state: Arc<AppState>,
    headers: HeaderMap,
    mime: Option<String>,
    body: Bytes,
) -> Result<Response, Rejection> {
    let now = state.now()?;
    let proof = state
        .proof(&headers, "POST", REFRESH, now)
        .map_err(reject)?;
    let (presented, delivery) = presented_refresh_token(&state, &headers, mime.as_deref(), &body)?;
    // Remembered only for what has a refresh token's form (anything else is refused by the
    // rotation without a store): a random caller's proof writes nothing.
    let jkt = if crate::sessions::is_refresh_token(&presented) {
        state.remember(proof, now).await.map_err(reject)?
    } else {
        proof.map(|proof| proof.jkt)
    };
    let grant = state
        .sessions
        .refresh(&presented, jkt.as_deref(), now)
        .await
        .map_err(|e| session_rejection(&state, e))?;
    state.metrics.rotation();
    Ok(grant_response(&grant, delivery, "Token refreshed."))
}

/// `POST /api/v3/auth/logout`: ends the session of the access token (`Authorization:
/// Bearer`, or `DPoP` with its proof), or of the refresh token (JSON body, or the cookie with the CSRF defence).
pub(super) fn logout(
    state: Arc<AppState>,
) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    request(LOGOUT, state).and_then(end_session)
}

async fn end_session(
    state: Arc<AppState>,
    headers: HeaderMap,
    mime: Option<String>,
    body: Bytes,
) -> Result<Response, Rejection> {
    let now = state.now()?;
    let has_bearer = headers.contains_key(warp::http::header::AUTHORIZATION);
    if has_bearer {
        let claims = match state
            .auth
            .authenticate_request("POST", LOGOUT.path, &headers)
            .await
        {
            Ok(claims) => claims,
            // Logging out twice is not an error.
            Err(AuthRejection::Revoked(claims)) => *claims,
            Err(other) => return Err(warp::reject::custom(other)),
        };
        let sid = claims.sid().ok_or_else(|| reject(Problem::NoSession))?;
        let ended = state
            .sessions
            .end(sid, now)
            .await
            .map_err(|e| session_rejection(&state, e))?;
        count_revocation(&state, ended);
    } else {
        let (presented, _) = presented_refresh_token(&state, &headers, mime.as_deref(), &body)?;
        let ended = state
            .sessions
            .end_by_refresh(&presented, now)
            .await
            .map_err(|e| session_rejection(&state, e))?;
        count_revocation(&state, ended);
    }
    let mut response = warp::reply::json(&json!({"data": {"code": 200, "message": "Logged out."}}))
        .into_response();
    no_store(&mut response);
    set_cookie(&mut response, "", 0);
    Ok(response)
}

/// `POST /api/v3/auth/revoke` (RFC 7009): form-encoded `token` and optional
/// `token_type_hint`; 200 for a revoked token and for one the server does not know. Client
/// credentials are optional (possession of a token is enough to end it), but when given they
/// must be right; errors are RFC 6749 §5.2's.
pub(super) fn revoke(
    state: Arc<AppState>,
) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    REVOKE
        .filter()
        .and(warp::any().map(move || state.clone()))
        .and(warp::addr::remote())
        .and(warp::header::headers_cloned())
        .and(body())
        .then(
            |state: Arc<AppState>,
             remote,
             headers: HeaderMap,
             mime: Option<String>,
             body: Bytes| async move {
                match revoke_token(&state, remote, &headers, mime.as_deref(), &body).await {
                    Ok(()) => {
                        let mut response = warp::reply().into_response();
                        no_store(&mut response);
                        response
                    }
                    Err(error) => error.oauth().into_response(),
                }
            },
        )
}

async fn revoke_token(
    state: &AppState,
    remote: Option<std::net::SocketAddr>,
    headers: &HeaderMap,
    mime: Option<&str>,
    body: &[u8],
) -> Result<(), ApiError> {
    let form = Form::read(mime, body)?;
    super::client::authenticate(state, remote, headers, &form).await?;
    let token = form.required("token")?;
    let now = state.now_or_error()?;
    // The hint only says where to look first (RFC 7009 §2.1); the token's form decides.
    if is_refresh_token(token) {
        let ended = state
            .sessions
            .end_by_refresh(token, now)
            .await
            .map_err(|e| session_error(state, e))?;
        count_revocation(state, ended);
    } else if let Ok(claims) = state.auth.verify_at(token, now) {
        // Only tokens this server issued and would still accept: a forged token names a
        // session or token ID it has no right to end.
        if let (Some(jti), Some(exp)) = (claims.jti(), claims.exp()) {
            state
                .sessions
                .revoke_access_token(jti, exp)
                .await
                .map_err(|e| session_error(state, e))?;
            count_revocation(state, true);
        }
    }
    Ok(())
}

fn count_revocation(state: &AppState, happened: bool) {
    if happened {
        state.metrics.revocation();
    }
}

/// The refresh token of a refresh or logout request: the body's, or the cookie's after the
/// CSRF defence (a custom header, and an `Origin` that is this server's or an allowed one).
fn presented_refresh_token(
    state: &AppState,
    headers: &HeaderMap,
    mime: Option<&str>,
    body: &[u8],
) -> Result<(String, Delivery), Rejection> {
    if !body.is_empty() {
        let object = json_object(mime, body)?;
        if let Some(token) = string_member(&object, "refresh_token")? {
            // A token from the body may move into the cookie (a page that signed in through
            // another client); never the other way, out of JavaScript's reach into it.
            let delivery = Delivery::requested(&object)?.unwrap_or(Delivery::Body);
            return Ok((token.to_owned(), delivery));
        }
    }
    let cookie =
        cookie(headers, REFRESH_COOKIE).ok_or_else(|| reject(Problem::RefreshTokenMissing))?;
    csrf_defence(state, headers).map_err(reject)?;
    Ok((cookie, Delivery::Cookie))
}

/// The CSRF defence of a request that relies on a refresh-token cookie: the custom header
/// (cross-origin, only a preflight an allowed origin passes lets it through), and an `Origin`
/// that is this server's own or an allowed one.
pub(super) fn csrf_defence(state: &AppState, headers: &HeaderMap) -> Result<(), Problem> {
    if headers.get(CSRF_HEADER).map(HeaderValue::as_bytes) != Some(b"1") {
        return Err(Problem::CsrfCheckFailed {
            fault: CsrfFault::HeaderMissing,
        });
    }
    if !origin_allowed(headers, &state.cors_origins) {
        return Err(Problem::CsrfCheckFailed {
            fault: CsrfFault::OriginNotAllowed,
        });
    }
    Ok(())
}

/// Whether `Origin` is present and is this server's own (its authority is the `Host`) or one
/// of the allowed origins.
fn origin_allowed(headers: &HeaderMap, allowed: &[String]) -> bool {
    let Some(origin) = headers.get(ORIGIN).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    if allowed.iter().any(|a| a == origin) {
        return true;
    }
    let authority = origin
        .strip_prefix("https://")
        .or_else(|| origin.strip_prefix("http://"));
    let host = headers.get(HOST).and_then(|v| v.to_str().ok());
    authority.is_some() && authority == host
}

/// The value of cookie `name`; `None` when absent or given more than once (ambiguous).
pub(super) fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    let mut values = headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .filter(|(n, _)| *n == name)
        .map(|(_, value)| value.to_owned());
    match (values.next(), values.next()) {
        (Some(value), None) => Some(value),
        _ => None,
    }
}

/// The response for a new or refreshed grant: the tutorial's envelope, with the refresh
/// token in the body or in the cookie.
pub(super) fn grant_response(grant: &Grant, delivery: Delivery, message: &str) -> Response {
    let access = &grant.access;
    let mut data = json!({
        "code": 200,
        "message": message,
        "token": access.token,
        "token_type": access.token_type(),
        "expires_in": access.expires_in,
        "expiration_at": access.expires_at_rfc3339(),
        "refresh_expires_in": grant.refresh_expires_in,
    });
    if delivery == Delivery::Body {
        data["refresh_token"] = grant.refresh.clone().into();
    } else {
        data["refresh_token_delivery"] = "cookie".into();
    }
    let mut response = warp::reply::json(&json!({ "data": data })).into_response();
    no_store(&mut response);
    if delivery == Delivery::Cookie {
        set_cookie(&mut response, &grant.refresh, grant.refresh_expires_in);
    }
    response
}

fn no_store(response: &mut Response) {
    let headers = response.headers_mut();
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(PRAGMA, HeaderValue::from_static("no-cache"));
}

/// Sets (or with `max_age` 0 clears) the refresh-token cookie.
fn set_cookie(response: &mut Response, value: &str, max_age: u64) {
    set_refresh_cookie(response, REFRESH_COOKIE, value, max_age);
}

/// Sets (or with `max_age` 0 clears) the refresh-token cookie `name`: `HttpOnly`, for this
/// host only, sent by same-site requests only.
pub(super) fn set_refresh_cookie(response: &mut Response, name: &str, value: &str, max_age: u64) {
    let cookie =
        format!("{name}={value}; Path=/; Max-Age={max_age}; HttpOnly; Secure; SameSite=Strict");
    if let Ok(cookie) = HeaderValue::from_str(&cookie) {
        response.headers_mut().append(SET_COOKIE, cookie);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, HeaderValue::from_static(value));
        }
        map
    }

    #[test]
    fn cookies_are_read_exactly_once() {
        let h = headers(&[("cookie", "a=1; __Host-jwtkit-refresh=jwtr_x; b=2")]);
        assert_eq!(cookie(&h, REFRESH_COOKIE).as_deref(), Some("jwtr_x"));
        let twice = headers(&[
            ("cookie", "__Host-jwtkit-refresh=one"),
            ("cookie", "__Host-jwtkit-refresh=two"),
        ]);
        assert_eq!(cookie(&twice, REFRESH_COOKIE), None, "ambiguous");
        assert_eq!(
            cookie(&headers(&[("cookie", "jwtkit-refresh=x")]), REFRESH_COOKIE),
            None
        );
    }

    #[test]
    fn origins_are_this_server_or_allowed() {
        let allowed = vec!["https://app.example".to_owned()];
        let check =
            |pairs: &[(&'static str, &'static str)]| origin_allowed(&headers(pairs), &allowed);
        assert!(check(&[
            ("origin", "http://127.0.0.1:3030"),
            ("host", "127.0.0.1:3030")
        ]));
        assert!(check(&[
            ("origin", "https://app.example"),
            ("host", "api.example")
        ]));
        assert!(!check(&[
            ("origin", "https://evil.example"),
            ("host", "api.example")
        ]));
        assert!(!check(&[("host", "127.0.0.1:3030")]), "no Origin");
        assert!(!check(&[("origin", "null"), ("host", "null")]));
    }
}
