//! Property tests: sign → verify round trips, any single-byte change is rejected, and no
//! input makes the parser or verifier panic.
#![cfg(all(feature = "crypto", not(target_arch = "wasm32")))]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::OnceLock;

use common::at;
use jwtkit_core::{Algorithm, Key, KeySet, ParseOptions, Signer, Validation, Verifier, dangerous};
use proptest::prelude::*;
use serde_json::json;

const NOW: i64 = 1_700_000_000;

fn keys() -> &'static [Key] {
    static KEYS: OnceLock<Vec<Key>> = OnceLock::new();
    KEYS.get_or_init(|| {
        Algorithm::ALL
            .into_iter()
            .map(|alg| Key::generate(alg).unwrap())
            .collect()
    })
}

fn verifier(key: &Key) -> Verifier {
    let policy = Validation::builder()
        .ignore_issuer()
        .ignore_audience()
        .build()
        .unwrap();
    Verifier::new(KeySet::from(key.clone()), policy)
}

fn claims_strategy() -> impl Strategy<Value = serde_json::Value> {
    (any::<String>(), proptest::collection::vec(any::<String>(), 1..4), 1i64..100_000, any::<i32>())
        .prop_map(|(sub, aud, ttl, n)| json!({"sub": sub, "aud": aud, "exp": NOW + ttl, "iat": NOW, "n": n}))
}

/// Cases per property: 64 in `cargo xtask test`, more with `JWTKIT_FUZZ_CASES` (`cargo xtask
/// fuzz`). The seed is fixed per run by proptest's persistence; failures are shrunk and printed.
fn cases() -> u32 {
    std::env::var("JWTKIT_FUZZ_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(64)
}

/// JSON objects shaped like JWKs, with members that are often right and sometimes wrong.
fn jwk_strategy() -> impl Strategy<Value = String> {
    let kty = prop_oneof![
        Just("oct".to_owned()),
        Just("RSA".to_owned()),
        Just("EC".to_owned()),
        Just("OKP".to_owned()),
        ".{0,4}"
    ];
    let alg = prop_oneof![
        Just("HS256".to_owned()),
        Just("ES256".to_owned()),
        Just("EdDSA".to_owned()),
        Just("RS256".to_owned()),
        Just("none".to_owned()),
        ".{0,6}"
    ];
    let crv = prop_oneof![
        Just("P-256".to_owned()),
        Just("P-384".to_owned()),
        Just("Ed25519".to_owned()),
        ".{0,6}"
    ];
    let b64 = proptest::collection::vec(any::<u8>(), 0..80).prop_map(|bytes| common::b64(&bytes));
    let text = prop_oneof![b64, "[A-Za-z0-9_=+/-]{0,90}"];
    (kty, alg, crv, text.clone(), text.clone(), text.clone(), text, any::<bool>())
        .prop_map(|(kty, alg, crv, x, y, k, n, use_enc)| {
            json!({"kty": kty, "alg": alg, "crv": crv, "x": x, "y": y, "k": k, "n": n, "e": "AQAB", "d": k,
                   "use": if use_enc { "enc" } else { "sig" }})
            .to_string()
        })
}

/// Any JSON value, nested a few levels, with member names that never collide with the
/// registered claims.
fn json_value() -> impl Strategy<Value = serde_json::Value> {
    use serde_json::Value;
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        ".{0,8}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 24, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            proptest::collection::btree_map("[a-d\\\\u00e9]{0,3}", inner, 0..4).prop_map(|m| {
                Value::Object(m.into_iter().map(|(k, v)| (format!("x{k}"), v)).collect())
            }),
        ]
    })
}

/// A JSON object's text with up to three bytes replaced or inserted from JSON's own
/// punctuation, so that most cases are almost JSON.
fn almost_json() -> impl Strategy<Value = String> {
    let edit = (
        any::<prop::sample::Index>(),
        any::<bool>(),
        prop::sample::select(br#"{}[]":,.-+eE019\ utfnl"#.to_vec()),
    );
    (json_value(), proptest::collection::vec(edit, 0..3)).prop_map(|(value, edits)| {
        let mut text = serde_json::to_vec(&serde_json::json!({"v": value})).unwrap();
        for (at, insert, byte) in edits {
            let i = at.index(text.len());
            if insert {
                text.insert(i, byte)
            } else {
                text[i] = byte
            }
        }
        String::from_utf8_lossy(&text).into_owned()
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases()))]

    /// The strict parser accepts exactly what serde_json accepts, minus duplicate members
    /// and deep nesting, each refused with its own code.
    #[test]
    fn strict_json_agrees_with_serde_json(text in almost_json()) {
        let token = format!("{}.{}.c2ln", common::b64(r#"{"alg":"HS256"}"#), common::b64(&text));
        let ours = dangerous::decode_unverified(&token, &ParseOptions::default());
        let reference = serde_json::from_str::<serde_json::Value>(&text);
        match (&reference, &ours) {
            (Ok(serde_json::Value::Object(members)), Ok(decoded)) => {
                prop_assert_eq!(decoded.claims().members(), members);
            }
            (Ok(serde_json::Value::Object(_)), Err(e)) => prop_assert!(
                matches!(e.code(), "ERR_JWT_DUPLICATE_MEMBER" | "ERR_JWT_NESTING_TOO_DEEP"),
                "{text}: {e:?}"
            ),
            (Ok(_), Err(e)) => prop_assert_eq!(e.code(), "ERR_JWT_NOT_AN_OBJECT", "{}", text),
            // A duplicate or too-deep value before the syntax error is reported first.
            (Err(_), Err(e)) => prop_assert!(
                matches!(e.code(), "ERR_JWT_INVALID_JSON" | "ERR_JWT_DUPLICATE_MEMBER" | "ERR_JWT_NESTING_TOO_DEEP"),
                "{text}: {e:?}"
            ),
            (_, Ok(_)) => prop_assert!(false, "{}: accepted, serde_json: {:?}", text, reference),
        }
    }

    #[test]
    fn sign_then_verify_round_trips(index in 0usize..8, claims in claims_strategy()) {
        let key = &keys()[index];
        let token = Signer::new(key.clone()).sign(&claims).unwrap();
        let verified = verifier(key).verify(&token, at(NOW)).unwrap();
        prop_assert_eq!(verified.claims().members(), claims.as_object().unwrap());
    }

    #[test]
    fn any_single_byte_change_is_rejected(index in 0usize..8, position in any::<prop::sample::Index>(), byte in 0u8..0x80) {
        // ASCII only: a token is ASCII, and a byte of 0x80 or more in it is not UTF-8 at all
        // (no &str can hold it), so every case here reaches the verifier.
        let key = &keys()[index];
        let token = Signer::new(key.clone()).sign(&json!({"sub": "ann", "exp": NOW + 60})).unwrap();
        let mut bytes = token.clone().into_bytes();
        let i = position.index(bytes.len());
        prop_assume!(bytes[i] != byte);
        bytes[i] = byte;
        let mutated = String::from_utf8(bytes).unwrap();
        prop_assert!(verifier(key).verify(&mutated, at(NOW)).is_err(), "accepted a change at {}", i);
    }

    #[test]
    fn arbitrary_text_never_panics(text in ".{0,300}") {
        let _ = dangerous::decode_unverified(&text, &ParseOptions::default());
        let _ = verifier(&keys()[0]).verify(&text, at(NOW));
    }

    #[test]
    fn arbitrary_segments_never_panic(header in any::<Vec<u8>>(), payload in any::<Vec<u8>>(), sig in any::<Vec<u8>>()) {
        let token = format!("{}.{}.{}", common::b64(&header), common::b64(&payload), common::b64(&sig));
        let _ = dangerous::decode_unverified(&token, &ParseOptions::default());
        for key in keys() {
            prop_assert!(verifier(key).verify(&token, at(NOW)).is_err());
        }
    }

    #[test]
    fn arbitrary_jwk_text_never_panics(text in ".{0,400}") {
        let _ = Key::from_jwk_json(&text, Some(Algorithm::HS256));
        let _ = KeySet::from_json(&text, None);
    }

    #[test]
    fn jwk_shaped_objects_load_or_fail_cleanly(jwk in jwk_strategy()) {
        match Key::from_jwk_json(&jwk, None) {
            // A key that loads is bound to an algorithm and exports without panicking.
            Ok(key) => {
                let _ = (key.thumbprint(), key.to_public_jwk(), key.to_private_jwk());
                prop_assert!(!key.kid().is_empty());
            }
            Err(error) => prop_assert!(error.code().starts_with("ERR_JWK")),
        }
        let set = format!("{{\"keys\":[{jwk},{jwk}]}}");
        if let Err(error) = KeySet::from_json(&set, None) {
            prop_assert!(error.code().starts_with("ERR_JWK"));
        } else {
            prop_assert!(false, "two keys with the same kid formed a set");
        }
    }

    #[test]
    fn arbitrary_json_segments_never_panic(header in "\\{.{0,80}\\}", payload in "\\{.{0,120}\\}") {
        let token = format!("{}.{}.c2ln", common::b64(&header), common::b64(&payload));
        let _ = dangerous::decode_unverified(&token, &ParseOptions::default());
        let _ = verifier(&keys()[0]).verify(&token, at(NOW));
    }
}
