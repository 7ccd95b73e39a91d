//! The bodies of the coverage-guided fuzz targets (`core/fuzz`, `cargo xtask fuzz`): each
//! takes arbitrary bytes and panics only when a rule of this crate is broken — a panic of
//! its own code, or a verdict that disagrees with the reference it is compared with. The
//! checked-in seeds (`core/fuzz/seeds`) and crash files (`core/fuzz/artifacts`) of every
//! target are replayed by the tests below, in every `cargo xtask test`. Not part of the API (feature `fuzzing`).
#![allow(clippy::expect_used, clippy::panic)]

use crate::{ParseOptions, dangerous};

/// The strict token parser: never panics; an accepted token has a JSON object for header
/// and claims.
pub fn token(data: &[u8]) {
    let Ok(text) = core::str::from_utf8(data) else {
        return;
    };
    if let Ok(decoded) = dangerous::decode_unverified(text, &ParseOptions::default()) {
        assert!(decoded.header_json().trim_start().starts_with('{'));
        let _ = (
            decoded.header().members().len(),
            decoded.claims().members().len(),
        );
    }
}

/// The strict JSON scanner, as the claims segment: it accepts exactly what serde_json
/// accepts as an object, minus duplicate members, deep nesting and registered claims of the
/// wrong type, and reads the same members.
pub fn json(data: &[u8]) {
    let Ok(text) = core::str::from_utf8(data) else {
        return;
    };
    let token = format!(
        "{}.{}.c2ln",
        crate::b64::encode(br#"{"alg":"HS256"}"#),
        crate::b64::encode(text.as_bytes())
    );
    let ours = dangerous::decode_unverified(&token, &ParseOptions::default());
    if text.starts_with('\u{feff}') {
        // A byte order mark is refused as such (RFC 8259 §8.1), before any JSON is read.
        let code = ours.as_ref().map_err(|e| e.code()).err();
        assert_eq!(code, Some("ERR_JWT_INVALID_UTF8"), "{text:?}");
        return;
    }
    let reference = serde_json::from_str::<serde_json::Value>(text);
    match (&reference, &ours) {
        (Ok(serde_json::Value::Object(members)), Ok(decoded)) => {
            assert_eq!(decoded.claims().members(), members, "{text:?}");
        }
        (Ok(serde_json::Value::Object(_)), Err(e)) => assert!(
            matches!(
                e.code(),
                "ERR_JWT_DUPLICATE_MEMBER" | "ERR_JWT_NESTING_TOO_DEEP" | "ERR_JWT_CLAIM_INVALID"
            ),
            "{text:?}: {e:?}"
        ),
        (Ok(_), Err(e)) => assert_eq!(e.code(), "ERR_JWT_NOT_AN_OBJECT", "{text:?}"),
        (Err(_), Err(e)) => assert!(
            matches!(
                e.code(),
                "ERR_JWT_INVALID_JSON" | "ERR_JWT_DUPLICATE_MEMBER" | "ERR_JWT_NESTING_TOO_DEEP"
            ),
            "{text:?}: {e:?}"
        ),
        (reference, Ok(_)) => panic!("{text:?}: accepted, serde_json: {reference:?}"),
    }
}

/// The own base64url: decodes exactly what the `base64` crate decodes (URL-safe, no
/// padding, canonical), and every encoding decodes back.
pub fn base64url(data: &[u8]) {
    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let ours = crate::b64::decode(data);
    assert_eq!(ours, URL_SAFE_NO_PAD.decode(data).ok(), "{data:?}");
    let encoded = crate::b64::encode(data);
    assert_eq!(encoded, URL_SAFE_NO_PAD.encode(data));
    assert_eq!(
        crate::b64::decode(encoded.as_bytes()).as_deref(),
        Some(data)
    );
}

/// JWK and JWK Set import: never panics; an imported key's public JWK imports again as the
/// same key (its thumbprint).
#[cfg(feature = "crypto")]
pub fn jwk(data: &[u8]) {
    let Ok(text) = core::str::from_utf8(data) else {
        return;
    };
    let _ = crate::KeySet::from_json(text, None);
    if let Ok(key) = crate::Key::from_jwk_json(text, None)
        && let Some(public) = key.to_public_jwk()
    {
        let again = crate::Key::from_jwk(&public, None).expect("a public JWK of an imported key");
        assert_eq!(
            again.thumbprint(),
            key.thumbprint(),
            "the public key changed on its way out and back"
        );
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
#[allow(clippy::unwrap_used)]
mod replay {
    use std::path::Path;

    /// Runs `target` on every file of its checked-in seed and crash directories.
    fn replay(name: &str, target: fn(&[u8])) {
        let fuzz = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
        let mut count = 0;
        for dir in ["seeds", "artifacts"] {
            let Ok(entries) = std::fs::read_dir(fuzz.join(dir).join(name)) else {
                continue;
            };
            for entry in entries {
                let path = entry.unwrap().path();
                let data = std::fs::read(&path).unwrap();
                let outcome = std::panic::catch_unwind(|| target(&data));
                assert!(
                    outcome.is_ok(),
                    "{} fails the target {name}",
                    path.display()
                );
                count += 1;
            }
        }
        assert!(
            count > 0,
            "the fuzz target {name} has no seeds in {}",
            fuzz.display()
        );
    }

    #[test]
    fn the_token_corpus_passes() {
        replay("token", super::token);
    }

    #[test]
    fn the_json_corpus_passes() {
        replay("json", super::json);
    }

    #[test]
    fn the_base64url_corpus_passes() {
        replay("base64url", super::base64url);
    }

    #[cfg(feature = "crypto")]
    #[test]
    fn the_jwk_corpus_passes() {
        replay("jwk", super::jwk);
    }
}
