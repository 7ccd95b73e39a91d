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

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn sign_then_verify_round_trips(index in 0usize..8, claims in claims_strategy()) {
        let key = &keys()[index];
        let token = Signer::new(key.clone()).sign(&claims).unwrap();
        let verified = verifier(key).verify(&token, at(NOW)).unwrap();
        prop_assert_eq!(verified.claims().members(), claims.as_object().unwrap());
    }

    #[test]
    fn any_single_byte_change_is_rejected(index in 0usize..8, position in any::<prop::sample::Index>(), byte in any::<u8>()) {
        let key = &keys()[index];
        let token = Signer::new(key.clone()).sign(&json!({"sub": "ann", "exp": NOW + 60})).unwrap();
        let mut bytes = token.clone().into_bytes();
        let i = position.index(bytes.len());
        prop_assume!(bytes[i] != byte);
        bytes[i] = byte;
        // Any byte sequence: invalid UTF-8 cannot be a &str token, and is rejected anyway.
        if let Ok(mutated) = String::from_utf8(bytes) {
            prop_assert!(verifier(key).verify(&mutated, at(NOW)).is_err(), "accepted a change at {}", i);
        }
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
    fn arbitrary_json_segments_never_panic(header in "\\{.{0,80}\\}", payload in "\\{.{0,120}\\}") {
        let token = format!("{}.{}.c2ln", common::b64(&header), common::b64(&payload));
        let _ = dangerous::decode_unverified(&token, &ParseOptions::default());
        let _ = verifier(&keys()[0]).verify(&token, at(NOW));
    }
}
