//! The real `jwtkit` binary's token commands: round trips for every algorithm, the RFC
//! vectors, each rejection class with its exit status and code, usage errors, and operator
//! tools refusing a store that does not exist.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use serde_json::{Value, json};
use support::{Run, Scratch, jwtkit};

const ALGS: [&str; 8] = [
    "HS256", "HS384", "HS512", "EdDSA", "ES256", "ES384", "RS256", "PS256",
];
const RFC: &str = include_str!("../../../shared/vectors/rfc_known_answer_vectors.json");

fn keygen(scratch: &Scratch, alg: &str) -> String {
    static COUNT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let run = jwtkit(&["keygen", "--alg", alg], None);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let n = COUNT.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    scratch.write(&format!("{alg}-{n}.json"), &run.stdout)
}

fn issue(keys: &str, extra: &[&str]) -> String {
    let mut args = vec!["issue", "--keys", keys, "--sub", "ann"];
    args.extend_from_slice(extra);
    let run = jwtkit(&args, None);
    assert_eq!(run.code, 0, "{}", run.stderr);
    run.stdout.trim().to_owned()
}

fn rejected_code(run: &Run) -> String {
    assert_eq!(run.code, 1, "stdout {} stderr {}", run.stdout, run.stderr);
    let json: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(json["verified"], false);
    json["code"].as_str().unwrap().to_owned()
}

#[test]
fn keygen_issue_verify_round_trip_for_every_algorithm() {
    let scratch = Scratch::new("round-trip");
    for alg in ALGS {
        let keys = keygen(&scratch, alg);
        let key: Value = serde_json::from_str(&std::fs::read_to_string(&keys).unwrap()).unwrap();
        assert_eq!(key["alg"], alg);
        let token = issue(
            &keys,
            &[
                "--role",
                "admin",
                "--claim",
                "tenant=acme",
                "--claim",
                "n=7",
            ],
        );
        let run = jwtkit(
            &[
                "verify",
                &token,
                "--keys",
                &keys,
                "--iss",
                "http://127.0.0.1:3030",
                "--aud",
                "jwtkit-api",
                "--typ",
                "at+jwt",
                "--require",
                "sub",
                "--json",
            ],
            None,
        );
        assert_eq!(run.code, 0, "{alg}: {}", run.stdout);
        let out: Value = serde_json::from_str(&run.stdout).unwrap();
        assert_eq!(out["verified"], true);
        assert_eq!(out["header"]["alg"], alg);
        assert_eq!(out["claims"]["roles"], json!(["admin"]));
        assert_eq!(
            (out["claims"]["tenant"].clone(), out["claims"]["n"].clone()),
            (json!("acme"), json!(7))
        );

        // The public key set verifies too, and holds no private material.
        let jwks = jwtkit(&["jwks", "--keys", &keys], None);
        assert_eq!(jwks.code, 0);
        let public: Value = serde_json::from_str(&jwks.stdout).unwrap();
        if alg.starts_with("HS") {
            assert_eq!(public, json!({"keys": []}));
        } else {
            for member in ["d", "p", "q", "dp", "dq", "qi", "k"] {
                assert!(public["keys"][0].get(member).is_none(), "{alg}: {member}");
            }
            let public_file = scratch.write(&format!("{alg}.pub.json"), &jwks.stdout);
            let run = jwtkit(
                &["verify", "-", "--keys", &public_file],
                Some(&format!("{token}\n")),
            );
            assert_eq!(run.code, 0, "{alg}: {}", run.stderr);
        }
    }
}

#[test]
fn rfc_vectors_verify_with_a_fixed_clock() {
    let scratch = Scratch::new("rfc");
    let vectors: Value = serde_json::from_str(RFC).unwrap();
    let before_expiry = "1300819379";
    for (name, alg) in [
        ("rfc7515_A1_HS256", "HS256"),
        ("rfc7515_A2_RS256", "RS256"),
        ("rfc7515_A3_ES256", "ES256"),
    ] {
        let keys = scratch.write(&format!("{name}.json"), &vectors[name]["jwk"].to_string());
        let token = vectors[name]["compact"].as_str().unwrap();
        let run = jwtkit(
            &[
                "verify",
                token,
                "--keys",
                &keys,
                "--alg",
                alg,
                "--iss",
                "joe",
                "--now",
                before_expiry,
            ],
            None,
        );
        assert_eq!(run.code, 0, "{name}: {}", run.stderr);
        let claims: Value = serde_json::from_str(&run.stdout).unwrap();
        assert_eq!(claims["http://example.com/is_root"], true);
        // One second later the same token is expired: exit 1 with the code.
        let late = jwtkit(
            &[
                "verify",
                token,
                "--keys",
                &keys,
                "--alg",
                alg,
                "--now",
                "1300819380",
                "--json",
            ],
            None,
        );
        assert_eq!(rejected_code(&late), "ERR_JWT_EXPIRED", "{name}");
    }
    let hs = scratch.write("hs.json", &vectors["rfc7515_A1_HS256"]["jwk"].to_string());
    let unsecured = vectors["rfc7515_A5_unsecured_MUST_REJECT"]["compact"]
        .as_str()
        .unwrap();
    let run = jwtkit(
        &[
            "verify",
            unsecured,
            "--keys",
            &hs,
            "--alg",
            "HS256",
            "--now",
            before_expiry,
            "--json",
        ],
        None,
    );
    assert_eq!(rejected_code(&run), "ERR_JOSE_ALG_UNSUPPORTED");
}

#[test]
fn each_rejection_class_exits_1_with_its_code() {
    let scratch = Scratch::new("reject");
    let keys = keygen(&scratch, "ES256");
    let other = keygen(&scratch, "ES256");
    let hs = keygen(&scratch, "HS256");
    let now: i64 = 1_800_000_000;
    let at = now.to_string();
    let token = issue(&keys, &["--now", &at, "--ttl", "60s"]);
    let verify = |token: &str, keys: &str, extra: &[&str]| {
        let mut args = vec!["verify", token, "--keys", keys, "--now", &at, "--json"];
        args.extend_from_slice(extra);
        let run = jwtkit(&args, None);
        assert_eq!(run.code, 1, "{extra:?} {}", run.stdout);
        rejected_code(&run)
    };
    let later = (now + 60).to_string();
    let mut tampered = token.clone().into_bytes();
    let i = tampered.len() - 10;
    tampered[i] = if tampered[i] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).unwrap();
    let cases: Vec<(String, &str, Vec<&str>, &str)> = vec![
        (
            token.clone(),
            &keys,
            vec!["--iss", "someone-else"],
            "ERR_JWT_ISSUER_MISMATCH",
        ),
        (
            token.clone(),
            &keys,
            vec!["--aud", "other-api"],
            "ERR_JWT_AUDIENCE_MISMATCH",
        ),
        (
            token.clone(),
            &keys,
            vec!["--typ", "JWT"],
            "ERR_JWT_TYPE_MISMATCH",
        ),
        (
            token.clone(),
            &keys,
            vec!["--require", "email"],
            "ERR_JWT_CLAIM_MISSING",
        ),
        (
            token.clone(),
            &keys,
            vec!["--alg", "EdDSA"],
            "ERR_JOSE_ALG_NOT_ALLOWED",
        ),
        (token.clone(), &other, vec![], "ERR_JWKS_NO_MATCHING_KEY"),
        (token.clone(), &hs, vec![], "ERR_JWKS_NO_MATCHING_KEY"),
        (
            tampered,
            &keys,
            vec![],
            "ERR_JWS_SIGNATURE_VERIFICATION_FAILED",
        ),
        ("a.b".to_owned(), &keys, vec![], "ERR_JWT_MALFORMED"),
        (
            format!("{token}="),
            &keys,
            vec![],
            "ERR_JWT_INVALID_CHARACTER",
        ),
        (
            token.clone(),
            &keys,
            vec!["--max-bytes", "100"],
            "ERR_JWT_TOO_LARGE",
        ),
    ];
    for (token, keys, extra, expected) in cases {
        assert_eq!(verify(&token, keys, &extra), expected, "{extra:?}");
    }
    let expired = jwtkit(
        &["verify", &token, "--keys", &keys, "--now", &later, "--json"],
        None,
    );
    assert_eq!(rejected_code(&expired), "ERR_JWT_EXPIRED");
    // Without --json: the code and message on stderr, nothing on stdout.
    let plain = jwtkit(&["verify", &token, "--keys", &keys, "--now", &later], None);
    assert_eq!(plain.code, 1);
    assert!(
        plain.stdout.is_empty() && plain.stderr.contains("(ERR_JWT_EXPIRED)"),
        "{}",
        plain.stderr
    );
    assert!(!plain.stderr.contains(&token), "the token is not echoed");
}

#[test]
fn verify_judges_the_bytes_it_is_given() {
    let scratch = Scratch::new("bytes");
    let keys = keygen(&scratch, "HS256");
    let token = issue(&keys, &[]);
    let code = |arg: &str, stdin: Option<&str>| {
        let run = jwtkit(&["verify", arg, "--keys", &keys, "--json"], stdin);
        let out: Value = serde_json::from_str(&run.stdout).unwrap_or(Value::Null);
        (run.code, out["code"].as_str().unwrap_or("OK").to_owned())
    };
    let ok = (0, "OK".to_owned());
    let refused = |code: &str| (1, code.to_owned());
    assert_eq!(code(&token, None), ok);
    // Standard input loses exactly its line ending, nothing else.
    assert_eq!(code("-", Some(&format!("{token}\n"))), ok);
    assert_eq!(code("-", Some(&format!("{token}\r\n"))), ok);
    assert_eq!(code("-", Some(&token)), ok);
    // Whatever else surrounds the token is the token's: refused as the server refuses it.
    assert_eq!(
        code(&format!(" {token}"), None),
        refused("ERR_JWT_INVALID_CHARACTER")
    );
    assert_eq!(
        code(&format!("{token}\n"), None),
        refused("ERR_JWT_INVALID_CHARACTER")
    );
    assert_eq!(
        code("-", Some(&format!("{token}\n\n"))),
        refused("ERR_JWT_INVALID_CHARACTER")
    );
    // An empty token is a refused token (exit 1), not a usage error.
    assert_eq!(code("", None), refused("ERR_JWT_MALFORMED"));
    assert_eq!(code("-", Some("\n")), refused("ERR_JWT_MALFORMED"));
    let decode = jwtkit(&["decode", ""], None);
    assert_eq!(decode.code, 1, "{}", decode.stderr);
}

#[test]
fn refusals_say_what_was_seen() {
    let scratch = Scratch::new("seen");
    let signer = keygen(&scratch, "ES256");
    let other = keygen(&scratch, "EdDSA");
    let token = issue(&signer, &["--ttl", "1m", "--now", "1800000000"]);
    let verify = |extra: &[&str]| {
        let mut args = vec!["verify", token.as_str(), "--keys", signer.as_str()];
        args.extend_from_slice(extra);
        jwtkit(&args, None)
    };
    let kid = |keys: &str| {
        let jwk: Value = serde_json::from_str(&std::fs::read_to_string(keys).unwrap()).unwrap();
        jwk["kid"].as_str().unwrap().to_owned()
    };
    // No matching key: the token's kid and alg, and the set's.
    let run = jwtkit(&["verify", &token, "--keys", &other], None);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("(ERR_JWKS_NO_MATCHING_KEY)")
            && run.stderr.contains(&format!(
                "the token has \"kid\" {:?} and \"alg\" \"ES256\"",
                kid(&signer)
            ))
            && run
                .stderr
                .contains(&format!("the key set has: {:?} (EdDSA)", kid(&other))),
        "{}",
        run.stderr
    );
    let json = jwtkit(&["verify", &token, "--keys", &other, "--json"], None);
    let json: Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(json["seen"].as_array().map(Vec::len), Some(2), "{json}");
    // A trailing line break: named, with the fix; without it the token verifies.
    let run = jwtkit(
        &[
            "verify",
            &format!("{token}\n"),
            "--keys",
            &signer,
            "--now",
            "1800000001",
        ],
        None,
    );
    assert!(
        run.stderr.contains("(ERR_JWT_INVALID_CHARACTER)")
            && run
                .stderr
                .contains("hint: the token ends with a line break: remove it"),
        "{}",
        run.stderr
    );
    let run = verify(&["--now", "1800000001"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let run = jwtkit(&["decode", &format!("Bearer {token}")], None);
    assert!(
        run.stderr
            .contains("without the Authorization header's scheme"),
        "{}",
        run.stderr
    );
    // The issuer and audience seen beside the expected ones.
    let run = verify(&[
        "--now",
        "1800000001",
        "--iss",
        "https://other.example",
        "--json",
    ]);
    let json: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(json["code"], "ERR_JWT_ISSUER_MISMATCH");
    assert_eq!(
        json["seen"][0],
        "the token has \"iss\" \"http://127.0.0.1:3030\", expected \"https://other.example\""
    );
    let run = verify(&["--now", "1800000001", "--aud", "orders"]);
    assert!(
        run.stderr
            .contains("the token has \"aud\" \"jwtkit-api\", expected \"orders\""),
        "{}",
        run.stderr
    );
    // What is no token at all: named.
    for (given, hint) in [
        ("null", "what `jq -r` prints for a member that is not there"),
        ("\"a.b.c\"", "in JSON quotes"),
        ("jwtr_x", "this is a refresh token"),
    ] {
        let run = jwtkit(&["decode", given], None);
        assert_eq!(run.code, 1);
        assert!(run.stderr.contains(hint), "{given}: {}", run.stderr);
    }
    // The leeway as `jwtkit serve` takes it; a time in milliseconds named as such.
    let run = verify(&["--now", "1800000065", "--leeway", "10s"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let run = verify(&["--leeway", "11m"]);
    assert!(
        run.code == 2 && run.stderr.contains("from 0s to 10m"),
        "{}",
        run.stderr
    );
    let run = verify(&["--now", "1800000000000"]);
    assert!(
        run.code == 2 && run.stderr.contains("looks like milliseconds"),
        "{}",
        run.stderr
    );
    // Expired: RFC 3339 times beside the epoch seconds.
    let run = verify(&["--now", "1800000090"]);
    assert!(
        run.stderr.contains("(ERR_JWT_EXPIRED)")
            && run.stderr.contains(
                "\"exp\" is 2027-01-15T08:01:00Z, the time is 2027-01-15T08:01:30Z (UTC)"
            ),
        "{}",
        run.stderr
    );
}

#[test]
fn usage_and_configuration_errors_exit_2() {
    let scratch = Scratch::new("usage");
    let keys = keygen(&scratch, "HS256");
    let token = issue(&keys, &[]);
    let public_only = scratch.write(
        "pub.json",
        &jwtkit(&["jwks", "--keys", &keygen(&scratch, "EdDSA")], None).stdout,
    );
    let no_alg = scratch.write("noalg.json", r#"{"kty":"oct","k":"AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow"}"#);
    let cases: Vec<Vec<&str>> = vec![
        vec!["verify", &token],
        vec!["verify", &token, "--keys", "/nonexistent/keys.json"],
        vec!["verify", &token, "--keys", &keys, "--alg", "none"],
        vec!["verify", &token, "--keys", &keys, "--leeway", "601"],
        vec!["verify", &token, "--keys", &no_alg],
        vec!["keygen", "--alg", "HS1024"],
        vec!["keygen"],
        vec!["issue", "--keys", &keys],
        vec!["issue", "--keys", &keys, "--sub", "a", "--claim", "exp=1"],
        vec!["issue", "--keys", &keys, "--sub", "a", "--claim", "novalue"],
        vec!["issue", "--keys", &keys, "--sub", "a", "--ttl", "soon"],
        // Longer than a revocation is remembered.
        vec!["issue", "--keys", &keys, "--sub", "a", "--ttl", "25h"],
        vec!["issue", "--keys", &public_only, "--sub", "a"],
        vec!["frobnicate"],
    ];
    for args in cases {
        let run = jwtkit(&args, None);
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
        assert!(!run.stderr.is_empty(), "{args:?} says why");
        assert!(
            !run.stderr.contains("AyM1SysPpbyDfgZ"),
            "no key material in errors: {}",
            run.stderr
        );
    }
    let too_long = jwtkit(
        &["issue", "--keys", &keys, "--sub", "a", "--ttl", "25h"],
        None,
    );
    assert!(
        too_long.stderr.contains("is longer than 24h"),
        "{}",
        too_long.stderr
    );
    assert_eq!(
        jwtkit(
            &["issue", "--keys", &keys, "--sub", "a", "--ttl", "24h"],
            None
        )
        .code,
        0
    );
    // A key without alg is usable when exactly one --alg names it.
    let run = jwtkit(
        &["verify", &token, "--keys", &no_alg, "--alg", "HS256"],
        None,
    );
    assert_eq!(
        run.code, 1,
        "loaded, then refused: the token was signed by another key"
    );
}

#[test]
fn decode_shows_unverified_contents_and_fails_cleanly() {
    let scratch = Scratch::new("decode");
    let keys = keygen(&scratch, "EdDSA");
    let token = issue(&keys, &["--now", "1800000000", "--ttl", "3m"]);
    let run = jwtkit(&["decode", &token, "--now", "1800000046"], None);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.starts_with("UNVERIFIED"), "{}", run.stdout);
    assert!(run.stdout.contains("\"sub\": \"ann\"") && run.stdout.contains("\"typ\": \"at+jwt\""));
    assert!(
        run.stdout
            .contains("expires in 2m 14s (2027-01-15T08:03:00Z)"),
        "{}",
        run.stdout
    );
    let late = jwtkit(&["decode", "-", "--now", "1800000480"], Some(&token));
    assert!(late.stdout.contains("expired 5m ago"), "{}", late.stdout);
    let json = jwtkit(&["decode", &token, "--json"], None);
    let value: Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(
        (value["verified"].clone(), value["claims"]["sub"].clone()),
        (json!(false), json!("ann"))
    );
    for bad in [
        "abc",
        "a.b.c",
        "eyJhbGciOiJIUzI1NiIsImFsZyI6Im5vbmUifQ.e30.c2ln",
    ] {
        let run = jwtkit(&["decode", bad], None);
        assert_eq!(run.code, 1, "{bad}");
        assert!(
            run.stderr.starts_with("rejected: ") && run.stderr.contains("(ERR_"),
            "{bad}: {}",
            run.stderr
        );
    }
    // "none" decodes (decoding verifies nothing) but is labelled so.
    let none = jwtkit(&["decode", "eyJhbGciOiJub25lIn0.e30.", "--json"], None);
    assert_eq!(none.code, 0);
}

#[test]
fn operator_tools_open_a_store_and_never_create_one() {
    let scratch = Scratch::new("missing-store");
    let typo = scratch.path().join("jwtkit.sqlit3");
    let store = format!("sqlite:{}", typo.display());
    for command in [
        &["sessions", "list", "--store", &store][..],
        &["sessions", "revoke", "--sub", "billing", "--store", &store],
        &["users", "list", "--store", &store],
        &["users", "disable", "ann", "--store", &store],
    ] {
        let run = jwtkit(command, None);
        assert_eq!(run.code, 2, "{command:?}: {}", run.stderr);
        assert!(
            run.stderr
                .contains(&format!("there is no store at {}", typo.display()))
                && run.stderr.contains(
                    "only `jwtkit serve`, `jwtkit users add` and `jwtkit clients add` create one"
                ),
            "{}",
            run.stderr
        );
        assert!(!run.stdout.contains("session(s) ended"), "{}", run.stdout);
        assert!(!typo.exists(), "nothing created");
    }
    // A file that is not a store is no store either.
    let other = scratch.write("notes.sqlite3", "");
    let run = jwtkit(
        &["sessions", "list", "--store", &format!("sqlite:{other}")],
        None,
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("is not a jwtkit store"),
        "{}",
        run.stderr
    );

    // A Redis that answers nothing (a port nobody listens on).
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let redis = format!("redis://127.0.0.1:{port}/");
    let run = jwtkit(
        &["sessions", "revoke", "--sub", "billing", "--store", &redis],
        None,
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("the Redis at --store answers nothing"),
        "{}",
        run.stderr
    );
    assert!(!run.stdout.contains("session(s) ended"), "{}", run.stdout);
}
