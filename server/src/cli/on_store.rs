//! What the store's commands (`jwtkit sessions`, `jwtkit users`) share: the `--store`
//! argument, the clock, and a runtime to run the store's calls on.

use std::future::Future;

use jwtkit_core::{Clock as _, UnixTime};
use jwtkit_server::SystemClock;
use jwtkit_server::config::{StoreLocation, store_location, table::STORE};
use jwtkit_server::store::StoreError;

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
