//! OAuth client authentication over HTTP (RFC 6749 §2.3.1): the credentials sent with HTTP
//! Basic (`client_secret_basic`) or in the form body (`client_secret_post`), never both,
//! judged by [`crate::oauth::client`]. Failures count against the same per-address limit as
//! `/api/v3/auth`.

use std::net::SocketAddr;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use warp::http::HeaderMap;
use warp::http::header::AUTHORIZATION;

use super::state::{AppState, session_error};
use crate::apikeys::ApiKey;
use crate::clients::Client;
use crate::error::{ApiError, Problem};
use crate::filters::body::{Form, percent_decode};
use crate::oauth::Credentials;
use crate::sessions::SessionError;

/// The authenticated client of a request, `None` when it presents no credentials at all.
pub(super) async fn authenticate<'s>(
    state: &'s AppState,
    remote: Option<SocketAddr>,
    headers: &HeaderMap,
    form: &Form,
) -> Result<Option<&'s ApiKey>, ApiError> {
    authenticate_presented(state, remote, headers, presented(headers, form)?).await
}

/// [`authenticate`] for credentials already read from the request ([`presented`]).
pub(super) async fn authenticate_presented<'s>(
    state: &'s AppState,
    remote: Option<SocketAddr>,
    headers: &HeaderMap,
    credentials: Option<Credentials>,
) -> Result<Option<&'s ApiKey>, ApiError> {
    let Some(credentials) = credentials else {
        return Ok(None);
    };
    let now = state.now_or_error()?;
    let attempt = state.limiter.key(remote, headers);
    let found = credentials.client(&state.api_keys);
    if found.is_none() {
        tracing::info!(target: "jwtkit::auth", client = %attempt, "client authentication failed");
    }
    state
        .limited(&attempt, now, found, Problem::ClientAuthenticationFailed)
        .await
        .map(Some)
}

/// The OpenID client of a token request (an `authorization_code` grant, a person's
/// `refresh_token` grant): a public client names its `client_id` and sends no secret; a
/// confidential one authenticates with its `client_secret` (`client_secret_basic` or
/// `client_secret_post`). A secret that cannot match — a public client's, an unknown
/// client's, a wrong one — or a confidential client without one fails as any client
/// authentication does, against the same per-address limit.
pub(super) async fn authenticate_openid(
    state: &AppState,
    remote: Option<SocketAddr>,
    headers: &HeaderMap,
    form: &Form,
    credentials: Option<Credentials>,
) -> Result<Client, ApiError> {
    let client_id = match &credentials {
        Some(credentials) => credentials.id.as_str(),
        None => form.required("client_id")?,
    };
    let client = state
        .provider
        .client(state.store.as_ref(), client_id)
        .await
        .map_err(|error| session_error(state, SessionError::Store(error)))?;
    match (client, &credentials) {
        (Some(client), None) if !client.is_confidential() => Ok(client),
        (None, None) => Err(Problem::ClientUnknown.into()),
        (client, credentials) => {
            let now = state.now_or_error()?;
            let attempt = state.limiter.key(remote, headers);
            let found = client.filter(|client| {
                credentials
                    .as_ref()
                    .is_some_and(|presented| client.secret_matches(&presented.secret))
            });
            if found.is_none() {
                tracing::info!(target: "jwtkit::auth", client = %attempt, client_id, "client authentication failed");
            }
            state
                .limited(&attempt, now, found, Problem::ClientAuthenticationFailed)
                .await
        }
    }
}

/// The credentials of `Authorization: Basic` or of the body's `client_id` and
/// `client_secret`; a request using both methods is refused.
pub(super) fn presented(headers: &HeaderMap, form: &Form) -> Result<Option<Credentials>, ApiError> {
    let basic = basic(headers)?;
    let secret = form.get("client_secret");
    match (basic, secret) {
        (Some(_), Some(_)) => Err(Problem::ClientAuthenticationAmbiguous.into()),
        (Some(basic), None) => match form.get("client_id") {
            // RFC 6749 allows client_id beside Basic; it must then name the same client.
            Some(id) if id != basic.id => Err(Problem::ClientAuthenticationFailed.into()),
            _ => Ok(Some(basic)),
        },
        (None, Some(secret)) => Ok(Some(Credentials {
            id: form.get("client_id").unwrap_or_default().to_owned(),
            secret: secret.to_owned(),
        })),
        (None, None) => Ok(None),
    }
}

/// `Authorization: Basic base64(urlencode(id) ":" urlencode(secret))` (RFC 6749 §2.3.1);
/// any other `Authorization` is a failed authentication.
fn basic(headers: &HeaderMap) -> Result<Option<Credentials>, ApiError> {
    let mut values = headers.get_all(AUTHORIZATION).iter();
    let Some(value) = values.next() else {
        return Ok(None);
    };
    let failed = || ApiError::from(Problem::ClientAuthenticationFailed);
    if values.next().is_some() {
        return Err(failed());
    }
    let value = value.to_str().map_err(|_| failed())?;
    let (scheme, encoded) = value.split_once(' ').ok_or_else(failed)?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return Err(failed());
    }
    let decoded = STANDARD.decode(encoded.trim()).map_err(|_| failed())?;
    let decoded = String::from_utf8(decoded).map_err(|_| failed())?;
    let (id, secret) = decoded.split_once(':').ok_or_else(failed)?;
    match (percent_decode(id), percent_decode(secret)) {
        (Some(id), Some(secret)) if !id.is_empty() && !secret.is_empty() => {
            Ok(Some(Credentials { id, secret }))
        }
        _ => Err(failed()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use warp::http::HeaderValue;

    fn form(body: &str) -> Form {
        Form::read(Some("application/x-www-form-urlencoded"), body.as_bytes()).unwrap()
    }

    fn with_authorization(value: &'static str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(AUTHORIZATION, HeaderValue::from_static(value));
        headers
    }

    fn code(result: Result<Option<Credentials>, ApiError>) -> &'static str {
        result.err().map_or("OK", |e| e.code())
    }

    #[test]
    fn basic_credentials_are_url_decoded() {
        // "a%20b:s%3Ac" is the client "a b" with the secret "s:c".
        let headers = with_authorization("Basic YSUyMGI6cyUzQWM=");
        let credentials = presented(&headers, &form("")).unwrap().unwrap();
        assert_eq!(
            (credentials.id.as_str(), credentials.secret.as_str()),
            ("a b", "s:c")
        );
    }

    #[test]
    fn one_method_only_and_well_formed() {
        let basic = with_authorization("Basic YTpi");
        assert_eq!(
            code(presented(&basic, &form("client_secret=b"))),
            "ERR_CLIENT_AUTHENTICATION_AMBIGUOUS"
        );
        assert_eq!(code(presented(&basic, &form("client_id=a"))), "OK");
        assert_eq!(
            code(presented(&basic, &form("client_id=other"))),
            "ERR_CLIENT_AUTHENTICATION_FAILED"
        );
        for value in [
            "Bearer abc",
            "Basic !!!",
            "Basic YWI=",
            "Basic OmI=",
            "Basic",
        ] {
            assert_eq!(
                code(presented(&with_authorization(value), &form(""))),
                "ERR_CLIENT_AUTHENTICATION_FAILED",
                "{value}"
            );
        }
        assert!(
            presented(&HeaderMap::new(), &form("client_id=a"))
                .unwrap()
                .is_none()
        );
    }
}
