//! The replay record of a DPoP proof (`ProofReplays::first_use_of_proof`), written as the
//! server writes it: to the SQLite store (a file in a fresh directory) and, when
//! `JWTKIT_BENCH_REDIS` names one, to Redis. `cargo xtask bench-http dpop` runs it beside its
//! HTTP rounds (Redis started by it) to put what a proof adds per request next to the bare
//! verification plus this write. Every record is a new one, as every accepted proof is.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};

use criterion::{Criterion, criterion_group, criterion_main};
use jwtkit_core::UnixTime;
use jwtkit_server::store::ProofReplays;
use jwtkit_server::store::redis::RedisStore;
use jwtkit_server::store::sqlite::SqliteStore;
use sha2::{Digest, Sha256};

/// A record never written before: the hash of a counter.
fn fresh(counter: &AtomicU64) -> [u8; 32] {
    Sha256::digest(counter.fetch_add(1, Ordering::Relaxed).to_le_bytes()).into()
}

fn replays(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let dir = std::env::temp_dir().join(format!("jwtkit-bench-replays-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let now = UnixTime::from_secs(1_700_000_000).unwrap();
    let until = now.saturating_add_secs(65.0);
    let counter = AtomicU64::new(0);
    let mut stores: Vec<(&str, Box<dyn ProofReplays>)> = vec![(
        "sqlite",
        Box::new(
            runtime
                .block_on(async { SqliteStore::open(&dir.join("replays.sqlite3")) })
                .unwrap(),
        ),
    )];
    match std::env::var("JWTKIT_BENCH_REDIS") {
        Ok(url) => {
            let redis = runtime.block_on(async { RedisStore::open(&url) }).unwrap();
            stores.push(("redis", Box::new(redis)));
        }
        Err(_) => eprintln!("JWTKIT_BENCH_REDIS names no Redis: its write is not measured"),
    }
    let mut group = c.benchmark_group("DPoP replay write");
    for (name, store) in &stores {
        group.bench_function(*name, |b| {
            b.iter(|| {
                let first = runtime
                    .block_on(store.first_use_of_proof(fresh(&counter), now, until))
                    .unwrap();
                assert!(black_box(first));
            })
        });
    }
    group.finish();
    drop(stores);
    std::fs::remove_dir_all(&dir).ok();
}

criterion_group!(benches, replays);
criterion_main!(benches);
