//! The connection's own thread, committing in groups: every operation waiting when the
//! thread is free runs in one `BEGIN IMMEDIATE` transaction, and each learns its result only
//! once the group has committed. Under load, one commit — one pass of the WAL's page writes
//! and one wake-up of the thread — serves many requests; alone, an operation is its own group.
//! Woken, the thread yields once before it gathers the group, so that on a busy core the
//! requests queue their operations into it rather than each waking the thread alone.
//!
//! An operation is atomic without a savepoint of its own (a savepoint copies every page it
//! touches into a sub-journal): should one fail or panic, the whole group rolls back and each
//! of its operations runs again alone, in a transaction of its own — the failing one then
//! fails alone, and the others commit. Operations are therefore closures that can run more
//! than once (`FnMut`), with no effect outside the connection.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc;

use rusqlite::Connection;
use tokio::sync::oneshot;

use crate::store::StoreError;

/// The most operations in one transaction: a group's latency stays that of a few.
const MAX_GROUP: usize = 64;

/// An operation waiting for its group: it runs (perhaps again, after a rollback), then
/// learns its group's fate.
trait Operation: Send {
    /// Runs inside the caller's transaction, keeping its result; whether it succeeded.
    fn run(&mut self, conn: &mut Connection) -> bool;
    /// Answers with the kept result, or `failure` (the transaction's own).
    fn finish(self: Box<Self>, failure: Option<StoreError>);
}

struct Pending<F, T> {
    f: F,
    result: Option<Result<T, StoreError>>,
    answer: oneshot::Sender<Result<T, StoreError>>,
}

impl<F, T> Operation for Pending<F, T>
where
    F: FnMut(&mut Connection) -> rusqlite::Result<T> + Send,
    T: Send,
{
    fn run(&mut self, conn: &mut Connection) -> bool {
        let result = match catch_unwind(AssertUnwindSafe(|| (self.f)(conn))) {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(error)) => Err(StoreError::new(error)),
            Err(_) => Err(StoreError::new("a store operation panicked")),
        };
        let ok = result.is_ok();
        self.result = Some(result);
        ok
    }

    fn finish(self: Box<Self>, failure: Option<StoreError>) {
        let result = match (failure, self.result) {
            (Some(error), _) => Err(error),
            (None, Some(result)) => result,
            (None, None) => Err(StoreError::new("the operation did not run")),
        };
        // The caller may have gone (a client hanging up): nobody left to tell.
        let _ = self.answer.send(result);
    }
}

type Job = Box<dyn Operation>;

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

    /// Queues `f` for the next group at once; its result once the group has committed. `f`
    /// may run more than once (see the module's documentation); only its last run counts.
    pub(super) fn run<T, F>(
        &self,
        f: F,
    ) -> impl Future<Output = Result<T, StoreError>> + Send + 'static
    where
        T: Send + 'static,
        F: FnMut(&mut Connection) -> rusqlite::Result<T> + Send + 'static,
    {
        let (answer, answered) = oneshot::channel();
        let sent = self.0.send(Box::new(Pending {
            f,
            result: None,
            answer,
        }));
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
        // Woken by the first operation, the thread lets the requests' threads run on before
        // it gathers its group: on a busy core (the thread would otherwise preempt the sender
        // at once, a group of one per request, two context switches each) the operations they
        // queue meanwhile join this group. On an idle machine it returns at once.
        std::thread::yield_now();
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

fn run_group(conn: &mut Connection, mut group: Vec<Job>) {
    if group.len() == 1 {
        return group.into_iter().for_each(|job| run_alone(conn, job));
    }
    if let Err(error) = begin(conn) {
        // No transaction to run in (another process holds the lock past the busy
        // timeout): the group fails without running.
        return group
            .into_iter()
            .for_each(|job| job.finish(Some(error.clone())));
    }
    let all_ran = group.iter_mut().all(|job| job.run(conn));
    if all_ran && conn.execute_batch("COMMIT").is_ok() {
        return group.into_iter().for_each(|job| job.finish(None));
    }
    // One failed (or the commit did): nothing of the group stays, and each runs again on
    // its own, so that only what fails by itself fails.
    rollback(conn);
    for job in group {
        run_alone(conn, job);
    }
}

/// `job` in a transaction of its own.
fn run_alone(conn: &mut Connection, mut job: Job) {
    if let Err(error) = begin(conn) {
        return job.finish(Some(error));
    }
    if !job.run(conn) {
        rollback(conn);
        return job.finish(None);
    }
    match conn.execute_batch("COMMIT").map_err(StoreError::new) {
        Ok(()) => job.finish(None),
        Err(error) => {
            rollback(conn);
            job.finish(Some(error));
        }
    }
}

fn begin(conn: &Connection) -> Result<(), StoreError> {
    conn.execute_batch("BEGIN IMMEDIATE")
        .map_err(StoreError::new)
}

/// Best effort, when a transaction is still open: what failed is what the operations learn
/// either way (an error that ends a transaction, such as `SQLITE_FULL`, has rolled it back).
fn rollback(conn: &Connection) {
    if !conn.is_autocommit() {
        let _ = conn.execute_batch("ROLLBACK");
    }
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
    /// panics, having written, rolls back alone, and the others commit (each once).
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
            conn.execute("INSERT INTO t (n) VALUES (2)", [])?;
            conn.execute("INSERT INTO t (n) VALUES (1)", []).map(drop) // a duplicate key
        });
        let panicking = writer.run(|conn| -> rusqlite::Result<()> {
            conn.execute("INSERT INTO t (n) VALUES (3)", [])?;
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
