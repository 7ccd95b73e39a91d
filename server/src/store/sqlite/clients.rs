//! Registered OpenID clients in SQL: one row per `client_id`.

use rusqlite::{OptionalExtension, params};

use super::SqliteStore;
use crate::store::StoreFuture;
use crate::store::clients::ClientRecords;

pub(super) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS clients (
    client_id TEXT PRIMARY KEY,
    registration TEXT NOT NULL
);
";

impl ClientRecords for SqliteStore {
    fn add_client(&self, client_id: String, registration: String) -> StoreFuture<'_, bool> {
        self.run(move |conn| {
            conn.prepare_cached(
                "INSERT OR IGNORE INTO clients (client_id, registration) VALUES (?1, ?2)",
            )?
            .execute(params![client_id, registration])
            .map(|added| added == 1)
        })
    }

    fn client(&self, client_id: String) -> StoreFuture<'_, Option<String>> {
        self.run(move |conn| {
            conn.prepare_cached("SELECT registration FROM clients WHERE client_id = ?1")?
                .query_row(params![client_id], |row| row.get(0))
                .optional()
        })
    }

    fn clients(&self) -> StoreFuture<'_, Vec<String>> {
        self.run(|conn| {
            conn.prepare("SELECT registration FROM clients ORDER BY client_id")?
                .query_map([], |row| row.get(0))?
                .collect()
        })
    }

    fn remove_client(&self, client_id: String) -> StoreFuture<'_, bool> {
        self.run(move |conn| {
            conn.prepare_cached("DELETE FROM clients WHERE client_id = ?1")?
                .execute(params![client_id])
                .map(|removed| removed == 1)
        })
    }
}
