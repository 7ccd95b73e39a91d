//! # jwtkit (npm) — jwtkit-wasm
//!
//! Decode JSON Web Tokens and check their expiry in the browser **with the same strict parser
//! and expiry rule the jwtkit server uses**, so a frontend never sends a token the server
//! will refuse for expiry — and never trusts what it merely decoded.
//!
//! Every export throws a JavaScript `Error` with a stable `code` (the core's codes, e.g.
//! `ERR_JWT_MALFORMED`, `ERR_JWT_EXPIRED`, or `ERR_INVALID_ARGUMENT`); none panics.

mod error;
mod options;
mod session;
mod types;

use jwtkit_core::ParseOptions;
use jwtkit_core::dangerous::{self, UnverifiedToken};
use wasm_bindgen::prelude::*;

pub use session::TokenSession;

use error::{from_core, invalid};
use options::ExpiryOptions;

/// Decodes a token WITHOUT verifying anything: not the signature, not the claims.
///
/// Uses the server's strict parser: a malformed token (bad base64url, duplicate JSON
/// members, a string `exp`, `alg` missing, `crit`, JWE, ...) throws an `Error` with its code.
/// Use it to show a token or to decide whether to send it, never to decide what its bearer
/// may do.
#[wasm_bindgen(js_name = decodeUnverified, unchecked_return_type = "DecodedToken")]
pub fn decode_unverified(
    #[wasm_bindgen(unchecked_param_type = "string")] token: JsValue,
) -> Result<JsValue, JsValue> {
    let decoded = decode(&token)?;
    // The texts passed the strict parser (valid JSON, no duplicate members), so JSON.parse
    // reads exactly what the server reads.
    let result = js_sys::Object::new();
    js_sys::Reflect::set(
        &result,
        &"header".into(),
        &js_sys::JSON::parse(decoded.header_json())?,
    )?;
    js_sys::Reflect::set(
        &result,
        &"claims".into(),
        &js_sys::JSON::parse(decoded.claims_json())?,
    )?;
    Ok(result.into())
}

/// Whether the token is expired (`now >= exp + leeway`, the server's rule). Decodes without
/// verifying. A token without `exp` never expires here. `now` is a `Date` or seconds since the
/// epoch; without it the real clock is used, moved by `clockOffsetSeconds`.
#[wasm_bindgen(js_name = isExpired)]
pub fn is_expired(
    #[wasm_bindgen(unchecked_param_type = "string")] token: JsValue,
    #[wasm_bindgen(unchecked_optional_param_type = "ExpiryOptions")] options: JsValue,
) -> Result<bool, JsValue> {
    let decoded = decode(&token)?;
    let options = ExpiryOptions::read(&options)?;
    Ok(decoded.is_expired(options.server_now()?, options.leeway_seconds))
}

/// Seconds until the token expires: negative once expired, `Infinity` without `exp`.
/// (Leeway is not counted: this is the time until `exp` itself.)
#[wasm_bindgen(js_name = secondsUntilExpiry)]
pub fn seconds_until_expiry(
    #[wasm_bindgen(unchecked_param_type = "string")] token: JsValue,
    #[wasm_bindgen(unchecked_optional_param_type = "ExpiryOptions")] options: JsValue,
) -> Result<f64, JsValue> {
    let decoded = decode(&token)?;
    let options = ExpiryOptions::read(&options)?;
    Ok(decoded
        .seconds_until_expiry(options.server_now()?)
        .unwrap_or(f64::INFINITY))
}

pub(crate) fn decode(token: &JsValue) -> Result<UnverifiedToken, JsValue> {
    let token = token
        .as_string()
        .ok_or_else(|| invalid("the token must be a string"))?;
    dangerous::decode_unverified(&token, &ParseOptions::default()).map_err(from_core)
}
