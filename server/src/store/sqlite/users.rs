//! The built-in user directory's accounts in SQL: one row per username, the record as JSON
//! beside the two columns it is found by.

use rusqlite::{OptionalExtension, params};

use super::SqliteStore;
use crate::store::StoreFuture;
use crate::store::users::{UserRecord, UserRecords};

pub(super) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS users (
    username TEXT PRIMARY KEY,
    sub TEXT NOT NULL UNIQUE,
    record TEXT NOT NULL
);
";

impl SqliteStore {
    /// The account whose `column` (`username` or `sub`) is `value`.
    fn find_user(
        &self,
        column: &'static str,
        value: String,
    ) -> StoreFuture<'_, Option<UserRecord>> {
        let query = self.run(move |conn| {
            conn.prepare_cached(&format!("SELECT record FROM users WHERE {column} = ?1"))?
                .query_row(params![value], |row| row.get::<_, String>(0))
                .optional()
        });
        Box::pin(async move { query.await?.map(|j| UserRecord::from_json(&j)).transpose() })
    }
}

impl UserRecords for SqliteStore {
    fn add_user(&self, user: UserRecord) -> StoreFuture<'_, bool> {
        self.run(move |conn| {
            let added = conn
                .prepare_cached(
                    "INSERT INTO users (username, sub, record) VALUES (?1, ?2, ?3)
                 ON CONFLICT DO NOTHING",
                )?
                .execute(params![user.username, user.sub, user.to_json()])?;
            Ok(added == 1)
        })
    }

    fn user(&self, username: String) -> StoreFuture<'_, Option<UserRecord>> {
        self.find_user("username", username)
    }

    fn user_by_sub(&self, sub: String) -> StoreFuture<'_, Option<UserRecord>> {
        self.find_user("sub", sub)
    }

    fn replace_user(&self, user: UserRecord) -> StoreFuture<'_, bool> {
        self.run(move |conn| {
            // The subject is the row's, whatever the record says: it is never reassigned.
            let mut user = user.clone();
            let Some(sub) = conn
                .query_row(
                    "SELECT sub FROM users WHERE username = ?1",
                    params![user.username],
                    |row| row.get::<_, String>(0),
                )
                .optional()?
            else {
                return Ok(false);
            };
            user.sub = sub;
            let changed = conn
                .prepare_cached("UPDATE users SET record = ?2 WHERE username = ?1")?
                .execute(params![user.username, user.to_json()])?;
            Ok(changed == 1)
        })
    }

    fn remove_user(&self, username: String) -> StoreFuture<'_, bool> {
        self.run(move |conn| {
            // The consents the person gave go with them.
            conn.prepare_cached(
                "DELETE FROM consents WHERE sub = (SELECT sub FROM users WHERE username = ?1)",
            )?
            .execute(params![username])?;
            let removed = conn
                .prepare_cached("DELETE FROM users WHERE username = ?1")?
                .execute(params![username])?;
            Ok(removed == 1)
        })
    }

    fn users(&self) -> StoreFuture<'_, Vec<UserRecord>> {
        let query = self.run(|conn| {
            let mut query = conn.prepare("SELECT record FROM users ORDER BY username")?;
            let rows = query.query_map([], |row| row.get::<_, String>(0))?;
            rows.collect::<rusqlite::Result<Vec<_>>>()
        });
        Box::pin(async move {
            query
                .await?
                .iter()
                .map(|json| UserRecord::from_json(json))
                .collect()
        })
    }

    fn has_users(&self) -> StoreFuture<'_, bool> {
        self.run(|conn| {
            conn.prepare_cached("SELECT EXISTS (SELECT 1 FROM users)")?
                .query_row([], |row| row.get(0))
        })
    }
}
