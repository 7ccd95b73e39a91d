//! The Wycheproof primitive suites (HMAC-SHA256, ECDSA P-256 with `R || S` signatures,
//! Ed25519, RSA PKCS#1 v1.5 2048/SHA-256), every case, through jwtkit's own key loading
//! (`Key::from_jwk_json`) and verification (`Key::verify`) entry points.
#![cfg(feature = "crypto")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

use common::b64;
use jwtkit_core::{Algorithm, Key};
use serde_json::{Value, json};

const HMAC: &str =
    include_str!("../../../shared/vectors/wycheproof/primitives/hmac_sha256_test.json");
const ECDSA: &str = include_str!(
    "../../../shared/vectors/wycheproof/primitives/ecdsa_secp256r1_sha256_p1363_test.json"
);
const ED25519: &str =
    include_str!("../../../shared/vectors/wycheproof/primitives/ed25519_test.json");
const RSA: &str = include_str!(
    "../../../shared/vectors/wycheproof/primitives/rsa_signature_2048_sha256_test.json"
);

fn hex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
        .collect()
}

/// Runs every case of a signature suite whose groups carry a public JWK under `jwk_member`.
fn signature_suite(text: &str, jwk_member: &str, alg: Algorithm) -> (usize, usize) {
    let suite: Value = serde_json::from_str(text).unwrap();
    let (mut accepted, mut rejected) = (0, 0);
    for group in suite["testGroups"].as_array().unwrap() {
        // A few ECDSA groups give only the point's coordinates; they become the same JWK.
        let jwk = match &group[jwk_member] {
            Value::Null => {
                let point = &group["publicKey"];
                json!({"kty": "EC", "crv": "P-256", "x": b64(hex(point["wx"].as_str().unwrap())), "y": b64(hex(point["wy"].as_str().unwrap()))})
            }
            jwk => jwk.clone(),
        };
        let key = Key::from_jwk_json(&jwk.to_string(), Some(alg)).unwrap();
        for case in group["tests"].as_array().unwrap() {
            let ok = key
                .verify(
                    &hex(case["msg"].as_str().unwrap()),
                    &hex(case["sig"].as_str().unwrap()),
                )
                .is_ok();
            match case["result"].as_str().unwrap() {
                "valid" => assert!(
                    ok,
                    "tcId {} ({}) must verify",
                    case["tcId"], case["comment"]
                ),
                "invalid" => assert!(
                    !ok,
                    "tcId {} ({}) must be rejected",
                    case["tcId"], case["comment"]
                ),
                // "acceptable": either outcome is allowed (RSA tcId 8).
                _ => {}
            }
            if ok { accepted += 1 } else { rejected += 1 }
        }
    }
    assert_eq!(
        accepted + rejected,
        suite["numberOfTests"].as_u64().unwrap() as usize,
        "every case ran"
    );
    (accepted, rejected)
}

#[test]
fn ecdsa_p256_sha256_r_s_every_case() {
    let (accepted, rejected) = signature_suite(ECDSA, "publicKeyJwk", Algorithm::ES256);
    assert_eq!((accepted, rejected), (173, 89));
}

#[test]
fn ed25519_every_case() {
    let (accepted, rejected) = signature_suite(ED25519, "publicKeyJwk", Algorithm::EdDSA);
    assert_eq!((accepted, rejected), (88, 63));
}

#[test]
fn rsa_pkcs1_2048_sha256_every_case() {
    let (accepted, rejected) = signature_suite(RSA, "keyJwk", Algorithm::RS256);
    // 9 valid, 249 invalid, and tcId 8 "acceptable" (either outcome; here: rejected).
    assert_eq!((accepted, rejected), (9, 250));
}

#[test]
fn hmac_sha256_every_case() {
    let suite: Value = serde_json::from_str(HMAC).unwrap();
    let (mut verified, mut weak_keys, mut truncated) = (0, 0, 0);
    for group in suite["testGroups"].as_array().unwrap() {
        let key_bits: usize = group["keySize"].as_u64().unwrap() as usize;
        let tag_bits: usize = group["tagSize"].as_u64().unwrap() as usize;
        for case in group["tests"].as_array().unwrap() {
            let jwk =
                json!({"kty": "oct", "alg": "HS256", "k": b64(hex(case["key"].as_str().unwrap()))})
                    .to_string();
            let valid = case["result"] == "valid";
            let key = match Key::from_jwk_json(&jwk, None) {
                Ok(key) => key,
                Err(e) => {
                    // RFC 7518 §3.2: HS256 keys are at least 256 bits; shorter ones are refused
                    // when loaded, whatever their tags.
                    assert!(key_bits < 256, "tcId {}: {e}", case["tcId"]);
                    assert_eq!(e.code(), "ERR_JWK_TOO_WEAK");
                    weak_keys += 1;
                    continue;
                }
            };
            let ok = key
                .verify(
                    &hex(case["msg"].as_str().unwrap()),
                    &hex(case["tag"].as_str().unwrap()),
                )
                .is_ok();
            if tag_bits == 256 {
                assert_eq!(ok, valid, "tcId {} ({})", case["tcId"], case["comment"]);
                verified += 1;
            } else {
                // JWS uses the full 256-bit tag: truncated tags never verify, valid or not.
                assert!(!ok, "tcId {}: a {tag_bits}-bit tag verified", case["tcId"]);
                truncated += 1;
            }
        }
    }
    assert_eq!(
        verified + weak_keys + truncated,
        suite["numberOfTests"].as_u64().unwrap() as usize
    );
    assert!(
        verified > 0 && weak_keys > 0 && truncated > 0,
        "{verified} {weak_keys} {truncated}"
    );
}
