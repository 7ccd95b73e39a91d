//! The connection's own thread, committing in groups: every operation waiting when the
//! thread is free runs in one `BEGIN IMMEDIATE` transaction, each inside a savepoint of its
//! own (an operation that fails rolls back alone), and each learns its result only once the
//! group has committed. Under load, one commit — one pass of the WAL's page writes and one
//! wake-up of the thread — serves many requests; alone, an operation is its own group.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc;

use rusqlite::Connection;

use crate::store::StoreError;

/// The most operations in one transaction: a group's latency stays that of a few.
const MAX_GROUP: usize = 64;

/// What an operation leaves to do once its group's fate is known: send its result, or the
/// group's failure.
type Finish = Box<dyn FnOnce(Result<(), StoreError>) + Send>;
/// An operation on the connection, inside the group's transaction; given no connection
/// (the group has no transaction to run in), it does not run.
type Job = Box<dyn FnOnce(Option<&mut Connection>) -> Finish + Send>;

/// The sending end of the connection's thread.
#[derive(Clone)]
pub(super) struct Writer(mpsc::Sender<Job>);

impl Writer {
    /// Gives `conn` to a thread of its own, which runs operations until every [`Writer`] is
    /// gone.
    pub(super) fn spawn(conn: Connection) -> Result<Self, StoreError> {
        let (send, receive) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("jwtkit-sqlite".to_owned())
            .spawn(move || serve(conn, &receive))
            .map_err(|e| StoreError::new(format!("cannot start the store's thread: {e}")))?;
        Ok(Self(send))
    }

    /// Queues `f` for the next group at once; its result once the group has committed.
    pub(super) fn run<T, F>(
        &self,
        f: F,
    ) -> impl Future<Output = Result<T, StoreError>> + Send + 'static
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> rusqlite::Result<T> + Send + 'static,
    {
        let (answer, answered) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move |conn| {
            // A panic unwinds through the operation's savepoint, which rolls it back.
            let outcome = conn.map(|conn| catch_unwind(AssertUnwindSafe(|| f(conn))));
            Box::new(move |committed| {
                let result = match (outcome, committed) {
                    (Some(Ok(Ok(value))), Ok(())) => Ok(value),
                    (Some(Ok(Err(error))), _) => Err(StoreError::new(error)),
                    (Some(Err(_)), _) => Err(StoreError::new("a store operation panicked")),
                    (_, Err(error)) => Err(error),
                    (None, Ok(())) => Err(StoreError::new("the operation did not run")),
                };
                // The caller may have gone (a client hanging up): nobody left to tell.
                let _ = answer.send(result);
            })
        });
        let sent = self.0.send(job);
        async move {
            let stopped = || StoreError::new("the store's thread has stopped");
            sent.map_err(|_| stopped())?;
            answered.await.map_err(|_| stopped())?
        }
    }
}

/// The thread: a group of the operations waiting, one transaction, then their answers.
fn serve(mut conn: Connection, receive: &mpsc::Receiver<Job>) {
    while let Ok(first) = receive.recv() {
        let mut group = vec![first];
        while group.len() < MAX_GROUP {
            match receive.try_recv() {
                Ok(job) => group.push(job),
                Err(_) => break,
            }
        }
        run_group(&mut conn, group);
    }
}

fn run_group(conn: &mut Connection, group: Vec<Job>) {
    if let Err(error) = begin(conn) {
        // No transaction to run in (another process holds the lock past the busy
        // timeout): the group fails without running.
        for job in group {
            job(None)(Err(error.clone()));
        }
        return;
    }
    let mut waiting: Vec<Finish> = Vec::with_capacity(group.len());
    let mut group = group.into_iter();
    while let Some(job) = group.next() {
        waiting.push(job(Some(conn)));
        if conn.is_autocommit() {
            // An error that ends a transaction (SQLITE_FULL, an I/O error) rolled back
            // the whole group so far: those waiting learn it, and the rest begin anew.
            let error = StoreError::new("the store's transaction was rolled back");
            for finish in waiting.drain(..) {
                finish(Err(error.clone()));
            }
            return run_group(conn, group.collect());
        }
    }
    let committed = conn.execute_batch("COMMIT").map_err(StoreError::new);
    if committed.is_err() && !conn.is_autocommit() {
        // Best effort: the error is what the operations learn either way.
        let _ = conn.execute_batch("ROLLBACK");
    }
    for finish in waiting {
        finish(committed.clone());
    }
}

fn begin(conn: &Connection) -> Result<(), StoreError> {
    conn.execute_batch("BEGIN IMMEDIATE")
        .map_err(StoreError::new)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use std::time::Duration;

    use super::*;

    fn writer() -> Writer {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE t (n INTEGER PRIMARY KEY)")
            .unwrap();
        Writer::spawn(conn).unwrap()
    }

    fn insert(conn: &mut Connection, n: i64) -> rusqlite::Result<()> {
        conn.execute("INSERT INTO t (n) VALUES (?1)", [n]).map(drop)
    }

    async fn rows(writer: &Writer) -> Vec<i64> {
        writer
            .run(|conn| {
                let mut query = conn.prepare("SELECT n FROM t ORDER BY n")?;
                let rows = query.query_map([], |row| row.get(0))?;
                rows.collect()
            })
            .await
            .unwrap()
    }

    /// Operations queued while the thread is busy run as one group; one that fails or
    /// panics inside its savepoint rolls back alone, and the others commit.
    #[tokio::test]
    async fn a_group_commits_each_operation_but_the_failing_ones() {
        let writer = writer();
        let (busy, free) = std::sync::mpsc::channel::<()>();
        let blocker = writer.run(move |conn| {
            free.recv_timeout(Duration::from_secs(5)).ok();
            insert(conn, 0)
        });
        let blocker = tokio::spawn(blocker);
        // Queued behind the blocker: one group.
        let good = writer.run(|conn| insert(conn, 1));
        let failing = writer.run(|conn| {
            let savepoint = conn.savepoint()?;
            savepoint.execute("INSERT INTO t (n) VALUES (2)", [])?;
            savepoint.execute("INSERT INTO t (n) VALUES (1)", [])?; // a duplicate key
            savepoint.commit()
        });
        let panicking = writer.run(|conn| -> rusqlite::Result<()> {
            let savepoint = conn.savepoint()?;
            savepoint.execute("INSERT INTO t (n) VALUES (3)", [])?;
            panic!("an operation's bug");
        });
        let last = writer.run(|conn| insert(conn, 4));
        busy.send(()).unwrap();
        blocker.await.unwrap().unwrap();
        let (good, failing, panicking, last) = tokio::join!(good, failing, panicking, last);
        good.unwrap();
        assert!(failing.unwrap_err().reason.contains("UNIQUE"));
        assert!(panicking.unwrap_err().reason.contains("panicked"));
        last.unwrap();
        assert_eq!(rows(&writer).await, [0, 1, 4]);
    }

    /// An operation learns its success only after its group committed: what it wrote is
    /// there for the next operation, and every answer comes.
    #[tokio::test]
    async fn many_concurrent_operations_all_commit() {
        let writer = writer();
        let all = (0..500).map(|n| {
            let writer = writer.clone();
            tokio::spawn(async move { writer.run(move |conn| insert(conn, n)).await })
        });
        for done in futures_util::future::join_all(all).await {
            done.unwrap().unwrap();
        }
        assert_eq!(rows(&writer).await, (0..500).collect::<Vec<_>>());
    }
}
