//! Two real `jwtkit serve` processes on one real Redis: a reuse at one ends the session at
//! both, a logout reaches the other within a second (measured), failed `/auth` attempts count
//! together; and a Redis outage: 503 with `Retry-After` for what needs the store, access
//! tokens still verified, `/readyz` not ready, and service back by itself.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::{Jwtkit, RedisServer, Scratch};

/// Keys and an API key shared by both instances.
struct Setup {
    dir: Scratch,
    api_key: String,
    entry: String,
}

impl Setup {
    fn new(name: &str) -> Self {
        let dir = Scratch::new(name);
        let key = jwtkit_core::Key::generate(jwtkit_core::Algorithm::EdDSA).unwrap();
        std::fs::write(dir.path().join("keys.json"), key.to_private_jwk().to_json()).unwrap();
        let api_key = jwtkit_server::apikeys::generate_api_key().unwrap();
        let entry = jwtkit_server::apikeys::ApiKey::from_plaintext("svc", &api_key, vec![])
            .unwrap()
            .entry();
        Self {
            dir,
            api_key,
            entry,
        }
    }

    fn start(&self, redis: &RedisServer, extra: &[&str]) -> Jwtkit {
        let keys = self.dir.path().join("keys.json").display().to_string();
        let url = redis.url();
        // One issuer for both (else each would be its own address).
        let mut args = vec![
            "--store",
            &url,
            "--keys",
            &keys,
            "--api-key",
            &self.entry,
            "--issuer",
            "https://auth.example",
        ];
        args.extend_from_slice(extra);
        Jwtkit::start(&args)
    }

    fn login(&self, at: &Jwtkit) -> (String, String) {
        let (status, body) = at.post_json("/api/v3/auth", &json!({"api-key": self.api_key}));
        assert_eq!(status, 200, "{body}");
        tokens(&body)
    }
}

fn tokens(body: &Value) -> (String, String) {
    (
        body["data"]["token"].as_str().unwrap().to_owned(),
        body["data"]["refresh_token"].as_str().unwrap().to_owned(),
    )
}

fn refresh(at: &Jwtkit, token: &str) -> (u16, Value) {
    at.post_json("/api/v3/auth/refresh", &json!({ "refresh_token": token }))
}

/// How long until `check` holds (polled every 10 ms), failing after `limit`.
fn within(limit: Duration, mut check: impl FnMut() -> bool) -> Duration {
    let start = Instant::now();
    while !check() {
        assert!(start.elapsed() < limit, "not within {limit:?}");
        std::thread::sleep(Duration::from_millis(10));
    }
    start.elapsed()
}

#[test]
fn two_instances_share_sessions_revocations_and_failure_counts() {
    let redis = RedisServer::start("instances");
    let setup = Setup::new("instances");
    let args = ["--auth-failure-limit", "3", "--refresh-grace", "0s"];
    let a = setup.start(&redis, &args);
    let b = setup.start(&redis, &args);

    // Rotate at A, replay the old refresh token at B: the session ends at both.
    let (access, first) = setup.login(&a);
    let (status, body) = refresh(&a, &first);
    assert_eq!(status, 200, "{body}");
    let (access2, second) = tokens(&body);
    assert_eq!(
        b.get("/api/v3/secret", Some(&access2)).0,
        200,
        "B verifies A's tokens"
    );
    let (status, body) = refresh(&b, &first);
    assert_eq!(
        (status, body["code"].as_str()),
        (401, Some("ERR_REFRESH_TOKEN_REUSED"))
    );
    assert_eq!(
        refresh(&a, &second).1["code"].as_str(),
        Some("ERR_REFRESH_TOKEN_REVOKED")
    );
    for token in [&access, &access2] {
        let (status, body) = b.get("/api/v3/secret", Some(token));
        assert_eq!(
            (status, body["code"].as_str()),
            (401, Some("ERR_JWT_REVOKED"))
        );
    }
    within(Duration::from_secs(1), || {
        a.get("/api/v3/secret", Some(&access2)).1["code"].as_str() == Some("ERR_JWT_REVOKED")
    });

    // Logout at A: B refuses the access token within a second.
    let (access, _) = setup.login(&a);
    assert_eq!(b.get("/api/v3/secret", Some(&access)).0, 200, "cached at B");
    let bearer = format!("Bearer {access}");
    let (status, _) = a.request(
        "POST",
        "/api/v3/auth/logout",
        &[("authorization", &bearer)],
        "",
    );
    assert_eq!(status, 200);
    let propagation = within(Duration::from_secs(1), || {
        b.get("/api/v3/secret", Some(&access)).1["code"].as_str() == Some("ERR_JWT_REVOKED")
    });
    println!("revocation propagation A -> B: {propagation:?}");

    // Failed /auth attempts at A count at B.
    let wrong = json!({"api-key": "jwtk_wrong"});
    assert_eq!(a.post_json("/api/v3/auth", &wrong).0, 401);
    assert_eq!(a.post_json("/api/v3/auth", &wrong).0, 401);
    assert_eq!(b.post_json("/api/v3/auth", &wrong).0, 401);
    let (status, body) = b.post_json("/api/v3/auth", &wrong);
    assert_eq!(
        (status, body["code"].as_str()),
        (429, Some("ERR_TOO_MANY_FAILED_ATTEMPTS"))
    );
    assert_eq!(
        a.post_json("/api/v3/auth", &json!({"api-key": setup.api_key}))
            .0,
        429
    );

    let logs = [a.stop(), b.stop()].concat();
    assert!(
        !logs.contains(&first) && !logs.contains(&setup.api_key),
        "no secrets logged"
    );
}

#[test]
fn revocations_still_arrive_after_the_connections_drop() {
    let redis = RedisServer::start("reconnect");
    let setup = Setup::new("reconnect");
    let a = setup.start(&redis, &[]);
    let b = setup.start(&redis, &[]);
    let (access, _) = setup.login(&a);
    assert_eq!(b.get("/api/v3/secret", Some(&access)).0, 200);
    // Every connection of both instances is closed; each reconnects by itself, and B's
    // reader goes on from where it left off.
    redis.drop_clients();
    let bearer = format!("Bearer {access}");
    let mut status = 0;
    within(Duration::from_secs(5), || {
        status = a
            .request(
                "POST",
                "/api/v3/auth/logout",
                &[("authorization", &bearer)],
                "",
            )
            .0;
        status == 200
    });
    within(Duration::from_secs(2), || {
        b.get("/api/v3/secret", Some(&access)).1["code"].as_str() == Some("ERR_JWT_REVOKED")
    });
}

#[test]
fn a_redis_outage_is_a_503_verification_goes_on_and_service_resumes() {
    let mut redis = RedisServer::start("outage-instance");
    let setup = Setup::new("outage-instance");
    let a = setup.start(&redis, &[]);
    let (access, refresh_token) = setup.login(&a);
    within(Duration::from_secs(2), || a.get("/readyz", None).0 == 200);
    // A session ended at another instance before the outage: A learns it from the store.
    let b = setup.start(&redis, &[]);
    let (ended, _) = setup.login(&a);
    let (status, _) = b.request(
        "POST",
        "/api/v3/auth/logout",
        &[("authorization", &format!("Bearer {ended}"))],
        "",
    );
    assert_eq!(status, 200);
    within(Duration::from_secs(2), || {
        a.get("/api/v3/secret", Some(&ended)).0 == 401
    });
    b.stop();

    redis.kill();
    let login = json!({"api-key": setup.api_key});
    for (status, body) in [
        a.post_json("/api/v3/auth", &login),
        refresh(&a, &refresh_token),
        a.request(
            "POST",
            "/api/v3/auth/logout",
            &[("authorization", &format!("Bearer {access}"))],
            "",
        ),
    ] {
        assert_eq!(
            (status, body["code"].as_str()),
            (503, Some("ERR_STORE_UNAVAILABLE")),
            "{body}"
        );
    }
    let raw = format!(
        "POST /api/v3/auth HTTP/1.1\r\nHost: t\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{login}",
        login.to_string().len()
    );
    assert!(
        support::http(a.addr, &raw).contains("\r\nretry-after: 1\r\n"),
        "Retry-After on a 503"
    );
    // Access tokens keep being verified with the last known revocations, which stay in
    // force through the outage.
    assert_eq!(a.get("/api/v3/secret", Some(&access)).0, 200);
    within(Duration::from_secs(3), || a.get("/readyz", None).0 == 503);
    let (status, body) = a.get("/api/v3/secret", Some(&ended));
    assert_eq!(
        (status, body["code"].as_str()),
        (401, Some("ERR_JWT_REVOKED")),
        "the revocation outlives the store's outage"
    );

    redis.restart();
    within(Duration::from_secs(10), || a.get("/readyz", None).0 == 200);
    let (status, body) = a.post_json("/api/v3/auth", &login);
    assert_eq!(status, 200, "service resumed by itself: {body}");
    a.stop();
}

#[test]
fn operators_list_and_end_the_sessions_of_a_leaked_key_in_either_store() {
    let redis = RedisServer::start("operators");
    let setup = Setup::new("operators");
    let sqlite = format!(
        "sqlite:{}",
        setup.dir.path().join("store.sqlite3").display()
    );
    for store in [redis.url(), sqlite] {
        let keys = setup.dir.path().join("keys.json").display().to_string();
        let server = Jwtkit::start(&[
            "--store",
            &store,
            "--keys",
            &keys,
            "--api-key",
            &setup.entry,
            "--issuer",
            "https://auth.example",
        ]);
        let (first, _) = setup.login(&server);
        let (second, _) = setup.login(&server);
        let cli = |args: &[&str]| {
            let output = std::process::Command::new(env!("CARGO_BIN_EXE_jwtkit"))
                .arg("sessions")
                .args(args)
                .args(["--store", &store])
                .output()
                .unwrap();
            assert!(
                output.status.success(),
                "{}",
                String::from_utf8_lossy(&output.stderr)
            );
            String::from_utf8(output.stdout).unwrap()
        };
        let listed: Value =
            serde_json::from_str(&cli(&["list", "--json", "--sub", "svc"])).unwrap();
        assert_eq!(listed.as_array().unwrap().len(), 2, "{listed}");
        assert_eq!(listed[0]["sub"], "svc");
        assert!(cli(&["list"]).contains("2 live session(s)"));
        assert_eq!(
            cli(&["revoke", "--sub", "svc"]).trim(),
            "2 session(s) ended"
        );
        for token in [&first, &second] {
            within(Duration::from_secs(2), || {
                server.get("/api/v3/secret", Some(token)).1["code"].as_str()
                    == Some("ERR_JWT_REVOKED")
            });
        }
        assert!(cli(&["list"]).contains("0 live session(s)"), "{store}");
        server.stop();
    }
}

/// A DPoP proof by `key` for `method path` behind the instances' one public URL, now.
fn proof(key: &jwtkit_core::Key, method: &str, path: &str, token: Option<&str>) -> String {
    support::dpop_proof(key, method, &format!("https://api.example{path}"), token)
}

#[test]
fn a_dpop_proof_used_at_one_instance_is_refused_at_the_other() {
    let redis = RedisServer::start("instances-dpop");
    let setup = Setup::new("instances-dpop");
    // Behind one load balancer: both name the same public URL, which proofs name.
    let args = ["--public-url", "https://api.example"];
    let a = setup.start(&redis, &args);
    let b = setup.start(&redis, &args);
    let key = jwtkit_core::Key::generate(jwtkit_core::Algorithm::ES256).unwrap();

    let login = proof(&key, "POST", "/api/v3/auth", None);
    let body = json!({"api-key": setup.api_key}).to_string();
    let json = [("content-type", "application/json")];
    let (status, started) = a.request("POST", "/api/v3/auth", &[json[0], ("dpop", &login)], &body);
    assert_eq!(status, 200, "{started}");
    assert_eq!(started["data"]["token_type"], "DPoP");
    let (access, refresh) = tokens(&started);
    // The same proof again, at the other instance: a replay.
    let (status, again) = b.request("POST", "/api/v3/auth", &[json[0], ("dpop", &login)], &body);
    assert_eq!(
        (status, again["code"].as_str()),
        (401, Some("ERR_DPOP_PROOF_REPLAYED")),
        "{again}"
    );

    let authorization = format!("DPoP {access}");
    let call = proof(&key, "GET", "/api/v3/secret", Some(&access));
    let headers = [
        ("authorization", authorization.as_str()),
        ("dpop", call.as_str()),
    ];
    assert_eq!(a.request("GET", "/api/v3/secret", &headers, "").0, 200);
    let (status, replayed) = b.request("GET", "/api/v3/secret", &headers, "");
    assert_eq!(
        (status, replayed["code"].as_str()),
        (401, Some("ERR_DPOP_PROOF_REPLAYED")),
        "{replayed}"
    );
    let fresh = proof(&key, "GET", "/api/v3/secret", Some(&access));
    let headers = [
        ("authorization", authorization.as_str()),
        ("dpop", fresh.as_str()),
    ];
    assert_eq!(b.request("GET", "/api/v3/secret", &headers, "").0, 200);

    // The session's refresh at B proves the key it was bound to at A.
    let refresh_body = json!({ "refresh_token": refresh }).to_string();
    let rotation = proof(&key, "POST", "/api/v3/auth/refresh", None);
    let (status, refreshed) = b.request(
        "POST",
        "/api/v3/auth/refresh",
        &[json[0], ("dpop", &rotation)],
        &refresh_body,
    );
    assert_eq!(
        (status, refreshed["data"]["token_type"].as_str()),
        (200, Some("DPoP")),
        "{refreshed}"
    );
}
