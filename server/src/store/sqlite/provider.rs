//! The OpenID provider's codes, sign-ins and consents in SQL.

use jwtkit_core::UnixTime;
use rusqlite::{OptionalExtension, params};

use super::SqliteStore;
use crate::store::provider::{ProviderRecords, REMEMBER_REDEEMED_SECONDS, Redeemed};
use crate::store::{StoreFuture, TokenHash};

pub(super) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS codes (
    hash BLOB PRIMARY KEY,
    grant_document TEXT NOT NULL,
    expires REAL NOT NULL,
    used INTEGER NOT NULL DEFAULT 0,
    sid TEXT,
    replayed INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS logins (
    hash BLOB PRIMARY KEY,
    record TEXT NOT NULL,
    expires REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS consents (
    sub TEXT NOT NULL,
    client TEXT NOT NULL,
    scopes TEXT NOT NULL,
    PRIMARY KEY (sub, client)
);
";

/// Adds the column a file written by an earlier version lacks.
pub(super) fn migrate(conn: &rusqlite::Connection) -> rusqlite::Result<()> {
    let has_replayed: bool = conn.query_row(
        "SELECT count(*) FROM pragma_table_info('codes') WHERE name = 'replayed'",
        [],
        |row| row.get(0),
    )?;
    if !has_replayed {
        conn.execute_batch("ALTER TABLE codes ADD COLUMN replayed INTEGER NOT NULL DEFAULT 0")?;
    }
    Ok(())
}

/// Whether `code` was presented again after its redemption; its record learns the session
/// `sid` it starts.
pub(super) fn code_starts(
    tx: &rusqlite::Connection,
    code: &TokenHash,
    sid: &str,
) -> rusqlite::Result<bool> {
    tx.prepare_cached("UPDATE codes SET sid = ?2 WHERE hash = ?1")?
        .execute(params![&code[..], sid])?;
    let replayed: Option<bool> = tx
        .prepare_cached("SELECT replayed FROM codes WHERE hash = ?1")?
        .query_row(params![&code[..]], |row| row.get(0))
        .optional()?;
    Ok(replayed == Some(true))
}

/// Forgets codes past their replay memory and sign-ins past their lifetime.
pub(super) fn prune(tx: &rusqlite::Connection, now: f64) -> rusqlite::Result<()> {
    tx.prepare_cached("DELETE FROM codes WHERE expires <= ?1 - ?2")?
        .execute(params![now, REMEMBER_REDEEMED_SECONDS])?;
    tx.prepare_cached("DELETE FROM logins WHERE expires <= ?1")?
        .execute(params![now])?;
    Ok(())
}

/// Redeems `code` at `now`, inside the caller's transaction: once only (see [`Redeemed`]).
pub(super) fn redeem(
    tx: &rusqlite::Connection,
    code: &TokenHash,
    now: UnixTime,
) -> rusqlite::Result<Redeemed> {
    Ok(match fresh(tx, code, now)? {
        Ok(document) => {
            used(tx, code, None)?;
            Redeemed::Fresh(document)
        }
        Err(redeemed) => redeemed,
    })
}

/// The document of `code` when its redemption at `now` is the first within its lifetime,
/// the code not yet marked as used ([`used`] does that); else what became of the redemption,
/// recorded (an expired code used up, a replay marked).
pub(super) fn fresh(
    tx: &rusqlite::Connection,
    code: &TokenHash,
    now: UnixTime,
) -> rusqlite::Result<Result<String, Redeemed>> {
    let found: Option<(String, f64, bool, Option<String>)> = tx
        .prepare_cached("SELECT grant_document, expires, used, sid FROM codes WHERE hash = ?1")?
        .query_row(params![&code[..]], |row| {
            Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?))
        })
        .optional()?;
    Ok(match found {
        None => Err(Redeemed::Unknown),
        Some((_, _, true, sid)) => {
            // The session this code starts, if it has not started yet, ends as it starts.
            tx.prepare_cached("UPDATE codes SET replayed = 1 WHERE hash = ?1")?
                .execute(params![&code[..]])?;
            Err(Redeemed::Replayed { sid })
        }
        Some((_, expires, false, _)) if expires <= now.as_secs_f64() => {
            used(tx, code, None)?;
            Err(Redeemed::Unknown)
        }
        Some((document, _, false, _)) => Ok(document),
    })
}

/// Marks `code` used, by the session `sid` when it started one.
pub(super) fn used(
    tx: &rusqlite::Connection,
    code: &TokenHash,
    sid: Option<&str>,
) -> rusqlite::Result<()> {
    tx.prepare_cached("UPDATE codes SET used = 1, sid = ?2 WHERE hash = ?1")?
        .execute(params![&code[..], sid])
        .map(drop)
}

impl ProviderRecords for SqliteStore {
    fn put_code(
        &self,
        code: TokenHash,
        grant: String,
        now: UnixTime,
        lifetime_seconds: f64,
    ) -> StoreFuture<'_, ()> {
        self.run(move |conn| {
            conn.prepare_cached(
                "INSERT INTO codes (hash, grant_document, expires) VALUES (?1, ?2, ?3)",
            )?
            .execute(params![
                &code[..],
                grant,
                now.as_secs_f64() + lifetime_seconds
            ])
            .map(drop)
        })
    }

    fn redeem_code(&self, code: TokenHash, now: UnixTime) -> StoreFuture<'_, Redeemed> {
        self.run(move |conn| {
            let redeemed = redeem(conn, &code, now)?;
            Ok(redeemed)
        })
    }

    fn put_login(
        &self,
        login: TokenHash,
        record: String,
        now: UnixTime,
        lifetime_seconds: f64,
    ) -> StoreFuture<'_, ()> {
        self.run(move |conn| {
            conn.prepare_cached("INSERT INTO logins (hash, record, expires) VALUES (?1, ?2, ?3)")?
                .execute(params![
                    &login[..],
                    record,
                    now.as_secs_f64() + lifetime_seconds
                ])
                .map(drop)
        })
    }

    fn login(&self, login: TokenHash, now: UnixTime) -> StoreFuture<'_, Option<String>> {
        self.run(move |conn| {
            conn.prepare_cached("SELECT record FROM logins WHERE hash = ?1 AND expires > ?2")?
                .query_row(params![&login[..], now.as_secs_f64()], |row| row.get(0))
                .optional()
        })
    }

    fn end_login(&self, login: TokenHash) -> StoreFuture<'_, bool> {
        self.run(move |conn| {
            let ended = conn
                .prepare_cached("DELETE FROM logins WHERE hash = ?1")?
                .execute(params![&login[..]])?;
            Ok(ended == 1)
        })
    }

    fn consent(&self, sub: String, client: String) -> StoreFuture<'_, Option<String>> {
        self.run(move |conn| {
            conn.prepare_cached("SELECT scopes FROM consents WHERE sub = ?1 AND client = ?2")?
                .query_row(params![sub, client], |row| row.get(0))
                .optional()
        })
    }

    fn put_consent(&self, sub: String, client: String, scopes: String) -> StoreFuture<'_, ()> {
        self.run(move |conn| {
            conn.prepare_cached(
                "INSERT INTO consents (sub, client, scopes) VALUES (?1, ?2, ?3)
                 ON CONFLICT (sub, client) DO UPDATE SET scopes = excluded.scopes",
            )?
            .execute(params![sub, client, scopes])
            .map(drop)
        })
    }
}
