//! The sessions' rules on a real SQLite store.
use super::*;
use crate::apikeys::ApiKey;
use crate::store::sqlite::SqliteStore;

/// Sessions on an SQLite file of their own, for the clients `svc` (roles user, admin)
/// and `other`.
fn sessions(dir: &std::path::Path) -> Sessions {
    let store = Arc::new(SqliteStore::open(&dir.join("store.sqlite3")).unwrap());
    let key = jwtkit_core::Key::generate(jwtkit_core::Algorithm::EdDSA).unwrap();
    let issuer = TokenIssuer::new(
        crate::keys::SigningKeys::single(key),
        "https://auth.example",
        "api",
        Duration::from_secs(180),
    );
    let client = |name: &str, roles: &[&str]| {
        ApiKey::from_plaintext(
            name,
            &format!("jwtk_{name}"),
            roles.iter().map(|r| (*r).to_owned()).collect(),
        )
        .unwrap()
    };
    let clients = ApiKeys::new(vec![
        client("svc", &["user", "admin"]),
        client("other", &[]),
    ])
    .unwrap();
    let rules = SessionRules {
        idle: Duration::from_secs(3600),
        absolute: Duration::from_secs(86_400),
        grace: Duration::from_secs(10),
        access_lifetime: Duration::from_secs(180),
        leeway: Duration::ZERO,
        max_per_subject: 10,
    };
    Sessions::new(store, issuer, Arc::new(Revocations::new()), rules, clients)
}

fn scratch(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("jwtkit-sessions-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn t(secs: i64) -> UnixTime {
    UnixTime::from_secs(secs).unwrap()
}

#[tokio::test]
async fn a_confidential_clients_refresh_token_refreshes_only_at_the_token_endpoint() {
    let dir = scratch("confidential");
    let sessions = sessions(&dir);
    let roles = ["user".to_owned()];
    let grant = sessions
        .start("svc", &roles, Endpoint::Token, None, t(1000))
        .await
        .unwrap();
    // With the client's authentication, at the token endpoint: rotated.
    let next = sessions
        .refresh_for(&grant.refresh, None, t(1001), "svc", None)
        .await
        .unwrap();
    // Presented without it (at /api/v3/auth/refresh): refused, and the session ends.
    assert_eq!(
        sessions
            .refresh(&next.refresh, None, t(1002))
            .await
            .unwrap_err(),
        SessionError::WrongClient
    );
    assert_eq!(
        sessions
            .refresh_for(&next.refresh, None, t(1003), "svc", None)
            .await
            .unwrap_err(),
        SessionError::Revoked,
        "ended"
    );
    std::fs::remove_dir_all(dir).ok();
}

#[tokio::test]
async fn a_refresh_token_presented_by_another_client_ends_its_session() {
    let dir = scratch("other-client");
    let sessions = sessions(&dir);
    let grant = sessions
        .start("svc", &["user".to_owned()], Endpoint::Auth, None, t(1000))
        .await
        .unwrap();
    assert_eq!(
        sessions
            .refresh_for(&grant.refresh, None, t(1001), "other", None)
            .await
            .unwrap_err(),
        SessionError::WrongClient
    );
    assert_eq!(
        sessions
            .refresh(&grant.refresh, None, t(1100))
            .await
            .unwrap_err(),
        SessionError::Revoked
    );
    std::fs::remove_dir_all(dir).ok();
}
