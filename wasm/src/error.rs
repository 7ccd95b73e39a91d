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
