//! Registered OpenID clients in Redis: one hash, `jwtkit:clients`, `client_id` →
//! registration, shared by every instance.

use redis::AsyncCommands;

use super::{RedisStore, error};
use crate::store::StoreFuture;
use crate::store::clients::ClientRecords;

const CLIENTS_KEY: &str = "jwtkit:clients";

impl ClientRecords for RedisStore {
    fn add_client(&self, client_id: String, registration: String) -> StoreFuture<'_, bool> {
        let mut conn = self.conn.clone();
        Box::pin(async move {
            conn.hset_nx(CLIENTS_KEY, client_id, registration)
                .await
                .map_err(error)
        })
    }

    fn client(&self, client_id: String) -> StoreFuture<'_, Option<String>> {
        let mut conn = self.conn.clone();
        Box::pin(async move { conn.hget(CLIENTS_KEY, client_id).await.map_err(error) })
    }

    fn clients(&self) -> StoreFuture<'_, Vec<String>> {
        let mut conn = self.conn.clone();
        Box::pin(async move {
            let mut all: Vec<(String, String)> = conn.hgetall(CLIENTS_KEY).await.map_err(error)?;
            all.sort();
            Ok(all
                .into_iter()
                .map(|(_, registration)| registration)
                .collect())
        })
    }

    fn remove_client(&self, client_id: String) -> StoreFuture<'_, bool> {
        let mut conn = self.conn.clone();
        Box::pin(async move {
            let removed: i64 = conn.hdel(CLIENTS_KEY, client_id).await.map_err(error)?;
            Ok(removed == 1)
        })
    }
}
