//! OAuth client authentication over HTTP (RFC 6749 §2.3.1): the credentials sent with HTTP
//! Basic (`client_secret_basic`) or in the form body (`client_secret_post`), never both,
//! judged by [`crate::oauth::client`]. Failures count against the same per-address limit as
//! `/api/v3/auth`.

use std::net::SocketAddr;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use warp::http::HeaderMap;
use warp::http::header::AUTHORIZATION;

use super::state::AppState;
use crate::apikeys::ApiKey;
use crate::error::{ApiError, Problem};
use crate::filters::body::{Form, percent_decode};
use crate::oauth::Credentials;

/// The authenticated client of a request, `None` when it presents no credentials at all.
pub(super) async fn authenticate<'s>(
    state: &'s AppState,
    remote: Option<SocketAddr>,
    headers: &HeaderMap,
    form: &Form,
) -> Result<Option<&'s ApiKey>, ApiError> {
    let Some(credentials) = presented(headers, form)? else {
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

/// The credentials of `Authorization: Basic` or of the body's `client_id` and
/// `client_secret`; a request using both methods is refused.
fn presented(headers: &HeaderMap, form: &Form) -> Result<Option<Credentials>, ApiError> {
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
