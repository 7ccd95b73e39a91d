//! Reading the optional `{ leewaySeconds, now, clockOffsetSeconds }` argument.

use js_sys::{Date, Reflect};
use jwtkit_core::{MAX_LEEWAY_SECONDS, MAX_UNIX_SECONDS, UnixTime};
use wasm_bindgen::{JsCast, JsValue};

use crate::error::invalid;

/// Expiry options, validated.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ExpiryOptions {
    pub(crate) leeway_seconds: u32,
    pub(crate) now: Option<f64>,
    pub(crate) clock_offset_seconds: f64,
}

impl ExpiryOptions {
    /// Reads the options object (`undefined`/`null` mean defaults).
    pub(crate) fn read(options: &JsValue) -> Result<Self, JsValue> {
        if options.is_undefined() || options.is_null() {
            return Ok(Self {
                leeway_seconds: 0,
                now: None,
                clock_offset_seconds: 0.0,
            });
        }
        if !options.is_object() {
            return Err(invalid("options must be an object"));
        }
        crate::types::check_option_names(options, "ExpiryOptions")?;
        Ok(Self {
            leeway_seconds: leeway(&get(options, "leewaySeconds")?)?,
            now: now(&get(options, "now")?)?,
            clock_offset_seconds: finite(
                &get(options, "clockOffsetSeconds")?,
                "clockOffsetSeconds must be a finite number",
            )?
            .unwrap_or(0.0),
        })
    }

    /// The time on the server's clock: `now` (or the package clock) plus the clock offset.
    pub(crate) fn server_now(&self) -> Result<UnixTime, JsValue> {
        let local = match self.now {
            Some(now) => now,
            None => crate::clock::local_now()?,
        };
        UnixTime::from_secs_f64(local + self.clock_offset_seconds)
            .ok_or_else(|| invalid("now + clockOffsetSeconds is outside 0..=253402300799 seconds"))
    }
}

pub(crate) fn get(object: &JsValue, name: &str) -> Result<JsValue, JsValue> {
    Reflect::get(object, &name.into()).map_err(|_| invalid("options could not be read"))
}

/// `leewaySeconds`: a whole number from 0 to 600.
pub(crate) fn leeway(value: &JsValue) -> Result<u32, JsValue> {
    match finite(value, "leewaySeconds must be a finite number")? {
        None => Ok(0),
        Some(secs)
            if secs.fract() == 0.0 && (0.0..=f64::from(MAX_LEEWAY_SECONDS)).contains(&secs) =>
        {
            Ok(secs as u32)
        }
        Some(_) => Err(invalid(
            "leewaySeconds must be a whole number from 0 to 600",
        )),
    }
}

/// `now`: a `Date`, or a number of seconds since the epoch (a NumericDate). A number past
/// the last NumericDate that would be one as milliseconds (`Date.now()`) is refused with
/// that hint.
pub(crate) fn now(value: &JsValue) -> Result<Option<f64>, JsValue> {
    if let Some(date) = value.dyn_ref::<Date>() {
        let millis = date.get_time();
        if !millis.is_finite() {
            return Err(invalid("now is an invalid Date"));
        }
        return Ok(Some(millis / 1000.0));
    }
    let secs = finite(value, "now must be a Date or a finite number")?;
    let last = MAX_UNIX_SECONDS;
    if secs.is_some_and(|n| n > last && n / 1000.0 <= last) {
        return Err(invalid(
            "now is past the year 9999 in seconds and looks like milliseconds (Date.now()): \
             give seconds (Date.now() / 1000) or a Date",
        ));
    }
    Ok(secs)
}

/// An optional finite number.
/// An optional finite number; `problem` says which and what it must be.
pub(crate) fn finite(value: &JsValue, problem: &'static str) -> Result<Option<f64>, JsValue> {
    if value.is_undefined() || value.is_null() {
        return Ok(None);
    }
    match value.as_f64() {
        Some(n) if n.is_finite() => Ok(Some(n)),
        _ => Err(invalid(problem)),
    }
}
