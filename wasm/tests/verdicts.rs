//! The shared table of tokens every jwtkit verifier refuses for their form alone
//! (`core/tests/data/form_verdicts.json`, also run by the core's tests): the package refuses
//! each with the server's code, in Node.js, Chrome and Firefox.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use js_sys::{Array, JSON, Reflect};
use jwtkit_wasm::{decode_unverified, is_expired, seconds_until_expiry};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::wasm_bindgen_test as test;

const TABLE: &str = include_str!("../../core/tests/data/form_verdicts.json");

fn text(value: &JsValue, name: &str) -> String {
    Reflect::get(value, &name.into())
        .unwrap()
        .as_string()
        .unwrap()
}

/// `(why, token, code)` of each case of `group`.
fn cases(group: &str) -> Vec<(String, JsValue, String)> {
    let table = JSON::parse(TABLE).unwrap();
    let cases: Array = Reflect::get(&table, &group.into())
        .unwrap()
        .dyn_into()
        .unwrap();
    cases
        .iter()
        .map(|case| {
            let token = JsValue::from(text(&case, "token"));
            (text(&case, "why"), token, text(&case, "code"))
        })
        .collect()
}

fn code(error: JsValue) -> String {
    text(&error, "code")
}

#[test]
fn every_token_refused_for_its_form_is_refused_with_the_servers_code() {
    let cases = cases("refused_by_decoding");
    assert!(cases.len() >= 40);
    let now: JsValue = js_sys::Object::new().into();
    Reflect::set(&now, &"now".into(), &1_700_000_000.into()).unwrap();
    for (why, token, expected) in cases {
        let decoded = decode_unverified(token.clone()).map_err(code);
        assert_eq!(decoded.err().as_deref(), Some(expected.as_str()), "{why}");
        let expired = is_expired(token.clone(), now.clone()).map_err(code);
        assert_eq!(expired.err().as_deref(), Some(expected.as_str()), "{why}");
    }
}

#[test]
fn the_expiry_checks_refuse_what_no_server_accepts() {
    for (why, token, expected) in cases("refused_by_expiry_checks") {
        assert!(decode_unverified(token.clone()).is_ok(), "{why}: decodes");
        let expired = is_expired(token.clone(), JsValue::UNDEFINED).map_err(code);
        assert_eq!(expired.err().as_deref(), Some(expected.as_str()), "{why}");
        let left = seconds_until_expiry(token, JsValue::UNDEFINED).map_err(code);
        assert_eq!(left.err().as_deref(), Some(expected.as_str()), "{why}");
    }
}
