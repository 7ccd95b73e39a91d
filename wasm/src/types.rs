//! TypeScript declarations of the shapes the exports take and return, in `types.d.ts`.
//! They are the one declaration of the option names too: the build script reads each
//! `...Options` interface's members (with those of the interface it extends) into
//! [`option_names`], and [`check_option_names`] refuses an options object with a name its
//! interface does not declare, naming the closest one.

use js_sys::{Object, Reflect};
use jwtkit_core::suggest::closest;
use wasm_bindgen::prelude::*;

use crate::error::invalid;

#[wasm_bindgen(typescript_custom_section)]
const TYPES: &str = include_str!("types.d.ts");

// `fn option_names(interface: &str) -> &'static [&'static str]`, from `types.d.ts`.
include!(concat!(env!("OUT_DIR"), "/option_names.rs"));

/// Refuses an options object with a name `interface` does not declare (a typo such as
/// `leeway` for `leewaySeconds` would otherwise be ignored), naming the closest one.
pub(crate) fn check_option_names(options: &JsValue, interface: &str) -> Result<(), JsValue> {
    if !options.is_object() {
        return Ok(());
    }
    let known = option_names(interface);
    for name in Object::keys(options.unchecked_ref::<Object>()).iter() {
        let Some(name) = name.as_string() else {
            continue;
        };
        if known.contains(&name.as_str()) {
            continue;
        }
        // An option left undefined is no option (e.g. `{ now: undefined }`).
        if Reflect::get(options, &name.as_str().into()).is_ok_and(|v| v.is_undefined()) {
            continue;
        }
        let hint = closest(&name, known)
            .map(|close| format!(" (did you mean \"{close}\"?)"))
            .unwrap_or_default();
        return Err(invalid(format!(
            "unknown option \"{name}\"{hint}; the options of {interface} are {}",
            known.join(", ")
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn option_names_follow_the_declarations_and_their_parents() {
        assert_eq!(
            option_names("ExpiryOptions"),
            ["leewaySeconds", "now", "clockOffsetSeconds"]
        );
        let auth = option_names("AuthResponseOptions");
        for name in [
            "leewaySeconds",
            "refreshUrl",
            "onExpired",
            "serverDate",
            "now",
        ] {
            assert!(auth.contains(&name), "{name}: {auth:?}");
        }
        assert!(!auth.contains(&"clockOffsetSeconds"), "{auth:?}");
        assert!(option_names("TokenSessionOptions").contains(&"clockOffsetSeconds"));
        assert!(option_names("SessionOptions").contains(&"lockTimeoutMs"));
        assert!(option_names("NoSuchInterface").is_empty());
    }
}
