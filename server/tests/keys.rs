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

/// Someone with write access to the store but not the KEK (or a store that lost writes): a
/// ring rolled back to an earlier document — one that still held a key since retired, say —
/// or removed is written back by an instance that read a later one; a document changed by
/// hand is refused by every instance.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ring_rolled_back_removed_or_changed_in_the_store_is_mended_or_refused() {
    let dir = Scratch::new("keys-rollback");
    let path = dir.path().join("store.sqlite3");
    let store: Arc<dyn KeyRecords> = Arc::new(SqliteStore::open(&path).unwrap());
    let kek = Kek::generate().unwrap();
    let open = |document: &str| {
        KeyRing::from_document(document, &Kek::from_base64url(&kek).unwrap()).unwrap()
    };
    let manager = KeyManager::new(store.clone(), Kek::from_base64url(&kek).unwrap(), SCHEDULE);
    manager.step(t(NOW)).await.unwrap();
    let early = store.key_ring(t(NOW)).await.unwrap();
    let late = manager.step(t(NOW + 100)).await.unwrap().ring; // a rotation: a new next key
    let stored = store.key_ring(t(NOW)).await.unwrap();
    // The early document written back: the instance puts its later ring back in.
    assert!(
        store
            .replace_key_ring(stored.version, early.document.clone().unwrap())
            .await
            .unwrap()
    );
    let mended = manager.step(t(NOW + 101)).await.unwrap().ring;
    assert_eq!(mended.keys, late.keys);
    let now_stored = open(&store.key_ring(t(NOW)).await.unwrap().document.unwrap());
    assert_eq!(now_stored.keys, late.keys);
    assert!(now_stored.serial > late.serial);
    // Removed: the same.
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute("DELETE FROM key_ring", [])
        .unwrap();
    let mended = manager.step(t(NOW + 102)).await.unwrap().ring;
    assert_eq!(mended.keys, late.keys, "not a new ring of new keys");
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
        fresh.step(t(NOW + 103)).await.unwrap_err(),
        ManagedKeysError::Ring(RingError::Forged)
    );
}

/// Instances whose settings differ (a rolling change of `key_algorithm`): each plans by its
/// own settings once, as it starts, then by the ring's — the last one started — so they never
/// undo each other's steps.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn instances_with_other_settings_follow_the_last_started() {
    let dir = Scratch::new("keys-settings");
    let store: Arc<dyn KeyRecords> =
        Arc::new(SqliteStore::open(&dir.path().join("store.sqlite3")).unwrap());
    let kek = Kek::generate().unwrap();
    let old = KeyManager::new(store.clone(), Kek::from_base64url(&kek).unwrap(), SCHEDULE);
    old.step(t(NOW)).await.unwrap();
    let eddsa = Schedule {
        alg: Algorithm::EdDSA,
        ..SCHEDULE
    };
    let new = KeyManager::new(store.clone(), Kek::from_base64url(&kek).unwrap(), eddsa);
    let started = new.step(t(NOW + 10)).await.unwrap();
    assert!(started.changes.contains(&Change::Rescheduled));
    assert_eq!(started.ring.upcoming(NOW + 10)[0].alg, "EdDSA");
    for at in [NOW + 11, NOW + 12] {
        for manager in [&old, &new] {
            let stepped = manager.step(t(at)).await.unwrap();
            assert!(stepped.changes.is_empty(), "{:?}", stepped.changes);
        }
    }
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
