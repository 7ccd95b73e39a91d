//! The attack-and-edge-case suite: every case is run against jwtkit-core directly AND against
//! the live server's protected endpoint, asserting the exact error code (and the HTTP status
//! and `WWW-Authenticate` challenge for the server). SECURITY.md maps each class to its
//! standard or CVE.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use jwtkit_core::{Algorithm, Key, KeySet, UnixTime, Validation, Verifier};
use jwtkit_e2e::server::{START, TestServer};
use jwtkit_e2e::{b64, forge, forge_bytes, resign, signature_of, with_signature};
use jwtkit_server::config::Signing;
use jwtkit_server::config::{ServeArgs, table};
use rsa::pkcs8::EncodePublicKey as _;
use serde_json::{Value, json};

const NOW: i64 = START;
const P256_N: [u8; 32] = hex32("FFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551");
/// The Ed25519 group order L, little-endian.
const ED25519_L: [u8; 32] =
    hex32("EDD3F55C1A631258D69CF7A2DEF9DE1400000000000000000000000000000010");

const fn hex32(text: &str) -> [u8; 32] {
    let bytes = text.as_bytes();
    let mut out = [0u8; 32];
    let mut i = 0;
    while i < 32 {
        out[i] = (nibble(bytes[2 * i]) << 4) | nibble(bytes[2 * i + 1]);
        i += 1;
    }
    out
}

const fn nibble(c: u8) -> u8 {
    match c {
        b'0'..=b'9' => c - b'0',
        _ => c - b'A' + 10,
    }
}

/// One attack: a token and the error code it must be rejected with ("OK" when it must pass).
struct Case {
    class: &'static str,
    name: String,
    token: String,
    code: &'static str,
}

/// The keys the verifier trusts (all asymmetric: symmetric keys cannot join this set).
struct Keys {
    rsa: Key,
    ec: Key,
    ed: Key,
}

impl Keys {
    fn generate() -> Self {
        let with_kid = |alg, kid: &str| {
            let mut jwk = Key::generate(alg).unwrap().to_private_jwk();
            jwk.kid = Some(kid.to_owned());
            Key::from_jwk(&jwk, None).unwrap()
        };
        Self {
            rsa: with_kid(Algorithm::RS256, "rsa"),
            ec: with_kid(Algorithm::ES256, "ec"),
            ed: with_kid(Algorithm::EdDSA, "ed"),
        }
    }

    fn set(&self) -> KeySet {
        KeySet::new(vec![self.ed.clone(), self.ec.clone(), self.rsa.clone()]).unwrap()
    }
}

fn claims() -> Value {
    json!({"iss": "jwtkit", "aud": "jwtkit-api", "sub": "mallory", "exp": NOW + 60, "iat": NOW})
}

fn with_claim(name: &str, value: Value) -> String {
    let mut claims = claims();
    claims[name] = value;
    claims.to_string()
}

fn header(alg: &str, kid: &str) -> String {
    json!({"alg": alg, "typ": "at+jwt", "kid": kid}).to_string()
}

/// The policy the server applies.
fn policy() -> Validation {
    Validation::builder()
        .expect_issuer("jwtkit")
        .expect_audience("jwtkit-api")
        .expect_type("at+jwt")
        .require_claim("sub")
        .build()
        .unwrap()
}

/// The public key in the encodings an attacker would try as an HMAC secret.
fn public_key_encodings(keys: &Keys) -> Vec<(String, Vec<u8>)> {
    let mut encodings = Vec::new();
    for key in [&keys.rsa, &keys.ec, &keys.ed] {
        let jwk = key.to_public_jwk().unwrap();
        let der = match key.algorithm() {
            Algorithm::RS256 => {
                let n = rsa::BoxedUint::from_be_slice_vartime(
                    &jwtkit_e2e::unb64(jwk.n.as_deref().unwrap()).unwrap(),
                );
                let e = rsa::BoxedUint::from_be_slice_vartime(
                    &jwtkit_e2e::unb64(jwk.e.as_deref().unwrap()).unwrap(),
                );
                rsa::PublicKey::new(n, e)
                    .unwrap()
                    .to_public_key_der()
                    .unwrap()
                    .as_bytes()
                    .to_vec()
            }
            Algorithm::ES256 => {
                let mut der = hex::decode("3059301306072a8648ce3d020106082a8648ce3d030107034200");
                der.push(4);
                der.extend(jwtkit_e2e::unb64(jwk.x.as_deref().unwrap()).unwrap());
                der.extend(jwtkit_e2e::unb64(jwk.y.as_deref().unwrap()).unwrap());
                der
            }
            _ => {
                let mut der = hex::decode("302a300506032b6570032100");
                der.extend(jwtkit_e2e::unb64(jwk.x.as_deref().unwrap()).unwrap());
                der
            }
        };
        let pem = {
            use base64::Engine as _;
            let body = base64::engine::general_purpose::STANDARD.encode(&der);
            let lines: Vec<&str> = body
                .as_bytes()
                .chunks(64)
                .map(|c| std::str::from_utf8(c).unwrap())
                .collect();
            format!(
                "-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----",
                lines.join("\n")
            )
        };
        let alg = key.algorithm();
        encodings.push((format!("{alg} PEM"), pem.clone().into_bytes()));
        encodings.push((
            format!("{alg} PEM + newline"),
            format!("{pem}\n").into_bytes(),
        ));
        encodings.push((
            format!("{alg} PEM, leading whitespace"),
            format!("  {pem}").into_bytes(),
        ));
        encodings.push((format!("{alg} DER"), der.clone()));
        encodings.push((format!("{alg} JWK text"), jwk.to_json().into_bytes()));
        let raw = jwk
            .n
            .or(jwk.x)
            .map(|v| jwtkit_e2e::unb64(&v).unwrap())
            .unwrap();
        encodings.push((format!("{alg} raw"), raw));
    }
    encodings
}

mod hex {
    pub(super) fn decode(text: &str) -> Vec<u8> {
        (0..text.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
            .collect()
    }
}

/// The cases of every class, in order.
#[derive(Default)]
struct Cases(Vec<Case>);

impl Cases {
    fn add(&mut self, class: &'static str, name: &str, token: String, code: &'static str) {
        self.0.push(Case {
            class,
            name: name.to_owned(),
            token,
            code,
        });
    }
}

/// Every attack class, one function each.
const CLASSES: [fn(&Keys, &mut Cases); 19] = [
    baseline,
    alg_none,
    alg_type,
    algorithm_confusion,
    cross_algorithm,
    signatures,
    kid_injection,
    embedded_keys,
    extensions,
    serializations,
    base64url,
    json_encodings,
    exhaustion,
    duplicates,
    claim_types,
    expectations,
    ecdsa,
    ed25519,
    rsa_signatures,
];

fn cases(keys: &Keys) -> Vec<Case> {
    let mut cases = Cases::default();
    for class in CLASSES {
        class(keys, &mut cases);
    }
    cases.0
}

/// A valid EdDSA token, whose signature other cases reuse.
fn good(keys: &Keys) -> String {
    forge(&header("EdDSA", "ed"), &claims().to_string(), &keys.ed).unwrap()
}

/// Valid tokens of each key: the suite would prove nothing if these failed.
fn baseline(keys: &Keys, cases: &mut Cases) {
    let payload = claims().to_string();
    let good = good(keys);
    cases.add("baseline", "a valid EdDSA access token", good.clone(), "OK");
    cases.add(
        "baseline",
        "a valid ES256 access token",
        forge(&header("ES256", "ec"), &payload, &keys.ec).unwrap(),
        "OK",
    );
    cases.add(
        "baseline",
        "a valid RS256 access token",
        forge(&header("RS256", "rsa"), &payload, &keys.rsa).unwrap(),
        "OK",
    );
}

/// alg "none" in every case spelling, with an empty or a kept signature.
fn alg_none(keys: &Keys, cases: &mut Cases) {
    let payload = claims().to_string();
    let good = good(keys);
    for alg in ["none", "None", "NONE", "nOnE"] {
        cases.add(
            "alg none",
            &format!("{alg}, empty signature"),
            with_signature(&header(alg, "ed"), &payload, b""),
            "ERR_JOSE_ALG_UNSUPPORTED",
        );
        cases.add(
            "alg none",
            &format!("{alg}, kept signature"),
            resign(
                &forge(&header(alg, "ed"), &payload, &keys.ed).unwrap(),
                &signature_of(&good),
            ),
            "ERR_JOSE_ALG_UNSUPPORTED",
        );
        cases.add(
            "alg none",
            &format!("{alg}, no kid"),
            with_signature(
                &json!({"alg": alg, "typ": "at+jwt"}).to_string(),
                &payload,
                b"",
            ),
            "ERR_JOSE_ALG_UNSUPPORTED",
        );
    }
}

/// alg of the wrong type, or unknown.
fn alg_type(keys: &Keys, cases: &mut Cases) {
    let payload = claims().to_string();
    for alg in [
        json!(1),
        json!(null),
        json!(["EdDSA"]),
        json!({"alg": "EdDSA"}),
        json!(true),
    ] {
        let h = json!({"alg": alg, "typ": "at+jwt", "kid": "ed"}).to_string();
        cases.add(
            "alg type",
            &format!("alg {alg}"),
            forge(&h, &payload, &keys.ed).unwrap(),
            "ERR_JWS_HEADER_INVALID",
        );
    }
    for alg in [
        "", "HS1024", "RS512", "ES512", "PS384", "eddsa", "Ed25519", "EdDSA ",
    ] {
        cases.add(
            "alg unknown",
            &format!("alg {alg:?}"),
            forge(&header(alg, "ed"), &payload, &keys.ed).unwrap(),
            "ERR_JOSE_ALG_UNSUPPORTED",
        );
    }
    cases.add(
        "alg missing",
        "no alg",
        forge(
            &json!({"typ": "at+jwt", "kid": "ed"}).to_string(),
            &payload,
            &keys.ed,
        )
        .unwrap(),
        "ERR_JWS_ALG_MISSING",
    );
}

/// Algorithm confusion: HS256 with a public key as the HMAC secret.
fn algorithm_confusion(keys: &Keys, cases: &mut Cases) {
    let payload = claims().to_string();
    for (encoding, secret) in public_key_encodings(keys) {
        let padded = if secret.len() < 32 {
            [secret.clone(), vec![0; 32 - secret.len()]].concat()
        } else {
            secret.clone()
        };
        let hmac = Key::from_hmac_secret(Algorithm::HS256, &padded, Some("x")).unwrap();
        let kid = match () {
            _ if encoding.starts_with("RS256") => "rsa",
            _ if encoding.starts_with("ES256") => "ec",
            _ => "ed",
        };
        cases.add(
            "alg confusion",
            &format!("HS256 keyed with {encoding}, its kid"),
            forge(&header("HS256", kid), &payload, &hmac).unwrap(),
            "ERR_JWS_KEY_ALG_MISMATCH",
        );
        cases.add(
            "alg confusion",
            &format!("HS256 keyed with {encoding}, no kid"),
            forge(
                &json!({"alg": "HS256", "typ": "at+jwt"}).to_string(),
                &payload,
                &hmac,
            )
            .unwrap(),
            "ERR_JWKS_NO_MATCHING_KEY",
        );
    }
}

/// Cross-algorithm: a key's kid with another asymmetric algorithm.
fn cross_algorithm(keys: &Keys, cases: &mut Cases) {
    let payload = claims().to_string();
    cases.add(
        "alg confusion",
        "ES256 header naming the RSA key",
        forge(&header("ES256", "rsa"), &payload, &keys.ec).unwrap(),
        "ERR_JWS_KEY_ALG_MISMATCH",
    );
    cases.add(
        "alg confusion",
        "PS256 header naming the RS256 key",
        forge(&header("PS256", "rsa"), &payload, &keys.rsa).unwrap(),
        "ERR_JWS_KEY_ALG_MISMATCH",
    );
}

/// Signatures stripped, emptied, truncated, extended, zeroed.
fn signatures(keys: &Keys, cases: &mut Cases) {
    let good = good(keys);
    let sig = signature_of(&good);
    let input = good.rsplit_once('.').unwrap().0.to_owned();
    cases.add(
        "signature",
        "stripped (no third segment)",
        input.clone(),
        "ERR_JWT_MALFORMED",
    );
    cases.add(
        "signature",
        "empty",
        format!("{input}."),
        "ERR_JWS_SIGNATURE_VERIFICATION_FAILED",
    );
    cases.add(
        "signature",
        "truncated",
        resign(&good, &sig[..63]),
        "ERR_JWS_SIGNATURE_VERIFICATION_FAILED",
    );
    cases.add(
        "signature",
        "extended",
        resign(&good, &[sig.clone(), vec![0]].concat()),
        "ERR_JWS_SIGNATURE_VERIFICATION_FAILED",
    );
    cases.add(
        "signature",
        "all zero",
        resign(&good, &[0; 64]),
        "ERR_JWS_SIGNATURE_VERIFICATION_FAILED",
    );
    cases.add(
        "signature",
        "of another token",
        resign(
            &forge(
                &header("EdDSA", "ed"),
                &with_claim("sub", json!("admin")),
                &keys.ed,
            )
            .unwrap(),
            &sig,
        ),
        "ERR_JWS_SIGNATURE_VERIFICATION_FAILED",
    );
}

/// kid injection: only a lookup key, never a path, query or command.
fn kid_injection(keys: &Keys, cases: &mut Cases) {
    let payload = claims().to_string();
    for kid in [
        "../../../../etc/passwd",
        "/dev/null",
        "' OR '1'='1",
        "ed\u{0}",
        "ed; rm -rf /",
        "unknown",
        "ED",
        &"k".repeat(4000),
    ] {
        let token = forge(&header("EdDSA", kid), &payload, &keys.ed).unwrap();
        cases.add(
            "kid injection",
            &format!("kid {:?}", &kid[..kid.len().min(24)]),
            token,
            "ERR_JWKS_NO_MATCHING_KEY",
        );
    }
    cases.add(
        "kid injection",
        "kid as a number",
        forge(
            &json!({"alg": "EdDSA", "typ": "at+jwt", "kid": 1}).to_string(),
            &payload,
            &keys.ed,
        )
        .unwrap(),
        "ERR_JWS_HEADER_INVALID",
    );
}

/// Keys named by the token itself: never fetched, never trusted.
fn embedded_keys(keys: &Keys, cases: &mut Cases) {
    let payload = claims().to_string();
    let attacker = Key::generate(Algorithm::EdDSA).unwrap();
    let attacker_jwk: Value =
        serde_json::from_str(&attacker.to_public_jwk().unwrap().to_json()).unwrap();
    for (name, value) in [
        ("jku", json!("https://evil.example/jwks.json")),
        ("x5u", json!("https://evil.example/cert.pem")),
        ("jwk", attacker_jwk),
        ("x5c", json!(["MIIB..."])),
    ] {
        let h = json!({"alg": "EdDSA", "typ": "at+jwt", name: value}).to_string();
        cases.add(
            "embedded key",
            &format!("{name} header, signed by the attacker"),
            forge(&h, &payload, &attacker).unwrap(),
            "ERR_JWS_EMBEDDED_KEY_UNSUPPORTED",
        );
        let h = json!({"alg": "EdDSA", "typ": "at+jwt", "kid": "ed", name: value}).to_string();
        cases.add(
            "embedded key",
            &format!("{name} header, validly signed"),
            forge(&h, &payload, &keys.ed).unwrap(),
            "ERR_JWS_EMBEDDED_KEY_UNSUPPORTED",
        );
    }
}

/// crit in every form; b64; nested tokens.
fn extensions(keys: &Keys, cases: &mut Cases) {
    let payload = claims().to_string();
    let good = good(keys);
    for crit in [
        json!(["exp"]),
        json!([]),
        json!(["b64"]),
        json!("exp"),
        json!(null),
        json!(["x"]),
    ] {
        let h =
            json!({"alg": "EdDSA", "typ": "at+jwt", "kid": "ed", "crit": crit, "x": 1}).to_string();
        cases.add(
            "crit",
            &format!("crit {crit}"),
            forge(&h, &payload, &keys.ed).unwrap(),
            "ERR_JWS_CRIT_UNSUPPORTED",
        );
    }
    let h = json!({"alg": "EdDSA", "typ": "at+jwt", "kid": "ed", "b64": false}).to_string();
    cases.add(
        "b64",
        "b64 false without crit",
        forge(&h, &payload, &keys.ed).unwrap(),
        "ERR_JWS_B64_UNSUPPORTED",
    );
    for cty in ["JWT", "jwt", "application/JWT"] {
        let h = json!({"alg": "EdDSA", "typ": "at+jwt", "kid": "ed", "cty": cty}).to_string();
        cases.add(
            "nested",
            &format!("cty {cty}"),
            forge(&h, &good, &keys.ed).unwrap(),
            "ERR_JWT_NESTED_UNSUPPORTED",
        );
    }
}

/// Other serializations.
fn serializations(keys: &Keys, cases: &mut Cases) {
    let payload = claims().to_string();
    let good = good(keys);
    let sig = signature_of(&good);
    cases.add(
        "serialization",
        "JWE (5 segments)",
        format!(
            "{}.{}.{}.{}.{}",
            b64(r#"{"alg":"dir","enc":"A128GCM"}"#),
            "",
            b64("iv"),
            b64("ct"),
            b64("tag")
        ),
        "ERR_JWE_UNSUPPORTED",
    );
    cases.add("serialization", "JWS JSON", json!({"payload": b64(&payload), "signatures": [{"protected": b64(header("EdDSA", "ed")), "signature": b64(&sig)}]}).to_string(), "ERR_JWS_JSON_SERIALIZATION_UNSUPPORTED");
    cases.add(
        "serialization",
        "four segments",
        format!("{good}.x"),
        "ERR_JWT_MALFORMED",
    );
}

/// Non-canonical base64url: infinite aliases of one token are refused.
fn base64url(keys: &Keys, cases: &mut Cases) {
    let good = good(keys);
    let (h, rest) = good.split_once('.').unwrap();
    let (p, s) = rest.split_once('.').unwrap();
    cases.add(
        "base64url",
        "padding on the signature",
        format!("{good}=="),
        "ERR_JWT_INVALID_CHARACTER",
    );
    cases.add(
        "base64url",
        "padding on the header",
        format!("{h}=.{p}.{s}"),
        "ERR_JWT_INVALID_CHARACTER",
    );
    cases.add(
        "base64url",
        "standard alphabet + /",
        format!("{}.{p}.{s}", h.replace('-', "+").replace('_', "/") + "+"),
        "ERR_JWT_INVALID_CHARACTER",
    );
    cases.add(
        "base64url",
        "space inside",
        format!("{h}.{p} .{s}"),
        "ERR_JWT_INVALID_CHARACTER",
    );
    cases.add(
        "base64url",
        "tab inside",
        format!("{h}.{p}\t.{s}"),
        "ERR_JWT_INVALID_CHARACTER",
    );
    let bumped = {
        // Flip the unused low bits of the last character: same bytes in a lax decoder.
        let mut sig_text = s.to_owned();
        let last = sig_text.pop().unwrap();
        let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let index = alphabet.iter().position(|&c| c == last as u8).unwrap();
        sig_text.push(alphabet[index ^ 1] as char);
        sig_text
    };
    cases.add(
        "base64url",
        "non-zero trailing bits",
        format!("{h}.{p}.{bumped}"),
        "ERR_JWT_NON_CANONICAL_BASE64",
    );
    // 86 + 3 = 89 characters: a length no byte string encodes to.
    cases.add(
        "base64url",
        "impossible length",
        format!("{h}.{p}.{s}AAA"),
        "ERR_JWT_NON_CANONICAL_BASE64",
    );
}

/// Encodings of the JSON.
fn json_encodings(keys: &Keys, cases: &mut Cases) {
    let payload = claims().to_string();
    let h_ed = header("EdDSA", "ed");
    cases.add(
        "encoding",
        "byte order mark in the header",
        forge_bytes(
            &[b"\xef\xbb\xbf", h_ed.as_bytes()].concat(),
            payload.as_bytes(),
            &keys.ed,
        )
        .unwrap(),
        "ERR_JWT_INVALID_UTF8",
    );
    cases.add(
        "encoding",
        "byte order mark in the claims",
        forge_bytes(
            h_ed.as_bytes(),
            &[b"\xef\xbb\xbf", payload.as_bytes()].concat(),
            &keys.ed,
        )
        .unwrap(),
        "ERR_JWT_INVALID_UTF8",
    );
    let utf16: Vec<u8> = payload.encode_utf16().flat_map(u16::to_le_bytes).collect();
    cases.add(
        "encoding",
        "UTF-16 claims",
        forge_bytes(h_ed.as_bytes(), &utf16, &keys.ed).unwrap(),
        "ERR_JWT_INVALID_JSON",
    );
    cases.add(
        "encoding",
        "invalid UTF-8 in the claims",
        forge_bytes(h_ed.as_bytes(), b"{\"sub\":\"\xff\"}", &keys.ed).unwrap(),
        "ERR_JWT_INVALID_UTF8",
    );
    cases.add(
        "encoding",
        "lone surrogate",
        forge(&h_ed, r#"{"sub":"\ud800"}"#, &keys.ed).unwrap(),
        "ERR_JWT_INVALID_JSON",
    );
    cases.add(
        "encoding",
        "NaN",
        forge(&h_ed, r#"{"exp":NaN}"#, &keys.ed).unwrap(),
        "ERR_JWT_INVALID_JSON",
    );
    cases.add(
        "encoding",
        "trailing garbage",
        forge(&h_ed, &format!("{payload}x"), &keys.ed).unwrap(),
        "ERR_JWT_INVALID_JSON",
    );
    cases.add(
        "encoding",
        "two objects",
        forge(&h_ed, &format!("{payload}{payload}"), &keys.ed).unwrap(),
        "ERR_JWT_INVALID_JSON",
    );
    cases.add(
        "encoding",
        "claims not an object",
        forge(&h_ed, "[]", &keys.ed).unwrap(),
        "ERR_JWT_NOT_AN_OBJECT",
    );
}

/// Resource exhaustion: bounded, no stack overflow.
fn exhaustion(keys: &Keys, cases: &mut Cases) {
    let h_ed = header("EdDSA", "ed");
    let deep = format!("{{\"a\":{}1{}}}", "[".repeat(200), "]".repeat(200));
    cases.add(
        "exhaustion",
        "deeply nested claims",
        forge(&h_ed, &deep, &keys.ed).unwrap(),
        "ERR_JWT_NESTING_TOO_DEEP",
    );
    cases.add(
        "exhaustion",
        "oversized token",
        forge(&h_ed, &with_claim("pad", json!("x".repeat(9000))), &keys.ed).unwrap(),
        "ERR_JWT_TOO_LARGE",
    );
}

/// Duplicate member names: read differently by different parsers.
fn duplicates(keys: &Keys, cases: &mut Cases) {
    let h_ed = header("EdDSA", "ed");
    let payload = claims().to_string();
    let dup_header = r#"{"alg":"EdDSA","typ":"at+jwt","kid":"ed","kid":"rsa"}"#;
    cases.add(
        "duplicates",
        "duplicate kid",
        forge(dup_header, &payload, &keys.ed).unwrap(),
        "ERR_JWT_DUPLICATE_MEMBER",
    );
    let dup_claims = format!(
        r#"{{"iss":"jwtkit","aud":"jwtkit-api","sub":"mallory","sub":"admin","exp":{}}}"#,
        NOW + 60
    );
    cases.add(
        "duplicates",
        "duplicate sub",
        forge(&h_ed, &dup_claims, &keys.ed).unwrap(),
        "ERR_JWT_DUPLICATE_MEMBER",
    );
}

/// Registered claims of the wrong type are errors, never "absent" (CVE-2026-25537).
fn claim_types(keys: &Keys, cases: &mut Cases) {
    let h_ed = header("EdDSA", "ed");
    for name in ["exp", "nbf", "iat"] {
        for (label, value) in [
            ("string", json!((NOW + 60).to_string())),
            ("boolean", json!(true)),
            ("null", json!(null)),
            ("array", json!([NOW + 60])),
            ("negative", json!(-1)),
            ("huge", json!(1e20)),
            ("past year 9999", json!(253_402_300_800_i64)),
        ] {
            cases.add(
                "claim types",
                &format!("{name} {label}"),
                forge(&h_ed, &with_claim(name, value), &keys.ed).unwrap(),
                "ERR_JWT_CLAIM_INVALID",
            );
        }
    }
    cases.add(
        "claim types",
        "aud empty array",
        forge(&h_ed, &with_claim("aud", json!([])), &keys.ed).unwrap(),
        "ERR_JWT_CLAIM_INVALID",
    );
    cases.add(
        "claim types",
        "sub a number",
        forge(&h_ed, &with_claim("sub", json!(7)), &keys.ed).unwrap(),
        "ERR_JWT_CLAIM_INVALID",
    );
    cases.add(
        "time",
        "exp == now",
        forge(&h_ed, &with_claim("exp", json!(NOW)), &keys.ed).unwrap(),
        "ERR_JWT_EXPIRED",
    );
    cases.add(
        "time",
        "exp == now, fractional",
        forge(&h_ed, &with_claim("exp", json!(NOW as f64 + 0.5)), &keys.ed).unwrap(),
        "OK",
    );
    cases.add(
        "time",
        "nbf in the future",
        forge(&h_ed, &with_claim("nbf", json!(NOW + 1)), &keys.ed).unwrap(),
        "ERR_JWT_NOT_YET_VALID",
    );
    cases.add(
        "time",
        "iat in the future",
        forge(&h_ed, &with_claim("iat", json!(NOW + 1)), &keys.ed).unwrap(),
        "ERR_JWT_ISSUED_IN_FUTURE",
    );
    let mut no_exp = claims();
    no_exp.as_object_mut().unwrap().remove("exp");
    cases.add(
        "time",
        "no exp",
        forge(&h_ed, &no_exp.to_string(), &keys.ed).unwrap(),
        "ERR_JWT_CLAIM_MISSING",
    );
}

/// Issuer, audience and type confusion.
fn expectations(keys: &Keys, cases: &mut Cases) {
    let h_ed = header("EdDSA", "ed");
    let payload = claims().to_string();
    for (name, typ) in [
        ("refresh token", Some("refresh+jwt")),
        ("ID token", Some("JWT")),
        ("typ missing", None),
        ("typ jwt", Some("jwt")),
        ("logout token", Some("logout+jwt")),
    ] {
        let mut h = json!({"alg": "EdDSA", "kid": "ed"});
        if let Some(typ) = typ {
            h["typ"] = json!(typ);
        }
        cases.add(
            "type confusion",
            name,
            forge(&h.to_string(), &payload, &keys.ed).unwrap(),
            "ERR_JWT_TYPE_MISMATCH",
        );
    }
    cases.add(
        "type confusion",
        "typ application/at+jwt",
        forge(
            &json!({"alg": "EdDSA", "kid": "ed", "typ": "application/at+jwt"}).to_string(),
            &payload,
            &keys.ed,
        )
        .unwrap(),
        "OK",
    );
    cases.add(
        "audience",
        "another audience",
        forge(&h_ed, &with_claim("aud", json!("billing-api")), &keys.ed).unwrap(),
        "ERR_JWT_AUDIENCE_MISMATCH",
    );
    cases.add(
        "audience",
        "audience differs in case",
        forge(&h_ed, &with_claim("aud", json!("JWTKIT-API")), &keys.ed).unwrap(),
        "ERR_JWT_AUDIENCE_MISMATCH",
    );
    cases.add(
        "audience",
        "audience in a list",
        forge(
            &h_ed,
            &with_claim("aud", json!(["web", "jwtkit-api"])),
            &keys.ed,
        )
        .unwrap(),
        "OK",
    );
    let mut no_aud = claims();
    no_aud.as_object_mut().unwrap().remove("aud");
    cases.add(
        "audience",
        "no audience",
        forge(&h_ed, &no_aud.to_string(), &keys.ed).unwrap(),
        "ERR_JWT_CLAIM_MISSING",
    );
    cases.add(
        "issuer",
        "another issuer",
        forge(
            &h_ed,
            &with_claim("iss", json!("https://evil.example")),
            &keys.ed,
        )
        .unwrap(),
        "ERR_JWT_ISSUER_MISMATCH",
    );
}

/// ECDSA edge cases (P-256, R || S).
fn ecdsa(keys: &Keys, cases: &mut Cases) {
    let payload = claims().to_string();
    let ec_good = forge(&header("ES256", "ec"), &payload, &keys.ec).unwrap();
    let ec_sig = signature_of(&ec_good);
    let (r, s) = ec_sig.split_at(32);
    let one = {
        let mut one = [0u8; 32];
        one[31] = 1;
        one
    };
    for (name, sig) in [
        ("r = s = 0", [[0u8; 32], [0u8; 32]].concat()),
        ("r = 0", [&[0u8; 32][..], s].concat()),
        ("s = 0", [r, &[0u8; 32][..]].concat()),
        ("r = n", [&P256_N[..], s].concat()),
        ("s = n", [r, &P256_N[..]].concat()),
        ("r = 1, s = 1", [one, one].concat()),
        ("DER-encoded", der_signature(r, s)),
    ] {
        cases.add(
            "ECDSA",
            name,
            resign(&ec_good, &sig),
            "ERR_JWS_SIGNATURE_VERIFICATION_FAILED",
        );
    }
    // High S (n - s) verifies: RFC 7518 does not require low-S and most signers produce both.
    cases.add(
        "ECDSA",
        "high-S form of a valid signature",
        resign(&ec_good, &[r, &sub_mod(&P256_N, s)].concat()),
        "OK",
    );
}

/// Ed25519 edge cases.
fn ed25519(keys: &Keys, cases: &mut Cases) {
    let good = good(keys);
    let sig = signature_of(&good);
    let (big_r, big_s) = sig.split_at(32);
    cases.add(
        "Ed25519",
        "S + L (S >= L)",
        resign(&good, &[big_r, &add_le(big_s, &ED25519_L)].concat()),
        "ERR_JWS_SIGNATURE_VERIFICATION_FAILED",
    );
    cases.add(
        "Ed25519",
        "S = L",
        resign(&good, &[big_r, &ED25519_L[..]].concat()),
        "ERR_JWS_SIGNATURE_VERIFICATION_FAILED",
    );
    let identity = {
        let mut p = [0u8; 32];
        p[0] = 1;
        p
    };
    cases.add(
        "Ed25519",
        "small-order R, S = 0",
        resign(&good, &[identity, [0u8; 32]].concat()),
        "ERR_JWS_SIGNATURE_VERIFICATION_FAILED",
    );
}

/// RSA signature length.
fn rsa_signatures(keys: &Keys, cases: &mut Cases) {
    let payload = claims().to_string();
    let rsa_good = forge(&header("RS256", "rsa"), &payload, &keys.rsa).unwrap();
    let rsa_sig = signature_of(&rsa_good);
    cases.add(
        "RSA",
        "one byte short",
        resign(&rsa_good, &rsa_sig[1..]),
        "ERR_JWS_SIGNATURE_VERIFICATION_FAILED",
    );
    cases.add(
        "RSA",
        "leading zero added",
        resign(&rsa_good, &[vec![0], rsa_sig.clone()].concat()),
        "ERR_JWS_SIGNATURE_VERIFICATION_FAILED",
    );
    cases.add(
        "RSA",
        "PS256 signature under RS256",
        resign(&rsa_good, &{
            let pss = Key::from_jwk(
                &{
                    let mut j = keys.rsa.to_private_jwk();
                    j.alg = Some("PS256".into());
                    j
                },
                None,
            )
            .unwrap();
            pss.sign(rsa_good.rsplit_once('.').unwrap().0.as_bytes())
                .unwrap()
        }),
        "ERR_JWS_SIGNATURE_VERIFICATION_FAILED",
    );
}

/// A DER `SEQUENCE { INTEGER r, INTEGER s }` for 32-byte big-endian r and s.
fn der_signature(r: &[u8], s: &[u8]) -> Vec<u8> {
    let int = |v: &[u8]| {
        let trimmed: Vec<u8> = v.iter().copied().skip_while(|&b| b == 0).collect();
        let body = if trimmed.first().is_some_and(|b| b & 0x80 != 0) {
            [vec![0], trimmed].concat()
        } else {
            trimmed
        };
        [vec![0x02, body.len() as u8], body].concat()
    };
    let body = [int(r), int(s)].concat();
    [vec![0x30, body.len() as u8], body].concat()
}

/// `a - b` for 32-byte big-endian numbers with a > b.
fn sub_mod(a: &[u8; 32], b: &[u8]) -> Vec<u8> {
    let mut out = vec![0u8; 32];
    let mut borrow = 0i16;
    for i in (0..32).rev() {
        let mut d = i16::from(a[i]) - i16::from(b[i]) - borrow;
        borrow = i16::from(d < 0);
        if d < 0 {
            d += 256;
        }
        out[i] = d as u8;
    }
    out
}

/// `a + b` for 32-byte little-endian numbers (truncated to 32 bytes).
fn add_le(a: &[u8], b: &[u8; 32]) -> Vec<u8> {
    let mut out = vec![0u8; 32];
    let mut carry = 0u16;
    for i in 0..32 {
        let sum = u16::from(a[i]) + u16::from(b[i]) + carry;
        out[i] = sum as u8;
        carry = sum >> 8;
    }
    out
}

#[test]
fn the_suite_runs_on_the_backend_it_was_built_for() {
    // `cargo xtask test` runs this suite with the default features (aws-lc-rs, the server's
    // backend) and with `--no-default-features` (RustCrypto, the portable one).
    let expected = if cfg!(feature = "aws-lc") {
        "aws-lc-rs"
    } else {
        "RustCrypto"
    };
    assert_eq!(jwtkit_core::BACKEND, expected);
    println!("signature backend: {}", jwtkit_core::BACKEND);
}
#[test]
fn core_rejects_every_attack_for_the_right_reason() {
    let keys = Keys::generate();
    let verifier = Verifier::new(keys.set(), policy());
    let now = UnixTime::from_secs(NOW).unwrap();
    let cases = cases(&keys);
    let mut failures = Vec::new();
    for case in &cases {
        let got = verifier
            .verify(&case.token, now)
            .err()
            .map_or("OK", |e| e.code());
        if got != case.code {
            failures.push(format!(
                "[{}] {}: expected {}, got {got}",
                case.class, case.name, case.code
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    let classes: std::collections::BTreeSet<_> = cases.iter().map(|c| c.class).collect();
    // A class function dropped from CLASSES would shrink the suite silently.
    assert_eq!((cases.len(), classes.len()), (176, 25), "the suite's size");
    println!(
        "{} attack cases in {} classes rejected for the right reason",
        cases.len(),
        classes.len()
    );
}

/// What the server must answer: 400 for an Authorization header that RFC 6750's b64token
/// syntax refuses, else 401 `invalid_token` with the core's code (200 for valid tokens).
fn expected_http(case: &Case) -> (u16, &'static str) {
    let b64token = {
        let body = case.token.trim_end_matches('=');
        !body.is_empty()
            && body
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-._~+/".contains(&b))
    };
    match (b64token, case.code) {
        (false, _) => (400, "ERR_AUTHORIZATION_HEADER_INVALID"),
        (true, "OK") => (200, ""),
        (true, code) => (401, code),
    }
}

#[tokio::test]
async fn the_live_server_rejects_every_attack_with_rfc_6750() {
    let keys = Keys::generate();
    let mut config = ServeArgs::default()
        .with(&table::ISSUER, "jwtkit")
        .resolve()
        .unwrap();
    config.signing = Signing::Fixed {
        keys: keys.set(),
        signing_key: keys.ed.clone(),
    };
    let server = TestServer::start_config(config).await;
    assert_eq!(server.clock.now_secs(), NOW);
    let mut failures = Vec::new();
    let mut sent = 0;
    for case in cases(&keys) {
        // HTTP cannot carry control characters in a header: those tokens never reach a server.
        if case.token.bytes().any(|b| b.is_ascii_control()) {
            continue;
        }
        sent += 1;
        let response = server
            .get(
                "/api/v3/secret",
                &[("Authorization", &format!("Bearer {}", case.token))],
            )
            .await;
        let (status, code) = expected_http(&case);
        let got_code = if response.status == 200 {
            String::new()
        } else {
            response.code()
        };
        let challenge = response
            .header("www-authenticate")
            .unwrap_or_default()
            .to_owned();
        let challenge_ok = match status {
            200 => challenge.is_empty(),
            400 => challenge.contains(r#"error="invalid_request""#),
            _ => challenge.starts_with(
                r#"Bearer realm="jwtkit", error="invalid_token", error_description=""#,
            ),
        };
        if (response.status, got_code.as_str()) != (status, code) || !challenge_ok {
            failures.push(format!(
                "[{}] {}: expected {status} {code}, got {} {got_code} / {challenge}",
                case.class, case.name, response.status
            ));
        }
        if response.body.contains(&case.token) || challenge.contains(&case.token) {
            failures.push(format!(
                "[{}] {}: the token was echoed",
                case.class, case.name
            ));
        }
    }
    server.stop().await;
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    println!("{sent} attack requests answered with the right status, challenge and code");
}

#[test]
fn weak_keys_are_refused_when_configured() {
    // RSA under 2048 bits (Wycheproof's 1024-bit key), short and empty HMAC secrets.
    let suite: Value = serde_json::from_str(include_str!(
        "../../../shared/vectors/wycheproof/json_web_key_test.json"
    ))
    .unwrap();
    let small_rsa = suite["testGroups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["tests"][0]["comment"] == "rejects1024bitRsaKey")
        .unwrap();
    assert_eq!(
        KeySet::from_json(&small_rsa["public"].to_string(), None)
            .unwrap_err()
            .code(),
        "ERR_JWK_TOO_WEAK"
    );
    for secret in [
        "",
        "secret",
        "0123456789abcdef0123456789abcde",
        &"a".repeat(64),
        "passwordpasswordpasswordpassword",
    ] {
        let args = ServeArgs::default().with(&table::SECRET, secret);
        assert_eq!(
            args.resolve().unwrap_err().setting.name,
            "secret",
            "{secret:?}"
        );
    }
    let jwk = json!({"kty": "oct", "alg": "HS256", "k": b64([7u8; 31])}).to_string();
    assert_eq!(
        KeySet::from_json(&jwk, None).unwrap_err().code(),
        "ERR_JWK_TOO_WEAK"
    );
}
