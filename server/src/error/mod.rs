//! Every error the API answers with, declared once: the [`Problem`] table (HTTP status, the
//! RFC 6750/6749 error name, the stable code, the message), plus the token errors of
//! jwtkit-core, whose status follows from their phase ([`ApiError::from_core`]). The JSON
//! body, the RFC 6750 `WWW-Authenticate` challenge and `Retry-After` are written here too.

use std::time::Duration;

mod problems;

pub use problems::{BodyFault, CsrfFault, HeaderFault, Problem, RequestPart};

use jwtkit_core::Phase;
use jwtkit_core::dpop::ProofError;
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
    /// `DPoP algs="…", error="…", error_description="…"` (RFC 9449 §7.1): a DPoP proof or a
    /// DPoP-bound token was refused.
    Dpop,
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

/// How the API answers a refused DPoP proof (see `jwtkit_core::dpop::ProofError::TABLE`):
/// status, error name (RFC 9449 §7.1: `use_dpop_nonce` when a nonce is asked for, else
/// `invalid_dpop_proof`) and challenge. A token endpoint answers 400 instead, without a
/// challenge ([`ApiError::oauth`]).
pub fn dpop_proof_entry(code: &str) -> (u16, &'static str, Challenge) {
    let error = if code == ProofError::NonceRequired.code() {
        "use_dpop_nonce"
    } else {
        "invalid_dpop_proof"
    };
    (401, error, Challenge::Dpop)
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
    /// What a `DPoP` challenge names beside the error (rare: kept out of line).
    dpop: Option<Box<DpopParameters>>,
}

/// The `algs` of a `DPoP` challenge, and the nonce of its `DPoP-Nonce` header.
#[derive(Debug, Clone, Default)]
struct DpopParameters {
    algs: Option<String>,
    nonce: Option<String>,
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
            dpop: None,
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
        Self::of_table(
            (code, error_name, challenge),
            error.code(),
            error.to_string(),
        )
    }

    /// The response for a refused DPoP proof.
    pub fn from_proof(error: &ProofError) -> Self {
        Self::of_table(
            dpop_proof_entry(error.code()),
            error.code(),
            error.to_string(),
        )
    }

    /// An error of a jwtkit-core table: its HTTP columns, code and message.
    fn of_table(
        (status_code, error, challenge): (u16, &'static str, Challenge),
        code: &'static str,
        message: String,
    ) -> Self {
        Self {
            status: status(status_code),
            error,
            code,
            message,
            challenge,
            scope: None,
            retry_after: (status_code == 503).then_some(Duration::from_secs(1)),
            oauth: false,
            dpop: None,
        }
    }

    /// Adds the nonce a DPoP proof must carry (the `DPoP-Nonce` header, RFC 9449 §8).
    #[must_use]
    pub fn with_dpop_nonce(mut self, nonce: String) -> Self {
        self.dpop.get_or_insert_default().nonce = Some(nonce);
        self
    }

    /// Names the DPoP proof algorithms the server accepts in a `DPoP` challenge (`algs`).
    #[must_use]
    pub fn with_dpop_algs(mut self, algs: String) -> Self {
        self.dpop.get_or_insert_default().algs = Some(algs);
        self
    }

    /// The same error challenged under the `DPoP` scheme naming `algs` (RFC 9449 §7.1), for a
    /// token refused as it came under that scheme; an error without a challenge keeps none.
    #[must_use]
    pub fn with_dpop_challenge(mut self, algs: String) -> Self {
        if matches!(self.challenge, Challenge::Bare | Challenge::WithError) {
            self.challenge = Challenge::Dpop;
        }
        self.with_dpop_algs(algs)
    }

    /// The same error as an OAuth endpoint answers it (RFC 6749 §5.2): the body's
    /// `error_description` instead of `message`, and `invalid_grant` as a 400.
    pub fn oauth(mut self) -> Self {
        self.oauth = true;
        match self.error {
            "invalid_grant" => self.status = StatusCode::BAD_REQUEST,
            // RFC 9449 §5: the token endpoint refuses a proof as any bad request.
            "invalid_dpop_proof" | "use_dpop_nonce" => {
                self.status = StatusCode::BAD_REQUEST;
                self.challenge = Challenge::None;
            }
            _ => {}
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
            Challenge::Dpop => {
                challenge = format!("DPoP realm=\"{REALM}\"");
                for (name, value) in self
                    .dpop
                    .as_ref()
                    .and_then(|dpop| dpop.algs.as_deref())
                    .map(|algs| ("algs", algs))
                    .into_iter()
                    .chain([("error", self.error), ("error_description", &self.message)])
                {
                    challenge.push_str(&format!(", {name}=\"{}\"", quoted_string_safe(value)));
                }
            }
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
        let nonce = self.dpop.and_then(|dpop| dpop.nonce);
        if let Some(nonce) = nonce.and_then(|n| HeaderValue::from_str(&n).ok()) {
            headers.insert("dpop-nonce", nonce);
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
        // A refresh's `invalid_grant` refusals; the authorization code's end a sign-in
        // attempt, not a session.
        let mut invalid_grant: Vec<&str> = Problem::ENTRIES
            .iter()
            .filter(|entry| entry.error == "invalid_grant")
            .filter(|entry| entry.code.starts_with("ERR_REFRESH_TOKEN_"))
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
