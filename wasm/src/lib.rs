//! # jwtkit (npm) — jwtkit-wasm
//!
//! Decode JSON Web Tokens and check their expiry in the browser **with the same strict parser
//! and expiry rule the jwtkit server uses**, so a frontend never sends a token the server
//! will refuse for expiry — and never trusts what it merely decoded.
//!
//! A [`TokenSession`](session::TokenSession) keeps a session's access token in memory and
//! refreshes it ahead of expiry, once across the tabs of an origin, with the refresh token in
//! an `HttpOnly` cookie; its rules are Rust, its requests and messages a small JavaScript
//! driver (`src/session/driver.js`).
//!
//! Every export throws a JavaScript `Error` with a stable `code` (the core's codes, e.g.
//! `ERR_JWT_MALFORMED`, `ERR_JWT_EXPIRED`, or the package's own, [`error::JsError`]); none
//! panics. Time comes from one clock ([`set_clock`] replaces `Date.now` for tests and pages).
//!
//! Decoded headers and claims reach JavaScript as one `JSON.parse` of the texts the strict
//! parser validated, not through serde-wasm-bindgen (the usual way to hand Rust values to
//! JavaScript). Measured with the same build and Node.js benchmark
//! (`wasm/js/bench/decode.mjs`, decode + expiry, one run each): serde-wasm-bindgen over the
//! claims' JSON map made the `.wasm` 82.3 KiB with `gzip -9` instead of 37.6 KiB (over the
//! budget, then 40 KiB, now 45 KiB with sessions) and each decode about 1.6 times slower (3.0–3.7× the `JSON.parse` floor
//! instead of 1.8–2.3×). `JSON.parse` of validated text also reads exactly what the server
//! reads.

mod clock;
pub mod error;
mod options;
mod session;
mod types;

use std::cell::RefCell;
use std::rc::Rc;

use jwtkit_core::ParseOptions;
use jwtkit_core::dangerous::{self, UnverifiedToken};
use wasm_bindgen::prelude::*;

pub use clock::{now_seconds, set_clock};
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
    // reads exactly what the server reads; one crossing and one JSON.parse for both.
    let (header, claims) = (decoded.header_json(), decoded.claims_json());
    let mut json = String::with_capacity(header.len() + claims.len() + 22);
    json.push_str(r#"{"header":"#);
    json.push_str(header);
    json.push_str(r#","claims":"#);
    json.push_str(claims);
    json.push('}');
    js_sys::JSON::parse(&json)
}

/// Whether the token is expired (`now >= exp + leeway`, the server's rule). Decodes without
/// verifying. A token without `exp` throws `ERR_JWT_CLAIM_MISSING`: every jwtkit server
/// refuses it, so it is not "unexpired". `now` is a `Date` or seconds since the epoch; without
/// it the package clock is used, moved by `clockOffsetSeconds`.
#[wasm_bindgen(js_name = isExpired)]
pub fn is_expired(
    #[wasm_bindgen(unchecked_param_type = "string")] token: JsValue,
    #[wasm_bindgen(unchecked_optional_param_type = "ExpiryOptions")] options: JsValue,
) -> Result<bool, JsValue> {
    let decoded = decode(&token)?;
    let options = ExpiryOptions::read(&options)?;
    decoded
        .is_expired(options.server_now()?, options.leeway_seconds)
        .map_err(from_core)
}

/// Seconds until the token expires: negative once expired; a token without `exp` throws
/// `ERR_JWT_CLAIM_MISSING`. (Leeway is not counted: this is the time until `exp` itself.)
#[wasm_bindgen(js_name = secondsUntilExpiry)]
pub fn seconds_until_expiry(
    #[wasm_bindgen(unchecked_param_type = "string")] token: JsValue,
    #[wasm_bindgen(unchecked_optional_param_type = "ExpiryOptions")] options: JsValue,
) -> Result<f64, JsValue> {
    let decoded = decode(&token)?;
    let options = ExpiryOptions::read(&options)?;
    decoded
        .seconds_until_expiry(options.server_now()?)
        .ok_or_else(|| from_core(jwtkit_core::ClaimsError::Missing { name: "exp".into() }))
}

thread_local! {
    /// The last token decoded (the JavaScript string itself) and what it decoded to:
    /// decoding a token and then checking its expiry, or checking the same token before each
    /// request, parses it once and does not even copy it into wasm memory again (JavaScript
    /// compares the strings). Same input, same strict result.
    static LAST: RefCell<Option<(JsValue, Rc<UnverifiedToken>)>> = const { RefCell::new(None) };
}

pub(crate) fn decode(token: &JsValue) -> Result<Rc<UnverifiedToken>, JsValue> {
    // `===` on the strings: only a string was ever stored, so a match is a string.
    let last = LAST.with_borrow(|last| {
        last.as_ref()
            .filter(|(text, _)| text == token)
            .map(|(_, decoded)| decoded.clone())
    });
    if let Some(decoded) = last {
        return Ok(decoded);
    }
    let text = token
        .as_string()
        .ok_or_else(|| invalid("the token must be a string"))?;
    let decoded =
        Rc::new(dangerous::decode_unverified(&text, &ParseOptions::default()).map_err(from_core)?);
    LAST.set(Some((token.clone(), decoded.clone())));
    Ok(decoded)
}
