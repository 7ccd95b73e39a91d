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

/// The arguments of `jwtkit serve` on `store`, keeping its keys there under `kek`, with the
/// API key `entry`, then `extra`.
fn serving<'a>(store: &'a str, kek: &'a str, entry: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![
        "--store",
        store,
        "--key-encryption-key",
        kek,
        "--api-key",
        entry,
    ];
    args.extend_from_slice(extra);
    args
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
    let args = serving(&url, &kek, &entry, &["--issuer", "https://auth.example"]);
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
    // One that begins with `-`, as base64url does one time in 32: still a value, not a flag.
    let kek = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode([0xf8; 32]);
    assert!(kek.starts_with('-'));
    let args = serving(&store, &kek, &entry, &[]);
    let first = Jwtkit::start(&args);
    let signed_with = kid(&token(&first, &key));
    first.stop();

    let wrong = self::kek();
    let mut run_args = vec!["serve", "--bind", "127.0.0.1:0"];
    run_args.extend(serving(&store, &wrong, &entry, &[]));
    let run = jwtkit(&run_args, None);
    assert_ne!(run.code, 0, "started with a wrong key-encryption key");
    assert!(
        run.stderr
            .contains("does not verify under the key-encryption key")
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

    let mut run_args = vec!["serve", "--bind", "127.0.0.1:0"];
    run_args.extend(serving(&store, "too-short", &entry, &[]));
    let run = jwtkit(&run_args, None);
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

/// `jwtkit keys` against a store a server uses: the list names the key that signs, a key
/// retired is refused by the server within its next read of the store, the next key signs
/// instead, and `rotate --now` hands over to a new next key; all through the store alone.
#[test]
fn an_operator_retires_a_compromised_key_and_the_server_follows() {
    let dir = Scratch::new("managed-keys-cli");
    let store = format!("sqlite:{}", dir.path().join("store.sqlite3").display());
    let (key, entry) = api_key();
    let kek = kek();
    let server = Jwtkit::start(&serving(
        &store,
        &kek,
        &entry,
        // Read the store every second (a quarter of the announcement); no rotation meanwhile.
        &[
            "--accelerated-key-lifecycle",
            "true",
            "--key-announcement-period",
            "4s",
            "--key-rotation-interval",
            "1h",
            "--key-retention",
            "1h",
        ],
    ));
    let listed = |phase: &str| -> Vec<String> {
        let run = jwtkit(
            &[
                "keys",
                "list",
                "--json",
                "--store",
                &store,
                "--key-encryption-key",
                &kek,
            ],
            None,
        );
        assert_eq!(run.code, 0, "{}", run.stderr);
        serde_json::from_str::<Vec<Value>>(&run.stdout)
            .unwrap()
            .iter()
            .filter(|k| k["phase"] == phase)
            .map(|k| k["kid"].as_str().unwrap().to_owned())
            .collect()
    };
    let stolen = token(&server, &key);
    assert_eq!(listed("current"), [kid(&stolen)]);
    let next = listed("next");
    assert_eq!(next.len(), 1);

    let keys_command = |args: &[&str]| {
        let mut all = vec!["keys"];
        all.extend_from_slice(args);
        all.extend([
            "--store",
            store.as_str(),
            "--key-encryption-key",
            kek.as_str(),
        ]);
        jwtkit(&all, None)
    };
    let run = keys_command(&["retire", &kid(&stolen)]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("retired"), "{}", run.stdout);
    assert_eq!(listed("current"), next, "the next key signs at once");
    let refused = within_seconds(5, || {
        let (status, body) = server.get("/api/v3/secret", Some(&stolen));
        (status == 401).then(|| body["code"].as_str().unwrap_or_default().to_owned())
    });
    assert_eq!(refused, "ERR_JWKS_NO_MATCHING_KEY");
    let fresh = token(&server, &key);
    assert_eq!(kid(&fresh), next[0], "the next key signs");
    assert_eq!(server.get("/api/v3/secret", Some(&fresh)).0, 200);

    // The server has made a new next key by now; rotating at once hands over to it.
    let upcoming = within_seconds(5, || listed("next").first().cloned());
    let run = keys_command(&["rotate", "--now"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let signed = within_seconds(5, || {
        let kid = kid(&token(&server, &key));
        (kid == upcoming).then_some(kid)
    });
    assert_eq!(signed, upcoming);
    assert_eq!(
        server.get("/api/v3/secret", Some(&fresh)).0,
        200,
        "a retired key's tokens still verify"
    );
}

/// What `check` gives once it gives something, polled every 100 ms for `seconds`.
fn within_seconds<T>(seconds: u64, mut check: impl FnMut() -> Option<T>) -> T {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(seconds);
    loop {
        if let Some(found) = check() {
            return found;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "not within {seconds}s"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

/// An accelerated lifecycle (a rotation every 6 s, each key announced 3 s ahead) across
/// three rotations at two instances on one Redis: a `--trust-issuer` resource server accepts
/// every token of either, never fetches the key set for an unknown `kid` (it had every key
/// before its first token), and no key signs before it was published for the announcement
/// period — the first excepted.
#[test]
fn three_rotations_without_a_resource_server_meeting_an_unknown_kid() {
    let redis = RedisServer::start("managed-keys-lifecycle");
    let (key, entry) = api_key();
    let kek = kek();
    let port = support::free_port();
    let issuer = format!("http://127.0.0.1:{port}");
    let url = redis.url();
    let args = serving(
        &url,
        &kek,
        &entry,
        &[
            "--issuer",
            &issuer,
            "--public-url",
            &issuer,
            "--accelerated-key-lifecycle",
            "true",
            "--key-rotation-interval",
            "6s",
            "--key-announcement-period",
            "3s",
            "--key-retention",
            "30s",
        ],
    );
    let a = Jwtkit::start_on(&format!("127.0.0.1:{port}"), &args);
    let b = Jwtkit::start(&args);
    let resource = Jwtkit::start(&[
        "--trust-issuer",
        issuer.as_str(),
        "--accelerated-key-lifecycle",
        "true",
    ]);
    let start = std::time::Instant::now();
    // When each kid was first published, and first signed a token.
    let mut published: Vec<(String, f64)> = Vec::new();
    let mut signed: Vec<(String, f64)> = Vec::new();
    let mut turn = 0;
    while signed.len() < 4 {
        assert!(
            start.elapsed().as_secs() < 40,
            "three rotations within 40 s: {signed:?}"
        );
        let at = start.elapsed().as_secs_f64();
        let (_, jwks) = a.get("/.well-known/jwks.json", None);
        for kid in kids(&jwks) {
            if !published.iter().any(|(k, _)| *k == kid) {
                published.push((kid, at));
            }
        }
        turn += 1;
        let instance = if turn % 2 == 0 { &a } else { &b };
        let token = token(instance, &key);
        let (status, body) = resource.get("/api/v3/secret", Some(&token));
        assert_eq!(
            status, 200,
            "the resource server refused a token at {at:.1}s: {body}"
        );
        let kid = kid(&token);
        if !signed.iter().any(|(k, _)| *k == kid) {
            signed.push((kid, start.elapsed().as_secs_f64()));
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    for (kid, first_token) in signed.iter().skip(1) {
        let (_, first_published) = published
            .iter()
            .find(|(k, _)| k == kid)
            .unwrap_or_else(|| panic!("{kid} signed before it was ever published"));
        // Published 3 s ahead; this loop looks every ~0.2 s, and the instances read the store
        // every second.
        assert!(
            first_token - first_published >= 1.5,
            "{kid} published at {first_published:.1}s, signing at {first_token:.1}s"
        );
    }
    // The times the store holds (on Redis's clock): every key but the first was published
    // the full announcement period before it signed.
    let run = jwtkit(
        &[
            "keys",
            "list",
            "--json",
            "--store",
            &url,
            "--key-encryption-key",
            &kek,
        ],
        None,
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let listed: Vec<Value> = serde_json::from_str(&run.stdout).unwrap();
    let secs = |k: &Value, name: &str| {
        humantime::parse_rfc3339(k[name].as_str().unwrap())
            .unwrap()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs()
    };
    assert!(listed.len() >= 4, "{listed:?}");
    let first = listed.iter().map(|k| secs(k, "signs_from")).min().unwrap();
    for key in listed.iter().filter(|k| secs(k, "signs_from") > first) {
        assert!(
            secs(key, "signs_from").saturating_sub(secs(key, "published")) >= 3,
            "signed before announced for 3 s: {key}"
        );
    }
    let metrics = resource.metrics();
    assert!(
        metrics.contains("jwtkit_jwks_unknown_kid_fetches_total 0"),
        "{}",
        metrics
            .lines()
            .filter(|l| l.contains("jwks"))
            .collect::<Vec<_>>()
            .join("\n")
    );
}
