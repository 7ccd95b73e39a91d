//! The embedded store: SQLite in one file (WAL), so sessions and revocations survive a
//! restart. The connection has a thread of its own (`writer`) that runs the operations
//! waiting in one `BEGIN IMMEDIATE` transaction (a group that fails runs again one operation
//! at a time), so several processes on one machine may share the file, every operation is atomic (rotation
//! included), and under load one commit serves many requests.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use jwtkit_core::UnixTime;
use rusqlite::{Connection, OpenFlags, OptionalExtension, params};

mod checkpoint;
mod clients;
mod keys;
mod proofs;
mod provider;
mod sessions;
mod users;
mod writer;

use checkpoint::Checkpointer;
use sessions::{SCHEMA, end, make_room, migrate, rotate, session_row, time};
use writer::Writer;

use super::{
    Attempts, NewSession, Redeemed, Revocation, RevocationBatch, Rotated, Rotation, SessionInfo,
    SessionStart, Store, StoreError, StoreFuture, TokenHash,
};

/// How long a watcher waits before asking again when nothing was revoked.
const WATCH_INTERVAL: Duration = Duration::from_millis(200);
/// How long an ended or expired session is remembered (refreshes answer "expired" or
/// "revoked" instead of "unknown"), in seconds.
const REMEMBER_ENDED: f64 = 3600.0;
/// The most clients whose failed attempts are counted at once by default; past it,
/// [`Store::prune`] forgets the windows that end soonest (a flood of new addresses cannot
/// grow the table without end).
pub const MAX_COUNTED_CLIENTS: u32 = 100_000;

/// The SQLite store (one connection, on a thread of its own that commits in groups).
#[derive(Clone)]
pub struct SqliteStore {
    writer: Writer,
    /// Runs while a clone of the store lives.
    _checkpointer: Arc<Checkpointer>,
    max_counted_clients: u32,
}

impl SqliteStore {
    /// Opens (creating when needed) the store in the file at `path`.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let conn = Connection::open(path)
            .map_err(|e| StoreError::new(format!("cannot open {}: {e}", path.display())))?;
        Self::set_up(conn, path)
    }

    /// Opens the store in the file at `path`, which must exist and hold a jwtkit store:
    /// never creates one (what operators' tools open).
    pub fn open_existing(path: &Path) -> Result<Self, StoreError> {
        if !path.is_file() {
            return Err(StoreError::new(format!(
                "there is no store at {} (only `jwtkit serve`, `jwtkit users add` and `jwtkit clients add` create one): check --store",
                path.display()
            )));
        }
        let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_WRITE)
            .map_err(|e| StoreError::new(format!("cannot open {}: {e}", path.display())))?;
        let is_store = conn
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'sessions'",
                [],
                |row| row.get::<_, i64>(0),
            )
            .map_err(|e| StoreError::new(format!("{}: {e}", path.display())))?;
        if is_store == 0 {
            return Err(StoreError::new(format!(
                "{} is not a jwtkit store: check --store",
                path.display()
            )));
        }
        Self::set_up(conn, path)
    }

    fn set_up(conn: Connection, path: &Path) -> Result<Self, StoreError> {
        // Every statement is parsed once and kept: a request's statements cost their work,
        // not their parsing.
        conn.set_prepared_statement_cache_capacity(64);
        conn.busy_timeout(Duration::from_secs(2))
            .and_then(|()| conn.execute_batch(SCHEMA))
            .and_then(|()| conn.execute_batch(users::SCHEMA))
            .and_then(|()| conn.execute_batch(provider::SCHEMA))
            .and_then(|()| provider::migrate(&conn))
            .and_then(|()| conn.execute_batch(clients::SCHEMA))
            .and_then(|()| conn.execute_batch(proofs::SCHEMA))
            .and_then(|()| conn.execute_batch(keys::SCHEMA))
            .and_then(|()| migrate(&conn))
            .and_then(|()| {
                conn.pragma_update(None, "wal_autocheckpoint", checkpoint::BACKSTOP_PAGES)
            })
            .map_err(|e| StoreError::new(format!("{}: {e}", path.display())))?;
        Ok(Self {
            _checkpointer: Arc::new(Checkpointer::spawn(path)?),
            writer: Writer::spawn(conn)?,
            max_counted_clients: MAX_COUNTED_CLIENTS,
        })
    }

    /// The same, counting the failed attempts of at most `max` clients at once.
    #[must_use]
    pub fn with_max_counted_clients(mut self, max: u32) -> Self {
        self.max_counted_clients = max;
        self
    }

    /// Runs `f` on the connection's thread, in the next group of operations (see
    /// `writer`): atomic, and run again alone should its group fail.
    fn run<T, F>(&self, f: F) -> StoreFuture<'_, T>
    where
        T: Send + 'static,
        F: FnMut(&mut Connection) -> rusqlite::Result<T> + Send + 'static,
    {
        Box::pin(self.writer.run(f))
    }
}

/// Inserts `s` with its first refresh token, making room under the per-subject cap; the
/// sessions that ended (the new one too, when its code was replayed meanwhile).
fn insert_session(tx: &Connection, s: &NewSession) -> rusqlite::Result<Vec<String>> {
    let mut ended = make_room(tx, &s.sub, s.max_per_subject, s.now, s.revoke_until)?;
    let roles = serde_json::Value::from(s.roles.clone()).to_string();
    tx.prepare_cached(
        "INSERT INTO sessions (sid, sub, roles, created, absolute_expiry, idle_expiry,
           client_id, endpoint, jkt)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )?
    .execute(params![
        s.sid,
        s.sub,
        roles,
        s.now.as_secs_f64(),
        s.absolute_expiry.as_secs_f64(),
        s.idle_expiry.as_secs_f64(),
        s.client_id,
        s.endpoint.name(),
        s.jkt,
    ])?;
    tx.prepare_cached("INSERT INTO refresh_tokens (hash, sid, generation) VALUES (?1, ?2, 0)")?
        .execute(params![&s.refresh[..], s.sid])?;
    if let Some(code) = &s.code
        && provider::code_starts(tx, code, &s.sid)?
        && end(tx, &s.sid, s.revoke_until)?
    {
        ended.push(s.sid.clone());
    }
    Ok(ended)
}

impl Store for SqliteStore {
    fn create_session(&self, s: NewSession) -> StoreFuture<'_, Vec<String>> {
        self.run(move |conn| {
            let ended = insert_session(conn, &s)?;
            Ok(ended)
        })
    }

    fn redeem_code_for_session(
        &self,
        code: TokenHash,
        now: UnixTime,
        start: SessionStart,
    ) -> StoreFuture<'_, (Redeemed, Option<Vec<String>>)> {
        self.run(move |conn| {
            let outcome = match provider::fresh(conn, &code, now)? {
                Ok(document) => match start(&document) {
                    Some(mut session) => {
                        // Started in the code's own step: no replay can come between.
                        session.code = None;
                        let ended = insert_session(conn, &session)?;
                        provider::used(conn, &code, Some(&session.sid))?;
                        (Redeemed::Fresh(document), Some(ended))
                    }
                    None => {
                        provider::used(conn, &code, None)?;
                        (Redeemed::Fresh(document), None)
                    }
                },
                Err(redeemed) => (redeemed, None),
            };
            Ok(outcome)
        })
    }

    fn rotate(&self, rotation: Rotation) -> StoreFuture<'_, Rotated> {
        self.run(move |conn| rotate(conn, &rotation))
    }

    fn session_of(&self, refresh: TokenHash) -> StoreFuture<'_, Option<String>> {
        self.run(move |conn| {
            conn.prepare_cached("SELECT sid FROM refresh_tokens WHERE hash = ?1")?
                .query_row(params![&refresh[..]], |row| row.get(0))
                .optional()
        })
    }

    // One machine, one clock: `now` says nothing `until` does not.
    fn end_session(&self, sid: String, _now: UnixTime, until: UnixTime) -> StoreFuture<'_, bool> {
        self.run(move |conn| {
            let ended = end(conn, &sid, until)?;
            Ok(ended)
        })
    }

    fn end_sessions_of(
        &self,
        sub: String,
        _now: UnixTime,
        until: UnixTime,
    ) -> StoreFuture<'_, usize> {
        self.run(move |conn| {
            let sids = {
                let mut query =
                    conn.prepare_cached("SELECT sid FROM sessions WHERE sub = ?1 AND ended = 0")?;
                let rows = query.query_map(params![sub], |row| row.get::<_, String>(0))?;
                rows.collect::<rusqlite::Result<Vec<_>>>()?
            };
            let mut count = 0;
            for sid in sids {
                count += usize::from(end(conn, &sid, until)?);
            }
            Ok(count)
        })
    }

    fn revoke_token(&self, jti: String, until: UnixTime) -> StoreFuture<'_, ()> {
        self.run(move |conn| {
            conn.prepare_cached(
                "INSERT INTO revocations (kind, value, until) VALUES ('token', ?1, ?2)",
            )?
            .execute(params![jti, until.as_secs_f64()])
            .map(drop)
        })
    }

    fn sessions(&self, sub: Option<String>, now: UnixTime) -> StoreFuture<'_, Vec<SessionInfo>> {
        self.run(move |conn| {
            let mut query = conn.prepare(
                "SELECT * FROM sessions WHERE ended = 0 AND (?1 IS NULL OR sub = ?1)
                 AND absolute_expiry > ?2 AND idle_expiry > ?2 ORDER BY created, sid",
            )?;
            let rows = query.query_map(params![sub, now.as_secs_f64()], session_row)?;
            rows.collect()
        })
    }

    fn revocations(&self, cursor: String, now: UnixTime) -> StoreFuture<'_, RevocationBatch> {
        let query = self.run(move |conn| {
            let after: i64 = cursor.parse().unwrap_or(0);
            let mut query = conn.prepare(
                "SELECT seq, kind, value, until FROM revocations
                 WHERE seq > ?1 AND until > ?2 ORDER BY seq",
            )?;
            let mut last = after;
            let mut revocations = Vec::new();
            let mut rows = query.query(params![after, now.as_secs_f64()])?;
            while let Some(row) = rows.next()? {
                last = row.get(0)?;
                let (kind, value, until): (String, String, f64) =
                    (row.get(1)?, row.get(2)?, row.get(3)?);
                let until = time(until)?;
                revocations.push(match kind.as_str() {
                    "session" => Revocation::Session { sid: value, until },
                    _ => Revocation::Token { jti: value, until },
                });
            }
            Ok(RevocationBatch {
                revocations,
                cursor: last.to_string(),
                caught_up: true,
            })
        });
        Box::pin(async move {
            let batch = query.await?;
            if batch.revocations.is_empty() {
                tokio::time::sleep(WATCH_INTERVAL).await;
            }
            Ok(batch)
        })
    }

    fn count_failure(
        &self,
        key: String,
        now: UnixTime,
        window_seconds: f64,
    ) -> StoreFuture<'_, Attempts> {
        self.run(move |conn| {
            let now = now.as_secs_f64();
            conn.prepare_cached(
                "INSERT INTO attempts (key, count, window_end) VALUES (?1, 1, ?2 + ?3)
                 ON CONFLICT (key) DO UPDATE SET
                   count = CASE WHEN window_end <= ?2 THEN 1 ELSE count + 1 END,
                   window_end = CASE WHEN window_end <= ?2 THEN ?2 + ?3 ELSE window_end END
                 RETURNING count, window_end",
            )?
            .query_row(params![key, now, window_seconds], |row| {
                Ok(Attempts {
                    count: row.get(0)?,
                    window_end: time(row.get(1)?)?,
                })
            })
        })
    }

    fn failures(&self, key: String, now: UnixTime) -> StoreFuture<'_, Attempts> {
        self.run(move |conn| {
            let found = conn
                .query_row(
                    "SELECT count, window_end FROM attempts WHERE key = ?1 AND window_end > ?2",
                    params![key, now.as_secs_f64()],
                    |row| {
                        Ok(Attempts {
                            count: row.get(0)?,
                            window_end: time(row.get(1)?)?,
                        })
                    },
                )
                .optional()?;
            Ok(found.unwrap_or(Attempts {
                count: 0,
                window_end: now,
            }))
        })
    }

    fn prune(&self, now: UnixTime) -> StoreFuture<'_, ()> {
        let cap = self.max_counted_clients;
        let others = self.run(move |conn| {
            let now = now.as_secs_f64();
            conn.prepare_cached(
                "DELETE FROM sessions WHERE min(absolute_expiry, idle_expiry) <= ?1 - ?2",
            )?
            .execute(params![now, REMEMBER_ENDED])?;
            conn.prepare_cached("DELETE FROM revocations WHERE until <= ?1")?
                .execute(params![now])?;
            conn.prepare_cached("DELETE FROM attempts WHERE window_end <= ?1")?
                .execute(params![now])?;
            provider::prune(conn, now)?;
            conn.prepare_cached(
                "DELETE FROM attempts WHERE key IN (SELECT key FROM attempts
                 ORDER BY window_end LIMIT max((SELECT count(*) FROM attempts) - ?1, 0))",
            )?
            .execute(params![cap])?;
            Ok(())
        });
        Box::pin(async move {
            others.await?;
            proofs::prune(self, now.as_secs_f64()).await
        })
    }

    fn ping(&self) -> StoreFuture<'_, ()> {
        self.run(|conn| conn.prepare_cached("SELECT 1")?.query_row([], |_| Ok(())))
    }
}
