//! Reading the options object of `TokenSession`'s constructors: the values shared by more
//! than one of them.

use wasm_bindgen::JsValue;

use super::rules::parse_date;
use crate::error::invalid;
use crate::options::{finite, get, now as read_now};

/// `options[name]`, or undefined without options.
pub(super) fn option(options: &JsValue, name: &str) -> Result<JsValue, JsValue> {
    if options.is_undefined() || options.is_null() {
        Ok(JsValue::UNDEFINED)
    } else if options.is_object() {
        get(options, name)
    } else {
        Err(invalid("options must be an object"))
    }
}

/// `refreshMarginSeconds`: a finite, non-negative number, if given.
pub(super) fn margin(options: &JsValue) -> Result<Option<f64>, JsValue> {
    let margin = finite(
        &option(options, "refreshMarginSeconds")?,
        "refreshMarginSeconds must be a finite number",
    )?;
    if margin.is_some_and(|m| m < 0.0) {
        return Err(invalid("refreshMarginSeconds must not be negative"));
    }
    Ok(margin)
}

/// `serverDate`: a `Date`, an HTTP-date string, or seconds since the epoch.
pub(super) fn server_date(value: &JsValue) -> Result<Option<f64>, JsValue> {
    if let Some(text) = value.as_string() {
        return parse_date(&text)
            .map(Some)
            .ok_or_else(|| invalid("serverDate is not a date"));
    }
    read_now(value)
}
