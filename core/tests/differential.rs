//! jwtkit against jsonwebtoken, the reference implementation (on its `aws_lc_rs` backend;
//! jwtkit on the backend this test was built with — `cargo xtask test` runs both).
//!
//! - Every token either signs, for every algorithm both support, the other verifies with an
//!   equivalent policy, and both read the same claims (a property over random claims).
//! - jwtkit refuses a superset of what jsonwebtoken refuses: over random byte edits of valid
//!   tokens (a property), and over a list of deliberate departures from a valid token, each
//!   re-signed with the key so that only the departure is judged. The departures only jwtkit
//!   refuses are its strictness rules; [`STRICTER`] lists them with the code jwtkit answers,
//!   and SECURITY.md's table of differences must name each.
#![cfg(all(feature = "crypto", not(target_arch = "wasm32")))]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "common/reference.rs"]
mod reference;

use std::sync::LazyLock;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jwtkit_core::{Algorithm, Key, KeySet, Signer, UnixTime, Validation, Verifier};
use proptest::prelude::*;
use reference::Reference;
use serde_json::{Value, json};

const ALGORITHMS: [Algorithm; 8] = [
    Algorithm::HS256,
    Algorithm::HS384,
    Algorithm::HS512,
    Algorithm::EdDSA,
    Algorithm::ES256,
    Algorithm::ES384,
    Algorithm::RS256,
    Algorithm::PS256,
];

/// A key per algorithm, in jwtkit and in jsonwebtoken.
static KEYS: LazyLock<Vec<(Key, Reference)>> = LazyLock::new(|| {
    ALGORITHMS
        .iter()
        .map(|&alg| {
            let key = Key::generate(alg).unwrap();
            let peer = reference::reference(alg, &key.to_private_jwk());
            (key, peer)
        })
        .collect()
});

/// jsonwebtoken reads its own clock: jwtkit is given the time that clock reads.
fn now() -> i64 {
    i64::try_from(jsonwebtoken::get_current_timestamp()).unwrap()
}

/// The policy: `typ` JWT (jsonwebtoken's), issuer, audience and `exp` required, no leeway;
/// the same in both.
fn jwtkit_verify(key: &Key, token: &str) -> Result<Value, &'static str> {
    let policy = Validation::builder()
        .expect_type("JWT")
        .expect_issuer("jwtkit")
        .expect_audience("jwtkit-api")
        .require_claim("exp")
        .build()
        .unwrap();
    Verifier::new(KeySet::from(key.clone()), policy)
        .verify(token, UnixTime::from_secs(now()).unwrap())
        .map(|verified| Value::Object(verified.claims().members().clone()))
        .map_err(|e| e.code())
}

fn reference_verify(peer: &Reference, token: &str) -> Result<Value, String> {
    let mut validation = jsonwebtoken::Validation::new(peer.alg);
    validation.leeway = 0;
    validation.validate_nbf = true;
    validation.set_issuer(&["jwtkit"]);
    validation.set_audience(&["jwtkit-api"]);
    validation.set_required_spec_claims(&["exp", "iss", "aud"]);
    jsonwebtoken::decode::<Value>(token, &peer.decoding, &validation)
        .map(|data| data.claims)
        .map_err(|e| format!("{e:?}"))
}

fn claims_strategy() -> impl Strategy<Value = Value> {
    (
        any::<String>(),
        60i64..100_000,
        0i64..3600,
        proptest::option::of(any::<i64>()),
        proptest::collection::vec("[a-z]{1,8}", 0..4),
    )
        .prop_map(|(sub, ahead, ago, number, roles)| {
            let now = now();
            let mut claims = json!({
                "iss": "jwtkit", "aud": "jwtkit-api", "sub": sub,
                "exp": now + ahead, "iat": now - ago, "nbf": now - ago, "roles": roles,
            });
            if let Some(number) = number {
                claims["n"] = json!(number);
            }
            claims
        })
}

/// Cases per property: 48 in `cargo xtask test`, `JWTKIT_FUZZ_CASES` in `cargo xtask fuzz`.
fn cases() -> u32 {
    std::env::var("JWTKIT_FUZZ_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(48)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases()))]

    #[test]
    fn what_either_signs_the_other_verifies_alike(index in 0..ALGORITHMS.len(), claims in claims_strategy()) {
        let (key, peer) = &KEYS[index];
        let ours = Signer::new(key.clone()).sign(&claims).unwrap();
        prop_assert_eq!(reference_verify(peer, &ours), Ok(claims.clone()), "{} signed by jwtkit", ALGORITHMS[index]);
        let theirs = jsonwebtoken::encode(&jsonwebtoken::Header::new(peer.alg), &claims, &peer.encoding).unwrap();
        prop_assert_eq!(jwtkit_verify(key, &theirs), Ok(claims), "{} signed by jsonwebtoken", ALGORITHMS[index]);
    }

    #[test]
    fn a_byte_edit_jsonwebtoken_refuses_jwtkit_refuses(
        index in 0..ALGORITHMS.len(),
        at in any::<prop::sample::Index>(),
        edit in 0u8..3,
        byte in prop::sample::select(b"AZaz09-_.=+/ {}\"\\".to_vec()),
    ) {
        let (key, peer) = &KEYS[index];
        let claims = json!({"iss": "jwtkit", "aud": "jwtkit-api", "sub": "ann", "exp": now() + 600});
        let mut token = Signer::new(key.clone()).sign(&claims).unwrap().into_bytes();
        let at = at.index(token.len());
        match edit {
            0 => token[at] = byte,
            1 => { token.remove(at); }
            _ => token.insert(at, byte),
        }
        let token = String::from_utf8(token).unwrap();
        if let Err(theirs) = reference_verify(peer, &token) {
            let ours = jwtkit_verify(key, &token);
            prop_assert!(ours.is_err(), "jsonwebtoken refuses ({theirs}), jwtkit accepts: {token}");
        }
    }
}

/// The departures only jwtkit refuses, with the code it answers.
const STRICTER: &[(&str, &str)] = &[
    ("duplicate private claim", "ERR_JWT_DUPLICATE_MEMBER"),
    (
        "duplicate private header member",
        "ERR_JWT_DUPLICATE_MEMBER",
    ),
    ("iat in the future", "ERR_JWT_ISSUED_IN_FUTURE"),
    ("iat as a string", "ERR_JWT_CLAIM_INVALID"),
    ("sub not a string", "ERR_JWT_CLAIM_INVALID"),
    ("jti not a string", "ERR_JWT_CLAIM_INVALID"),
    ("unknown kid", "ERR_JWKS_NO_MATCHING_KEY"),
    ("typ not JWT", "ERR_JWT_TYPE_MISMATCH"),
    ("cty JWT", "ERR_JWT_NESTED_UNSUPPORTED"),
    ("jwk in the header", "ERR_JWS_EMBEDDED_KEY_UNSUPPORTED"),
    ("jku in the header", "ERR_JWS_EMBEDDED_KEY_UNSUPPORTED"),
    ("nested too deep", "ERR_JWT_NESTING_TOO_DEEP"),
];

/// A valid token's header and claims with one departure (signed with the key), and an edit
/// of the signed token's text for the departures in its encoding.
type Departure = (&'static str, String, String, fn(String) -> String);

fn departures(alg: Algorithm) -> Vec<Departure> {
    let exp = now() + 600;
    let header = |extra: &str| format!(r#"{{"alg":"{alg}","typ":"JWT"{extra}}}"#);
    let claims = |extra: &str| {
        format!(r#"{{"iss":"jwtkit","aud":"jwtkit-api","sub":"ann","exp":{exp}{extra}}}"#)
    };
    let with_exp =
        |value: &str| claims("").replace(&format!(r#""exp":{exp}"#), &format!(r#""exp":{value}"#));
    let deep = "[".repeat(20) + &"]".repeat(20);
    let same: fn(String) -> String = |token| token;
    let mut departures: Vec<Departure> = [
        ("none", header(""), claims("")),
        (
            "whitespace in JSON",
            header(" "),
            format!(" {} ", claims("")),
        ),
        (
            "typ in lower case",
            header("").replace("JWT", "jwt"),
            claims(""),
        ),
        (
            "duplicate registered claim",
            header(""),
            claims(r#","sub":"bob""#),
        ),
        (
            "duplicate private claim",
            header(""),
            claims(r#","x":1,"x":2"#),
        ),
        (
            "duplicate alg",
            header(&format!(r#","alg":"{alg}""#)),
            claims(""),
        ),
        (
            "duplicate private header member",
            header(r#","x":1,"x":2"#),
            claims(""),
        ),
        (
            "exp as a string",
            header(""),
            with_exp(&format!(r#""{exp}""#)),
        ),
        ("exp fractional", header(""), with_exp(&format!("{exp}.5"))),
        (
            "exp expired",
            header(""),
            with_exp(&(exp - 601).to_string()),
        ),
        ("exp too large", header(""), with_exp("1e20")),
        (
            "exp missing",
            header(""),
            r#"{"iss":"jwtkit","aud":"jwtkit-api","sub":"ann"}"#.to_owned(),
        ),
        (
            "nbf in the future",
            header(""),
            claims(&format!(r#","nbf":{}"#, exp - 300)),
        ),
        ("nbf as a string", header(""), claims(r#","nbf":"0""#)),
        (
            "iat in the future",
            header(""),
            claims(&format!(r#","iat":{}"#, exp - 300)),
        ),
        ("iat as a string", header(""), claims(r#","iat":"0""#)),
        (
            "wrong audience",
            header(""),
            claims("").replace("jwtkit-api", "other"),
        ),
        (
            "audience among others",
            header(""),
            claims("").replace(r#""jwtkit-api""#, r#"["other","jwtkit-api"]"#),
        ),
        (
            "wrong issuer",
            header(""),
            claims("").replace(r#""iss":"jwtkit""#, r#""iss":"other""#),
        ),
        (
            "sub not a string",
            header(""),
            claims("").replace(r#""sub":"ann""#, r#""sub":7"#),
        ),
        ("jti not a string", header(""), claims(r#","jti":7"#)),
        ("unknown kid", header(r#","kid":"nope""#), claims("")),
        ("crit header", header(r#","crit":["exp"]"#), claims("")),
        (
            "b64 false",
            header(r#","b64":false,"crit":["b64"]"#),
            claims(""),
        ),
        (
            "typ not JWT",
            header("").replace(r#""typ":"JWT""#, r#""typ":"at+jwt""#),
            claims(""),
        ),
        ("cty JWT", header(r#","cty":"JWT""#), claims("")),
        (
            "jwk in the header",
            header(r#","jwk":{"kty":"oct","k":"AAAA"}"#),
            claims(""),
        ),
        (
            "jku in the header",
            header(r#","jku":"https://example.com/keys""#),
            claims(""),
        ),
        ("payload an array", header(""), "[]".to_owned()),
        (
            "nested too deep",
            header(""),
            claims(&format!(r#","deep":{deep}"#)),
        ),
        ("lone surrogate", header(""), claims(r#","x":"\ud800""#)),
        (
            "byte order mark",
            header(""),
            format!("\u{feff}{}", claims("")),
        ),
    ]
    .into_iter()
    .map(|(name, header, claims)| (name, header, claims, same))
    .collect();
    departures.extend([
        (
            "padded signature",
            header(""),
            claims(""),
            (|t| t + "=") as fn(String) -> String,
        ),
        (
            "signature in standard base64",
            header(""),
            claims(""),
            |t| {
                let (input, signature) = t.rsplit_once('.').unwrap();
                let signature = URL_SAFE_NO_PAD.decode(signature).unwrap();
                format!(
                    "{input}.{}",
                    base64::engine::general_purpose::STANDARD_NO_PAD.encode(signature)
                )
            },
        ),
        (
            "signature with trailing bits",
            header(""),
            claims(""),
            |t| {
                let (input, signature) = t.rsplit_once('.').unwrap();
                let mut signature = URL_SAFE_NO_PAD.decode(signature).unwrap();
                // One byte more than a multiple of three: its last character carries 4 spare bits.
                if signature.len() % 3 != 1 {
                    signature.truncate(signature.len() - (signature.len() % 3 + 2) % 3);
                }
                let mut text = URL_SAFE_NO_PAD.encode(signature);
                let last = text.pop().unwrap();
                text.push(if last == 'A' {
                    'B'
                } else {
                    (last as u8 | 1) as char
                });
                format!("{input}.{text}")
            },
        ),
        ("whitespace in a segment", header(""), claims(""), |t| {
            t.replacen('.', ". ", 1)
        }),
    ]);
    departures
}

fn sign(key: &Key, header: &str, claims: &str) -> String {
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header),
        URL_SAFE_NO_PAD.encode(claims)
    );
    let signature = key.sign(input.as_bytes()).unwrap();
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature))
}

#[test]
fn jwtkit_refuses_every_departure_jsonwebtoken_refuses_and_the_listed_others() {
    for (index, &alg) in ALGORITHMS.iter().enumerate() {
        let (key, peer) = &KEYS[index];
        let mut stricter = Vec::new();
        for (name, header, claims, edit) in departures(alg) {
            let token = edit(sign(key, &header, &claims));
            let (ours, theirs) = (jwtkit_verify(key, &token), reference_verify(peer, &token));
            match (ours, theirs) {
                (Ok(_), Err(theirs)) => {
                    panic!("{alg} {name}: jsonwebtoken refuses ({theirs}), jwtkit accepts")
                }
                (Err(code), Ok(_)) => stricter.push((name, code)),
                (Ok(_), Ok(_)) | (Err(_), Err(_)) => {}
            }
        }
        assert_eq!(stricter, STRICTER, "{alg}: what only jwtkit refuses");
    }
    let security =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../SECURITY.md")).unwrap();
    for (name, code) in STRICTER {
        assert!(
            security.contains(&format!("| {name} | `{code}`")),
            "SECURITY.md does not list {name}"
        );
    }
}
