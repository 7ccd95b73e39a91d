//! Errors thrown to JavaScript: real `Error` objects with a stable `code`.

use js_sys::{Error, Reflect};
use wasm_bindgen::JsValue;

/// Code of an invalid argument (an option of the wrong type or out of range).
pub(crate) const ERR_INVALID_ARGUMENT: &str = "ERR_INVALID_ARGUMENT";

/// A JavaScript `Error` whose `name` is `JwtError` and whose `code` is `code`.
pub(crate) fn js_error(code: &str, message: &str) -> JsValue {
    let error = Error::new(message);
    error.set_name("JwtError");
    // Setting a property on a fresh Error object cannot fail.
    let _ = Reflect::set(&error, &"code".into(), &code.into());
    error.into()
}

/// The JavaScript error for a jwtkit-core error.
pub(crate) fn from_core(error: impl Into<jwtkit_core::Error>) -> JsValue {
    let error = error.into();
    js_error(error.code(), &error.to_string())
}

/// An invalid-argument error.
pub(crate) fn invalid(message: &str) -> JsValue {
    js_error(ERR_INVALID_ARGUMENT, message)
}
