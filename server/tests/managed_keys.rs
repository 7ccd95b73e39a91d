//! Real `jwtkit serve` processes with no key configured and a key-encryption key: the keys
//! jwtkit generates in the store (a real Redis, a real SQLite file) sign at every instance,
//! and a wrong or missing key-encryption key refuses to start, saying what to give.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use base64::Engine as _;
use serde_json::{Value, json};
use support::{Jwtkit, RedisServer, Scratch, jwtkit};

/// An API key and its entry.
fn api_key() -> (String, String) {
    let key = jwtkit_server::apikeys::generate_api_key().unwrap();
    let entry = jwtkit_server::apikeys::ApiKey::from_plaintext("svc", &key, vec![])
        .unwrap()
        .entry();
    (key, entry)
}

fn kek() -> String {
    jwtkit_server::keys::Kek::generate().unwrap()
}

fn token(at: &Jwtkit, key: &str) -> String {
    let (status, body) = at.post_json("/api/v3/auth", &json!({"api-key": key}));
    assert_eq!(status, 200, "{body}");
    body["data"]["token"].as_str().unwrap().to_owned()
}

fn kid(token: &str) -> String {
    let header = token.split('.').next().unwrap();
    let header: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(header)
            .unwrap(),
    )
    .unwrap();
    header["kid"].as_str().unwrap().to_owned()
}

fn kids(jwks: &Value) -> Vec<String> {
    jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap().to_owned())
        .collect()
}

/// Two instances on one Redis, no key configured: both sign with the key the first one
/// generated, each verifies the other's tokens, and both publish the current key and the
/// next one, no private member among them.
#[test]
fn two_instances_on_one_redis_sign_with_the_stores_keys() {
    let redis = RedisServer::start("managed-keys");
    let (key, entry) = api_key();
    let kek = kek();
    let url = redis.url();
    let args = [
        "--store",
        url.as_str(),
        "--key-encryption-key",
        kek.as_str(),
        "--api-key",
        entry.as_str(),
        "--issuer",
        "https://auth.example",
    ];
    let a = Jwtkit::start(&args);
    let b = Jwtkit::start(&args);
    let (from_a, from_b) = (token(&a, &key), token(&b, &key));
    assert_eq!(
        b.get("/api/v3/secret", Some(&from_a)).0,
        200,
        "B verifies A's"
    );
    assert_eq!(
        a.get("/api/v3/secret", Some(&from_b)).0,
        200,
        "A verifies B's"
    );
    assert_eq!(kid(&from_a), kid(&from_b), "one current key");
    let (_, jwks_a) = a.get("/.well-known/jwks.json", None);
    let (_, jwks_b) = b.get("/.well-known/jwks.json", None);
    assert_eq!(jwks_a, jwks_b);
    let published = kids(&jwks_a);
    assert_eq!(published.len(), 2, "the current key and the next: {jwks_a}");
    assert!(published.contains(&kid(&from_a)));
    for jwk in jwks_a["keys"].as_array().unwrap() {
        assert_eq!(jwk["alg"], "EdDSA", "the default key_algorithm");
        assert!(jwk.get("d").is_none(), "a private member published: {jwk}");
    }
}

/// A store whose keys a KEK sealed: another KEK refuses to start naming the setting, and so
/// does a development setup with none; the right one starts and signs with the same key.
#[test]
fn a_wrong_or_missing_key_encryption_key_refuses_to_start() {
    let dir = Scratch::new("managed-keys-kek");
    let store = format!("sqlite:{}", dir.path().join("store.sqlite3").display());
    let (key, entry) = api_key();
    let kek = kek();
    let serve = |kek: &str| {
        vec![
            "--store".to_owned(),
            store.clone(),
            "--key-encryption-key".to_owned(),
            kek.to_owned(),
            "--api-key".to_owned(),
            entry.clone(),
        ]
    };
    let args = serve(&kek);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let first = Jwtkit::start(&args);
    let signed_with = kid(&token(&first, &key));
    first.stop();

    let wrong = serve(&self::kek());
    let mut run_args = vec!["serve", "--bind", "127.0.0.1:0"];
    run_args.extend(wrong.iter().map(String::as_str));
    let run = jwtkit(&run_args, None);
    assert_ne!(run.code, 0, "started with a wrong key-encryption key");
    assert!(
        run.stderr.contains("cannot open the store's key")
            && run.stderr.contains("check key_encryption_key"),
        "{}",
        run.stderr
    );

    let run = jwtkit(&["serve", "--bind", "127.0.0.1:0", "--store", &store], None);
    assert_ne!(run.code, 0, "a development setup started on sealed keys");
    assert!(
        run.stderr.contains("--key-encryption-key"),
        "{}",
        run.stderr
    );

    let run = jwtkit(
        &[
            "serve",
            "--bind",
            "127.0.0.1:0",
            "--store",
            &store,
            "--api-key",
            &entry,
            "--key-encryption-key",
            "too-short",
        ],
        None,
    );
    assert_ne!(run.code, 0);
    assert!(
        run.stderr.contains("jwtkit keygen --kek"),
        "the fix is named: {}",
        run.stderr
    );

    let again = Jwtkit::start(&args);
    assert_eq!(
        kid(&token(&again, &key)),
        signed_with,
        "the same key after a restart"
    );
}
