//! Two real `jwtkit serve` processes: A issues, B (`--trust-issuer`) trusts A by discovery.
//! A rotates its signing key: B takes the new `kid` after one fetch and still accepts live
//! tokens under the old one. A flood of random-`kid` tokens costs A at most one key-set fetch
//! per refetch interval (A's own request counters say how many). A stopped: B keeps
//! verifying with the keys it has.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jwtkit_core::{Algorithm, JwkSet, Key};
use serde_json::json;
use support::{Jwtkit, Scratch, free_port};

/// The refetch interval B runs with.
const INTERVAL: Duration = Duration::from_secs(2);

struct Issuer {
    dir: Scratch,
    bind: String,
    api_key: String,
    entry: String,
}

impl Issuer {
    fn new() -> Self {
        let dir = Scratch::new("resource");
        let api_key = jwtkit_server::apikeys::generate_api_key().unwrap();
        let entry =
            jwtkit_server::apikeys::ApiKey::from_plaintext("svc", &api_key, vec!["admin".into()])
                .unwrap()
                .entry();
        Self {
            dir,
            bind: format!("127.0.0.1:{}", free_port()),
            api_key,
            entry,
        }
    }

    fn url(&self) -> String {
        format!("http://{}", self.bind)
    }

    /// Starts A with `keys` (the first signs).
    fn start(&self, keys: &[Jwk]) -> Jwtkit {
        let path = self.dir.path().join("keys.json");
        let set = JwkSet {
            keys: keys.iter().map(|k| k.0.clone()).collect(),
        };
        std::fs::write(&path, set.to_json()).unwrap();
        let store = format!("sqlite:{}", self.dir.path().join("a.sqlite3").display());
        // `=`: a thumbprint may begin with `-`.
        let signing = format!("--signing-kid={}", keys[0].0.kid.clone().unwrap());
        let issuer = Jwtkit::start_on(
            &self.bind,
            &[
                "--keys",
                path.to_str().unwrap(),
                &signing,
                "--api-key",
                &self.entry,
                "--store",
                &store,
            ],
        );
        assert_eq!(issuer.started["issuer"], json!(self.url()));
        issuer
    }

    fn token(&self, at: &Jwtkit) -> String {
        let (status, body) = at.post_json("/api/v3/auth", &json!({"api-key": self.api_key}));
        assert_eq!(status, 200, "{body}");
        body["data"]["token"].as_str().unwrap().to_owned()
    }
}

struct Jwk(jwtkit_core::Jwk);

/// How many times A answered its key set, by its own request counter.
fn jwks_fetches(issuer: &Jwtkit) -> u64 {
    issuer
        .metrics()
        .lines()
        .find(|line| {
            line.starts_with(
                r#"jwtkit_http_requests_total{route="/.well-known/jwks.json",status="200"}"#,
            )
        })
        .and_then(|line| line.rsplit(' ').next())
        .map_or(0, |n| n.parse().unwrap())
}

/// A token under a `kid` no one has (its signature is never reached).
fn random_kid_token() -> String {
    let mut kid = [0u8; 12];
    getrandom::fill(&mut kid).unwrap();
    let header = json!({"alg": "EdDSA", "typ": "at+jwt", "kid": URL_SAFE_NO_PAD.encode(kid)});
    let claims = json!({"sub": "x"});
    format!(
        "{}.{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string()),
        URL_SAFE_NO_PAD.encode([0u8; 64])
    )
}

fn code(response: &(u16, serde_json::Value)) -> (u16, &str) {
    (response.0, response.1["code"].as_str().unwrap_or(""))
}

#[test]
fn a_resource_server_follows_its_issuers_keys_and_survives_its_outage() {
    let setup = Issuer::new();
    let first = Key::generate(Algorithm::EdDSA).unwrap();
    let a = setup.start(&[Jwk(first.to_private_jwk())]);
    let b = Jwtkit::start(&[
        "--trust-issuer",
        &setup.url(),
        "--jwks-refetch-interval",
        "2s",
    ]);
    assert_eq!(b.started["trust_issuer"], json!(setup.url()));
    let old = setup.token(&a);
    assert_eq!(b.get("/api/v3/secret", Some(&old)).0, 200);
    assert_eq!(b.get("/api/v3/admin", Some(&old)).0, 200);
    assert_eq!(
        code(&b.get("/api/v3/secret", None)),
        (401, "ERR_BEARER_TOKEN_MISSING")
    );
    // B issues nothing.
    assert_eq!(b.post_json("/api/v3/auth", &json!({})).0, 404);

    // A flood of unknown kids from 8 clients: at most one fetch per interval.
    std::thread::sleep(INTERVAL);
    let before = jwks_fetches(&a);
    let started = Instant::now();
    let refused: Vec<usize> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..8)
            .map(|_| {
                scope.spawn(|| {
                    let mut n = 0;
                    while started.elapsed() < Duration::from_secs(3) {
                        let response = b.get("/api/v3/secret", Some(&random_kid_token()));
                        assert_eq!(code(&response), (401, "ERR_JWKS_NO_MATCHING_KEY"));
                        n += 1;
                    }
                    n
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join().unwrap()).collect()
    });
    let elapsed = started.elapsed();
    let fetched = jwks_fetches(&a) - before;
    let allowed = elapsed.as_secs_f64() / INTERVAL.as_secs_f64() + 1.0;
    println!(
        "{} random-kid requests in {elapsed:?}: {fetched} key-set fetches at the issuer",
        refused.iter().sum::<usize>()
    );
    assert!(fetched >= 1, "an unknown kid makes B look again");
    assert!(
        fetched as f64 <= allowed,
        "{fetched} fetches in {elapsed:?}"
    );

    // A rotates: a new signing key, the old one kept (public) for verification.
    a.stop();
    let second = Key::generate(Algorithm::EdDSA).unwrap();
    let a = setup.start(&[
        Jwk(second.to_private_jwk()),
        Jwk(first.to_public_jwk().unwrap()),
    ]);
    let new = setup.token(&a);
    std::thread::sleep(INTERVAL);
    let before = jwks_fetches(&a);
    assert_eq!(
        b.get("/api/v3/secret", Some(&new)).0,
        200,
        "the new kid, after one fetch"
    );
    assert_eq!(jwks_fetches(&a) - before, 1);
    assert_eq!(
        b.get("/api/v3/secret", Some(&old)).0,
        200,
        "the old kid still"
    );
    assert_eq!(jwks_fetches(&a) - before, 1, "a known kid fetches nothing");

    // A down: B verifies with the keys it has; an unknown kid is refused, not an error.
    a.stop();
    std::thread::sleep(INTERVAL);
    assert_eq!(b.get("/api/v3/secret", Some(&new)).0, 200);
    assert_eq!(b.get("/api/v3/secret", Some(&old)).0, 200);
    assert_eq!(
        code(&b.get("/api/v3/secret", Some(&random_kid_token()))),
        (401, "ERR_JWKS_NO_MATCHING_KEY")
    );
    let metrics = b.metrics();
    assert!(
        metrics.contains(r#"jwtkit_jwks_fetches_total{result="error"} 1"#),
        "the failed fetch is counted: {metrics}"
    );
    let logs = b.stop();
    assert!(
        logs.contains("cannot fetch the issuer's keys"),
        "and logged: {logs}"
    );
}

#[test]
fn a_resource_server_refuses_an_issuer_it_cannot_trust() {
    // Not https and not loopback: refused before any request.
    let run = std::process::Command::new(env!("CARGO_BIN_EXE_jwtkit"))
        .args(["serve", "--trust-issuer", "http://auth.example"])
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(stderr.contains("trust_issuer"), "{stderr}");
    // An issuer with its own keys is not a resource server.
    let run = std::process::Command::new(env!("CARGO_BIN_EXE_jwtkit"))
        .args([
            "serve",
            "--trust-issuer",
            "http://127.0.0.1:9",
            "--secret",
            "0123456789abcdef0123456789abcdef",
        ])
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(2));
}

#[test]
fn a_resource_server_started_before_its_issuer_is_ready_once_it_answers() {
    let setup = Issuer::new();
    // Nothing listens at A's address yet: B starts, not ready, and says so.
    let b = Jwtkit::start(&["--trust-issuer", &setup.url()]);
    let (status, body) = b.get("/readyz", None);
    assert_eq!(
        (status, body["code"].as_str()),
        (503, Some("ERR_JWKS_UNAVAILABLE"))
    );
    assert_eq!(b.get("/healthz", None).0, 200, "alive all the same");
    let unjudged = random_kid_token();
    assert_eq!(
        code(&b.get("/api/v3/secret", Some(&unjudged))),
        (503, "ERR_JWKS_UNAVAILABLE"),
        "a token cannot be judged yet: not the client's fault"
    );
    // A comes up: B fetches its keys by itself (1, 2, 4 … s after the first failure).
    let first = Key::generate(Algorithm::EdDSA).unwrap();
    let a = setup.start(&[Jwk(first.to_private_jwk())]);
    let started = Instant::now();
    while b.get("/readyz", None).0 != 200 {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "B never became ready"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    assert_eq!(b.get("/api/v3/secret", Some(&setup.token(&a))).0, 200);
    let logs = b.stop();
    assert!(logs.contains("not ready, retrying"), "{logs}");
}

#[test]
fn a_resource_server_takes_its_issuers_dpop_bound_tokens_with_proofs_of_their_key() {
    let setup = Issuer::new();
    let a = setup.start(&[Jwk(Key::generate(Algorithm::EdDSA)
        .unwrap()
        .to_private_jwk())]);
    // B is reached at its own public URL, which its proofs name.
    let b = Jwtkit::start(&[
        "--trust-issuer",
        &setup.url(),
        "--public-url",
        "https://resource.example",
    ]);
    let holder = Key::generate(Algorithm::ES256).unwrap();
    let login = support::dpop_proof(
        &holder,
        "POST",
        &format!("{}/api/v3/auth", setup.url()),
        None,
    );
    let (status, body) = a.request(
        "POST",
        "/api/v3/auth",
        &[("content-type", "application/json"), ("dpop", &login)],
        &json!({"api-key": setup.api_key}).to_string(),
    );
    assert_eq!(status, 200, "{body}");
    let token = body["data"]["token"].as_str().unwrap().to_owned();
    let authorization = format!("DPoP {token}");
    let call = |proof: &str| {
        b.request(
            "GET",
            "/api/v3/secret",
            &[("authorization", &authorization), ("dpop", proof)],
            "",
        )
    };
    let url = "https://resource.example/api/v3/secret";
    let proof = support::dpop_proof(&holder, "GET", url, Some(&token));
    assert_eq!(call(&proof).0, 200);
    assert_eq!(code(&call(&proof)), (401, "ERR_DPOP_PROOF_REPLAYED"));
    let at_the_issuer = support::dpop_proof(
        &holder,
        "GET",
        &format!("{}/api/v3/secret", setup.url()),
        Some(&token),
    );
    assert_eq!(code(&call(&at_the_issuer)), (401, "ERR_DPOP_PROOF_HTU"));
    let thief = Key::generate(Algorithm::ES256).unwrap();
    assert_eq!(
        code(&call(&support::dpop_proof(
            &thief,
            "GET",
            url,
            Some(&token)
        ))),
        (401, "ERR_DPOP_KEY_MISMATCH")
    );
    assert_eq!(
        code(&b.get("/api/v3/secret", Some(&token))),
        (401, "ERR_DPOP_TOKEN_AS_BEARER")
    );
}
