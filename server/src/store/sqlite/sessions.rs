//! Sessions in SQL: the schema and its migration, rows read back, and the steps that run
//! inside a caller's transaction (ending a session, making room under the per-subject cap,
//! rotating a refresh token).

use jwtkit_core::UnixTime;
use rusqlite::{Connection, OptionalExtension, params};

use crate::store::{Endpoint, Rotated, Rotation, SessionInfo};

pub(super) const SCHEMA: &str = "
PRAGMA journal_mode = WAL;
PRAGMA synchronous = NORMAL;
PRAGMA cache_size = -32768;
PRAGMA foreign_keys = ON;
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

/// The session and refresh-token tables, by name and columns. Both are keyed by random
/// values and `WITHOUT ROWID`: a row lives in its key's B-tree alone, so a new session
/// writes two B-trees fewer than with a separate rowid tree.
const TABLES: [(&str, &str); 2] = [
    (
        "sessions",
        "(
    sid TEXT PRIMARY KEY,
    sub TEXT NOT NULL,
    roles TEXT NOT NULL,
    created REAL NOT NULL,
    absolute_expiry REAL NOT NULL,
    idle_expiry REAL NOT NULL,
    generation INTEGER NOT NULL DEFAULT 0,
    ended INTEGER NOT NULL DEFAULT 0,
    client_id TEXT,
    endpoint TEXT,
    jkt TEXT
) WITHOUT ROWID",
    ),
    (
        "refresh_tokens",
        "(
    hash BLOB PRIMARY KEY,
    sid TEXT NOT NULL REFERENCES sessions (sid) ON DELETE CASCADE,
    generation INTEGER NOT NULL,
    rotated_at REAL,
    successor BLOB
) WITHOUT ROWID",
    ),
];

/// The indexes of [`TABLES`].
const INDEXES: &str = "
DROP INDEX IF EXISTS sessions_by_sub;
CREATE INDEX IF NOT EXISTS sessions_by_sub_open ON sessions (sub, ended, created);
CREATE INDEX IF NOT EXISTS refresh_tokens_by_sid ON refresh_tokens (sid);
";

/// Creates the session tables of a new file, and brings those of a file written by an
/// earlier version up to date: the columns it lacks added (its sessions started at
/// `/api/v3/auth`, their client being their subject; none bound to a DPoP key), and tables
/// with a rowid rebuilt `WITHOUT ROWID`, rows kept.
pub(super) fn migrate(conn: &Connection) -> rusqlite::Result<()> {
    for (table, columns) in TABLES {
        conn.execute_batch(&format!("CREATE TABLE IF NOT EXISTS {table} {columns};"))?;
    }
    let present = conn
        .prepare("SELECT name FROM pragma_table_info('sessions')")?
        .query_map([], |row| row.get::<_, String>(0))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    for column in ["client_id", "endpoint", "jkt"] {
        if !present.iter().any(|c| c == column) {
            conn.execute_batch(&format!("ALTER TABLE sessions ADD COLUMN {column} TEXT"))?;
        }
    }
    let with_rowid = |table: &str| -> rusqlite::Result<bool> {
        let sql: String = conn.query_row(
            "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?1",
            params![table],
            |row| row.get(0),
        )?;
        Ok(!sql.contains("WITHOUT ROWID"))
    };
    if with_rowid("sessions")? || with_rowid("refresh_tokens")? {
        // Foreign keys cannot be switched inside a transaction; the rows are copied whole.
        conn.execute_batch("PRAGMA foreign_keys = OFF; BEGIN IMMEDIATE;")?;
        // A refresh token whose session is gone (a file once written with foreign keys
        // off) refreshes nothing: it is not carried over, rather than stop the store.
        let orphans = conn.execute_batch(
            "DELETE FROM refresh_tokens WHERE sid NOT IN (SELECT sid FROM sessions);",
        );
        let rebuilt = orphans.and_then(|()| {
            TABLES.iter().try_for_each(|(table, columns)| {
                conn.execute_batch(&format!(
                    "CREATE TABLE {table}_rebuilt {columns};
                 INSERT INTO {table}_rebuilt SELECT * FROM {table};
                 DROP TABLE {table};
                 ALTER TABLE {table}_rebuilt RENAME TO {table};"
                ))
            })
        });
        let checked = rebuilt.and_then(|()| {
            let dangling: i64 =
                conn.query_row("SELECT count(*) FROM pragma_foreign_key_check", [], |row| {
                    row.get(0)
                })?;
            if dangling == 0 {
                Ok(())
            } else {
                Err(rusqlite::Error::SqliteFailure(
                    rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_CONSTRAINT_FOREIGNKEY),
                    Some(format!("{dangling} refresh tokens name no session")),
                ))
            }
        });
        let finished = match checked {
            Ok(()) => conn.execute_batch("COMMIT;"),
            Err(error) => conn.execute_batch("ROLLBACK;").and(Err(error)),
        };
        conn.execute_batch("PRAGMA foreign_keys = ON;")?;
        finished?;
    }
    conn.execute_batch(INDEXES)
}

/// A time this store wrote; an error (never a guess) if the file holds anything else.
pub(super) fn time(secs: f64) -> rusqlite::Result<UnixTime> {
    UnixTime::from_secs_f64(secs).ok_or_else(|| {
        rusqlite::Error::FromSqlConversionFailure(
            0,
            rusqlite::types::Type::Real,
            "not a NumericDate".into(),
        )
    })
}

pub(super) fn session_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<SessionInfo> {
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
        jkt: row.get("jkt")?,
    })
}

/// Ends `sid` (if live) and records the revocation of its access tokens — also for a
/// session already forgotten, whose access tokens may still live; not for one known to have
/// ended before (its revocation is recorded). Whether it was live.
pub(super) fn end(tx: &Connection, sid: &str, until: UnixTime) -> rusqlite::Result<bool> {
    let changed = tx
        .prepare_cached("UPDATE sessions SET ended = 1 WHERE sid = ?1 AND ended = 0")?
        .execute(params![sid])?;
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
        tx.prepare_cached(
            "INSERT INTO revocations (kind, value, until) VALUES ('session', ?1, ?2)",
        )?
        .execute(params![sid, until.as_secs_f64()])?;
    }
    Ok(changed > 0)
}

/// Ends the oldest live sessions of `sub` until fewer than `max` are left; their IDs.
pub(super) fn make_room(
    tx: &Connection,
    sub: &str,
    max: u32,
    now: UnixTime,
    until: UnixTime,
) -> rusqlite::Result<Vec<String>> {
    // Most subjects are far below the limit: their sessions not ended are counted from the
    // index alone, and none is read.
    let open: u32 = tx
        .prepare_cached("SELECT count(*) FROM sessions WHERE sub = ?1 AND ended = 0")?
        .query_row(params![sub], |row| row.get(0))?;
    if open < max {
        return Ok(Vec::new());
    }
    let oldest = {
        let mut query = tx.prepare_cached(
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

pub(super) fn rotate(conn: &Connection, r: &Rotation) -> rusqlite::Result<Rotated> {
    let found = conn
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
        conn.prepare_cached(
            "UPDATE refresh_tokens SET rotated_at = ?2, successor = ?3 WHERE hash = ?1",
        )?
        .execute(params![
            &r.presented[..],
            r.now.as_secs_f64(),
            &r.sealed_successor[..]
        ])?;
        conn.prepare_cached(
            "INSERT INTO refresh_tokens (hash, sid, generation) VALUES (?1, ?2, ?3)",
        )?
        .execute(params![&r.successor[..], session.sid, generation + 1])?;
        conn.prepare_cached(
            "UPDATE sessions SET generation = ?2, idle_expiry = ?3 WHERE sid = ?1",
        )?
        .execute(params![
            session.sid,
            generation + 1,
            idle_expiry.as_secs_f64()
        ])?;
        session.generation = generation + 1;
        session.idle_expiry = idle_expiry;
        Rotated::Rotated(session)
    } else if let (true, Some(rotated_at), Some(successor)) = (
        generation + 1 == session.generation,
        rotated_at,
        successor.and_then(|s| <[u8; 32]>::try_from(s).ok()),
    ) && r.now.as_secs_f64() - rotated_at < r.grace_seconds
    {
        conn.prepare_cached("UPDATE sessions SET idle_expiry = ?2 WHERE sid = ?1")?
            .execute(params![session.sid, idle_expiry.as_secs_f64()])?;
        session.idle_expiry = idle_expiry;
        Rotated::Grace(session, successor)
    } else {
        end(conn, &session.sid, r.revoke_until)?;
        Rotated::Reused { sid: session.sid }
    };
    Ok(outcome)
}
