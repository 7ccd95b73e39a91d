//! The shared table of tokens every verifier refuses for their form alone
//! (`tests/data/form_verdicts.json`): the core refuses each with its code. The npm
//! package's tests read the same table.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

use jwtkit_core::{ParseOptions, UnixTime, dangerous};

const TABLE: &str = include_str!("data/form_verdicts.json");

fn cases(group: &str) -> Vec<(String, String, String)> {
    let table: serde_json::Value = serde_json::from_str(TABLE).unwrap();
    table[group]
        .as_array()
        .unwrap()
        .iter()
        .map(|case| {
            let text = |name: &str| case[name].as_str().unwrap().to_owned();
            (text("why"), text("token"), text("code"))
        })
        .collect()
}

#[test]
fn decoding_refuses_every_malformed_token_with_its_code() {
    let cases = cases("refused_by_decoding");
    assert!(cases.len() >= 40);
    for (why, token, code) in cases {
        let got = dangerous::decode_unverified(&token, &ParseOptions::default())
            .err()
            .map(|e| e.code());
        assert_eq!(got, Some(code.as_str()), "{why}");
    }
}

#[test]
fn expiry_checks_refuse_tokens_no_server_accepts() {
    let now = UnixTime::from_secs(1_700_000_000).unwrap();
    for (why, token, code) in cases("refused_by_expiry_checks") {
        let decoded = dangerous::decode_unverified(&token, &ParseOptions::default()).unwrap();
        let got = decoded.check_expiry(now, 0).err().map(|e| e.code());
        assert_eq!(got, Some(code.as_str()), "{why}");
    }
}
