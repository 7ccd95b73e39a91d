//! Signing keys kept in the store (`jwtkit_server::keys`), against a real SQLite file and a
//! real Redis: instances racing to take a step write it once, the raw store holds no private
//! key in the clear, and a wrong key-encryption key opens nothing and writes nothing.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::sync::Arc;

use jwtkit_core::{Algorithm, UnixTime};
use jwtkit_server::keys::{
    Change, Kek, KeyManager, KeyRing, ManagedKeysError, RingError, Schedule,
};
use jwtkit_server::store::KeyRecords;
use jwtkit_server::store::redis::RedisStore;
use jwtkit_server::store::sqlite::SqliteStore;
use support::{RedisServer, Scratch};

const NOW: i64 = 1_700_000_000;

const SCHEDULE: Schedule = Schedule {
    rotation: 100,
    announcement: 30,
    retention: 50,
    alg: Algorithm::ES256,
};

fn t(secs: i64) -> UnixTime {
    UnixTime::from_secs(secs).unwrap()
}

/// Instances on one store, one KEK, stepping at the same moments at once: each step's change
/// is written by one of them, and all end with the same ring — one current key and one next,
/// never a second generation.
async fn racing_instances_write_each_change_once(stores: Vec<Arc<dyn KeyRecords>>) {
    let kek = Kek::generate().unwrap();
    let managers: Vec<KeyManager> = stores
        .iter()
        .map(|store| KeyManager::new(store.clone(), Kek::from_base64url(&kek).unwrap(), SCHEDULE))
        .collect();
    for at in [NOW, NOW + 10, NOW + 100, NOW + 150, NOW + 200] {
        let steps = futures_util::future::join_all(managers.iter().map(|m| m.step(t(at)))).await;
        let steps: Vec<_> = steps.into_iter().map(Result::unwrap).collect();
        let generated: usize = steps
            .iter()
            .flat_map(|s| &s.changes)
            .filter(|c| matches!(c, Change::Generated { .. }))
            .count();
        let expected = match at - NOW {
            0 => 2,        // the first key and its next
            10 | 150 => 0, // nothing due
            _ => 1,        // a rotation's new next key
        };
        assert_eq!(generated, expected, "keys generated at NOW + {}", at - NOW);
        let rings: Vec<&KeyRing> = steps.iter().map(|s| &s.ring).collect();
        assert!(
            rings.windows(2).all(|w| w[0] == w[1]),
            "every instance sees one ring"
        );
        assert_eq!(rings[0].upcoming(at).len(), 1);
        let signing: Vec<String> = steps
            .iter()
            .map(|s| s.open.signing.as_ref().unwrap().kid().to_owned())
            .collect();
        assert!(signing.windows(2).all(|w| w[0] == w[1]), "one signing key");
    }
    let stored = stores[0].key_ring(t(NOW + 200)).await.unwrap();
    let ring = KeyRing::from_document(
        &stored.document.unwrap(),
        &Kek::from_base64url(&kek).unwrap(),
    )
    .unwrap();
    // NOW + 200: the third key signs, the second retired at NOW + 200 stays, the first
    // (retired at NOW + 100, retention 50) went.
    assert_eq!(ring.keys.len(), 3);
}

/// The raw store, read directly, holds each key's public part and no private one; a wrong
/// KEK fails the step naming the key it cannot open, and writes nothing.
async fn the_store_alone_reveals_no_private_key(
    store: Arc<dyn KeyRecords>,
    raw: impl Fn() -> String,
) {
    let kek = Kek::generate().unwrap();
    let manager = KeyManager::new(store.clone(), Kek::from_base64url(&kek).unwrap(), SCHEDULE);
    let stepped = manager.step(t(NOW)).await.unwrap();
    let text = raw();
    for key in stepped.open.keys.iter() {
        let private = key.to_private_jwk();
        let d = private.d.as_deref().unwrap();
        assert!(
            !text.contains(d),
            "{}'s private scalar in the clear",
            key.kid()
        );
        assert!(
            text.contains(private.x.as_deref().unwrap()),
            "its public part is there"
        );
    }
    let version = store.key_ring(t(NOW)).await.unwrap().version;
    let wrong = KeyManager::new(
        store.clone(),
        Kek::from_base64url(&Kek::generate().unwrap()).unwrap(),
        SCHEDULE,
    );
    let error = wrong.step(t(NOW + 100)).await.unwrap_err();
    assert_eq!(error, ManagedKeysError::Ring(RingError::Forged));
    assert!(
        error
            .to_string()
            .contains("does not verify under the key-encryption key"),
        "{error}"
    );
    assert_eq!(
        store.key_ring(t(NOW)).await.unwrap().version,
        version,
        "nothing written"
    );
}

/// Someone with write access to the store but not the KEK: a ring rolled back to an earlier
/// document (one that still held a key since retired, say) is refused by an instance that
/// read a later one, and a document changed by hand by every instance.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ring_rolled_back_or_changed_in_the_store_is_refused() {
    let dir = Scratch::new("keys-rollback");
    let store: Arc<dyn KeyRecords> =
        Arc::new(SqliteStore::open(&dir.path().join("store.sqlite3")).unwrap());
    let kek = Kek::generate().unwrap();
    let manager = KeyManager::new(store.clone(), Kek::from_base64url(&kek).unwrap(), SCHEDULE);
    manager.step(t(NOW)).await.unwrap();
    let early = store.key_ring(t(NOW)).await.unwrap();
    manager.step(t(NOW + 100)).await.unwrap(); // a rotation: a new next key written
    let late = store.key_ring(t(NOW)).await.unwrap();
    assert!(late.version > early.version);
    // The attacker writes the early document back.
    assert!(
        store
            .replace_key_ring(late.version, early.document.clone().unwrap())
            .await
            .unwrap()
    );
    let error = manager.step(t(NOW + 101)).await.unwrap_err();
    assert!(
        matches!(error, ManagedKeysError::Ring(RingError::RolledBack { .. })),
        "{error:?}"
    );
    // A time changed by hand: every instance refuses the ring, a new one too.
    let stored = store.key_ring(t(NOW)).await.unwrap();
    let changed = stored
        .document
        .unwrap()
        .replacen("signs_from", "signs_frum", 1);
    assert!(
        store
            .replace_key_ring(stored.version, changed)
            .await
            .unwrap()
    );
    let fresh = KeyManager::new(store.clone(), Kek::from_base64url(&kek).unwrap(), SCHEDULE);
    assert_eq!(
        fresh.step(t(NOW + 101)).await.unwrap_err(),
        ManagedKeysError::Ring(RingError::Forged)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_instances_on_one_file_write_each_change_once() {
    let dir = Scratch::new("keys-race");
    let path = dir.path().join("store.sqlite3");
    // Two stores on one file: two connections, as two processes would have.
    let stores: Vec<Arc<dyn KeyRecords>> = vec![
        Arc::new(SqliteStore::open(&path).unwrap()),
        Arc::new(SqliteStore::open(&path).unwrap()),
        Arc::new(SqliteStore::open(&path).unwrap()),
    ];
    racing_instances_write_each_change_once(stores).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_instances_write_each_change_once() {
    let redis = RedisServer::start("keys-race");
    let stores: Vec<Arc<dyn KeyRecords>> = (0..3)
        .map(|_| {
            Arc::new(
                RedisStore::open_with_clock(
                    &redis.url(),
                    jwtkit_server::store::redis::Clock::Caller,
                )
                .unwrap(),
            ) as Arc<dyn KeyRecords>
        })
        .collect();
    racing_instances_write_each_change_once(stores).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_holds_no_private_key_in_the_clear() {
    let dir = Scratch::new("keys-raw");
    let path = dir.path().join("store.sqlite3");
    let store = Arc::new(SqliteStore::open(&path).unwrap());
    the_store_alone_reveals_no_private_key(store, || {
        // The file as a reader of it sees it: every table, WAL included (a second connection
        // reads the committed pages).
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.query_row("SELECT document FROM key_ring", [], |row| {
            row.get::<_, String>(0)
        })
        .unwrap()
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_holds_no_private_key_in_the_clear() {
    let redis = RedisServer::start("keys-raw");
    let store = Arc::new(RedisStore::open(&redis.url()).unwrap());
    let url = redis.url();
    the_store_alone_reveals_no_private_key(store, move || {
        let client = redis::Client::open(url.as_str()).unwrap();
        let mut conn = client.get_connection().unwrap();
        let all: Vec<String> = redis::cmd("HGETALL")
            .arg("jwtkit:keys")
            .query(&mut conn)
            .unwrap();
        all.join("\n")
    })
    .await;
}
