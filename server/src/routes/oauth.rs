//! The OAuth 2.0 endpoints over HTTP: `POST /oauth2/token` and `POST /oauth2/introspect` read
//! their forms and the client's credentials ([`super::client`]) into the domain's calls
//! ([`crate::oauth`]) and answer its results as JSON and its refusals as RFC 6749 §5.2's
//! (`error`, `error_description`, and jwtkit's `code`), never cached.

use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use serde_json::Value;
use warp::http::HeaderMap;
use warp::http::header::{CACHE_CONTROL, HeaderValue, PRAGMA};
use warp::reply::Response;
use warp::{Filter, Rejection, Reply};

use super::client;
use super::session::{cookie, csrf_defence, set_refresh_cookie};
use super::state::{AppState, session_error};
use super::table::{INTROSPECT, Route, TOKEN};
use crate::apikeys::ApiKey;
use crate::clients::Client;
use crate::error::{ApiError, BodyFault, Problem};
use crate::filters::body::{Form, body};
use crate::oauth::grant::{self, GrantError, TokenRequest};
use crate::oauth::{GRANT_TYPES, REFRESH_TOKEN_DELIVERY, introspection, scope};
use crate::provider::exchange::{CodeExchange, ExchangeError, Exchanged};
use crate::sessions::SessionError;
use jwtkit_core::protocol::CLIENT_REFRESH_COOKIE_PREFIX;

/// What the token endpoint answers: the JSON, and a person's refresh token for its cookie.
struct Answer {
    json: Value,
    cookie: Option<RefreshCookie>,
}

/// A client's refresh-token cookie to set.
struct RefreshCookie {
    /// The cookie's name ([`client_cookie`]).
    name: String,
    token: String,
    /// Seconds it lives: as long as the refresh token.
    max_age: u64,
}

impl From<Value> for Answer {
    fn from(json: Value) -> Self {
        Self { json, cookie: None }
    }
}

/// The refresh-token cookie of the OpenID client `client_id`.
pub(super) fn client_cookie(client_id: &str) -> String {
    format!("{CLIENT_REFRESH_COOKIE_PREFIX}{client_id}")
}

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
            let (json, cookie) = match grant(&state, remote, &headers, mime.as_deref(), &body).await
            {
                Ok(Answer { json, cookie }) => (Ok(json), cookie),
                Err(error) => (Err(error), None),
            };
            let mut response = answer(json);
            if let Some(cookie) = cookie {
                set_refresh_cookie(&mut response, &cookie.name, &cookie.token, cookie.max_age);
            }
            response
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

/// The form of a request and its authenticated client; a request without credentials is
/// refused as `invalid_client`.
async fn client_form<'s>(
    state: &'s AppState,
    remote: Option<SocketAddr>,
    headers: &HeaderMap,
    mime: Option<&str>,
    body: &[u8],
) -> Result<(Form, &'s ApiKey), ApiError> {
    let form = Form::read(mime, body)?;
    let client = client::authenticate(state, remote, headers, &form)
        .await?
        .ok_or(Problem::ClientAuthenticationFailed)?;
    Ok((form, client))
}

async fn grant(
    state: &AppState,
    remote: Option<SocketAddr>,
    headers: &HeaderMap,
    mime: Option<&str>,
    body: &[u8],
) -> Result<Answer, ApiError> {
    let form = Form::read(mime, body)?;
    let credentials = client::presented(headers, &form)?;
    // Remembered once the client is authenticated: an anonymous proof writes nothing.
    let proof = state.proof(headers, "POST", TOKEN, state.now_or_error()?)?;
    // A code, or a refresh token without an API key's credentials: a person's session at
    // an OpenID client.
    if let Some(grant_type @ ("authorization_code" | "refresh_token")) = form.get("grant_type") {
        let api_key = credentials
            .as_ref()
            .is_some_and(|presented| state.api_keys.named(&presented.id).is_some());
        let names_a_client = credentials.is_some() || form.get("client_id").is_some();
        if grant_type == "authorization_code" || (!api_key && names_a_client) {
            let client =
                client::authenticate_openid(state, remote, headers, &form, credentials).await?;
            let jkt = state.remember(proof, state.now_or_error()?).await?;
            let jkt = jkt.as_deref();
            if client.dpop_bound_access_tokens && jkt.is_none() {
                return Err(Problem::DpopProofRequired.into());
            }
            return if grant_type == "authorization_code" {
                let delivery = delivery(state, headers, &form)?;
                Ok(delivered(
                    code_grant(state, &client, &form, jkt).await?,
                    &client,
                    delivery,
                ))
            } else {
                person_refresh(state, headers, &client, &form, jkt).await
            };
        }
    }
    let client = client::authenticate_presented(state, remote, headers, credentials)
        .await?
        .ok_or(Problem::ClientAuthenticationFailed)?;
    let jkt = state.remember(proof, state.now_or_error()?).await?;
    let jkt = jkt.as_deref();
    let grant_type = form.required("grant_type")?;
    if !GRANT_TYPES.contains(&grant_type) {
        return Err(Problem::UnsupportedGrantType.into());
    }
    let scope = scope::parse(form.get("scope")).map_err(|_| Problem::InvalidScope)?;
    let request = if grant_type == "refresh_token" {
        TokenRequest::RefreshToken {
            refresh_token: form.required("refresh_token")?,
            scope,
        }
    } else {
        TokenRequest::ClientCredentials { scope }
    };
    let refresh = matches!(request, TokenRequest::RefreshToken { .. });
    let now = state.now_or_error()?;
    let issued = grant::issue(&state.sessions, client, request, jkt, now)
        .await
        .map_err(|error| match error {
            GrantError::InvalidScope => Problem::InvalidScope.into(),
            GrantError::Session(error) => session_error(state, error),
        })?;
    if refresh {
        state.metrics.rotation();
    }
    tracing::info!(target: "jwtkit::auth", sub = client.name(), grant_type, "token issued");
    Ok(issued.to_json().into())
}

/// Whether a person's refresh token goes in the cookie (`true`) or the body. Asking for the
/// cookie passes the CSRF defence: a page of another site must not plant a session of its
/// choosing (its own code, its own refresh token) in the browser's cookie.
fn delivery(state: &AppState, headers: &HeaderMap, form: &Form) -> Result<bool, ApiError> {
    match form.get(REFRESH_TOKEN_DELIVERY) {
        None | Some("body") => Ok(false),
        Some("cookie") => {
            csrf_defence(state, headers)?;
            Ok(true)
        }
        Some(_) => Err(Problem::InvalidRequestBody {
            fault: BodyFault::NotOneOf(REFRESH_TOKEN_DELIVERY, "body or cookie"),
        }
        .into()),
    }
}

/// The answer of a person's grant at `client`, its refresh token in the body or (`cookie`)
/// in the client's cookie, named in the body's `refresh_token_delivery` instead.
fn delivered(exchanged: Exchanged, client: &Client, cookie: bool) -> Answer {
    let mut json = exchanged.to_json();
    if !cookie {
        return json.into();
    }
    if let Some(object) = json.as_object_mut() {
        object.remove("refresh_token");
        object.insert(REFRESH_TOKEN_DELIVERY.to_owned(), "cookie".into());
    }
    Answer {
        json,
        cookie: Some(RefreshCookie {
            name: client_cookie(&client.id),
            token: exchanged.refresh,
            max_age: exchanged.refresh_expires_in,
        }),
    }
}

/// The `refresh_token` grant of a person's session at `client`: the token from the form
/// (answered as `refresh_token_delivery` asks), else from the client's cookie after the CSRF
/// defence (answered in the cookie again).
async fn person_refresh(
    state: &AppState,
    headers: &HeaderMap,
    client: &Client,
    form: &Form,
    jkt: Option<&str>,
) -> Result<Answer, ApiError> {
    let from_cookie;
    let (refresh_token, in_cookie) = match form.get("refresh_token") {
        Some(token) => (token, delivery(state, headers, form)?),
        None => {
            from_cookie =
                cookie(headers, &client_cookie(&client.id)).ok_or(Problem::InvalidRequestBody {
                    fault: BodyFault::ParameterMissing("refresh_token"),
                })?;
            csrf_defence(state, headers)?;
            (from_cookie.as_str(), true)
        }
    };
    let scope = scope::parse(form.get("scope")).map_err(|_| Problem::InvalidScope)?;
    let now = state.now_or_error()?;
    let refreshed = state
        .provider
        .refresh(
            &state.sessions,
            client,
            refresh_token,
            scope.as_deref(),
            jkt,
            now,
        )
        .await
        .map_err(|error| exchange_error(state, error))?;
    state.metrics.rotation();
    tracing::info!(target: "jwtkit::auth", client_id = client.id, grant_type = "refresh_token", "token issued");
    Ok(delivered(refreshed, client, in_cookie))
}

/// An exchange's or a public refresh's refusal, as the token endpoint answers it.
fn exchange_error(state: &AppState, error: ExchangeError) -> ApiError {
    match error {
        ExchangeError::CodeInvalid => Problem::AuthorizationCodeInvalid.into(),
        ExchangeError::CodeReplayed => Problem::AuthorizationCodeReplayed.into(),
        ExchangeError::WrongClient => Problem::AuthorizationCodeWrongClient.into(),
        ExchangeError::RedirectUriMismatch => Problem::RedirectUriMismatch.into(),
        ExchangeError::VerifierInvalid => Problem::CodeVerifierInvalid.into(),
        ExchangeError::Session(SessionError::ScopeExceeded) => Problem::InvalidScope.into(),
        ExchangeError::Session(error) => session_error(state, error),
        ExchangeError::Signing(reason) => {
            tracing::error!(target: "jwtkit::provider", %reason, "an ID token could not be signed");
            Problem::Internal.into()
        }
    }
}

/// The `authorization_code` grant of `client`.
async fn code_grant(
    state: &AppState,
    client: &Client,
    form: &Form,
    jkt: Option<&str>,
) -> Result<Exchanged, ApiError> {
    let request = CodeExchange {
        code: form.required("code")?,
        redirect_uri: form.required("redirect_uri")?,
        code_verifier: form.required("code_verifier")?,
    };
    let now = state.now_or_error()?;
    let exchanged = state
        .provider
        .exchange(
            state.store.as_ref(),
            &state.sessions,
            client,
            request,
            jkt,
            now,
        )
        .await
        .map_err(|error| exchange_error(state, error))?;
    tracing::info!(target: "jwtkit::auth", client_id = client.id, grant_type = "authorization_code", "token issued");
    Ok(exchanged)
}

async fn introspection(
    state: &AppState,
    remote: Option<SocketAddr>,
    headers: &HeaderMap,
    mime: Option<&str>,
    body: &[u8],
) -> Result<Value, ApiError> {
    let (form, client) = client_form(state, remote, headers, mime, body).await?;
    let token = form.required("token")?;
    let now = state.now_or_error()?;
    // Refresh tokens are not introspected: only the client they were issued to holds one.
    let claims = state.auth.verify_at(token, now).ok();
    Ok(introspection::answer(claims.as_ref(), client))
}
