//! Keys, signing and verification: round trips for every algorithm, key-set rules, and the
//! algorithm-binding rules, each asserting the specific error code.
#![cfg(feature = "crypto")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

use common::{at, b64, token};
use jwtkit_core::{Algorithm, Key, KeySet, Signer, Validation, Verifier};
use serde_json::json;

const NOW: i64 = 1_700_000_000;

fn claims() -> serde_json::Value {
    json!({"sub": "ann", "exp": NOW + 180, "iat": NOW, "roles": ["admin"]})
}

fn policy() -> Validation {
    Validation::builder()
        .expect_type("at+jwt")
        .require_claim("sub")
        .build()
        .unwrap()
}

fn verify_code(keys: &KeySet, token: &str) -> &'static str {
    match Verifier::new(keys.clone(), policy()).verify(token, at(NOW)) {
        Ok(_) => "OK",
        Err(e) => e.code(),
    }
}

/// Keys for every algorithm; RSA generation is slow, so each test generates once.
fn all_keys() -> Vec<Key> {
    Algorithm::ALL
        .into_iter()
        .map(|alg| Key::generate(alg).unwrap())
        .collect()
}

#[test]
fn every_algorithm_round_trips_and_through_jwk() {
    for key in all_keys() {
        let alg = key.algorithm();
        let token = Signer::new(key.clone())
            .typ("at+jwt")
            .sign(&claims())
            .unwrap();
        let verified = Verifier::new(KeySet::from(key.clone()), policy())
            .verify(&token, at(NOW))
            .unwrap();
        assert_eq!(verified.claims().sub(), Some("ann"), "{alg}");
        assert_eq!(verified.header().alg(), alg.as_str());
        assert_eq!(verified.header().kid(), Some(key.kid()));
        assert_eq!(verified.header().typ(), Some("at+jwt"));

        // Private JWK export → import gives a key that verifies and signs the same way.
        let private = Key::from_jwk_json(&key.to_private_jwk().to_json(), None).unwrap();
        assert_eq!((private.algorithm(), private.kid()), (alg, key.kid()));
        assert_eq!(
            verify_code(&KeySet::from(private.clone()), &token),
            "OK",
            "{alg}"
        );
        let again = Signer::new(private).typ("at+jwt").sign(&claims()).unwrap();
        assert_eq!(
            verify_code(&KeySet::from(key.clone()), &again),
            "OK",
            "{alg}"
        );

        // Public export carries no private or secret material, and still verifies.
        match key.to_public_jwk() {
            None => assert!(alg.is_symmetric()),
            Some(public) => {
                let text = public.to_json();
                for secret in [
                    "\"d\"", "\"p\"", "\"q\"", "\"dp\"", "\"dq\"", "\"qi\"", "\"k\"",
                ] {
                    assert!(!text.contains(secret), "{alg} public JWK has {secret}");
                }
                let public = Key::from_jwk_json(&text, None).unwrap();
                assert!(!public.can_sign());
                assert_eq!(
                    public.kid(),
                    key.kid(),
                    "thumbprint from public members only"
                );
                assert_eq!(
                    verify_code(&KeySet::from(public.clone()), &token),
                    "OK",
                    "{alg}"
                );
                assert_eq!(public.sign(b"x").unwrap_err().code(), "ERR_JWK_NOT_PRIVATE");
            }
        }
    }
}

#[test]
fn debug_output_shows_no_key_material() {
    let secret = [0x41u8; 32];
    let key = Key::from_hmac_secret(Algorithm::HS256, &secret, Some("k1")).unwrap();
    let debug = format!("{key:?} {:?}", key.to_private_jwk());
    assert!(!debug.contains(&b64(secret)), "{debug}");
    assert!(
        !debug.contains("AAAA") && !debug.contains("65, 65"),
        "{debug}"
    );
    assert!(debug.contains("k1"));
}

#[test]
fn hmac_secrets_must_be_at_least_the_hash_size() {
    for (alg, min) in [
        (Algorithm::HS256, 32),
        (Algorithm::HS384, 48),
        (Algorithm::HS512, 64),
    ] {
        let err = Key::from_hmac_secret(alg, &vec![7; min - 1], None).unwrap_err();
        assert_eq!(err.code(), "ERR_JWK_TOO_WEAK", "{alg}");
        assert!(Key::from_hmac_secret(alg, &vec![7; min], None).is_ok());
        assert_eq!(
            Key::from_hmac_secret(alg, b"", None).unwrap_err().code(),
            "ERR_JWK_TOO_WEAK"
        );
    }
    assert_eq!(
        Key::from_hmac_secret(Algorithm::RS256, &[7; 64], None)
            .unwrap_err()
            .code(),
        "ERR_JWK_ALG_MISMATCH"
    );
    let jwk = json!({"kty": "oct", "alg": "HS256", "k": b64([1u8; 31])}).to_string();
    assert_eq!(
        Key::from_jwk_json(&jwk, None).unwrap_err().code(),
        "ERR_JWK_TOO_WEAK"
    );
}

#[test]
fn generated_hmac_keys_are_random_and_full_length() {
    let a = Key::generate(Algorithm::HS512).unwrap().to_private_jwk();
    let b = Key::generate(Algorithm::HS512).unwrap().to_private_jwk();
    assert_ne!(a.k, b.k);
    assert_eq!(common::unb64(a.k.as_deref().unwrap()).len(), 64);
}

#[test]
fn jwk_loading_rules() {
    let code = |v: serde_json::Value, default| {
        Key::from_jwk_json(&v.to_string(), default)
            .unwrap_err()
            .code()
    };
    let k = b64([9u8; 32]);
    assert_eq!(
        code(json!({"kty": "oct", "k": k}), None),
        "ERR_JWK_ALG_UNSUPPORTED",
        "no alg anywhere"
    );
    assert!(
        Key::from_jwk_json(
            &json!({"kty": "oct", "k": k}).to_string(),
            Some(Algorithm::HS256)
        )
        .is_ok()
    );
    assert_eq!(
        code(json!({"kty": "oct", "k": k, "alg": "none"}), None),
        "ERR_JWK_ALG_UNSUPPORTED"
    );
    assert_eq!(
        code(json!({"kty": "oct", "k": k, "alg": "A256GCM"}), None),
        "ERR_JWK_ALG_UNSUPPORTED"
    );
    assert_eq!(
        code(json!({"kty": "oct", "k": k, "alg": "RS256"}), None),
        "ERR_JWK_ALG_MISMATCH"
    );
    assert_eq!(
        code(json!({"kty": "RSA", "k": k, "alg": "HS256"}), None),
        "ERR_JWK_ALG_MISMATCH"
    );
    assert_eq!(
        code(
            json!({"kty": "oct", "k": k, "alg": "HS256", "use": "enc"}),
            None
        ),
        "ERR_JWK_USAGE_NOT_PERMITTED"
    );
    assert_eq!(
        code(
            json!({"kty": "oct", "k": k, "alg": "HS256", "key_ops": ["encrypt"]}),
            None
        ),
        "ERR_JWK_USAGE_NOT_PERMITTED"
    );
    assert_eq!(
        code(json!({"kty": "oct", "alg": "HS256"}), None),
        "ERR_JWK_INVALID",
        "missing k"
    );
    assert_eq!(
        code(
            json!({"kty": "oct", "k": format!("{k}="), "alg": "HS256"}),
            None
        ),
        "ERR_JWK_INVALID"
    );
    assert_eq!(
        code(
            json!({"kty": "oct", "k": k, "alg": "HS256", "kid": ""}),
            None
        ),
        "ERR_JWK_INVALID"
    );
    assert_eq!(code(json!({"kty": 1}), None), "ERR_JWK_INVALID");
    let dup = format!(r#"{{"kty":"oct","k":"{k}","alg":"HS256","alg":"HS512"}}"#);
    assert_eq!(
        Key::from_jwk_json(&dup, None).unwrap_err().code(),
        "ERR_JWK_INVALID"
    );
    // EC point not on the curve; Ed25519 key of the wrong length; curve that does not fit.
    let ec = Key::generate(Algorithm::ES256)
        .unwrap()
        .to_public_jwk()
        .unwrap();
    let mut off_curve = ec.clone();
    off_curve.y = Some(b64([1u8; 32]));
    assert_eq!(
        Key::from_jwk(&off_curve, None).unwrap_err().code(),
        "ERR_JWK_INVALID"
    );
    let mut wrong_curve = ec;
    wrong_curve.crv = Some("P-384".into());
    assert_eq!(
        Key::from_jwk(&wrong_curve, None).unwrap_err().code(),
        "ERR_JWK_ALG_MISMATCH"
    );
    assert_eq!(
        code(
            json!({"kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "x": b64([1u8; 31])}),
            None
        ),
        "ERR_JWK_INVALID"
    );
    // A private part that does not match the public part.
    let mut mismatched = Key::generate(Algorithm::EdDSA).unwrap().to_private_jwk();
    mismatched.d = Key::generate(Algorithm::EdDSA).unwrap().to_private_jwk().d;
    assert_eq!(
        Key::from_jwk(&mismatched, None).unwrap_err().code(),
        "ERR_JWK_INVALID"
    );
}

#[test]
fn key_sets_refuse_empty_duplicate_and_mixed() {
    let hs = |kid| Key::from_hmac_secret(Algorithm::HS256, &[3; 32], Some(kid)).unwrap();
    assert_eq!(KeySet::new(vec![]).unwrap_err().code(), "ERR_JWKS_EMPTY");
    assert_eq!(
        KeySet::new(vec![hs("a"), hs("a")]).unwrap_err().code(),
        "ERR_JWKS_DUPLICATE_KID"
    );
    let ed = Key::generate(Algorithm::EdDSA).unwrap();
    assert_eq!(
        KeySet::new(vec![hs("a"), ed.clone()]).unwrap_err().code(),
        "ERR_JWKS_MIXED_KEY_TYPES"
    );
    let set = KeySet::new(vec![hs("a"), hs("b")]).unwrap();
    assert!(
        set.to_public_jwks().keys.is_empty(),
        "symmetric keys publish nothing"
    );
    let public = KeySet::from(ed.clone()).to_public_jwks();
    assert_eq!(public.keys.len(), 1);
    let reloaded = KeySet::from_json(&public.to_json(), None).unwrap();
    assert_eq!(
        reloaded.get(ed.kid()).map(Key::algorithm),
        Some(Algorithm::EdDSA)
    );
}

#[test]
fn key_selection_binds_the_algorithm() {
    let hs_a = Key::from_hmac_secret(Algorithm::HS256, &[1; 32], Some("a")).unwrap();
    let hs_b = Key::from_hmac_secret(Algorithm::HS256, &[2; 32], Some("b")).unwrap();
    let hs_512 = Key::from_hmac_secret(Algorithm::HS512, &[3; 64], Some("c")).unwrap();
    let set = KeySet::new(vec![hs_a.clone(), hs_b, hs_512]).unwrap();
    let payload = claims().to_string();

    let signed = Signer::new(hs_a.clone())
        .typ("at+jwt")
        .sign(&claims())
        .unwrap();
    assert_eq!(verify_code(&set, &signed), "OK");

    // Unknown kid; kid naming a key bound to another algorithm.
    let unknown = sign_raw(
        &hs_a,
        r#"{"alg":"HS256","typ":"at+jwt","kid":"zzz"}"#,
        &payload,
    );
    assert_eq!(verify_code(&set, &unknown), "ERR_JWKS_NO_MATCHING_KEY");
    let confused = sign_raw(
        &hs_a,
        r#"{"alg":"HS256","typ":"at+jwt","kid":"c"}"#,
        &payload,
    );
    assert_eq!(verify_code(&set, &confused), "ERR_JWS_KEY_ALG_MISMATCH");
    // No kid: ambiguous between a and b; unambiguous for HS512.
    let ambiguous = sign_raw(&hs_a, r#"{"alg":"HS256","typ":"at+jwt"}"#, &payload);
    assert_eq!(
        verify_code(&set, &ambiguous),
        "ERR_JWKS_MULTIPLE_MATCHING_KEYS"
    );
    assert_eq!(verify_code(&KeySet::from(hs_a.clone()), &ambiguous), "OK");
    // alg none, in any spelling, with or without a signature.
    for alg in ["none", "None", "NONE", "nOnE"] {
        let header = format!(r#"{{"alg":"{alg}","typ":"at+jwt","kid":"a"}}"#);
        let unsigned = format!("{}.{}.", b64(&header), b64(&payload));
        assert_eq!(
            verify_code(&set, &unsigned),
            "ERR_JOSE_ALG_UNSUPPORTED",
            "{alg}"
        );
        let kept = sign_raw(&hs_a, &header, &payload);
        assert_eq!(
            verify_code(&set, &kept),
            "ERR_JOSE_ALG_UNSUPPORTED",
            "{alg}"
        );
    }
    // Allow-list.
    let only_512 = Validation::builder()
        .algorithms([Algorithm::HS512])
        .expect_type("at+jwt")
        .build()
        .unwrap();
    let err = Verifier::new(set.clone(), only_512)
        .verify(&signed, at(NOW))
        .unwrap_err();
    assert_eq!(err.code(), "ERR_JOSE_ALG_NOT_ALLOWED");
}

#[test]
fn rsa_public_key_as_hmac_secret_is_refused() {
    let rsa = Key::generate(Algorithm::RS256).unwrap();
    let public_jwk = rsa.to_public_jwk().unwrap().to_json();
    // Classic confusion: sign HS256 with the public key text as the secret.
    let forged = {
        let hmac = Key::from_hmac_secret(Algorithm::HS256, public_jwk.as_bytes(), Some(rsa.kid()))
            .unwrap();
        sign_raw(
            &hmac,
            &format!(r#"{{"alg":"HS256","typ":"at+jwt","kid":"{}"}}"#, rsa.kid()),
            &claims().to_string(),
        )
    };
    let public = KeySet::from_json(&public_jwk, None).unwrap();
    assert_eq!(verify_code(&public, &forged), "ERR_JWS_KEY_ALG_MISMATCH");
}

#[test]
fn signatures_of_the_wrong_length_or_content_fail() {
    for key in all_keys() {
        let good = Signer::new(key.clone())
            .typ("at+jwt")
            .sign(&claims())
            .unwrap();
        let (input, sig) = good.rsplit_once('.').unwrap();
        let sig = common::unb64(sig);
        let set = KeySet::from(key.clone());
        let variants = [
            Vec::new(),
            sig[..sig.len() - 1].to_vec(),
            [sig.clone(), vec![0]].concat(),
            vec![0; sig.len()],
        ];
        for bad in variants {
            let token = format!("{input}.{}", b64(&bad));
            assert_eq!(
                verify_code(&set, &token),
                "ERR_JWS_SIGNATURE_VERIFICATION_FAILED",
                "{}",
                key.algorithm()
            );
        }
    }
}

#[test]
fn claims_are_checked_after_the_signature() {
    let key = Key::generate(Algorithm::HS256).unwrap();
    let expired = Signer::new(key.clone())
        .typ("at+jwt")
        .sign(&json!({"sub": "a", "exp": NOW}))
        .unwrap();
    assert_eq!(
        verify_code(&KeySet::from(key.clone()), &expired),
        "ERR_JWT_EXPIRED"
    );
    // A forged token with bad claims reports the signature, not the claims.
    let forged = format!("{}.AAAA", expired.rsplit_once('.').unwrap().0);
    assert_eq!(
        verify_code(&KeySet::from(key), &forged),
        "ERR_JWS_SIGNATURE_VERIFICATION_FAILED"
    );
    // Malformed structure is reported before any key work.
    let bad = token(r#"{"alg":"HS256","alg":"HS256"}"#, "{}");
    let any = KeySet::from(Key::generate(Algorithm::HS256).unwrap());
    assert_eq!(verify_code(&any, &bad), "ERR_JWT_DUPLICATE_MEMBER");
}

#[test]
fn revalidation_agrees_with_full_verification_at_every_time() {
    let key = Key::generate(Algorithm::HS256).unwrap();
    let token = Signer::new(key.clone())
        .typ("at+jwt")
        .sign(&json!({"sub": "ann", "exp": NOW + 60, "nbf": NOW - 10, "iat": NOW - 10}))
        .unwrap();
    let verifier = Verifier::new(KeySet::from(key), policy());
    let remembered = verifier.verify(&token, at(NOW)).unwrap();
    for now in [
        NOW - 20,
        NOW - 11,
        NOW - 10,
        NOW,
        NOW + 59,
        NOW + 60,
        NOW + 600,
    ] {
        let full = verifier.verify(&token, at(now)).err().map(|e| e.code());
        let again = verifier
            .revalidate(&remembered, at(now))
            .err()
            .map(|e| e.code());
        assert_eq!(again, full, "at {now}");
    }
    assert_eq!(
        verifier
            .revalidate(&remembered, at(NOW + 60))
            .unwrap_err()
            .code(),
        "ERR_JWT_EXPIRED"
    );
}

#[test]
fn the_signing_key_is_named_or_the_first_that_can_sign() {
    let private = Key::generate(Algorithm::EdDSA).unwrap();
    let public = Key::from_jwk(
        &Key::generate(Algorithm::EdDSA)
            .unwrap()
            .to_public_jwk()
            .unwrap(),
        None,
    )
    .unwrap();
    let keys = KeySet::new(vec![public.clone(), private.clone()]).unwrap();
    assert_eq!(keys.signing_key(None).unwrap().kid(), private.kid());
    assert_eq!(
        keys.signing_key(Some(private.kid())).unwrap().kid(),
        private.kid()
    );
    let code = |kid| keys.signing_key(kid).unwrap_err().code();
    assert_eq!(code(Some(public.kid())), "ERR_JWK_NOT_PRIVATE");
    assert_eq!(code(Some("nope")), "ERR_JWKS_KID_NOT_FOUND");
    let only_public = KeySet::from(public);
    assert_eq!(
        only_public.signing_key(None).unwrap_err().code(),
        "ERR_JWK_NOT_PRIVATE"
    );
}

#[test]
fn signer_refuses_claims_the_parser_would_refuse() {
    let key = Key::generate(Algorithm::HS256).unwrap();
    let signer = Signer::new(key);
    assert_eq!(
        signer.sign(&json!({"exp": "soon"})).unwrap_err().code(),
        "ERR_JWT_CLAIM_INVALID"
    );
    assert_eq!(
        signer.sign(&json!([1, 2])).unwrap_err().code(),
        "ERR_JWT_NOT_AN_OBJECT"
    );
    assert_eq!(
        signer.sign(&json!({"aud": []})).unwrap_err().code(),
        "ERR_JWT_CLAIM_INVALID"
    );
}

/// Signs arbitrary header and payload JSON text with `key` (bypassing the Signer's header).
fn sign_raw(key: &Key, header: &str, payload: &str) -> String {
    let input = format!("{}.{}", b64(header), b64(payload));
    let sig = key.sign(input.as_bytes()).unwrap();
    format!("{input}.{}", b64(sig))
}
