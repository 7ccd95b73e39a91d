//! The OAuth 2.0 endpoints: `POST /oauth2/token` (RFC 6749: the `client_credentials` and
//! `refresh_token` grants) and `POST /oauth2/introspect` (RFC 7662), for clients
//! authenticated as [`super::client`] describes. Every refusal is RFC 6749 §5.2's JSON
//! (`error`, `error_description`, and jwtkit's `code`), never cached.

use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use serde_json::{Map, Value, json};
use warp::http::HeaderMap;
use warp::http::header::{CACHE_CONTROL, HeaderValue, PRAGMA};
use warp::reply::Response;
use warp::{Filter, Rejection, Reply};

use super::body::{Form, body};
use super::session::session_error;
use super::{AppState, INTROSPECT, Route, TOKEN, client};
use crate::apikeys::ApiKey;
use crate::error::{ApiError, Problem};
use crate::issuer::IssuedToken;

/// The grant types the token endpoint takes, as the metadata names them.
pub const GRANT_TYPES: [&str; 2] = ["client_credentials", "refresh_token"];

/// The role that lets a client introspect tokens issued to other clients (a resource
/// server's).
pub const INTROSPECT_ROLE: &str = "introspect";

/// The claims an introspection answer passes on from an active token (RFC 7662 §2.2).
const INTROSPECTED_CLAIMS: [&str; 11] = [
    "scope",
    "client_id",
    "sub",
    "aud",
    "iss",
    "exp",
    "iat",
    "nbf",
    "jti",
    "sid",
    "roles",
];

/// What an OAuth endpoint's handler takes: the state, the peer, the headers and the body.
fn request(
    route: Route,
    state: Arc<AppState>,
) -> impl Filter<
    Extract = (
        Arc<AppState>,
        Option<SocketAddr>,
        HeaderMap,
        Option<String>,
        Bytes,
    ),
    Error = Rejection,
> + Clone {
    route
        .filter()
        .and(warp::any().map(move || state.clone()))
        .and(warp::addr::remote())
        .and(warp::header::headers_cloned())
        .and(body())
}

/// `POST /oauth2/token`.
pub(super) fn token(
    state: Arc<AppState>,
) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    request(TOKEN, state).then(
        |state: Arc<AppState>, remote, headers, mime: Option<String>, body: Bytes| async move {
            answer(grant(&state, remote, &headers, mime.as_deref(), &body).await)
        },
    )
}

/// `POST /oauth2/introspect`.
pub(super) fn introspect(
    state: Arc<AppState>,
) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    request(INTROSPECT, state).then(
        |state: Arc<AppState>, remote, headers, mime: Option<String>, body: Bytes| async move {
            answer(introspection(&state, remote, &headers, mime.as_deref(), &body).await)
        },
    )
}

/// A JSON answer or an RFC 6749 §5.2 refusal, neither of them cached.
fn answer(result: Result<Value, ApiError>) -> Response {
    match result {
        Ok(value) => {
            let mut response = warp::reply::json(&value).into_response();
            let headers = response.headers_mut();
            headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
            headers.insert(PRAGMA, HeaderValue::from_static("no-cache"));
            response
        }
        Err(error) => error.oauth().into_response(),
    }
}

/// The authenticated client; a request without credentials is refused as `invalid_client`.
async fn client<'s>(
    state: &'s AppState,
    remote: Option<SocketAddr>,
    headers: &HeaderMap,
    form: &Form,
) -> Result<&'s ApiKey, ApiError> {
    client::authenticate(state, remote, headers, form)
        .await?
        .ok_or_else(|| Problem::ClientAuthenticationFailed.into())
}

async fn grant(
    state: &AppState,
    remote: Option<SocketAddr>,
    headers: &HeaderMap,
    mime: Option<&str>,
    body: &[u8],
) -> Result<Value, ApiError> {
    let form = Form::read(mime, body)?;
    let grant_type = form.required("grant_type")?;
    if !GRANT_TYPES.contains(&grant_type) {
        return Err(Problem::UnsupportedGrantType.into());
    }
    let client = client(state, remote, headers, &form).await?;
    let scope = requested_scope(&form)?;
    let now = state.now_or_error()?;
    let response = if grant_type == "refresh_token" {
        let presented = form.required("refresh_token")?;
        let grant = state
            .sessions
            .refresh_for(presented, now, client.name(), scope.as_deref())
            .await
            .map_err(|e| session_error(state, e))?;
        state.metrics.rotation();
        token_response(&grant.access, &grant.roles, Some(&grant.refresh))
    } else {
        let roles = match scope {
            None => client.roles().to_vec(),
            Some(scope) if scope.iter().all(|s| client.roles().contains(s)) => scope,
            Some(_) => return Err(Problem::InvalidScope.into()),
        };
        // No refresh token for client credentials (RFC 6749 §4.4.3), so no session.
        let access = state
            .sessions
            .issue_without_session(client.name(), &roles, now)
            .map_err(|e| session_error(state, e))?;
        token_response(&access, &roles, None)
    };
    tracing::info!(target: "jwtkit::auth", sub = client.name(), grant_type, "token issued");
    Ok(response)
}

/// RFC 6749 §5.1.
fn token_response(access: &IssuedToken, roles: &[String], refresh: Option<&str>) -> Value {
    let mut response = json!({
        "access_token": access.token,
        "token_type": "Bearer",
        "expires_in": access.expires_in,
    });
    if let Some(refresh) = refresh {
        response["refresh_token"] = refresh.into();
    }
    if !roles.is_empty() {
        response["scope"] = roles.join(" ").into();
    }
    response
}

/// The `scope` parameter's scope tokens (RFC 6749 §3.3), without repeats; `None` when it
/// is absent.
fn requested_scope(form: &Form) -> Result<Option<Vec<String>>, ApiError> {
    let Some(scope) = form.get("scope") else {
        return Ok(None);
    };
    let mut tokens: Vec<String> = Vec::new();
    for token in scope.split(' ') {
        let valid = !token.is_empty()
            && token
                .bytes()
                .all(|b| b == 0x21 || (0x23..=0x5b).contains(&b) || (0x5d..=0x7e).contains(&b));
        if !valid {
            return Err(Problem::InvalidScope.into());
        }
        if !tokens.iter().any(|t| t == token) {
            tokens.push(token.to_owned());
        }
    }
    Ok(Some(tokens))
}

async fn introspection(
    state: &AppState,
    remote: Option<SocketAddr>,
    headers: &HeaderMap,
    mime: Option<&str>,
    body: &[u8],
) -> Result<Value, ApiError> {
    let form = Form::read(mime, body)?;
    let client = client(state, remote, headers, &form).await?;
    let token = form.required("token")?;
    let now = state.now_or_error()?;
    // Refresh tokens are not introspected: only the client they were issued to holds one.
    let Ok(claims) = state.auth.verify_at(token, now) else {
        return Ok(json!({"active": false}));
    };
    // A client learns about the tokens issued to it, unless it may introspect any (RFC 7662
    // §4: a resource server's credentials): to another, a token is not active.
    let issued_to_client = claims.get("client_id").and_then(Value::as_str) == Some(client.name());
    if !issued_to_client && !client.roles().iter().any(|r| r == INTROSPECT_ROLE) {
        return Ok(json!({"active": false}));
    }
    let mut answer = Map::new();
    answer.insert("active".into(), true.into());
    answer.insert("token_type".into(), "Bearer".into());
    for name in INTROSPECTED_CLAIMS {
        if let Some(value) = claims.get(name) {
            answer.insert(name.into(), value.clone());
        }
    }
    Ok(Value::Object(answer))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope(body: &str) -> Result<Option<Vec<String>>, &'static str> {
        let form = Form::read(Some("application/x-www-form-urlencoded"), body.as_bytes()).unwrap();
        requested_scope(&form).map_err(|e| e.code())
    }

    #[test]
    fn scopes_are_rfc_6749_scope_tokens() {
        assert_eq!(scope(""), Ok(None));
        assert_eq!(scope("scope="), Ok(None), "empty is absent (RFC 6749 §3.1)");
        assert_eq!(
            scope("scope=admin+read+admin"),
            Ok(Some(vec!["admin".into(), "read".into()]))
        );
        for bad in [
            "scope=a++b",
            "scope=%22a%22",
            "scope=a%5Cb",
            "scope=+a",
            "scope=%C3%A9",
        ] {
            assert_eq!(scope(bad), Err("ERR_INVALID_SCOPE"), "{bad}");
        }
    }
}
