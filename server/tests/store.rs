//! One conformance suite for both stores: the same scenarios against SQLite (a file) and
//! against a real Redis started by the test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::sync::Arc;

use jwtkit_core::UnixTime;
use jwtkit_server::store::redis::{Clock, RedisStore};
use jwtkit_server::store::sqlite::SqliteStore;
use jwtkit_server::store::{
    Endpoint, NewSession, ProofReplays, Redeemed, Revocation, Rotated, Rotation, Store, TokenHash,
};
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
        client_id: sub.to_owned(),
        endpoint: Endpoint::Auth,
        roles: vec!["user".to_owned()],
        refresh,
        now: t(NOW),
        absolute_expiry: t(NOW + 7 * 86_400),
        idle_expiry: t(NOW + 3600),
        max_per_subject: 1000,
        revoke_until: t(NOW + 300),
        code: None,
        jkt: None,
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
    assert_eq!(
        (info.client_id.as_str(), info.endpoint),
        ("ann", Endpoint::Auth)
    );

    assert_eq!(info.jkt, None, "not bound");

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
    assert!(
        store
            .end_session("s4".into(), t(NOW), t(NOW + 300))
            .await
            .unwrap()
    );
    assert!(
        !store
            .end_session("s4".into(), t(NOW), t(NOW + 300))
            .await
            .unwrap(),
        "once"
    );
    // A session the store no longer knows (pruned) was not live, but its access tokens may
    // be: the revocation is recorded all the same.
    assert!(
        !store
            .end_session("nope".into(), t(NOW), t(NOW + 300))
            .await
            .unwrap()
    );
    assert_eq!(
        store
            .end_sessions_of("bob".into(), t(NOW), t(NOW + 300))
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
    assert_eq!(
        sorted,
        ["nope", "s1", "s2", "s3", "s4", "s5"],
        "each once: s4's second end records nothing"
    );
    assert!(batch.caught_up);
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

    // Failure counters: atomic, windowed, read without counting.
    let key = || "auth:1.2.3.4".to_owned();
    assert_eq!(store.failures(key(), t(NOW)).await.unwrap().count, 0);
    for expected in 1..=3 {
        let failures = store.count_failure(key(), t(NOW), 60.0).await.unwrap();
        assert_eq!(
            (failures.count, failures.window_end),
            (expected, t(NOW + 60))
        );
    }
    let read = store.failures(key(), t(NOW + 59)).await.unwrap();
    assert_eq!((read.count, read.window_end), (3, t(NOW + 60)));
    assert_eq!(
        store.failures(key(), t(NOW + 59)).await.unwrap().count,
        3,
        "reading counts nothing"
    );
    assert_eq!(
        store.failures(key(), t(NOW + 60)).await.unwrap().count,
        0,
        "the window is over"
    );
    let fresh = store.count_failure(key(), t(NOW + 60), 60.0).await.unwrap();
    assert_eq!(
        (fresh.count, fresh.window_end),
        (1, t(NOW + 120)),
        "a new window"
    );
    let counts = futures_util::future::join_all(
        (0..20).map(|_| store.count_failure("auth:5.6.7.8".into(), t(NOW), 60.0)),
    )
    .await;
    let mut counts: Vec<u32> = counts.into_iter().map(|a| a.unwrap().count).collect();
    counts.sort_unstable();
    assert_eq!(
        counts,
        (1..=20).collect::<Vec<_>>(),
        "no two callers see the same count"
    );

    // Where a session started and for whom: kept through rotations.
    let mut confidential = session("t1", "svc", h(61));
    confidential.client_id = "app".into();
    confidential.endpoint = Endpoint::Token;
    store.create_session(confidential).await.unwrap();
    let Rotated::Rotated(info) = store.rotate(rotation(h(61), h(62), NOW + 5)).await.unwrap()
    else {
        panic!("current");
    };
    assert_eq!(
        (info.sub.as_str(), info.client_id.as_str(), info.endpoint),
        ("svc", "app", Endpoint::Token)
    );

    // At most max_per_subject live sessions: one more ends the oldest, and records its
    // revocation.
    let capped = |sid: &str, n: u8, at: i64| {
        let mut s = session(sid, "dan", h(n));
        s.max_per_subject = 2;
        s.now = t(at);
        s.absolute_expiry = t(at + 7 * 86_400);
        s
    };
    assert!(
        store
            .create_session(capped("d1", 71, NOW))
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        store
            .create_session(capped("d2", 72, NOW + 1))
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        store
            .create_session(capped("d3", 73, NOW + 2))
            .await
            .unwrap(),
        ["d1"]
    );
    let listed: Vec<String> = store
        .sessions(Some("dan".into()), t(NOW + 3))
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.sid)
        .collect();
    assert_eq!(listed, ["d2", "d3"]);
    assert_eq!(
        store.rotate(rotation(h(71), h(74), NOW + 3)).await.unwrap(),
        Rotated::Revoked
    );
    let latest = store.revocations(String::new(), t(NOW + 3)).await.unwrap();
    assert!(latest.revocations.iter().any(
        |r| matches!(r, Revocation::Session { sid, until } if sid == "d1" && *until == t(NOW + 300))
    ));
    // Ended sessions make room too: after a logout, no live session is ended.
    assert!(
        store
            .end_session("d2".into(), t(NOW), t(NOW + 300))
            .await
            .unwrap()
    );
    assert!(
        store
            .create_session(capped("d4", 75, NOW + 4))
            .await
            .unwrap()
            .is_empty()
    );

    store.prune(t(NOW + 10)).await.unwrap();

    // A code redeemed once; the session it starts is recorded with it, and a replay names it.
    store
        .put_code(h(90), "{\"grant\":1}".into(), t(NOW), 60.0)
        .await
        .unwrap();
    assert_eq!(
        store.redeem_code(h(90), t(NOW + 1)).await.unwrap(),
        Redeemed::Fresh("{\"grant\":1}".into())
    );
    let mut started = session("c1", "cat", h(91));
    started.code = Some(h(90));
    store.create_session(started).await.unwrap();
    assert_eq!(
        store.redeem_code(h(90), t(NOW + 2)).await.unwrap(),
        Redeemed::Replayed {
            sid: Some("c1".into())
        }
    );
    assert_eq!(
        store.redeem_code(h(92), t(NOW + 2)).await.unwrap(),
        Redeemed::Unknown
    );
    // A code replayed between its redemption and its session's start: the session ends as
    // it starts.
    store
        .put_code(h(95), "{\"grant\":2}".into(), t(NOW), 60.0)
        .await
        .unwrap();
    assert!(matches!(
        store.redeem_code(h(95), t(NOW + 1)).await.unwrap(),
        Redeemed::Fresh(_)
    ));
    assert_eq!(
        store.redeem_code(h(95), t(NOW + 1)).await.unwrap(),
        Redeemed::Replayed { sid: None },
        "replayed before its session started"
    );
    let mut raced = session("c3", "cat", h(96));
    raced.code = Some(h(95));
    assert_eq!(store.create_session(raced).await.unwrap(), ["c3"]);
    assert_eq!(
        store.rotate(rotation(h(96), h(97), NOW + 2)).await.unwrap(),
        Rotated::Revoked
    );

    // A session naming a code the store no longer has starts all the same.
    let mut late = session("c2", "cat", h(93));
    late.code = Some(h(94));
    store.create_session(late).await.unwrap();
    assert_eq!(
        store.redeem_code(h(94), t(NOW + 2)).await.unwrap(),
        Redeemed::Unknown
    );

    // A code redeemed and its session started in one step: the start sees the code's
    // document; a replay names the session; a start that refuses uses the code up all the
    // same and starts nothing.
    store
        .put_code(h(100), "{\"grant\":3}".into(), t(NOW), 60.0)
        .await
        .unwrap();
    let seen = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let start = {
        let seen = seen.clone();
        let mut started = session("c4", "cat", h(101));
        started.code = Some(h(100));
        Box::new(move |document: &str| {
            *seen.lock().unwrap() = document.to_owned();
            Some(started.clone())
        })
    };
    let (redeemed, ended) = store
        .redeem_code_for_session(h(100), t(NOW + 1), start)
        .await
        .unwrap();
    assert_eq!(redeemed, Redeemed::Fresh("{\"grant\":3}".into()));
    assert_eq!(ended, Some(vec![]));
    assert_eq!(*seen.lock().unwrap(), "{\"grant\":3}");
    assert!(matches!(
        store
            .rotate(rotation(h(101), h(102), NOW + 2))
            .await
            .unwrap(),
        Rotated::Rotated(_)
    ));
    let (replayed, ended) = store
        .redeem_code_for_session(h(100), t(NOW + 2), Box::new(|_| panic!("not started")))
        .await
        .unwrap();
    assert_eq!(
        (replayed, ended),
        (
            Redeemed::Replayed {
                sid: Some("c4".into())
            },
            None
        )
    );
    store
        .put_code(h(103), "{\"grant\":4}".into(), t(NOW), 60.0)
        .await
        .unwrap();
    let (redeemed, ended) = store
        .redeem_code_for_session(h(103), t(NOW + 1), Box::new(|_| None))
        .await
        .unwrap();
    assert_eq!(
        (redeemed, ended),
        (Redeemed::Fresh("{\"grant\":4}".into()), None)
    );
    assert_eq!(
        store.redeem_code(h(103), t(NOW + 2)).await.unwrap(),
        Redeemed::Replayed { sid: None },
        "refused, and used up"
    );
    let (unknown, ended) = store
        .redeem_code_for_session(h(104), t(NOW + 1), Box::new(|_| panic!("not started")))
        .await
        .unwrap();
    assert_eq!((unknown, ended), (Redeemed::Unknown, None));

    // Consents: by subject and client, replaced when given again.
    assert_eq!(
        store.consent("ann".into(), "app:1".into()).await.unwrap(),
        None
    );
    store
        .put_consent("ann".into(), "app:1".into(), "openid".into())
        .await
        .unwrap();
    store
        .put_consent("ann".into(), "app:1".into(), "email openid".into())
        .await
        .unwrap();
    assert_eq!(
        store
            .consent("ann".into(), "app:1".into())
            .await
            .unwrap()
            .as_deref(),
        Some("email openid")
    );
    assert_eq!(
        store.consent("bob".into(), "app:1".into()).await.unwrap(),
        None
    );
    assert_eq!(
        store.consent("ann".into(), "app:2".into()).await.unwrap(),
        None
    );

    // Registered clients: added once, found, listed by client_id, removed once.
    assert!(store.clients().await.unwrap().is_empty());
    assert!(
        store
            .add_client("web".into(), "{\"w\":1}".into())
            .await
            .unwrap()
    );
    assert!(
        store
            .add_client("app".into(), "{\"a\":1}".into())
            .await
            .unwrap()
    );
    assert!(
        !store
            .add_client("web".into(), "{\"w\":2}".into())
            .await
            .unwrap(),
        "a client_id is registered once"
    );
    assert_eq!(
        store.client("web".into()).await.unwrap().as_deref(),
        Some("{\"w\":1}"),
        "the first registration stands"
    );
    assert_eq!(store.client("nobody".into()).await.unwrap(), None);
    assert_eq!(store.clients().await.unwrap(), ["{\"a\":1}", "{\"w\":1}"]);
    assert!(store.remove_client("web".into()).await.unwrap());
    assert!(!store.remove_client("web".into()).await.unwrap());
    assert_eq!(store.client("web".into()).await.unwrap(), None);
    store.prune(t(NOW + 10_000)).await.unwrap();
    assert!(
        store.client("app".into()).await.unwrap().is_some(),
        "a registration does not expire"
    );

    // DPoP proofs: each accepted once, a replay refused, another proof unaffected.
    assert!(
        store
            .first_use_of_proof(h(200), t(NOW), t(NOW + 65))
            .await
            .unwrap()
    );
    assert!(
        !store
            .first_use_of_proof(h(200), t(NOW + 1), t(NOW + 66))
            .await
            .unwrap(),
        "a replay"
    );
    assert!(
        store
            .first_use_of_proof(h(201), t(NOW + 1), t(NOW + 66))
            .await
            .unwrap()
    );
}

/// A proof past its window is forgotten: on SQLite by the time given, on Redis by its key's
/// lifetime (a second here).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dpop_proof_is_forgotten_after_its_window() {
    let dir = Scratch::new("proofs-sqlite");
    let sqlite = SqliteStore::open(&dir.path().join("store.sqlite3")).unwrap();
    assert!(
        sqlite
            .first_use_of_proof(h(7), t(NOW), t(NOW + 65))
            .await
            .unwrap()
    );
    assert!(
        !sqlite
            .first_use_of_proof(h(7), t(NOW + 64), t(NOW + 129))
            .await
            .unwrap()
    );
    assert!(
        sqlite
            .first_use_of_proof(h(7), t(NOW + 65), t(NOW + 130))
            .await
            .unwrap()
    );
    // Pruned a slice of the hashes at a time: every slice's, its edges included, go; one
    // still in its window stays.
    for edge in [0, 3, 4, 127, 128, 251, 252, 255] {
        assert!(
            sqlite
                .first_use_of_proof(h(edge), t(NOW), t(NOW + 65))
                .await
                .unwrap()
        );
    }
    assert!(
        sqlite
            .first_use_of_proof(h(129), t(NOW), t(NOW + 300))
            .await
            .unwrap()
    );
    sqlite.prune(t(NOW + 200)).await.unwrap();
    let left: Vec<Vec<u8>> = rusqlite::Connection::open(dir.path().join("store.sqlite3"))
        .unwrap()
        .prepare("SELECT hash FROM dpop_proofs")
        .unwrap()
        .query_map([], |row| row.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(left, [h(129).to_vec()]);
    assert!(
        sqlite
            .first_use_of_proof(h(7), t(NOW + 200), t(NOW + 265))
            .await
            .unwrap()
    );

    let redis = RedisServer::start("proofs");
    let store = RedisStore::open(&redis.url()).unwrap();
    let now = UnixTime::from_secs_f64(1_800_000_000.0).unwrap();
    let until = UnixTime::from_secs_f64(1_800_000_001.0).unwrap();
    assert!(store.first_use_of_proof(h(7), now, until).await.unwrap());
    assert!(!store.first_use_of_proof(h(7), now, until).await.unwrap());
    tokio::time::sleep(std::time::Duration::from_millis(1_300)).await;
    assert!(store.first_use_of_proof(h(7), now, until).await.unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_conforms() {
    let dir = Scratch::new("conformance-sqlite");
    let store = SqliteStore::open(&dir.path().join("store.sqlite3")).unwrap();
    conformance(Arc::new(store)).await;
}

/// A session bound to a DPoP key keeps its thumbprint through rotations and grace.
async fn bound_session(store: Arc<dyn Store>) {
    let mut bound = session("s-bound", "ann", h(60));
    bound.jkt = Some("0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I".to_owned());
    store.create_session(bound.clone()).await.unwrap();
    let Rotated::Rotated(info) = store
        .rotate(rotation(h(60), h(61), NOW + 10))
        .await
        .unwrap()
    else {
        panic!("the bound session's first token is current");
    };
    assert_eq!(info.jkt, bound.jkt);
    let Rotated::Grace(info, _) = store
        .rotate(rotation(h(60), h(62), NOW + 11))
        .await
        .unwrap()
    else {
        panic!("grace expected");
    };
    assert_eq!(info.jkt, bound.jkt);
    let listed = store
        .sessions(Some("ann".into()), t(NOW + 12))
        .await
        .unwrap();
    assert_eq!(listed[0].jkt, bound.jkt);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bound_session_keeps_its_key_on_both_stores() {
    let dir = Scratch::new("bound-sqlite");
    bound_session(Arc::new(
        SqliteStore::open(&dir.path().join("store.sqlite3")).unwrap(),
    ))
    .await;
    let redis = RedisServer::start("bound");
    bound_session(Arc::new(
        RedisStore::open_with_clock(&redis.url(), Clock::Caller).unwrap(),
    ))
    .await;
}

/// The session tables as an earlier version wrote them: with rowids, without `jkt`.
const EARLIER_SCHEMA: &str = "
CREATE TABLE sessions (
    sid TEXT PRIMARY KEY, sub TEXT NOT NULL, roles TEXT NOT NULL, created REAL NOT NULL,
    absolute_expiry REAL NOT NULL, idle_expiry REAL NOT NULL,
    generation INTEGER NOT NULL DEFAULT 0, ended INTEGER NOT NULL DEFAULT 0,
    client_id TEXT, endpoint TEXT
);
CREATE INDEX sessions_by_sub_open ON sessions (sub, ended, created);
CREATE TABLE refresh_tokens (
    hash BLOB PRIMARY KEY,
    sid TEXT NOT NULL REFERENCES sessions (sid) ON DELETE CASCADE,
    generation INTEGER NOT NULL, rotated_at REAL, successor BLOB
);
CREATE INDEX refresh_tokens_by_sid ON refresh_tokens (sid);
";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_earlier_sqlite_file_is_rebuilt_without_rowids_its_sessions_kept() {
    let dir = Scratch::new("migrate-sqlite");
    let path = dir.path().join("store.sqlite3");
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch(EARLIER_SCHEMA).unwrap();
        conn.execute(
            "INSERT INTO sessions (sid, sub, roles, created, absolute_expiry, idle_expiry, client_id, endpoint)
             VALUES ('old', 'ann', '[\"user\"]', ?1, ?2, ?3, 'ann', 'auth')",
            rusqlite::params![NOW as f64, (NOW + 86_400) as f64, (NOW + 3600) as f64],
        )
        .unwrap();
        conn.execute(
            "INSERT INTO refresh_tokens (hash, sid, generation) VALUES (?1, 'old', 0)",
            rusqlite::params![&h(40)[..]],
        )
        .unwrap();
        // Written with foreign keys off: a refresh token whose session is gone.
        conn.execute_batch("PRAGMA foreign_keys = OFF").unwrap();
        conn.execute(
            "INSERT INTO refresh_tokens (hash, sid, generation) VALUES (?1, 'gone', 0)",
            rusqlite::params![&h(43)[..]],
        )
        .unwrap();
    }
    let store = SqliteStore::open(&path).unwrap();
    let Rotated::Rotated(info) = store.rotate(rotation(h(40), h(41), NOW + 5)).await.unwrap()
    else {
        panic!("the earlier session's refresh token is current");
    };
    assert_eq!(
        (info.sid.as_str(), info.generation, info.jkt),
        ("old", 1, None)
    );
    assert_eq!(
        store.rotate(rotation(h(43), h(44), NOW + 5)).await.unwrap(),
        Rotated::Unknown,
        "the orphan was left behind"
    );
    drop(store);
    let conn = rusqlite::Connection::open(&path).unwrap();
    for table in ["sessions", "refresh_tokens"] {
        let sql: String = conn
            .query_row(
                "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?1",
                [table],
                |row| row.get(0),
            )
            .unwrap();
        assert!(sql.contains("WITHOUT ROWID"), "{table}: {sql}");
    }
    let indexes: i64 = conn
        .query_row(
            "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name IN ('sessions_by_sub_open', 'refresh_tokens_by_sid')",
            [],
            |row| row.get(0),
        )
        .unwrap();
    assert_eq!(indexes, 2);
    // Opening it again changes nothing.
    drop(conn);
    let store = SqliteStore::open(&path).unwrap();
    assert!(matches!(
        store.rotate(rotation(h(41), h(42), NOW + 6)).await.unwrap(),
        Rotated::Rotated(info) if info.generation == 2
    ));
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
            .count_failure(format!("auth:10.0.0.{client}"), t(NOW + client), 60.0)
            .await
            .unwrap();
    }
    store.prune(t(NOW)).await.unwrap();
    // The three windows ending soonest were forgotten: those clients start afresh.
    for client in 0..8 {
        let attempts = store
            .count_failure(format!("auth:10.0.0.{client}"), t(NOW + 10), 60.0)
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
    // The scenarios move time: the store judges by the `now` each call passes.
    let store = RedisStore::open_with_clock(&redis.url(), Clock::Caller).unwrap();
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

/// A session, rotated and ended, and a failure counter: what each store keeps of them.
async fn some_of_everything(store: &dyn Store) {
    store
        .create_session(session("s1", "ann", h(1)))
        .await
        .unwrap();
    store.rotate(rotation(h(1), h(2), NOW + 10)).await.unwrap();
    store
        .create_session(session("s2", "ann", h(3)))
        .await
        .unwrap();
    store
        .end_session("s2".into(), t(NOW), t(NOW + 300))
        .await
        .unwrap();
    store.revoke_token("j1".into(), t(NOW + 200)).await.unwrap();
    store
        .count_failure("auth:1.2.3.4".into(), t(NOW), 60.0)
        .await
        .unwrap();
    store
        .first_use_of_proof(h(9), t(NOW), t(NOW + 65))
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_redis_key_expires() {
    let redis = RedisServer::start("ttl");
    let store = RedisStore::open(&redis.url()).unwrap();
    some_of_everything(&store).await;
    let client = redis::Client::open(redis.url()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let mut keys: Vec<String> = redis::cmd("KEYS")
        .arg("jwtkit:*")
        .query_async(&mut conn)
        .await
        .unwrap();
    keys.sort();
    let kinds: std::collections::BTreeSet<&str> = keys
        .iter()
        .map(|k| k.split(':').nth(1).unwrap_or_default())
        .collect();
    assert_eq!(
        kinds.into_iter().collect::<Vec<_>>(),
        [
            "attempt",
            "dpop",
            "refresh",
            "revocations",
            "session",
            "subject-sessions"
        ],
        "{keys:?}"
    );
    for key in keys {
        let ttl: i64 = redis::cmd("TTL")
            .arg(&key)
            .query_async(&mut conn)
            .await
            .unwrap();
        if key == "jwtkit:revocations" {
            // The stream has no TTL: prune trims it by each entry's age.
            assert_eq!(ttl, -1);
        } else {
            assert!(ttl > 0, "{key} has no expiry ({ttl})");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_prune_forgets_everything_that_expired() {
    let dir = Scratch::new("prune-sqlite");
    let path = dir.path().join("store.sqlite3");
    let store = SqliteStore::open(&path).unwrap();
    some_of_everything(&store).await;
    let rows = |table: &str| -> i64 {
        rusqlite::Connection::open(&path)
            .unwrap()
            .query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
            .unwrap()
    };
    const TABLES: [&str; 5] = [
        "sessions",
        "refresh_tokens",
        "revocations",
        "attempts",
        "dpop_proofs",
    ];
    store.prune(t(NOW + 30)).await.unwrap();
    assert_eq!(TABLES.map(rows), [2, 3, 2, 1, 1], "nothing expired yet");
    // The counter's window (60 s), the proof's (65 s) and the revocations (until NOW + 300)
    // are over; the sessions are remembered an hour past their end (idle: NOW + 10 + 3600).
    store.prune(t(NOW + 301)).await.unwrap();
    assert_eq!(TABLES.map(rows), [2, 3, 0, 0, 0]);
    store.prune(t(NOW + 10 + 3600 + 3600)).await.unwrap();
    assert_eq!(
        TABLES.map(rows),
        [0, 0, 0, 0, 0],
        "refresh tokens go with their session"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_redis_history_is_read_in_batches_and_caught_up_at_its_end() {
    let redis = RedisServer::start("history");
    let store = RedisStore::open(&redis.url()).unwrap();
    for i in 0..1001 {
        store
            .revoke_token(format!("j{i}"), t(NOW + 600))
            .await
            .unwrap();
    }
    let first = store.revocations(String::new(), t(NOW)).await.unwrap();
    assert_eq!(
        (first.revocations.len(), first.caught_up),
        (1000, false),
        "a full batch: more may follow"
    );
    let last = store.revocations(first.cursor, t(NOW)).await.unwrap();
    assert_eq!((last.revocations.len(), last.caught_up), (1, true));
}

/// Twenty rotations of one refresh token at once: one rotates; with no grace the others
/// are reuses (then the session is ended), within the grace window they all get the same
/// successor back.
async fn racing_rotations(store: Arc<dyn Store>) {
    for (sid, grace) in [("race-0", 0.0), ("race-10", 10.0)] {
        let first = if grace > 0.0 { 91 } else { 81 };
        store
            .create_session(session(sid, "racer", h(first)))
            .await
            .unwrap();
        let rotations = (0..20u8).map(|i| {
            let store = store.clone();
            tokio::spawn(async move {
                let mut r = rotation(h(first), h(first + 1 + i), NOW + 1);
                r.grace_seconds = grace;
                r.sealed_successor = [i; 32];
                store.rotate(r).await.unwrap()
            })
        });
        let outcomes: Vec<Rotated> = futures_util::future::join_all(rotations)
            .await
            .into_iter()
            .map(Result::unwrap)
            .collect();
        let rotated = outcomes
            .iter()
            .filter(|o| matches!(o, Rotated::Rotated(_)))
            .count();
        assert_eq!(rotated, 1, "{sid}: one winner: {outcomes:?}");
        if grace > 0.0 {
            let sealed: std::collections::BTreeSet<[u8; 32]> = outcomes
                .iter()
                .filter_map(|o| match o {
                    Rotated::Grace(_, sealed) => Some(*sealed),
                    _ => None,
                })
                .collect();
            assert_eq!(
                sealed.len(),
                1,
                "{sid}: one successor for all: {outcomes:?}"
            );
            let graced = outcomes
                .iter()
                .filter(|o| matches!(o, Rotated::Grace(..)))
                .count();
            assert_eq!(graced, 19, "{outcomes:?}");
        } else {
            assert!(
                outcomes.iter().all(|o| matches!(
                    o,
                    Rotated::Rotated(_) | Rotated::Reused { .. } | Rotated::Revoked
                )),
                "{outcomes:?}"
            );
            assert!(outcomes.iter().any(|o| matches!(o, Rotated::Reused { .. })));
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotations_race_on_redis() {
    let redis = RedisServer::start("race");
    racing_rotations(Arc::new(RedisStore::open(&redis.url()).unwrap())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotations_race_on_sqlite() {
    let dir = Scratch::new("race-sqlite");
    let store = SqliteStore::open(&dir.path().join("store.sqlite3")).unwrap();
    racing_rotations(Arc::new(store)).await;
}

fn real_now() -> f64 {
    jwtkit_core::Clock::now(&jwtkit_server::SystemClock)
        .unwrap()
        .as_secs_f64()
}

fn at(secs: f64) -> UnixTime {
    UnixTime::from_secs_f64(secs).unwrap()
}

/// Two instances whose clocks are ten days apart: `behind` starts a session with a minute
/// of idle life by its clock, `ahead` rotates it a moment later; `behind` counts a failure,
/// `ahead` reads the counter.
async fn clocks_apart(store: &RedisStore, sid: &str, refresh: u8) -> (Rotated, u32, f64, f64) {
    const DAYS: f64 = 10.0 * 86_400.0;
    let (behind, ahead) = (real_now() - DAYS, real_now() + DAYS);
    let mut s = session(sid, "ann", h(refresh));
    (s.now, s.idle_expiry, s.absolute_expiry) =
        (at(behind), at(behind + 60.0), at(behind + 3600.0));
    store.create_session(s).await.unwrap();
    let rotated = store
        .rotate(Rotation {
            now: at(ahead),
            ..rotation(h(refresh), h(refresh + 1), 0)
        })
        .await
        .unwrap();
    let key = format!("auth:{sid}");
    store
        .count_failure(key.clone(), at(behind), 60.0)
        .await
        .unwrap();
    let attempts = store.failures(key, at(ahead)).await.unwrap();
    (
        rotated,
        attempts.count,
        attempts.window_end.as_secs_f64() - ahead,
        ahead,
    )
}

/// `behind` (twenty days behind `ahead`) ends session `sid` (its access tokens revoked for
/// 300 s by its clock) and revokes the token `jti` until a time of the token's; what `ahead`
/// then reads of them: how long the session's revocation still lasts by its clock, and the
/// token's end.
async fn revoked_from_behind(
    store: &RedisStore,
    sid: &str,
    jti: &str,
    ahead: f64,
) -> (Option<f64>, Option<UnixTime>) {
    let behind = ahead - 20.0 * 86_400.0;
    store
        .end_session(sid.into(), at(behind), at(behind + 300.0))
        .await
        .unwrap();
    store.revoke_token(jti.into(), t(NOW + 60)).await.unwrap();
    let mut cursor = String::new();
    let (mut session, mut token) = (None, None);
    loop {
        let batch = store.revocations(cursor, at(ahead)).await.unwrap();
        for revocation in batch.revocations {
            match revocation {
                Revocation::Session { sid: s, until } if s == sid => {
                    session = Some(until.as_secs_f64() - ahead);
                }
                Revocation::Token { jti: j, until } if j == jti => token = Some(until),
                _ => {}
            }
        }
        cursor = batch.cursor;
        if batch.caught_up {
            return (session, token);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn instances_whose_clocks_disagree_are_judged_by_redis_time() {
    let redis = RedisServer::start("clocks");
    let store = RedisStore::open(&redis.url()).unwrap();
    let (rotated, count, window_left, ahead) = clocks_apart(&store, "c1", 10).await;
    let Rotated::Rotated(info) = rotated else {
        panic!("a session a moment old is live: {rotated:?}");
    };
    // Returned times are on the caller's clock: its idle life restarts from its own now.
    let idle_left = info.idle_expiry.as_secs_f64() - ahead;
    assert!((3590.0..=3600.5).contains(&idle_left), "{idle_left}");
    assert_eq!(count, 1, "the failure a moment ago still counts");
    assert!((50.0..=60.5).contains(&window_left), "{window_left}");
    // The listing from either clock shows the session as a moment old, on that clock.
    let listed = store.sessions(Some("ann".into()), at(ahead)).await.unwrap();
    let age = ahead - listed[0].created.as_secs_f64();
    assert!((0.0..10.0).contains(&age), "{age}");
    // A logout at the instance behind lasts its 300 s at the instance ahead too; a token's
    // revocation keeps the token's own time (its `exp`), which every instance judges as
    // it judges the `exp`.
    let (session, token) = revoked_from_behind(&store, "c1", "j1", ahead).await;
    let left = session.expect("the instance ahead sees the logout");
    assert!((290.0..=300.5).contains(&left), "{left}");
    assert_eq!(token, Some(t(NOW + 60)));

    // Judged by each caller's clock instead, the same steps go wrong (the test tells them
    // apart): the session's keys were set to expire ten days ago by Redis's clock and are
    // gone, and the counter's window is over by the reader's.
    let caller = RedisStore::open_with_clock(&redis.url(), Clock::Caller).unwrap();
    let (rotated, count, _, ahead) = clocks_apart(&caller, "c2", 20).await;
    assert_eq!((rotated, count), (Rotated::Unknown, 0));
    let (session, _) = revoked_from_behind(&caller, "c2", "j2", ahead).await;
    assert_eq!(
        session, None,
        "over by the clock ahead before it was written"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_time_ends_a_session_whatever_the_callers_clock_says() {
    let redis = RedisServer::start("clock-stopped");
    let store = RedisStore::open(&redis.url()).unwrap();
    let frozen = real_now();
    let mut s = session("idle", "ann", h(30));
    (s.now, s.idle_expiry) = (at(frozen), at(frozen + 1.0));
    store.create_session(s).await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    let rotated = store
        .rotate(Rotation {
            now: at(frozen),
            ..rotation(h(30), h(31), 0)
        })
        .await
        .unwrap();
    assert_eq!(rotated, Rotated::Expired, "a second of idle life is over");
}
