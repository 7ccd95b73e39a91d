//! One conformance suite for both stores: the same scenarios against SQLite (a file) and
//! against a real Redis started by the test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::sync::Arc;

use jwtkit_core::UnixTime;
use jwtkit_server::store::redis::RedisStore;
use jwtkit_server::store::sqlite::SqliteStore;
use jwtkit_server::store::{NewSession, Revocation, Rotated, Rotation, Store, TokenHash};
use support::{RedisServer, Scratch};

const NOW: i64 = 1_800_000_000;

fn t(secs: i64) -> UnixTime {
    UnixTime::from_secs(secs).unwrap()
}

fn h(n: u8) -> TokenHash {
    [n; 32]
}

fn session(sid: &str, sub: &str, refresh: TokenHash) -> NewSession {
    NewSession {
        sid: sid.to_owned(),
        sub: sub.to_owned(),
        roles: vec!["user".to_owned()],
        refresh,
        now: t(NOW),
        absolute_expiry: t(NOW + 7 * 86_400),
        idle_expiry: t(NOW + 3600),
    }
}

fn rotation(presented: TokenHash, successor: TokenHash, now: i64) -> Rotation {
    Rotation {
        presented,
        successor,
        sealed_successor: [successor[0] ^ 0xAA; 32],
        now: t(now),
        grace_seconds: 10.0,
        idle_seconds: 3600.0,
        revoke_until: t(now + 300),
    }
}

/// Every scenario, in order, on one store.
async fn conformance(store: Arc<dyn Store>) {
    store.ping().await.unwrap();

    // Rotation: current → successor, generation by generation, the idle lifetime sliding.
    store
        .create_session(session("s1", "ann", h(1)))
        .await
        .unwrap();
    let Rotated::Rotated(info) = store.rotate(rotation(h(1), h(2), NOW + 10)).await.unwrap() else {
        panic!("the first token is current");
    };
    assert_eq!(
        (
            info.sid.as_str(),
            info.sub.as_str(),
            info.roles.clone(),
            info.generation
        ),
        ("s1", "ann", vec!["user".to_owned()], 1)
    );
    assert_eq!(info.idle_expiry, t(NOW + 10 + 3600), "slid");
    assert_eq!(info.created, t(NOW));

    // The immediate predecessor within the grace window: the sealed successor comes back.
    match store.rotate(rotation(h(1), h(9), NOW + 15)).await.unwrap() {
        Rotated::Grace(info, sealed) => {
            assert_eq!(sealed, [2 ^ 0xAA; 32], "the successor sealed at rotation");
            assert_eq!(info.generation, 1, "no new generation");
        }
        other => panic!("grace expected: {other:?}"),
    }
    assert!(matches!(
        store.rotate(rotation(h(2), h(3), NOW + 20)).await.unwrap(),
        Rotated::Rotated(info) if info.generation == 2
    ));
    // Two generations back, even within the window: reuse, and the session ends.
    assert_eq!(
        store.rotate(rotation(h(1), h(8), NOW + 21)).await.unwrap(),
        Rotated::Reused { sid: "s1".into() }
    );
    assert_eq!(
        store.rotate(rotation(h(3), h(4), NOW + 22)).await.unwrap(),
        Rotated::Revoked
    );
    assert_eq!(
        store
            .rotate(rotation(h(77), h(78), NOW + 22))
            .await
            .unwrap(),
        Rotated::Unknown
    );

    // After the grace window the immediate predecessor is a reuse too.
    store
        .create_session(session("s2", "ann", h(11)))
        .await
        .unwrap();
    store
        .rotate(rotation(h(11), h(12), NOW + 30))
        .await
        .unwrap();
    assert_eq!(
        store
            .rotate(rotation(h(11), h(13), NOW + 40))
            .await
            .unwrap(),
        Rotated::Reused { sid: "s2".into() },
        "10 s after: outside the window"
    );

    // Lifetimes.
    store
        .create_session(session("s3", "bob", h(21)))
        .await
        .unwrap();
    assert_eq!(
        store
            .rotate(rotation(h(21), h(22), NOW + 3600))
            .await
            .unwrap(),
        Rotated::Expired,
        "idle lifetime over"
    );

    // Ending sessions, one or every one of a subject.
    store
        .create_session(session("s4", "bob", h(31)))
        .await
        .unwrap();
    store
        .create_session(session("s5", "bob", h(41)))
        .await
        .unwrap();
    store
        .create_session(session("s6", "cy", h(51)))
        .await
        .unwrap();
    assert_eq!(
        store.session_of(h(31)).await.unwrap().as_deref(),
        Some("s4")
    );
    assert_eq!(store.session_of(h(99)).await.unwrap(), None);
    let listed: Vec<String> = store
        .sessions(Some("bob".into()), t(NOW + 1))
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.sid)
        .collect();
    assert_eq!(listed, ["s3", "s4", "s5"]);
    assert!(store.end_session("s4".into(), t(NOW + 300)).await.unwrap());
    assert!(
        !store.end_session("s4".into(), t(NOW + 300)).await.unwrap(),
        "once"
    );
    assert!(
        !store
            .end_session("nope".into(), t(NOW + 300))
            .await
            .unwrap()
    );
    assert_eq!(
        store
            .end_sessions_of("bob".into(), t(NOW + 300))
            .await
            .unwrap(),
        2
    );
    assert_eq!(
        store.rotate(rotation(h(41), h(42), NOW + 2)).await.unwrap(),
        Rotated::Revoked
    );
    let all: Vec<String> = store
        .sessions(None, t(NOW + 2))
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.sid)
        .collect();
    assert_eq!(all, ["s6"], "only live sessions are listed");
    store.revoke_token("j1".into(), t(NOW + 60)).await.unwrap();

    // Every revocation reaches a reader, in order, and a cursor moves past it.
    let batch = store.revocations(String::new(), t(NOW + 1)).await.unwrap();
    let sids: Vec<&str> = batch
        .revocations
        .iter()
        .filter_map(|r| match r {
            Revocation::Session { sid, .. } => Some(sid.as_str()),
            Revocation::Token { .. } => None,
        })
        .collect();
    let mut sorted = sids.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, ["s1", "s2", "s3", "s4", "s5"]);
    assert!(batch.revocations.contains(&Revocation::Token {
        jti: "j1".into(),
        until: t(NOW + 60)
    }));
    let after = store
        .revocations(batch.cursor.clone(), t(NOW + 1))
        .await
        .unwrap();
    assert!(after.revocations.is_empty());
    store.revoke_token("j2".into(), t(NOW + 60)).await.unwrap();
    let next = store.revocations(batch.cursor, t(NOW + 1)).await.unwrap();
    assert_eq!(next.revocations.len(), 1);
    // Expired revocations are not reported.
    let late = store
        .revocations(String::new(), t(NOW + 1000))
        .await
        .unwrap();
    assert!(late.revocations.is_empty(), "{late:?}");

    // Failure counters: atomic, windowed, and a success taken back.
    for expected in 1..=3 {
        let attempts = store
            .count_attempt("auth:1.2.3.4".into(), t(NOW), 60.0)
            .await
            .unwrap();
        assert_eq!(
            (attempts.count, attempts.window_end),
            (expected, t(NOW + 60))
        );
    }
    store.forget_attempt("auth:1.2.3.4".into()).await.unwrap();
    let attempts = store
        .count_attempt("auth:1.2.3.4".into(), t(NOW + 59), 60.0)
        .await
        .unwrap();
    assert_eq!(attempts.count, 3, "one was taken back");
    let fresh = store
        .count_attempt("auth:1.2.3.4".into(), t(NOW + 60), 60.0)
        .await
        .unwrap();
    assert_eq!(
        (fresh.count, fresh.window_end),
        (1, t(NOW + 120)),
        "a new window"
    );
    let counts = futures_util::future::join_all(
        (0..20).map(|_| store.count_attempt("auth:5.6.7.8".into(), t(NOW), 60.0)),
    )
    .await;
    let mut counts: Vec<u32> = counts.into_iter().map(|a| a.unwrap().count).collect();
    counts.sort_unstable();
    assert_eq!(
        counts,
        (1..=20).collect::<Vec<_>>(),
        "no two callers see the same count"
    );

    store.prune(t(NOW + 10)).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_conforms() {
    let dir = Scratch::new("conformance-sqlite");
    let store = SqliteStore::open(&dir.path().join("store.sqlite3")).unwrap();
    conformance(Arc::new(store)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_counts_a_bounded_number_of_clients() {
    let dir = Scratch::new("bounded-sqlite");
    let store = SqliteStore::open(&dir.path().join("store.sqlite3"))
        .unwrap()
        .with_max_counted_clients(5);
    for client in 0..8 {
        // Windows ending later for later clients.
        store
            .count_attempt(format!("auth:10.0.0.{client}"), t(NOW + client), 60.0)
            .await
            .unwrap();
    }
    store.prune(t(NOW)).await.unwrap();
    // The three windows ending soonest were forgotten: those clients start afresh.
    for client in 0..8 {
        let attempts = store
            .count_attempt(format!("auth:10.0.0.{client}"), t(NOW + 10), 60.0)
            .await
            .unwrap();
        assert_eq!(
            attempts.count,
            if client < 3 { 1 } else { 2 },
            "client {client}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_conforms() {
    let redis = RedisServer::start("conformance");
    let store = RedisStore::open(&redis.url()).unwrap();
    conformance(Arc::new(store)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_down_is_an_error_and_its_return_is_noticed() {
    let mut redis = RedisServer::start("outage");
    let store = RedisStore::open(&redis.url()).unwrap();
    store.ping().await.unwrap();
    redis.kill();
    assert!(store.ping().await.is_err());
    assert!(
        store
            .create_session(session("x", "ann", h(1)))
            .await
            .is_err()
    );
    redis.restart();
    let mut back = false;
    for _ in 0..50 {
        if store.ping().await.is_ok() {
            back = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(back, "the connection manager reconnects by itself");
    store
        .create_session(session("x", "ann", h(1)))
        .await
        .unwrap();
}
