//! The embedded store: SQLite in one file (WAL), so sessions and revocations survive a
//! restart. Every operation is one transaction (`BEGIN IMMEDIATE` for writes), so several
//! processes on one machine may share the file; rotation is atomic.

use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use jwtkit_core::UnixTime;
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

use super::{
    Attempts, Endpoint, NewSession, Revocation, RevocationBatch, Rotated, Rotation, SessionInfo,
    Store, StoreError, StoreFuture, TokenHash,
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

const SCHEMA: &str = "
PRAGMA journal_mode = WAL;
PRAGMA synchronous = NORMAL;
PRAGMA foreign_keys = ON;
CREATE TABLE IF NOT EXISTS sessions (
    sid TEXT PRIMARY KEY,
    sub TEXT NOT NULL,
    roles TEXT NOT NULL,
    created REAL NOT NULL,
    absolute_expiry REAL NOT NULL,
    idle_expiry REAL NOT NULL,
    generation INTEGER NOT NULL DEFAULT 0,
    ended INTEGER NOT NULL DEFAULT 0,
    client_id TEXT,
    endpoint TEXT
);
CREATE INDEX IF NOT EXISTS sessions_by_sub ON sessions (sub);
CREATE TABLE IF NOT EXISTS refresh_tokens (
    hash BLOB PRIMARY KEY,
    sid TEXT NOT NULL REFERENCES sessions (sid) ON DELETE CASCADE,
    generation INTEGER NOT NULL,
    rotated_at REAL,
    successor BLOB
);
CREATE INDEX IF NOT EXISTS refresh_tokens_by_sid ON refresh_tokens (sid);
CREATE TABLE IF NOT EXISTS revocations (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL CHECK (kind IN ('session', 'token')),
    value TEXT NOT NULL,
    until REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS attempts (
    key TEXT PRIMARY KEY,
    count INTEGER NOT NULL,
    window_end REAL NOT NULL
);
";

/// The SQLite store (one connection, used from blocking tasks).
#[derive(Clone)]
pub struct SqliteStore {
    conn: Arc<Mutex<Connection>>,
    max_counted_clients: u32,
}

impl SqliteStore {
    /// Opens (creating when needed) the store in the file at `path`.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let conn = Connection::open(path)
            .map_err(|e| StoreError::new(format!("cannot open {}: {e}", path.display())))?;
        conn.busy_timeout(Duration::from_secs(2))
            .and_then(|()| conn.execute_batch(SCHEMA))
            .and_then(|()| migrate(&conn))
            .map_err(|e| StoreError::new(format!("{}: {e}", path.display())))?;
        Ok(Self {
            conn: Arc::new(Mutex::new(conn)),
            max_counted_clients: MAX_COUNTED_CLIENTS,
        })
    }

    /// The same, counting the failed attempts of at most `max` clients at once.
    #[must_use]
    pub fn with_max_counted_clients(mut self, max: u32) -> Self {
        self.max_counted_clients = max;
        self
    }

    /// Runs `f` on the connection in a blocking task.
    fn run<T, F>(&self, f: F) -> StoreFuture<'_, T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> rusqlite::Result<T> + Send + 'static,
    {
        let conn = self.conn.clone();
        Box::pin(async move {
            tokio::task::spawn_blocking(move || {
                // A panic mid-transaction rolls it back: the connection stays consistent.
                let mut conn = conn.lock().unwrap_or_else(PoisonError::into_inner);
                f(&mut conn)
            })
            .await
            .map_err(StoreError::new)?
            .map_err(StoreError::new)
        })
    }
}

/// Adds the columns a file written by an earlier version lacks (its sessions started at
/// `/api/v3/auth`, their client being their subject).
fn migrate(conn: &Connection) -> rusqlite::Result<()> {
    let columns = conn
        .prepare("SELECT name FROM pragma_table_info('sessions')")?
        .query_map([], |row| row.get::<_, String>(0))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    for column in ["client_id", "endpoint"] {
        if !columns.iter().any(|c| c == column) {
            conn.execute_batch(&format!("ALTER TABLE sessions ADD COLUMN {column} TEXT"))?;
        }
    }
    Ok(())
}

/// A time this store wrote; an error (never a guess) if the file holds anything else.
fn time(secs: f64) -> rusqlite::Result<UnixTime> {
    UnixTime::from_secs_f64(secs).ok_or_else(|| {
        rusqlite::Error::FromSqlConversionFailure(
            0,
            rusqlite::types::Type::Real,
            "not a NumericDate".into(),
        )
    })
}

fn session_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<SessionInfo> {
    let roles: String = row.get("roles")?;
    let sub: String = row.get("sub")?;
    let endpoint: Option<String> = row.get("endpoint")?;
    Ok(SessionInfo {
        sid: row.get("sid")?,
        client_id: row
            .get::<_, Option<String>>("client_id")?
            .unwrap_or_else(|| sub.clone()),
        endpoint: Endpoint::from_name(endpoint.as_deref()),
        sub,
        roles: serde_json::from_str(&roles).map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, e.into())
        })?,
        created: time(row.get("created")?)?,
        absolute_expiry: time(row.get("absolute_expiry")?)?,
        idle_expiry: time(row.get("idle_expiry")?)?,
        generation: row.get("generation")?,
    })
}

/// Ends `sid` (if live) and records the revocation of its access tokens — also for a
/// session already forgotten, whose access tokens may still live; not for one known to have
/// ended before (its revocation is recorded). Whether it was live.
fn end(tx: &rusqlite::Transaction<'_>, sid: &str, until: UnixTime) -> rusqlite::Result<bool> {
    let changed = tx.execute(
        "UPDATE sessions SET ended = 1 WHERE sid = ?1 AND ended = 0",
        params![sid],
    )?;
    let known_ended = changed == 0
        && tx
            .query_row(
                "SELECT 1 FROM sessions WHERE sid = ?1",
                params![sid],
                |_| Ok(()),
            )
            .optional()?
            .is_some();
    if !known_ended {
        tx.execute(
            "INSERT INTO revocations (kind, value, until) VALUES ('session', ?1, ?2)",
            params![sid, until.as_secs_f64()],
        )?;
    }
    Ok(changed > 0)
}

/// Ends the oldest live sessions of `sub` until fewer than `max` are left; their IDs.
fn make_room(
    tx: &rusqlite::Transaction<'_>,
    sub: &str,
    max: u32,
    now: UnixTime,
    until: UnixTime,
) -> rusqlite::Result<Vec<String>> {
    let oldest = {
        let mut query = tx.prepare(
            "SELECT sid FROM sessions
             WHERE sub = ?1 AND ended = 0 AND min(absolute_expiry, idle_expiry) > ?2
             ORDER BY created DESC, sid DESC LIMIT -1 OFFSET ?3",
        )?;
        let rows = query.query_map(
            params![sub, now.as_secs_f64(), max.saturating_sub(1)],
            |row| row.get::<_, String>(0),
        )?;
        rows.collect::<rusqlite::Result<Vec<_>>>()?
    };
    for sid in &oldest {
        end(tx, sid, until)?;
    }
    Ok(oldest)
}

fn rotate(conn: &mut Connection, r: &Rotation) -> rusqlite::Result<Rotated> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let found = tx
        .query_row(
            "SELECT t.generation AS token_generation, t.rotated_at, t.successor, s.*
             FROM refresh_tokens t JOIN sessions s ON s.sid = t.sid WHERE t.hash = ?1",
            params![&r.presented[..]],
            |row| {
                let successor: Option<Vec<u8>> = row.get("successor")?;
                Ok((
                    row.get::<_, u32>("token_generation")?,
                    row.get::<_, Option<f64>>("rotated_at")?,
                    successor,
                    row.get::<_, bool>("ended")?,
                    session_row(row)?,
                ))
            },
        )
        .optional()?;
    let Some((generation, rotated_at, successor, ended, mut session)) = found else {
        return Ok(Rotated::Unknown);
    };
    if ended {
        return Ok(Rotated::Revoked);
    }
    if r.now >= session.refresh_expiry() {
        return Ok(Rotated::Expired);
    }
    let idle_expiry = r.now.saturating_add_secs(r.idle_seconds);
    let outcome = if generation == session.generation {
        tx.execute(
            "UPDATE refresh_tokens SET rotated_at = ?2, successor = ?3 WHERE hash = ?1",
            params![
                &r.presented[..],
                r.now.as_secs_f64(),
                &r.sealed_successor[..]
            ],
        )?;
        tx.execute(
            "INSERT INTO refresh_tokens (hash, sid, generation) VALUES (?1, ?2, ?3)",
            params![&r.successor[..], session.sid, generation + 1],
        )?;
        tx.execute(
            "UPDATE sessions SET generation = ?2, idle_expiry = ?3 WHERE sid = ?1",
            params![session.sid, generation + 1, idle_expiry.as_secs_f64()],
        )?;
        session.generation = generation + 1;
        session.idle_expiry = idle_expiry;
        Rotated::Rotated(session)
    } else if let (true, Some(rotated_at), Some(successor)) = (
        generation + 1 == session.generation,
        rotated_at,
        successor.and_then(|s| <[u8; 32]>::try_from(s).ok()),
    ) && r.now.as_secs_f64() - rotated_at < r.grace_seconds
    {
        tx.execute(
            "UPDATE sessions SET idle_expiry = ?2 WHERE sid = ?1",
            params![session.sid, idle_expiry.as_secs_f64()],
        )?;
        session.idle_expiry = idle_expiry;
        Rotated::Grace(session, successor)
    } else {
        end(&tx, &session.sid, r.revoke_until)?;
        Rotated::Reused { sid: session.sid }
    };
    tx.commit()?;
    Ok(outcome)
}

impl Store for SqliteStore {
    fn create_session(&self, s: NewSession) -> StoreFuture<'_, Vec<String>> {
        self.run(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let ended = make_room(&tx, &s.sub, s.max_per_subject, s.now, s.revoke_until)?;
            let roles = serde_json::Value::from(s.roles.clone()).to_string();
            tx.execute(
                "INSERT INTO sessions (sid, sub, roles, created, absolute_expiry, idle_expiry,
                   client_id, endpoint)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![
                    s.sid,
                    s.sub,
                    roles,
                    s.now.as_secs_f64(),
                    s.absolute_expiry.as_secs_f64(),
                    s.idle_expiry.as_secs_f64(),
                    s.client_id,
                    s.endpoint.name(),
                ],
            )?;
            tx.execute(
                "INSERT INTO refresh_tokens (hash, sid, generation) VALUES (?1, ?2, 0)",
                params![&s.refresh[..], s.sid],
            )?;
            tx.commit()?;
            Ok(ended)
        })
    }

    fn rotate(&self, rotation: Rotation) -> StoreFuture<'_, Rotated> {
        self.run(move |conn| rotate(conn, &rotation))
    }

    fn session_of(&self, refresh: TokenHash) -> StoreFuture<'_, Option<String>> {
        self.run(move |conn| {
            conn.query_row(
                "SELECT sid FROM refresh_tokens WHERE hash = ?1",
                params![&refresh[..]],
                |row| row.get(0),
            )
            .optional()
        })
    }

    fn end_session(&self, sid: String, until: UnixTime) -> StoreFuture<'_, bool> {
        self.run(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let ended = end(&tx, &sid, until)?;
            tx.commit()?;
            Ok(ended)
        })
    }

    fn end_sessions_of(&self, sub: String, until: UnixTime) -> StoreFuture<'_, usize> {
        self.run(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let sids = {
                let mut query =
                    tx.prepare("SELECT sid FROM sessions WHERE sub = ?1 AND ended = 0")?;
                let rows = query.query_map(params![sub], |row| row.get::<_, String>(0))?;
                rows.collect::<rusqlite::Result<Vec<_>>>()?
            };
            let mut count = 0;
            for sid in sids {
                count += usize::from(end(&tx, &sid, until)?);
            }
            tx.commit()?;
            Ok(count)
        })
    }

    fn revoke_token(&self, jti: String, until: UnixTime) -> StoreFuture<'_, ()> {
        self.run(move |conn| {
            conn.execute(
                "INSERT INTO revocations (kind, value, until) VALUES ('token', ?1, ?2)",
                params![jti, until.as_secs_f64()],
            )
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
            conn.query_row(
                "INSERT INTO attempts (key, count, window_end) VALUES (?1, 1, ?2 + ?3)
                 ON CONFLICT (key) DO UPDATE SET
                   count = CASE WHEN window_end <= ?2 THEN 1 ELSE count + 1 END,
                   window_end = CASE WHEN window_end <= ?2 THEN ?2 + ?3 ELSE window_end END
                 RETURNING count, window_end",
                params![key, now, window_seconds],
                |row| {
                    Ok(Attempts {
                        count: row.get(0)?,
                        window_end: time(row.get(1)?)?,
                    })
                },
            )
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
        self.run(move |conn| {
            let now = now.as_secs_f64();
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            tx.execute(
                "DELETE FROM sessions WHERE min(absolute_expiry, idle_expiry) <= ?1 - ?2",
                params![now, REMEMBER_ENDED],
            )?;
            tx.execute("DELETE FROM revocations WHERE until <= ?1", params![now])?;
            tx.execute("DELETE FROM attempts WHERE window_end <= ?1", params![now])?;
            tx.execute(
                "DELETE FROM attempts WHERE key IN (SELECT key FROM attempts
                 ORDER BY window_end LIMIT max((SELECT count(*) FROM attempts) - ?1, 0))",
                params![cap],
            )?;
            tx.commit()
        })
    }

    fn ping(&self) -> StoreFuture<'_, ()> {
        self.run(|conn| conn.query_row("SELECT 1", [], |_| Ok(())))
    }
}
