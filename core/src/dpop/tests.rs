#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::{Value, json};

use super::*;

const NOW: i64 = 1_700_000_000;
const URI: &str = "https://api.example/orders";

fn now() -> UnixTime {
    UnixTime::from_secs(NOW).unwrap()
}

fn policy() -> ProofPolicy {
    ProofPolicy::new(
        [Algorithm::ES256, Algorithm::EdDSA, Algorithm::HS256],
        60,
        5,
    )
}

fn request() -> ProofRequest<'static> {
    ProofRequest {
        method: "GET",
        uri: URI,
        access_token: None,
        nonce: None,
    }
}

/// A compact JWS of `header` and `claims` signed by `key`.
fn jws(key: &Key, header: &Value, claims: &Value) -> String {
    let input = format!(
        "{}.{}",
        b64::encode(header.to_string().as_bytes()),
        b64::encode(claims.to_string().as_bytes())
    );
    let signature = key.sign(input.as_bytes()).unwrap();
    format!("{input}.{}", b64::encode(&signature))
}

fn header(key: &Key) -> Value {
    let jwk: Value = serde_json::from_str(&key.to_public_jwk().unwrap().to_json()).unwrap();
    json!({"typ": "dpop+jwt", "alg": key.algorithm().as_str(), "jwk": jwk})
}

fn claims() -> Value {
    json!({"jti": "j-1", "htm": "GET", "htu": URI, "iat": NOW})
}

/// A proof by `key` whose claims `change` alters.
fn proof_with(key: &Key, change: impl FnOnce(&mut Value, &mut Value)) -> String {
    let (mut header, mut claims) = (header(key), claims());
    change(&mut header, &mut claims);
    jws(key, &header, &claims)
}

fn check(proof: &str, request: &ProofRequest<'_>) -> Result<VerifiedProof, ProofError> {
    verify_proof(proof, &policy(), request, now())
}

#[test]
fn a_proof_by_a_key_pair_is_accepted_with_its_keys_thumbprint() {
    for alg in [Algorithm::ES256, Algorithm::EdDSA] {
        let key = Key::generate(alg).unwrap();
        let verified = check(&proof_with(&key, |_, _| {}), &request()).unwrap();
        assert_eq!(verified.jkt, key.thumbprint());
        assert_eq!(verified.jti, "j-1");
        assert_eq!(verified.iat, now());
    }
}

#[test]
fn the_header_is_refused_for_its_reason() {
    let key = Key::generate(Algorithm::ES256).unwrap();
    let typ = proof_with(&key, |h, _| h["typ"] = "JWT".into());
    assert_eq!(check(&typ, &request()), Err(ProofError::Type));
    let no_typ = proof_with(&key, |h, _| {
        h.as_object_mut().unwrap().remove("typ");
    });
    assert_eq!(check(&no_typ, &request()), Err(ProofError::Type));

    // A symmetric algorithm, even one the policy was given, and `none`.
    let secret = Key::generate(Algorithm::HS256).unwrap();
    let hmac = jws(
        &secret,
        &json!({"typ": "dpop+jwt", "alg": "HS256", "jwk": {"kty": "oct", "k": "c2VjcmV0"}}),
        &claims(),
    );
    assert!(
        matches!(check(&hmac, &request()), Err(ProofError::Algorithm { reason: why }) if why.contains("symmetric"))
    );
    assert_eq!(policy().algorithms(), [Algorithm::ES256, Algorithm::EdDSA]);
    let none = format!(
        "{}.{}.",
        b64::encode(br#"{"typ":"dpop+jwt","alg":"none"}"#),
        b64::encode(claims().to_string().as_bytes())
    );
    assert!(matches!(
        check(&none, &request()),
        Err(ProofError::Malformed { .. } | ProofError::Algorithm { .. })
    ));
    // An algorithm the server does not accept.
    let strict = ProofPolicy::new([Algorithm::EdDSA], 60, 5);
    let es256 = proof_with(&key, |_, _| {});
    assert!(matches!(
        verify_proof(&es256, &strict, &request(), now()),
        Err(ProofError::Algorithm { reason: why }) if why.contains("not one this server accepts")
    ));
}

#[test]
fn the_key_must_be_the_public_key_of_the_alg() {
    let key = Key::generate(Algorithm::ES256).unwrap();
    let missing = proof_with(&key, |h, _| {
        h.as_object_mut().unwrap().remove("jwk");
    });
    assert!(
        matches!(check(&missing, &request()), Err(ProofError::Key { reason: why }) if why.contains("no jwk"))
    );
    let private = proof_with(&key, |h, _| {
        h["jwk"] = serde_json::from_str(&key.to_private_jwk().to_json()).unwrap();
    });
    assert!(
        matches!(check(&private, &request()), Err(ProofError::Key { reason: why }) if why.contains("private"))
    );
    let ed = Key::generate(Algorithm::EdDSA).unwrap();
    let other_type = proof_with(&key, |h, _| {
        h["jwk"] = serde_json::from_str(&ed.to_public_jwk().unwrap().to_json()).unwrap();
    });
    assert!(matches!(
        check(&other_type, &request()),
        Err(ProofError::Key { .. })
    ));
    let not_object = proof_with(&key, |h, _| h["jwk"] = "key".into());
    assert!(matches!(
        check(&not_object, &request()),
        Err(ProofError::Key { .. })
    ));
    let wrong_type = proof_with(&key, |h, _| h["jwk"]["x"] = 7.into());
    assert!(
        matches!(check(&wrong_type, &request()), Err(ProofError::Key { reason: why }) if why.contains("wrong type"))
    );
    // A member written twice inside `jwk` (two readers could take two keys): the strict
    // parser refuses the header before any key is read.
    let jwk = key.to_public_jwk().unwrap().to_json();
    let twice = jwk.replacen('{', r#"{"x":"AAAA","#, 1);
    let header = format!(r#"{{"typ":"dpop+jwt","alg":"ES256","jwk":{twice}}}"#);
    let input = format!(
        "{}.{}",
        b64::encode(header.as_bytes()),
        b64::encode(claims().to_string().as_bytes())
    );
    let signed = format!(
        "{input}.{}",
        b64::encode(&key.sign(input.as_bytes()).unwrap())
    );
    assert!(
        matches!(check(&signed, &request()), Err(ProofError::Malformed { reason: why }) if why.contains("duplicate")),
        "{:?}",
        check(&signed, &request())
    );
    // Only `jwk` is a proof's: a key fetched from elsewhere is refused as in any token.
    for name in ["jku", "x5u", "x5c"] {
        let elsewhere = proof_with(&key, |h, _| h[name] = "https://evil.example/key".into());
        assert!(
            matches!(check(&elsewhere, &request()), Err(ProofError::Malformed { reason: why }) if why.contains(name)),
            "{name}"
        );
    }
}

#[test]
fn a_signature_by_another_key_is_refused() {
    let key = Key::generate(Algorithm::ES256).unwrap();
    let thief = Key::generate(Algorithm::ES256).unwrap();
    // The victim's public key in the header, the thief's signature.
    let forged = jws(&thief, &header(&key), &claims());
    assert_eq!(check(&forged, &request()), Err(ProofError::Signature));
}

#[test]
fn the_request_is_the_proofs_own() {
    let key = Key::generate(Algorithm::EdDSA).unwrap();
    let proof = proof_with(&key, |_, _| {});
    let post = ProofRequest {
        method: "POST",
        ..request()
    };
    assert_eq!(check(&proof, &post), Err(ProofError::Method));
    let elsewhere = ProofRequest {
        uri: "https://api.example/other",
        ..request()
    };
    assert_eq!(check(&proof, &elsewhere), Err(ProofError::Uri));
    let other_host = ProofRequest {
        uri: "https://evil.example/orders",
        ..request()
    };
    assert_eq!(check(&proof, &other_host), Err(ProofError::Uri));
    // Query and fragment ignored; scheme and host without case, the default port as none.
    let same = ProofRequest {
        uri: "HTTPS://API.example:443/orders?page=2#top",
        ..request()
    };
    assert!(check(&proof, &same).is_ok());
    let with_query = proof_with(&key, |_, c| c["htu"] = format!("{URI}?x=1").into());
    assert!(check(&with_query, &request()).is_ok());
    // The path keeps its case; another port is another URI.
    let path_case = ProofRequest {
        uri: "https://api.example/Orders",
        ..request()
    };
    assert_eq!(check(&proof, &path_case), Err(ProofError::Uri));
    let port = ProofRequest {
        uri: "https://api.example:8443/orders",
        ..request()
    };
    assert_eq!(check(&proof, &port), Err(ProofError::Uri));
    let missing = proof_with(&key, |_, c| {
        c.as_object_mut().unwrap().remove("htu");
    });
    assert_eq!(check(&missing, &request()), Err(ProofError::Uri));
    // RFC 3986 §6.2.2: unreserved characters percent-encoded or not, hex digits in either
    // case, dot segments removed — one URI; a reserved character encoded is another.
    for written in [
        "https://api.example/%6Frders",
        "https://api.example/%6frders",
        "https://api.example/./orders",
        "https://api.example/v1/../orders",
        "https://api.example/v1/%2E%2E/orders",
    ] {
        let proof = proof_with(&key, |_, c| c["htu"] = written.into());
        assert!(check(&proof, &request()).is_ok(), "{written}");
    }
    for (written, uri) in [
        ("https://api.example/a%2Fb", "https://api.example/a/b"),
        ("https://api.example/orders/", URI),
        ("https://api.example/a%2fb", "https://api.example/a%2Fc"),
        // The same text, but not an http(s) URI with a host and no user information.
        ("ftp://api.example/orders", "ftp://api.example/orders"),
        (
            "https://user@api.example/orders",
            "https://user@api.example/orders",
        ),
        ("https:///orders", "https:///orders"),
        ("api.example/orders", "api.example/orders"),
    ] {
        let proof = proof_with(&key, |_, c| c["htu"] = written.into());
        let request = ProofRequest { uri, ..request() };
        assert_eq!(check(&proof, &request), Err(ProofError::Uri), "{written}");
    }
    let encoded = proof_with(&key, |_, c| c["htu"] = "https://api.example/a%2fb".into());
    let request = ProofRequest {
        uri: "https://api.example/a%2Fb",
        ..request()
    };
    assert!(check(&encoded, &request).is_ok());
}

#[test]
fn iat_lies_within_the_window_and_jti_is_there() {
    let key = Key::generate(Algorithm::EdDSA).unwrap();
    let at = |iat: i64| proof_with(&key, move |_, c| c["iat"] = iat.into());
    assert!(check(&at(NOW - 60), &request()).is_ok());
    assert!(
        matches!(check(&at(NOW - 61), &request()), Err(ProofError::IssuedAt { reason: why }) if why.contains("old"))
    );
    assert!(check(&at(NOW + 5), &request()).is_ok());
    assert!(
        matches!(check(&at(NOW + 6), &request()), Err(ProofError::IssuedAt { reason: why }) if why.contains("ahead"))
    );
    let no_iat = proof_with(&key, |_, c| {
        c.as_object_mut().unwrap().remove("iat");
    });
    assert!(matches!(
        check(&no_iat, &request()),
        Err(ProofError::IssuedAt { .. })
    ));
    let no_jti = proof_with(&key, |_, c| {
        c.as_object_mut().unwrap().remove("jti");
    });
    assert_eq!(check(&no_jti, &request()), Err(ProofError::Jti));
    let empty_jti = proof_with(&key, |_, c| c["jti"] = "".into());
    assert_eq!(check(&empty_jti, &request()), Err(ProofError::Jti));
    assert_eq!(policy().window_seconds(), 65);
}

#[test]
fn ath_is_the_hash_of_the_presented_access_token() {
    let key = Key::generate(Algorithm::ES256).unwrap();
    let token = "eyJ.a-token.sig";
    // RFC 9449 §7.1's example: ath of "Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU".
    assert_eq!(
        access_token_hash("Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU"),
        "fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo"
    );
    let with_token = ProofRequest {
        access_token: Some(token),
        ..request()
    };
    let bound = proof_with(&key, |_, c| c["ath"] = access_token_hash(token).into());
    assert!(check(&bound, &with_token).is_ok());
    let missing = proof_with(&key, |_, _| {});
    assert_eq!(
        check(&missing, &with_token),
        Err(ProofError::AccessTokenHash)
    );
    let other = proof_with(&key, |_, c| c["ath"] = access_token_hash("another").into());
    assert_eq!(check(&other, &with_token), Err(ProofError::AccessTokenHash));
    assert_eq!(check(&bound, &request()), Err(ProofError::AccessTokenHash));
}

#[test]
fn a_server_nonce_must_be_the_current_one() {
    let key = Key::generate(Algorithm::ES256).unwrap();
    let with_nonce = ProofRequest {
        nonce: Some("n-2"),
        ..request()
    };
    let none = proof_with(&key, |_, _| {});
    assert_eq!(check(&none, &with_nonce), Err(ProofError::NonceRequired));
    let old = proof_with(&key, |_, c| c["nonce"] = "n-1".into());
    assert_eq!(check(&old, &with_nonce), Err(ProofError::NonceRequired));
    let current = proof_with(&key, |_, c| c["nonce"] = "n-2".into());
    assert!(check(&current, &with_nonce).is_ok());
}

#[test]
fn a_proof_that_is_no_jwt_is_malformed() {
    for text in ["", "a.b", "not a proof", &"a".repeat(MAX_PROOF_BYTES + 1)] {
        assert!(
            matches!(check(text, &request()), Err(ProofError::Malformed { .. })),
            "{text:.20}"
        );
    }
}

#[test]
fn a_signed_proof_passes_the_check_and_binds_its_token_and_nonce() {
    let key = Key::generate(Algorithm::ES256).unwrap();
    let bound = ProofRequest {
        method: "POST",
        uri: URI,
        access_token: Some("a.b.c"),
        nonce: Some("n-1"),
    };
    let proof = sign_proof(&key, &bound, now(), "j-9").unwrap();
    let verified = check(&proof, &bound).unwrap();
    assert_eq!(
        (verified.jkt, verified.jti.as_str()),
        (key.thumbprint(), "j-9")
    );
    let other_token = ProofRequest {
        access_token: Some("x.y.z"),
        ..bound
    };
    assert_eq!(
        check(&proof, &other_token),
        Err(ProofError::AccessTokenHash)
    );
    let symmetric = Key::generate(Algorithm::HS256).unwrap();
    assert!(matches!(
        sign_proof(&symmetric, &request(), now(), "j"),
        Err(KeyError::InvalidJwk { .. })
    ));
}

#[test]
fn rfc_9864s_ed25519_names_eddsa_over_ed25519() {
    let key = Key::generate(Algorithm::EdDSA).unwrap();
    let proof = proof_with(&key, |header, _| {
        header["alg"] = "Ed25519".into();
        header["jwk"]["alg"] = "Ed25519".into();
    });
    assert_eq!(check(&proof, &request()).unwrap().jkt, key.thumbprint());
    // Not for any other curve's key, nor where EdDSA is not accepted.
    let p256 = Key::generate(Algorithm::ES256).unwrap();
    let wrong_key = proof_with(&p256, |header, _| header["alg"] = "Ed25519".into());
    assert!(matches!(
        check(&wrong_key, &request()),
        Err(ProofError::Key { .. } | ProofError::Signature)
    ));
    let es256_only = ProofPolicy::new([Algorithm::ES256], 60, 5);
    assert!(matches!(
        verify_proof(&proof, &es256_only, &request(), now()),
        Err(ProofError::Algorithm { .. })
    ));
    assert_eq!(
        algorithm_names(&[Algorithm::ES256, Algorithm::EdDSA]),
        ["ES256", "EdDSA", "Ed25519"]
    );
}
