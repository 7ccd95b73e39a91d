//! Checkpoints on a thread and a connection of their own: the WAL's pages are copied into
//! the database file, and both are synced, while the store's thread goes on committing. The
//! store's own connection checkpoints only when the WAL has grown far (a backstop), so a
//! request never waits for the disk's sync.

use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::Duration;

use rusqlite::Connection;

use crate::store::StoreError;

/// How often the WAL is checkpointed: a page written many times in that while is copied
/// once.
const INTERVAL: Duration = Duration::from_secs(1);
/// The store's own connection checkpoints past this many WAL pages (32 MiB of 4 KiB pages),
/// should the checkpointer fall behind.
pub(super) const BACKSTOP_PAGES: u32 = 8192;

/// The checkpointer: it runs while this lives.
pub(super) struct Checkpointer {
    _alive: mpsc::Sender<()>,
}

impl Checkpointer {
    /// Checkpoints the store at `path` every [`INTERVAL`] until dropped.
    pub(super) fn spawn(path: &Path) -> Result<Self, StoreError> {
        let (alive, stopped) = mpsc::channel::<()>();
        let path: PathBuf = path.to_owned();
        let conn = Connection::open(&path)
            .and_then(|conn| conn.busy_timeout(Duration::from_secs(2)).map(|()| conn))
            .map_err(|e| StoreError::new(format!("cannot open {}: {e}", path.display())))?;
        std::thread::Builder::new()
            .name("jwtkit-checkpoint".to_owned())
            .spawn(move || {
                while let Err(RecvTimeoutError::Timeout) = stopped.recv_timeout(INTERVAL) {
                    // PASSIVE: never waits for the store's thread; what it cannot copy now,
                    // the next one does. A failure (the disk) is tried again.
                    if let Err(error) =
                        conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))
                    {
                        tracing::warn!(target: "jwtkit::store", %error, "a checkpoint failed");
                    }
                }
            })
            .map_err(|e| StoreError::new(format!("cannot start the checkpoint thread: {e}")))?;
        Ok(Self { _alive: alive })
    }
}
