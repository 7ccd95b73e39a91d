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
            problem: &'static str,
        } => "ERR_INVALID_ARGUMENT", "{problem}",
        /// `fetch` itself failed (network error, invalid `init`); the original error is the
        /// thrown error's `cause`.
        FetchFailed {
            /// The original error's message.
            message: String,
        } => "ERR_FETCH_FAILED", "the request failed: {message}",
        /// The server answered 401 without a jwtkit error body.
        Unauthorized => "ERR_UNAUTHORIZED", "the server refused the token (401)",
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

/// The JavaScript error for a jwtkit-core error.
pub(crate) fn from_core(error: impl Into<jwtkit_core::Error>) -> JsValue {
    let error = error.into();
    js_error(error.code(), &error.to_string())
}

/// An invalid-argument error.
pub(crate) fn invalid(problem: &'static str) -> JsValue {
    JsError::InvalidArgument { problem }.into()
}
