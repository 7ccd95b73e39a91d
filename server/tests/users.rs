//! The built-in user directory: its records on both stores (SQLite and a real Redis), the
//! directory's answers (a wrong password and an unknown user alike), the account operations
//! `jwtkit users` runs (each refusal for its reason, sessions ended), and bounded hashing.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::sync::Arc;

use jwtkit_core::UnixTime;
use jwtkit_server::store::redis::RedisStore;
use jwtkit_server::store::sqlite::SqliteStore;
use jwtkit_server::store::{Endpoint, NewSession, Store, UserRecord};
use jwtkit_server::users::accounts::{self, AccountError, NewUser};
use jwtkit_server::users::password::Params;
use jwtkit_server::users::{
    Authentication, DirectoryError, HashError, Password, PasswordHasher, PasswordProblem,
    StoreDirectory, UserDirectory, UsernameProblem,
};
use support::{RedisServer, Scratch};

const NOW: i64 = 1_800_000_000;

fn t(secs: i64) -> UnixTime {
    UnixTime::from_secs(secs).unwrap()
}

/// Cheap parameters: these tests are about behaviour, not cost.
fn fast_hasher() -> Arc<PasswordHasher> {
    Arc::new(PasswordHasher::with_limits(
        Params::new(256, 1, 1, None).unwrap(),
        2,
        64,
    ))
}

fn record(username: &str, sub: &str) -> UserRecord {
    UserRecord {
        username: username.to_owned(),
        sub: sub.to_owned(),
        password_hash: "$argon2id$v=19$m=256,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA".to_owned(),
        name: Some("Ann Example".to_owned()),
        email: Some("ann@example.org".to_owned()),
        email_verified: true,
        disabled: false,
        created: NOW as f64,
        password_set: NOW as f64,
    }
}

fn new_user(username: &str, password: &str) -> NewUser {
    NewUser {
        username: username.to_owned(),
        password: Password::new(password.to_owned()),
        name: Some("Ann Example".to_owned()),
        email: Some("ann@example.org".to_owned()),
        email_verified: true,
    }
}

fn session(sid: &str, sub: &str) -> NewSession {
    NewSession {
        sid: sid.to_owned(),
        sub: sub.to_owned(),
        client_id: "demo".to_owned(),
        endpoint: Endpoint::Token,
        roles: vec![],
        refresh: [sid.len() as u8; 32],
        now: t(NOW),
        absolute_expiry: t(NOW + 86_400),
        idle_expiry: t(NOW + 3600),
        max_per_subject: 100,
        revoke_until: t(NOW + 300),
        code: None,
        jkt: None,
    }
}

/// The records' rules, the same on every store.
async fn records_conform(store: &dyn Store) {
    assert!(store.users().await.unwrap().is_empty());
    assert!(!store.has_users().await.unwrap());
    assert!(store.add_user(record("ann", "u_1")).await.unwrap());
    assert!(store.has_users().await.unwrap());
    // A username or a subject is never taken twice.
    assert!(
        !store.add_user(record("ann", "u_2")).await.unwrap(),
        "username taken"
    );
    assert!(
        !store.add_user(record("bob", "u_1")).await.unwrap(),
        "subject taken"
    );
    assert!(store.add_user(record("bob", "u_2")).await.unwrap());

    assert_eq!(
        store.user("ann".to_owned()).await.unwrap(),
        Some(record("ann", "u_1"))
    );
    assert_eq!(store.user("nobody".to_owned()).await.unwrap(), None);
    assert_eq!(
        store
            .user_by_sub("u_2".to_owned())
            .await
            .unwrap()
            .map(|u| u.username),
        Some("bob".to_owned())
    );
    assert_eq!(store.user_by_sub("u_9".to_owned()).await.unwrap(), None);

    // A replacement keeps the stored subject, whatever the record says.
    let mut changed = record("ann", "u_forged");
    changed.disabled = true;
    assert!(store.replace_user(changed).await.unwrap());
    let ann = store.user("ann".to_owned()).await.unwrap().unwrap();
    assert_eq!((ann.sub.as_str(), ann.disabled), ("u_1", true));
    assert!(
        !store.replace_user(record("carol", "u_3")).await.unwrap(),
        "no such user"
    );

    let names: Vec<_> = store
        .users()
        .await
        .unwrap()
        .into_iter()
        .map(|u| u.username)
        .collect();
    assert_eq!(names, ["ann", "bob"]);

    for sub in ["u_1", "u_2"] {
        store
            .put_consent(sub.to_owned(), "app:1".to_owned(), "openid".to_owned())
            .await
            .unwrap();
    }
    assert!(store.remove_user("ann".to_owned()).await.unwrap());
    assert!(
        !store.remove_user("ann".to_owned()).await.unwrap(),
        "removed once"
    );
    assert_eq!(store.user_by_sub("u_1".to_owned()).await.unwrap(), None);
    let consent = |sub: &str| store.consent(sub.to_owned(), "app:1".to_owned());
    assert_eq!(consent("u_1").await.unwrap(), None, "the consents go too");
    assert!(consent("u_2").await.unwrap().is_some(), "only theirs");
    assert!(store.remove_user("bob".to_owned()).await.unwrap());
    assert!(!store.has_users().await.unwrap(), "the last one gone");
    // The username is free again (with a new subject: `accounts` generates one).
    assert!(store.add_user(record("ann", "u_4")).await.unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_records_conform_on_sqlite() {
    let dir = Scratch::new("users-sqlite");
    let store = SqliteStore::open(&dir.path().join("store.sqlite3")).unwrap();
    records_conform(&store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_records_conform_on_redis() {
    let redis = RedisServer::start("users");
    let store = RedisStore::open(&redis.url()).unwrap();
    records_conform(&store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_on_redis_are_seen_by_every_instance_and_never_expire() {
    let redis = RedisServer::start("users-shared");
    let a: Arc<dyn Store> = Arc::new(RedisStore::open(&redis.url()).unwrap());
    let b: Arc<dyn Store> = Arc::new(RedisStore::open(&redis.url()).unwrap());
    let hasher = fast_hasher();
    accounts::add(
        a.as_ref(),
        &hasher,
        new_user("ann", "correct horse"),
        t(NOW),
    )
    .await
    .unwrap();
    let at_b = StoreDirectory::new(b, hasher);
    assert!(matches!(
        at_b.authenticate("ann".to_owned(), Password::new("correct horse".to_owned()))
            .await
            .unwrap(),
        Authentication::Authenticated(_)
    ));
    let client = redis::Client::open(redis.url()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    for key in ["jwtkit:users", "jwtkit:user-subjects"] {
        let ttl: i64 = redis::cmd("TTL")
            .arg(key)
            .query_async(&mut conn)
            .await
            .unwrap();
        assert_eq!(ttl, -1, "{key}: accounts do not expire");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_directory_answers_a_wrong_password_and_an_unknown_user_alike() {
    let dir = Scratch::new("users-directory");
    let store: Arc<dyn Store> =
        Arc::new(SqliteStore::open(&dir.path().join("store.sqlite3")).unwrap());
    let hasher = fast_hasher();
    let ann = accounts::add(
        store.as_ref(),
        &hasher,
        new_user("Ann", "correct horse"),
        t(NOW),
    )
    .await
    .unwrap();
    assert_eq!(ann.username, "ann", "kept lowercase");
    assert!(
        ann.sub.starts_with("u_") && ann.sub.len() == 34,
        "{}",
        ann.sub
    );
    assert!(ann.password_hash.starts_with("$argon2id$v=19$"), "argon2id");
    assert!(
        !format!("{ann:?}").contains("argon2"),
        "the hash is never printed"
    );

    let directory = StoreDirectory::new(store.clone(), hasher);
    let sign_in = |username: &str, password: &str| {
        directory.authenticate(username.to_owned(), Password::new(password.to_owned()))
    };
    let Authentication::Authenticated(claims) = sign_in("ANN", "correct horse").await.unwrap()
    else {
        panic!("the right password, any case of the username");
    };
    assert_eq!(claims.sub, ann.sub);
    assert_eq!(claims.email_verified, Some(true));
    assert_eq!(
        serde_json::to_value(&claims).unwrap(),
        serde_json::json!({
            "sub": ann.sub, "preferred_username": "ann", "name": "Ann Example",
            "email": "ann@example.org", "email_verified": true,
        })
    );
    assert_eq!(
        sign_in("ann", "Correct horse").await.unwrap(),
        Authentication::Refused
    );
    assert_eq!(
        sign_in("nobody", "correct horse").await.unwrap(),
        Authentication::Refused
    );
    assert_eq!(
        sign_in("not a name", "x").await.unwrap(),
        Authentication::Refused
    );
    assert_eq!(sign_in("", "").await.unwrap(), Authentication::Refused);

    assert_eq!(
        directory
            .claims(ann.sub.clone())
            .await
            .unwrap()
            .map(|c| c.preferred_username),
        Some("ann".to_owned())
    );
    accounts::set_disabled(store.as_ref(), "ann", true, t(NOW))
        .await
        .unwrap();
    // Disabled: said only to the right password; no claims for its tokens.
    assert_eq!(
        sign_in("ann", "correct horse").await.unwrap(),
        Authentication::Disabled
    );
    assert_eq!(
        sign_in("ann", "wrong horse").await.unwrap(),
        Authentication::Refused
    );
    assert_eq!(directory.claims(ann.sub.clone()).await.unwrap(), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_user_costs_a_hash_like_a_known_one() {
    let dir = Scratch::new("users-work");
    let store: Arc<dyn Store> =
        Arc::new(SqliteStore::open(&dir.path().join("store.sqlite3")).unwrap());
    let hasher = fast_hasher();
    accounts::add(
        store.as_ref(),
        &hasher,
        new_user("ann", "correct horse"),
        t(NOW),
    )
    .await
    .unwrap();
    let directory = StoreDirectory::new(store, hasher.clone());
    // Not a timing measurement (noisy on a shared machine): the work itself is counted.
    // Every answer checks one password against one argon2id hash, whoever asks.
    for username in ["ann", "nobody", "not a name", ""] {
        let before = hasher.verifications();
        let answer = directory
            .authenticate(username.to_owned(), Password::new("wrong horse".to_owned()))
            .await
            .unwrap();
        assert_eq!(answer, Authentication::Refused, "{username:?}");
        assert_eq!(
            hasher.verifications(),
            before + 1,
            "{username:?}: one hash checked"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn account_operations_refuse_for_the_right_reason_and_end_sessions() {
    let dir = Scratch::new("users-accounts");
    let store: Arc<dyn Store> =
        Arc::new(SqliteStore::open(&dir.path().join("store.sqlite3")).unwrap());
    let store = store.as_ref();
    let hasher = fast_hasher();
    let add = |user: NewUser| accounts::add(store, &hasher, user, t(NOW));

    assert_eq!(
        add(new_user("al ice", "correct horse")).await.unwrap_err(),
        AccountError::Username(UsernameProblem::Character(' '))
    );
    assert_eq!(
        add(new_user("alice", "short")).await.unwrap_err(),
        AccountError::Password(PasswordProblem::TooShort)
    );
    assert_eq!(
        add(new_user("alice", &"x".repeat(1025))).await.unwrap_err(),
        AccountError::Password(PasswordProblem::TooLong)
    );
    assert_eq!(
        add(new_user("alice1234", "ALICE1234")).await.unwrap_err(),
        AccountError::Password(PasswordProblem::SameAsUsername)
    );
    let mut bad_email = new_user("alice", "correct horse");
    bad_email.email = Some("alice at example".to_owned());
    assert!(
        matches!(add(bad_email).await.unwrap_err(), AccountError::Profile(m) if m.contains("not an e-mail address"))
    );
    let mut bad_name = new_user("alice", "correct horse");
    bad_name.name = Some("Alice\u{7}".to_owned());
    assert!(matches!(
        add(bad_name).await.unwrap_err(),
        AccountError::Profile(_)
    ));

    let alice = add(new_user("alice", "correct horse")).await.unwrap();
    assert_eq!(
        add(new_user("ALICE", "another horse")).await.unwrap_err(),
        AccountError::Taken("alice".to_owned())
    );

    // A typo is named with the closest username.
    let typo = accounts::set_disabled(store, "alcie", true, t(NOW))
        .await
        .unwrap_err();
    assert_eq!(
        typo,
        AccountError::NoSuchUser {
            username: "alcie".to_owned(),
            closest: Some("alice".to_owned())
        }
    );
    assert!(
        typo.to_string().contains("did you mean \"alice\""),
        "{typo}"
    );

    // A new password ends the sessions, and only the new one signs in.
    store
        .create_session(session("s1", &alice.sub))
        .await
        .unwrap();
    store
        .create_session(session("s22", &alice.sub))
        .await
        .unwrap();
    let new = Password::new("battery staple".to_owned());
    assert_eq!(
        accounts::set_password(store, &hasher, "alice", &new, t(NOW + 1))
            .await
            .unwrap(),
        2
    );
    assert!(
        store
            .sessions(Some(alice.sub.clone()), t(NOW + 2))
            .await
            .unwrap()
            .is_empty()
    );
    let directory = StoreDirectory::new(
        Arc::new(SqliteStore::open(&dir.path().join("store.sqlite3")).unwrap()),
        hasher.clone(),
    );
    assert_eq!(
        directory
            .authenticate(
                "alice".to_owned(),
                Password::new("correct horse".to_owned())
            )
            .await
            .unwrap(),
        Authentication::Refused
    );
    assert!(matches!(
        directory
            .authenticate("alice".to_owned(), new.clone())
            .await
            .unwrap(),
        Authentication::Authenticated(_)
    ));
    assert_eq!(
        accounts::set_password(
            store,
            &hasher,
            "alice",
            &Password::new("abc".to_owned()),
            t(NOW)
        )
        .await
        .unwrap_err(),
        AccountError::Password(PasswordProblem::TooShort)
    );

    // Disabling ends sessions; enabling ends none.
    store
        .create_session(session("s333", &alice.sub))
        .await
        .unwrap();
    assert_eq!(
        accounts::set_disabled(store, "alice", true, t(NOW + 3))
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        accounts::set_disabled(store, "alice", false, t(NOW + 4))
            .await
            .unwrap(),
        0
    );
    assert!(
        !store
            .user("alice".to_owned())
            .await
            .unwrap()
            .unwrap()
            .disabled
    );

    // Removal ends sessions; the username comes back with a new subject.
    store
        .create_session(session("s4444", &alice.sub))
        .await
        .unwrap();
    assert_eq!(
        accounts::remove(store, "alice", t(NOW + 5)).await.unwrap(),
        1
    );
    assert!(matches!(
        accounts::remove(store, "alice", t(NOW + 5))
            .await
            .unwrap_err(),
        AccountError::NoSuchUser { closest: None, .. }
    ));
    let again = add(new_user("alice", "correct horse")).await.unwrap();
    assert_ne!(again.sub, alice.sub, "a subject is never reassigned");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hashing_is_bounded_and_a_full_queue_is_refused_at_once() {
    // One at a time, one waiting: the third concurrent hash is refused, not queued.
    let hasher = PasswordHasher::with_limits(Params::DEFAULT, 1, 1);
    let password = Password::new("correct horse".to_owned());
    let (a, b, c) = tokio::join!(
        hasher.hash(&password),
        hasher.hash(&password),
        hasher.hash(&password)
    );
    assert!(a.is_ok() && b.is_ok(), "{a:?} {b:?}");
    assert_eq!(c, Err(HashError::Busy));
    assert_eq!(
        DirectoryError::from(HashError::Busy).to_string(),
        "too many sign-ins at once: retry in a moment"
    );
    // Once the queue drains, hashing goes on.
    let hash = hasher.hash(&password).await.unwrap();
    assert!(hasher.verify(&password, &hash).await.unwrap());
    assert!(
        !hasher
            .verify(&Password::new("wrong".to_owned()), &hash)
            .await
            .unwrap()
    );
    assert!(matches!(
        hasher.verify(&password, "not a hash").await,
        Err(HashError::Failed(m)) if m.contains("malformed")
    ));
    assert_eq!(format!("{password:?}"), "Password(<redacted>)");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hashes_are_standard_phc_strings_that_other_implementations_verify() {
    let hasher = PasswordHasher::new();
    // The reference implementation's argon2id test vector (phc-winner-argon2): other
    // parameters than ours, still verified.
    let reference =
        "$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc";
    assert!(
        hasher
            .verify(&Password::new("password".to_owned()), reference)
            .await
            .unwrap()
    );
    assert!(
        !hasher
            .verify(&Password::new("passwore".to_owned()), reference)
            .await
            .unwrap()
    );
    // Ours: the OWASP parameters, 16 bytes of salt, 32 of output.
    let ours = hasher
        .hash(&Password::new("correct horse".to_owned()))
        .await
        .unwrap();
    let parts: Vec<&str> = ours.split('$').collect();
    assert_eq!(
        &parts[1..4],
        ["argon2id", "v=19", "m=19456,t=2,p=1"],
        "{ours}"
    );
    assert_eq!((parts[4].len(), parts[5].len()), (22, 43), "{ours}");
}
