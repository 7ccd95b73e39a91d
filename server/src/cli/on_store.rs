//! What the store's commands (`jwtkit sessions`, `jwtkit users`, `jwtkit clients`) share:
//! the `--store` argument, the clock, a runtime to run the store's calls on, and a store
//! made when it is missing.

use std::future::Future;

use jwtkit_core::{Clock as _, UnixTime};
use jwtkit_server::SystemClock;
use jwtkit_server::config::{StoreLocation, store_location, table::STORE};
use jwtkit_server::store::{self, Store, StoreError};

use super::Failure;

/// Where `--store` (or its default) says the store is.
pub(super) fn location(arg: Option<&str>) -> Result<StoreLocation, Failure> {
    let location = arg
        .or(STORE.default)
        .ok_or_else(|| Failure::usage("--store is required"))?;
    store_location(location).map_err(|e| Failure::usage(e.to_string()))
}

/// The time now.
pub(super) fn now() -> Result<UnixTime, Failure> {
    SystemClock
        .now()
        .map_err(|e| Failure::usage(format!("{e} ({})", e.code())))
}

/// Runs `work` to completion on a runtime of its own.
pub(super) fn run<T>(work: impl Future<Output = Result<T, Failure>>) -> Result<T, Failure> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::usage(format!("cannot start the runtime: {e}")))?
        .block_on(work)
}

/// A store error as a command's failure.
pub(super) fn failure(error: StoreError) -> Failure {
    Failure::usage(error.to_string())
}

/// The store, created when it is a SQLite file that does not exist yet (said on standard
/// error by `command`, so that a typo'd path shows).
pub(super) async fn open_or_create(
    location: &StoreLocation,
    command: &str,
) -> Result<std::sync::Arc<dyn Store>, Failure> {
    if let StoreLocation::Sqlite(path) = location
        && !path.exists()
    {
        eprintln!(
            "jwtkit {command}: creating a new store at {} (`jwtkit serve --store sqlite:{}` uses it)",
            path.display(),
            path.display()
        );
    }
    store::open(location).await.map_err(failure)
}
