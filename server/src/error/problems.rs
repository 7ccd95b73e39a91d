//! What the API refuses, and why: the [`Problem`] table (one row per refusal: HTTP status,
//! error name, stable code, challenge, message) and the details its messages name.

use std::fmt;

use super::{Challenge, ProblemEntry};

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
        "no refresh token: send it as \"refresh_token\" in a JSON body, or the session cookie (a logout also takes the access token as Authorization: Bearer)",
    /// No such refresh token.
    RefreshTokenInvalid => 401, "invalid_grant", "ERR_REFRESH_TOKEN_INVALID", None,
        "the refresh token is not valid",
    /// The session's idle or absolute lifetime is over.
    RefreshTokenExpired => 401, "invalid_grant", "ERR_REFRESH_TOKEN_EXPIRED", None,
        "the session has expired; authenticate again",
    /// A rotated refresh token was used again: the whole session is now revoked.
    RefreshTokenReused => 401, "invalid_grant", "ERR_REFRESH_TOKEN_REUSED", None,
        "the refresh token was already used: the session is revoked",
    /// A refresh token presented by another client than its own: taken as stolen.
    RefreshTokenWrongClient => 401, "invalid_grant", "ERR_REFRESH_TOKEN_WRONG_CLIENT", None,
        "the refresh token was issued to another client: taken as stolen, its session has ended",
    /// A refresh token bound to a DPoP key, presented without a proof of that key.
    RefreshTokenKeyMismatch => 401, "invalid_grant", "ERR_REFRESH_TOKEN_KEY_MISMATCH", None,
        "the refresh token is bound to a DPoP key this request did not prove: taken as stolen, its session has ended",
    /// A DPoP proof used before (RFC 9449 §11.1).
    DpopProofReplayed => 401, "invalid_dpop_proof", "ERR_DPOP_PROOF_REPLAYED", Dpop,
        "the DPoP proof was used before: make a new proof (with a new jti) for every request",
    /// More than one `DPoP` header, or one that is not text (RFC 9449 §4.3 step 1).
    DpopHeaderInvalid => 400, "invalid_dpop_proof", "ERR_DPOP_HEADER_INVALID", Dpop,
        "the request must carry exactly one DPoP header, as text",
    /// A token request without a proof, by a client whose tokens are always bound
    /// (`dpop_bound_access_tokens`, RFC 9449 §5.2).
    DpopProofRequired => 400, "invalid_dpop_proof", "ERR_DPOP_PROOF_REQUIRED", None,
        "this client's tokens are bound to its key: send a DPoP proof in the DPoP header",
    /// A DPoP-bound access token without a proof.
    DpopProofMissing => 401, "invalid_dpop_proof", "ERR_DPOP_PROOF_MISSING", Dpop,
        "a DPoP-bound access token needs a DPoP proof: send one in the DPoP header",
    /// The proof's key is not the one the access token is bound to (or the token is bound
    /// to none).
    DpopKeyMismatch => 401, "invalid_token", "ERR_DPOP_KEY_MISMATCH", Dpop,
        "the access token is not bound to the DPoP proof's key (its cnf.jkt)",
    /// A DPoP-bound access token sent as a bearer token (RFC 9449 §7.2).
    DpopTokenAsBearer => 401, "invalid_token", "ERR_DPOP_TOKEN_AS_BEARER", WithError,
        "the access token is bound to a DPoP key: send it as Authorization: DPoP, with a DPoP proof",
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
    /// No OpenID client is registered with the `client_id` of an `authorization_code` or a
    /// person's `refresh_token` grant (RFC 6749 §5.2).
    ClientUnknown => 400, "invalid_client", "ERR_CLIENT_UNKNOWN", None,
        "no OpenID client is registered with this client_id (register it in the configuration or with `jwtkit clients add`)",
    /// The authorization code is unknown, expired or already redeemed (RFC 6749 §5.2).
    AuthorizationCodeInvalid => 400, "invalid_grant", "ERR_AUTHORIZATION_CODE_INVALID", None,
        "the authorization code is unknown or expired; start the authorization again",
    /// The authorization code was redeemed before: what it issued is revoked (RFC 6749 §4.1.2).
    AuthorizationCodeReplayed => 400, "invalid_grant", "ERR_AUTHORIZATION_CODE_REPLAYED", None,
        "the authorization code was redeemed before: the tokens it issued are revoked",
    /// The authorization code was issued to another client.
    AuthorizationCodeWrongClient => 400, "invalid_grant", "ERR_AUTHORIZATION_CODE_WRONG_CLIENT", None,
        "the authorization code was issued to another client",
    /// The `redirect_uri` is not the one of the authorization request (RFC 6749 §4.1.3).
    RedirectUriMismatch => 400, "invalid_grant", "ERR_REDIRECT_URI_MISMATCH", None,
        "redirect_uri is not the one the authorization request gave",
    /// The PKCE verifier does not match the code's challenge (RFC 7636 §4.6).
    CodeVerifierInvalid => 400, "invalid_grant", "ERR_CODE_VERIFIER_INVALID", None,
        "code_verifier does not match the authorization request's code_challenge",
    /// `/oauth2/userinfo` with an access token without the `openid` scope.
    OpenidScopeMissing => 403, "insufficient_scope", "ERR_OPENID_SCOPE_MISSING", WithError,
        "userinfo answers access tokens with the openid scope",
    /// The access token's subject is no longer a person who can sign in.
    UserUnknown => 401, "invalid_token", "ERR_USER_UNKNOWN", WithError,
        "the token's subject is no longer a person who can sign in",
    /// The session store cannot be reached: retry later (`Retry-After`).
    StoreUnavailable => 503, "temporarily_unavailable", "ERR_STORE_UNAVAILABLE", None,
        "the store is unavailable; retry later",
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
