//! The package's one clock: `Date.now()`, or the function given to [`set_clock`] (for tests,
//! and for pages that keep a clock of their own). Every "now" the package reads without a
//! `now` option comes from here.

use std::cell::RefCell;

use js_sys::{Date, Function};
use wasm_bindgen::prelude::*;

use crate::error::invalid;

thread_local! {
    /// The clock installed by `setClock`; `None` for `Date.now`.
    static CLOCK: RefCell<Option<Function>> = const { RefCell::new(None) };
}

/// Replaces the clock that every export reads when it is given no `now`: a function returning
/// milliseconds since the epoch, like `Date.now`. `null` or `undefined` restores `Date.now`.
#[wasm_bindgen(js_name = setClock)]
pub fn set_clock(
    #[wasm_bindgen(unchecked_param_type = "(() => number) | null | undefined")] clock: JsValue,
) -> Result<(), JsValue> {
    let clock = if clock.is_undefined() || clock.is_null() {
        None
    } else {
        Some(clock.dyn_into::<Function>().map_err(|_| {
            invalid("setClock takes a function returning milliseconds since the epoch, or null")
        })?)
    };
    CLOCK.set(clock);
    Ok(())
}

/// The package clock's time: seconds since the epoch (a NumericDate, like `exp`).
#[wasm_bindgen(js_name = now)]
pub fn now_seconds() -> Result<f64, JsValue> {
    local_now()
}

/// The local time in seconds since the epoch, from the installed clock.
pub(crate) fn local_now() -> Result<f64, JsValue> {
    let clock = CLOCK.with_borrow(Clone::clone);
    let millis = match clock {
        None => Date::now(),
        Some(clock) => clock
            .call0(&JsValue::NULL)?
            .as_f64()
            .filter(|millis| millis.is_finite())
            .ok_or_else(|| invalid("the clock given to setClock returned no finite number"))?,
    };
    Ok(millis / 1000.0)
}
