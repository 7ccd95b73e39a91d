//! Errors thrown to JavaScript: real `Error` objects (`name: "JwtError"`) with a stable
//! `code` — the core's codes for token errors, and this package's own [`JsError`] table.

use js_sys::{Error, Reflect};
use wasm_bindgen::JsValue;

jwtkit_core::error_table! {
    /// The package's own errors, beside the core's token errors.
    #[derive(Debug, Clone, PartialEq, Eq)]
    #[non_exhaustive]
    pub enum JsError {
        /// An argument or option of the wrong type or out of range.
        InvalidArgument {
            /// Which argument, and what it must be.
            problem: std::borrow::Cow<'static, str>,
        } => "ERR_INVALID_ARGUMENT", "{problem}",
        /// `fetch` itself failed (network error, invalid `init`); the original error is the
        /// thrown error's `cause`.
        FetchFailed {
            /// The original error's message.
            message: String,
        } => "ERR_FETCH_FAILED", "the request failed: {message}",
        /// The server answered 401 without a jwtkit error body.
        Unauthorized => "ERR_UNAUTHORIZED", "the server refused the token (401)",
        /// `fetch` was asked to send the token to an origin that is neither the page's nor
        /// allowed (`allowedOrigins`); nothing was sent.
        OriginNotAllowed {
            /// The origin asked for.
            origin: String,
        } => "ERR_ORIGIN_NOT_ALLOWED",
            "the token is sent only to the page's origin or an allowed one, not to {origin}",
        /// The session has ended (logout here or in another tab, or by the server).
        SessionEnded => "ERR_SESSION_ENDED", "the session has ended; authenticate again",
        /// The provider's metadata or JWK Set could not be read, or lacks what a sign-in
        /// needs.
        OidcDiscoveryFailed {
            /// What was missing or wrong.
            detail: String,
        } => "ERR_OIDC_DISCOVERY_FAILED", "{detail}",
        /// The metadata, or the answer's `iss` (RFC 9207), names another issuer than the
        /// one asked: a mix-up attack, or a wrong `issuer` option.
        OidcIssuerMismatch {
            /// Which issuer was named, and which was expected.
            detail: String,
        } => "ERR_OIDC_ISSUER_MISMATCH", "{detail}",
        /// The provider announces the `iss` response parameter and the answer has none.
        OidcIssMissing {
            /// Why it was required.
            detail: String,
        } => "ERR_OIDC_ISS_MISSING", "{detail}",
        /// The answer does not belong to a sign-in this tab started (`state`).
        OidcStateMismatch {
            /// Whether a sign-in was waiting.
            detail: String,
        } => "ERR_OIDC_STATE_MISMATCH", "{detail}",
        /// The provider answered the authorization request with an error (its `error` is
        /// the thrown error's `error`, e.g. `login_required` after `prompt: "none"`).
        OidcAuthorizationError {
            /// The provider's `error` and description.
            detail: String,
        } => "ERR_OIDC_AUTHORIZATION_ERROR", "{detail}",
        /// The token endpoint refused the code or the refresh token (its `error` is the
        /// thrown error's `error`), or answered without usable tokens.
        OidcTokenRequestFailed {
            /// The provider's `error` and description, or what was missing.
            detail: String,
        } => "ERR_OIDC_TOKEN_REQUEST_FAILED", "{detail}",
        /// The ID token's signature does not verify with a key of the provider's JWK Set.
        IdTokenSignatureInvalid {
            /// Which key or algorithm was missing, or that none verified.
            detail: String,
        } => "ERR_ID_TOKEN_SIGNATURE_INVALID", "{detail}",
        /// The ID token's claims do not belong to this sign-in (OpenID Connect Core
        /// §3.1.3.7): `iss`, `aud`, `azp`, `exp`, `iat`, `nonce` or `at_hash`.
        IdTokenInvalid {
            /// Which claim, and what it holds.
            detail: String,
        } => "ERR_ID_TOKEN_INVALID", "{detail}",
        /// A DPoP key could not be generated or kept (no WebCrypto, no IndexedDB, an
        /// algorithm the server does not take): nothing was sent.
        DpopKeyUnavailable {
            /// Why.
            detail: String,
        } => "ERR_DPOP_KEY_UNAVAILABLE", "{detail}",
    }
}

impl From<JsError> for JsValue {
    fn from(error: JsError) -> Self {
        js_error(error.code(), &error.to_string())
    }
}

/// A JavaScript `Error` whose `name` is `JwtError` and whose `code` is `code`.
pub(crate) fn js_error(code: &str, message: &str) -> JsValue {
    let error = Error::new(message);
    error.set_name("JwtError");
    set(&error, "code", &code.into());
    error.into()
}

/// Sets `name` on a fresh `Error` object (which cannot refuse a property).
pub(crate) fn set(error: &JsValue, name: &str, value: &JsValue) {
    let set = Reflect::set(error, &name.into(), value);
    debug_assert_eq!(set, Ok(true), "an Error object takes properties");
}

/// A jwtkit-core error the package can meet: decoding (form) and expiry (claims) only, so
/// that the messages of the others (keys, signatures, policy) stay out of the `.wasm`.
pub(crate) trait CoreError: std::fmt::Display {
    fn code(&self) -> &'static str;
}

impl CoreError for jwtkit_core::MalformedError {
    fn code(&self) -> &'static str {
        jwtkit_core::MalformedError::code(self)
    }
}

impl CoreError for jwtkit_core::ClaimsError {
    fn code(&self) -> &'static str {
        jwtkit_core::ClaimsError::code(self)
    }
}

/// The JavaScript error for a jwtkit-core error.
pub(crate) fn from_core(error: impl CoreError) -> JsValue {
    js_error(error.code(), &error.to_string())
}

/// An invalid-argument error.
pub(crate) fn invalid(problem: impl Into<std::borrow::Cow<'static, str>>) -> JsValue {
    JsError::InvalidArgument {
        problem: problem.into(),
    }
    .into()
}
