//! JSON error responses and the RFC 6750 `WWW-Authenticate` challenge.

use std::time::Duration;

use serde::Serialize;
use warp::Reply as _;
use warp::http::StatusCode;
use warp::http::header::{CACHE_CONTROL, HeaderValue, RETRY_AFTER, WWW_AUTHENTICATE};
use warp::reply::Response;

/// The realm named in every `WWW-Authenticate: Bearer` challenge.
pub const REALM: &str = "jwtkit";

/// The JSON body of every error response.
#[derive(Debug, Serialize)]
pub struct ErrorBody<'a> {
    /// The RFC 6750 error (`invalid_request`, `invalid_token`, `insufficient_scope`) or a
    /// short HTTP-level name (`not_found`, `payload_too_large`, ...).
    pub error: &'a str,
    /// The stable error code, e.g. `ERR_JWT_EXPIRED`.
    pub code: &'a str,
    /// A human-readable explanation; never contains a token or a secret.
    pub message: &'a str,
}

/// An error response: status, JSON body, and the headers that go with it.
#[derive(Debug, Clone)]
pub struct ApiError {
    status: StatusCode,
    error: &'static str,
    code: &'static str,
    message: String,
    challenge: Option<String>,
    retry_after: Option<Duration>,
}

impl ApiError {
    /// An error with this status, short error name, stable code and message.
    pub fn new(
        status: StatusCode,
        error: &'static str,
        code: &'static str,
        message: impl Into<String>,
    ) -> Self {
        Self {
            status,
            error,
            code,
            message: message.into(),
            challenge: None,
            retry_after: None,
        }
    }

    /// Adds `WWW-Authenticate: Bearer realm="jwtkit"` with these extra attributes
    /// (`error`, `error_description`, `scope`), quoted as RFC 6750 §3 requires.
    pub fn with_challenge(mut self, attributes: &[(&str, &str)]) -> Self {
        let mut challenge = format!("Bearer realm=\"{REALM}\"");
        for (name, value) in attributes {
            challenge.push_str(&format!(", {name}=\"{}\"", quoted_string_safe(value)));
        }
        self.challenge = Some(challenge);
        self
    }

    /// Adds `Retry-After` (whole seconds, rounded up).
    pub fn with_retry_after(mut self, wait: Duration) -> Self {
        self.retry_after = Some(wait);
        self
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The stable error code.
    pub fn code(&self) -> &'static str {
        self.code
    }

    /// The response.
    pub fn into_response(self) -> Response {
        let body = ErrorBody {
            error: self.error,
            code: self.code,
            message: &self.message,
        };
        let mut response =
            warp::reply::with_status(warp::reply::json(&body), self.status).into_response();
        let headers = response.headers_mut();
        headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
        if let Some(value) = self.challenge.and_then(|c| HeaderValue::from_str(&c).ok()) {
            headers.insert(WWW_AUTHENTICATE, value);
        }
        if let Some(wait) = self.retry_after {
            let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
            headers.insert(RETRY_AFTER, HeaderValue::from(secs.max(1)));
        }
        response
    }
}

/// RFC 6750 §3: `error_description` and `scope` values exclude `"` and `\` and control
/// characters; they are replaced so that a message can never break the header.
fn quoted_string_safe(value: &str) -> String {
    value
        .chars()
        .map(|c| match c {
            '"' => '\'',
            '\\' => '/',
            c if (' '..='~').contains(&c) => c,
            _ => '?',
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn challenge_values_are_quoted_safely() {
        let response = ApiError::new(StatusCode::UNAUTHORIZED, "invalid_token", "ERR_X", "m")
            .with_challenge(&[
                ("error", "invalid_token"),
                ("error_description", "\"exp\" is \\ é"),
            ])
            .into_response();
        let header = response.headers()[WWW_AUTHENTICATE].to_str().unwrap();
        assert_eq!(
            header,
            r#"Bearer realm="jwtkit", error="invalid_token", error_description="'exp' is / ?""#
        );
    }

    #[test]
    fn retry_after_rounds_up() {
        let response = ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_requests",
            "ERR_X",
            "m",
        )
        .with_retry_after(Duration::from_millis(1500))
        .into_response();
        assert_eq!(response.headers()[RETRY_AFTER], "2");
    }
}
