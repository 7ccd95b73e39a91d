//! `jwtkit clients`, the real binary: OpenID clients registered in the store (public and
//! confidential), listed, refused for the right reason, and removed — on SQLite and on Redis
//! — and a server using the store seeing a registration and its removal at once.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use jwtkit_core::Clock as _;
use jwtkit_server::store::{Endpoint, NewSession};
use serde_json::Value;
use support::{Jwtkit, RedisServer, Scratch, jwtkit};

const APP: &str = r#"{"client_id": "app", "redirect_uris": ["https://app.example/cb"]}"#;
const BACKEND: &str = r#"{"client_id": "backend", "client_name": "Back Office", "redirect_uris": ["https://backend.example/cb"], "first_party": true}"#;

fn list(store: &str) -> Vec<Value> {
    support::list_json("clients", store)
}

fn lifecycle(store: &str) {
    let public = jwtkit(&["clients", "add", APP, "--store", store], None);
    assert_eq!(public.code, 0, "{}", public.stderr);
    assert_eq!(public.stdout.trim(), "public client app registered");

    let confidential = jwtkit(
        &[
            "clients",
            "add",
            "--confidential",
            "--json",
            BACKEND,
            "--store",
            store,
        ],
        None,
    );
    assert_eq!(confidential.code, 0, "{}", confidential.stderr);
    let made: Value = serde_json::from_str(&confidential.stdout).unwrap();
    let secret = made["client_secret"].as_str().unwrap();
    assert!(
        secret.starts_with("jwtcs_") && secret.len() == 6 + 43,
        "{made}"
    );

    let clients = list(store);
    assert_eq!(clients.len(), 2);
    assert_eq!(clients[0]["client_id"], "app");
    assert_eq!(clients[1]["client_name"], "Back Office");
    let hash = clients[1]["client_secret_hash"].as_str().unwrap();
    assert!(hash.starts_with("sha256:"), "{hash}");
    let table = jwtkit(&["clients", "list", "--store", store], None);
    assert!(
        !table.stdout.contains(secret) && !clients[1].to_string().contains(secret),
        "the secret is stored as its hash only"
    );
    assert!(
        table
            .stdout
            .contains("backend                  confidential first-party")
    );

    // Refusals, each with its reason and status 2; nothing changes.
    for (args, why) in [
        (
            vec!["clients", "add", APP],
            "there is a client \"app\" in the store already",
        ),
        (
            vec![
                "clients",
                "add",
                r#"{"client_id": "x", "redirect_uris": ["http://x.example/"]}"#,
            ],
            "use https",
        ),
        (
            vec![
                "clients",
                "add",
                r#"{"client_id": "x", "redirect_uri": "https://x.example/"}"#,
            ],
            "unknown field `redirect_uri`",
        ),
        (
            vec![
                "clients",
                "add",
                r#"{"client_id": "x", "redirect_uris": ["https://x.example/"], "client_secret_hash": "sha256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}"#,
            ],
            "--confidential makes the secret",
        ),
        (
            vec!["clients", "remove", "backnd"],
            "did you mean \"backend\"?",
        ),
    ] {
        let mut args = args;
        args.extend(["--store", store]);
        let run = jwtkit(&args, None);
        assert_eq!(run.code, 2, "{args:?}: {}", run.stdout);
        assert!(run.stderr.contains(why), "{args:?}: {}", run.stderr);
    }
    assert_eq!(list(store).len(), 2);

    // A person's session at app (and one at backend) in the store, as an exchange starts.
    let now = jwtkit_server::SystemClock.now().unwrap();
    let at = |secs: f64| now.saturating_add_secs(secs);
    let opened = jwtkit_server::config::store_location(store).unwrap();
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        let opened = jwtkit_server::store::open(&opened).await.unwrap();
        for (sid, client_id) in [("login.a", "app"), ("login.b", "backend")] {
            let session = NewSession {
                sid: sid.to_owned(),
                sub: "u_1".to_owned(),
                client_id: client_id.to_owned(),
                endpoint: Endpoint::Authorize,
                roles: vec!["openid".to_owned()],
                refresh: [sid.len() as u8 + client_id.len() as u8; 32],
                now: at(0.0),
                absolute_expiry: at(3600.0),
                idle_expiry: at(600.0),
                max_per_subject: 10,
                revoke_until: at(300.0),
                code: None,
                jkt: None,
            };
            opened.create_session(session).await.unwrap();
        }
    });

    let removed = jwtkit(&["clients", "remove", "app", "--store", store], None);
    assert_eq!(removed.code, 0, "{}", removed.stderr);
    assert_eq!(
        removed.stdout.trim(),
        "client app removed; 1 session(s) ended",
        "its people's sessions, not another client's"
    );
    assert_eq!(list(store).len(), 1);
}

#[test]
fn clients_in_a_sqlite_store() {
    let dir = Scratch::new("clients-cli-sqlite");
    let store = format!("sqlite:{}", dir.path().join("s.sqlite3").display());
    let empty = jwtkit(&["clients", "list", "--store", &store], None);
    assert_eq!(empty.code, 2, "listing does not create a store");
    lifecycle(&store);
}

#[test]
fn clients_in_a_redis_store() {
    let redis = RedisServer::start("clients-cli");
    lifecycle(&redis.url());
}

/// The authorization endpoint's answer to the client `client_id` at its redirect URI.
fn authorize(server: &Jwtkit, client_id: &str, redirect_uri: &str) -> u16 {
    let query = format!(
        "/oauth2/authorize?client_id={client_id}&redirect_uri={redirect_uri}&response_type=code\
         &scope=openid&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256"
    );
    let (status, _) = server.request("GET", &query, &[], "");
    status
}

#[test]
fn a_running_server_sees_registrations_and_removals_at_once() {
    let dir = Scratch::new("clients-cli-live");
    let store = format!("sqlite:{}", dir.path().join("s.sqlite3").display());
    let server = Jwtkit::start(&["--store", &store]);
    assert_eq!(authorize(&server, "app", "https://app.example/cb"), 400);
    let add = jwtkit(&["clients", "add", APP, "--store", &store], None);
    assert_eq!(add.code, 0, "{}", add.stderr);
    assert_eq!(
        authorize(&server, "app", "https://app.example/cb"),
        200,
        "the sign-in page for a client registered after the start"
    );
    assert_eq!(authorize(&server, "app", "https://app.example/other"), 400);
    let remove = jwtkit(&["clients", "remove", "app", "--store", &store], None);
    assert_eq!(remove.code, 0, "{}", remove.stderr);
    assert_eq!(authorize(&server, "app", "https://app.example/cb"), 400);
}
