//! Every error the API answers with, declared once: the [`Problem`] table (HTTP status, the
//! RFC 6750/6749 error name, the stable code, the message), plus the token errors of
//! jwtkit-core, whose status follows from their phase ([`ApiError::from_core`]). The JSON
//! body, the RFC 6750 `WWW-Authenticate` challenge and `Retry-After` are written here too.

use std::fmt;
use std::time::Duration;

use jwtkit_core::Phase;
use serde::Serialize;
use warp::Reply as _;
use warp::http::StatusCode;
use warp::http::header::{CACHE_CONTROL, HeaderValue, PRAGMA, RETRY_AFTER, WWW_AUTHENTICATE};
use warp::reply::Response;

/// The realm named in every `WWW-Authenticate: Bearer` challenge.
pub const REALM: &str = "jwtkit";

/// Whether a response carries a `WWW-Authenticate: Bearer` challenge (RFC 6750 §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Challenge {
    /// No challenge.
    None,
    /// `Bearer realm="jwtkit"`: credentials are missing, so no error is named (§3.1).
    Bare,
    /// `Bearer realm="jwtkit", error="…", error_description="…"`.
    WithError,
    /// `Basic realm="jwtkit"`: a client failed to authenticate at an OAuth endpoint (RFC
    /// 6749 §5.2, `invalid_client`).
    Basic,
}

/// One row of the API's error table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProblemEntry {
    /// The HTTP status.
    pub status: u16,
    /// The RFC 6750/6749 error name, or a short HTTP-level name.
    pub error: &'static str,
    /// The stable code.
    pub code: &'static str,
    /// The message template (`{name}` stands for a detail).
    pub message: &'static str,
    /// Whether the response carries a Bearer challenge.
    pub challenge: Challenge,
}

/// Declares [`Problem`] from its table; see [`ProblemEntry`] for the columns. The enum, its
/// `code()`, `Display` and `TABLE` come from jwtkit-core's [`jwtkit_core::error_table!`], as
/// every error of jwtkit does; the HTTP columns are added here.
macro_rules! problems {
    (
        $(
            $(#[$vattr:meta])*
            $variant:ident $({ $($(#[$fattr:meta])* $field:ident : $fty:ty),+ $(,)? })?
                => $status:literal, $error:literal, $code:literal, $challenge:ident, $message:literal
        ),+ $(,)?
    ) => {
        jwtkit_core::error_table! {
            /// A refusal of the API that is not a token error; see the module documentation.
            #[derive(Debug, Clone, PartialEq, Eq)]
            #[non_exhaustive]
            pub enum Problem {
                $(
                    $(#[$vattr])*
                    $variant $({ $($(#[$fattr])* $field: $fty),+ })? => $code, $message,
                )+
            }
        }

        impl Problem {
            /// Every kind with its HTTP columns, in declaration order.
            pub const ENTRIES: &'static [ProblemEntry] = &[$(ProblemEntry {
                status: $status,
                error: $error,
                code: $code,
                message: $message,
                challenge: Challenge::$challenge,
            }),+];

            /// This kind's row of [`Problem::ENTRIES`].
            pub fn entry(&self) -> ProblemEntry {
                match self {
                    $( Self::$variant { .. } => ProblemEntry {
                        status: $status,
                        error: $error,
                        code: $code,
                        message: $message,
                        challenge: Challenge::$challenge,
                    }, )+
                }
            }
        }
    };
}

problems! {
    /// No `Authorization: Bearer` credentials (RFC 6750 §3.1: no error code).
    BearerTokenMissing => 401, "unauthorized", "ERR_BEARER_TOKEN_MISSING", Bare,
        "this resource requires an Authorization: Bearer token",
    /// The `Authorization` header is malformed.
    AuthorizationHeaderInvalid {
        /// What is wrong with it.
        fault: HeaderFault,
    } => 400, "invalid_request", "ERR_AUTHORIZATION_HEADER_INVALID", WithError, "{fault}",
    /// The token lacks the role the resource requires.
    InsufficientScope {
        /// The required role.
        role: &'static str,
    } => 403, "insufficient_scope", "ERR_INSUFFICIENT_SCOPE", WithError,
        "this resource requires the role \"{role}\"",
    /// No configured API key matches the presented one.
    ApiKeyInvalid => 401, "invalid_client", "ERR_API_KEY_INVALID", None,
        "the API key is not valid",
    /// A client's credentials at an OAuth endpoint are missing or wrong (RFC 6749 §5.2).
    ClientAuthenticationFailed => 401, "invalid_client", "ERR_CLIENT_AUTHENTICATION_FAILED", Basic,
        "client authentication failed",
    /// A client used more than one authentication method (RFC 6749 §2.3).
    ClientAuthenticationAmbiguous => 400, "invalid_request", "ERR_CLIENT_AUTHENTICATION_AMBIGUOUS", None,
        "a client authenticates with one method: HTTP Basic, or client_id and client_secret in the body",
    /// A `grant_type` the token endpoint does not take (RFC 6749 §5.2).
    UnsupportedGrantType => 400, "unsupported_grant_type", "ERR_UNSUPPORTED_GRANT_TYPE", None,
        "this grant_type is not supported (the metadata's grant_types_supported lists those that are)",
    /// A requested scope is not granted to the client (RFC 6749 §5.2).
    InvalidScope => 400, "invalid_scope", "ERR_INVALID_SCOPE", None,
        "a requested scope is not granted to this client",
    /// Too many failed `/auth` attempts from one address.
    TooManyFailedAttempts => 429, "too_many_requests", "ERR_TOO_MANY_FAILED_ATTEMPTS", None,
        "too many failed attempts from this address; retry later",
    /// The request body is not of the media type the route takes.
    UnsupportedMediaType {
        /// The media type it takes.
        expected: &'static str,
    } => 415, "unsupported_media_type", "ERR_UNSUPPORTED_MEDIA_TYPE", None,
        "the request body must be {expected}",
    /// The JSON request body is not what the route takes.
    InvalidRequestBody {
        /// What is wrong with it.
        fault: BodyFault,
    } => 400, "invalid_request", "ERR_INVALID_REQUEST_BODY", None, "{fault}",
    /// The request body could not be read from the connection.
    BodyUnreadable => 400, "invalid_request", "ERR_BODY_UNREADABLE", None,
        "the request body could not be read",
    /// The request body is over the route's limit.
    PayloadTooLarge {
        /// The limit in bytes.
        limit: usize,
    } => 413, "payload_too_large", "ERR_PAYLOAD_TOO_LARGE", None,
        "the request body is over {limit} bytes",
    /// A request header or the query string is malformed.
    BadRequest {
        /// Which part of the request.
        part: RequestPart,
    } => 400, "invalid_request", "ERR_BAD_REQUEST", None, "{part} is missing or invalid",
    /// No route has this path.
    NotFound => 404, "not_found", "ERR_NOT_FOUND", None, "no such resource",
    /// The route does not take this method.
    MethodNotAllowed => 405, "method_not_allowed", "ERR_METHOD_NOT_ALLOWED", None,
        "this method is not allowed here",
    /// The route needs a `Content-Length`.
    LengthRequired => 411, "length_required", "ERR_LENGTH_REQUIRED", None,
        "a Content-Length header is required",
    /// The CORS preflight asked for an origin, method or header that is not allowed.
    CorsForbidden => 403, "cors_forbidden", "ERR_CORS_FORBIDDEN", None,
        "this origin, method or header is not allowed",
    /// The access token is revoked (its session ended, or the token itself was revoked).
    TokenRevoked => 401, "invalid_token", "ERR_JWT_REVOKED", WithError,
        "the token has been revoked",
    /// A refresh or logout request carries no refresh token.
    RefreshTokenMissing => 400, "invalid_request", "ERR_REFRESH_TOKEN_MISSING", None,
        "no refresh token: send it as \"refresh_token\" in a JSON body, or the session cookie",
    /// No such refresh token.
    RefreshTokenInvalid => 401, "invalid_grant", "ERR_REFRESH_TOKEN_INVALID", None,
        "the refresh token is not valid",
    /// The session's idle or absolute lifetime is over.
    RefreshTokenExpired => 401, "invalid_grant", "ERR_REFRESH_TOKEN_EXPIRED", None,
        "the session has expired; authenticate again",
    /// A rotated refresh token was used again: the whole session is now revoked.
    RefreshTokenReused => 401, "invalid_grant", "ERR_REFRESH_TOKEN_REUSED", None,
        "the refresh token was already used: the session is revoked",
    /// The session was ended (logout, revocation).
    RefreshTokenRevoked => 401, "invalid_grant", "ERR_REFRESH_TOKEN_REVOKED", None,
        "the session has ended; authenticate again",
    /// The access token belongs to no session (issued by `jwtkit issue`), so there is none to end.
    NoSession => 400, "invalid_request", "ERR_TOKEN_HAS_NO_SESSION", None,
        "this access token belongs to no session",
    /// A request relying on the session cookie failed the CSRF defence.
    CsrfCheckFailed {
        /// What was missing or wrong.
        fault: CsrfFault,
    } => 403, "forbidden", "ERR_CSRF_CHECK_FAILED", None, "{fault}",
    /// The session store cannot be reached: retry later (`Retry-After`).
    StoreUnavailable => 503, "temporarily_unavailable", "ERR_STORE_UNAVAILABLE", None,
        "the session store is unavailable; retry later",
    /// A resource server has not yet fetched the trusted issuer's keys (it was unreachable):
    /// retry later (`Retry-After`).
    JwksUnavailable => 503, "temporarily_unavailable", "ERR_JWKS_UNAVAILABLE", None,
        "the trusted issuer's keys are not available yet; retry later",
    /// A fault of the server itself (logged; never a client's mistake).
    Internal => 500, "internal_error", "ERR_INTERNAL", None, "internal server error",
}

/// What is wrong with an `Authorization` header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum HeaderFault {
    /// More than one `Authorization` header.
    Repeated,
    /// Bytes outside visible ASCII.
    NotVisibleAscii,
    /// `Bearer` with nothing after it.
    Empty,
    /// Characters outside RFC 6750's `b64token`.
    NotB64Token,
}

impl fmt::Display for HeaderFault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Repeated => "more than one Authorization header",
            Self::NotVisibleAscii => "the Authorization header is not visible ASCII",
            Self::Empty => "the Bearer credentials are empty",
            Self::NotB64Token => "the Bearer token has characters outside RFC 6750's b64token",
        })
    }
}

/// What is wrong with a JSON request body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum BodyFault {
    /// Not JSON at all.
    NotJson,
    /// JSON, but not an object.
    NotAnObject,
    /// A required member is absent.
    MemberMissing(&'static str),
    /// A member that must be a string is not.
    NotAString(&'static str),
    /// A member is none of the values it may take.
    NotOneOf(&'static str, &'static str),
    /// Not a form (`name=value&...`, percent-encoded UTF-8).
    NotForm,
    /// A form parameter given twice.
    Repeated,
    /// A required form parameter is absent or empty.
    ParameterMissing(&'static str),
    /// An OAuth endpoint's body is not `application/x-www-form-urlencoded` (RFC 6749 §3.2).
    NotFormEncoded,
}

impl fmt::Display for BodyFault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotJson => f.write_str("the request body is not valid JSON"),
            Self::NotAnObject => f.write_str("the request body must be a JSON object"),
            Self::MemberMissing(name) => write!(f, "the request body has no \"{name}\" member"),
            Self::NotAString(name) => write!(f, "\"{name}\" must be a string"),
            Self::NotOneOf(name, values) => write!(f, "\"{name}\" must be {values}"),
            Self::NotForm => f.write_str("the request body is not a valid form"),
            Self::Repeated => f.write_str("a form parameter is given more than once"),
            Self::ParameterMissing(name) => write!(f, "the request has no \"{name}\" parameter"),
            Self::NotFormEncoded => {
                f.write_str("the request body must be application/x-www-form-urlencoded")
            }
        }
    }
}

/// Why a cookie-authenticated request failed the CSRF defence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CsrfFault {
    /// The custom header that only a page of an allowed origin can send is missing.
    HeaderMissing,
    /// `Origin` is missing, or not this server's nor an allowed origin.
    OriginNotAllowed,
}

impl fmt::Display for CsrfFault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::HeaderMissing => {
                "a request with the session cookie must carry the header X-Jwtkit-Csrf: 1"
            }
            Self::OriginNotAllowed => {
                "a request with the session cookie must come from this server's origin or an allowed one"
            }
        })
    }
}

/// The part of a request that [`Problem::BadRequest`] is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RequestPart {
    /// A header.
    Header,
    /// The query string.
    Query,
}

impl fmt::Display for RequestPart {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Header => "a request header",
            Self::Query => "the query string",
        })
    }
}

/// How the API answers a jwtkit-core error of `phase` (see `jwtkit_core::Error::TABLES`):
/// status, error name and challenge. A refused token is RFC 6750's `invalid_token` (401); a
/// clock that cannot be read is the server's fault (503); key and policy errors are
/// configuration mistakes that stop the server at start, never an answer (`None`).
pub fn core_phase_entry(phase: Phase) -> Option<(u16, &'static str, Challenge)> {
    match phase {
        Phase::Malformed | Phase::Signature | Phase::Claims => {
            Some((401, "invalid_token", Challenge::WithError))
        }
        Phase::Clock => Some((503, "temporarily_unavailable", Challenge::None)),
        Phase::Keys | Phase::Policy => None,
    }
}

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
    challenge: Challenge,
    scope: Option<&'static str>,
    retry_after: Option<Duration>,
    oauth: bool,
}

/// The JSON body of an error at an OAuth endpoint (RFC 6749 §5.2, RFC 7009, RFC 7662).
#[derive(Debug, Serialize)]
pub struct OAuthErrorBody<'a> {
    /// The RFC 6749 error (`invalid_request`, `invalid_client`, `invalid_grant`, ...).
    pub error: &'a str,
    /// A human-readable explanation; never contains a token or a secret.
    pub error_description: &'a str,
    /// The stable error code, e.g. `ERR_CLIENT_AUTHENTICATION_FAILED`.
    pub code: &'a str,
}

impl From<Problem> for ApiError {
    fn from(problem: Problem) -> Self {
        let entry = problem.entry();
        Self {
            status: status(entry.status),
            error: entry.error,
            code: entry.code,
            message: problem.to_string(),
            challenge: entry.challenge,
            scope: match problem {
                Problem::InsufficientScope { role } => Some(role),
                _ => None,
            },
            // A service that is briefly unavailable says when to come back.
            retry_after: (entry.status == 503).then_some(Duration::from_secs(1)),
            oauth: false,
        }
    }
}

impl ApiError {
    /// The response for a token refused by jwtkit-core (or a clock it could not read).
    pub fn from_core(error: &jwtkit_core::Error) -> Self {
        let Some((code, error_name, challenge)) = core_phase_entry(error.phase()) else {
            tracing::error!(
                code = error.code(),
                "a configuration error reached a request"
            );
            return Problem::Internal.into();
        };
        Self {
            status: status(code),
            error: error_name,
            code: error.code(),
            message: error.to_string(),
            challenge,
            scope: None,
            retry_after: (code == 503).then_some(Duration::from_secs(1)),
            oauth: false,
        }
    }

    /// The same error as an OAuth endpoint answers it (RFC 6749 §5.2): the body's
    /// `error_description` instead of `message`, and `invalid_grant` as a 400.
    pub fn oauth(mut self) -> Self {
        self.oauth = true;
        if self.error == "invalid_grant" {
            self.status = StatusCode::BAD_REQUEST;
        }
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

    /// The `WWW-Authenticate` value, quoted as RFC 6750 §3 requires.
    fn challenge(&self) -> Option<String> {
        let mut challenge = format!("Bearer realm=\"{REALM}\"");
        match self.challenge {
            Challenge::None => return None,
            Challenge::Basic => return Some(format!("Basic realm=\"{REALM}\"")),
            Challenge::Bare => {}
            Challenge::WithError => {
                for (name, value) in [("error", self.error), ("error_description", &self.message)]
                    .into_iter()
                    .chain(self.scope.map(|scope| ("scope", scope)))
                {
                    challenge.push_str(&format!(", {name}=\"{}\"", quoted_string_safe(value)));
                }
            }
        }
        Some(challenge)
    }

    /// The response.
    pub fn into_response(self) -> Response {
        let body = if self.oauth {
            warp::reply::json(&OAuthErrorBody {
                error: self.error,
                error_description: &self.message,
                code: self.code,
            })
        } else {
            warp::reply::json(&ErrorBody {
                error: self.error,
                code: self.code,
                message: &self.message,
            })
        };
        let mut response = warp::reply::with_status(body, self.status).into_response();
        let challenge = self.challenge();
        let headers = response.headers_mut();
        headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
        if self.oauth {
            headers.insert(PRAGMA, HeaderValue::from_static("no-cache"));
        }
        if let Some(value) = challenge.and_then(|c| HeaderValue::from_str(&c).ok()) {
            headers.insert(WWW_AUTHENTICATE, value);
        }
        if let Some(wait) = self.retry_after {
            let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
            headers.insert(RETRY_AFTER, HeaderValue::from(secs.max(1)));
        }
        response
    }
}

/// A status of the table (all valid by construction; checked by a test).
fn status(code: u16) -> StatusCode {
    StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
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
    fn the_table_is_consistent() {
        for entry in Problem::ENTRIES {
            assert!(StatusCode::from_u16(entry.status).is_ok(), "{}", entry.code);
            assert!(entry.code.starts_with("ERR_"), "{}", entry.code);
        }
        assert_eq!(
            Problem::PayloadTooLarge { limit: 9 }.entry().code,
            "ERR_PAYLOAD_TOO_LARGE"
        );
        assert_eq!(Problem::Internal.entry().status, 500);
    }

    #[test]
    fn the_refusals_a_page_treats_as_the_end_of_its_session_are_the_invalid_grant_ones() {
        let mut ending: Vec<&str> = jwtkit_core::protocol::SESSION_ENDING_REFUSALS
            .iter()
            .map(|(code, _)| *code)
            .collect();
        let mut invalid_grant: Vec<&str> = Problem::ENTRIES
            .iter()
            .filter(|entry| entry.error == "invalid_grant")
            .map(|entry| entry.code)
            .collect();
        ending.sort_unstable();
        invalid_grant.sort_unstable();
        assert_eq!(ending, invalid_grant);
    }

    #[test]
    fn challenge_values_are_quoted_safely() {
        let mut error = ApiError::from(Problem::AuthorizationHeaderInvalid {
            fault: HeaderFault::Empty,
        });
        error.message = "\"exp\" is \\ é".to_owned();
        let response = error.into_response();
        let header = response.headers()[WWW_AUTHENTICATE].to_str().unwrap();
        assert_eq!(
            header,
            r#"Bearer realm="jwtkit", error="invalid_request", error_description="'exp' is / ?""#
        );
    }

    #[test]
    fn challenges_follow_the_table() {
        let challenge = |problem: Problem| {
            ApiError::from(problem)
                .into_response()
                .headers()
                .get(WWW_AUTHENTICATE)
                .map(|v| v.to_str().unwrap().to_owned())
        };
        assert_eq!(
            challenge(Problem::BearerTokenMissing).as_deref(),
            Some(r#"Bearer realm="jwtkit""#)
        );
        assert_eq!(
            challenge(Problem::InsufficientScope { role: "admin" }).as_deref(),
            Some(
                r#"Bearer realm="jwtkit", error="insufficient_scope", error_description="this resource requires the role 'admin'", scope="admin""#
            )
        );
        assert_eq!(challenge(Problem::ApiKeyInvalid), None);
    }

    #[test]
    fn retry_after_rounds_up() {
        let response = ApiError::from(Problem::TooManyFailedAttempts)
            .with_retry_after(Duration::from_millis(1500))
            .into_response();
        assert_eq!(response.headers()[RETRY_AFTER], "2");
    }

    #[test]
    fn a_clock_failure_is_the_servers_fault() {
        let error = ApiError::from_core(&jwtkit_core::ClockError::Unavailable.into());
        assert_eq!(
            (error.status().as_u16(), error.code()),
            (503, "ERR_CLOCK_UNAVAILABLE")
        );
        let response = error.into_response();
        assert!(response.headers().get(WWW_AUTHENTICATE).is_none());
        assert_eq!(response.headers()[RETRY_AFTER], "1");
    }
}
