//! The built-in user directory's accounts in Redis, shared by every instance: one hash of
//! records by username (`jwtkit:users`) and one of usernames by subject
//! (`jwtkit:user-subjects`), changed together by scripts. Accounts never expire.

use redis::AsyncCommands;

use super::{RedisStore, error};
use crate::store::StoreFuture;
use crate::store::users::{UserRecord, UserRecords};

const USERS: &str = "jwtkit:users";
const SUBJECTS: &str = "jwtkit:user-subjects";

impl RedisStore {
    /// The account of `username`, read.
    async fn read_user(
        &self,
        username: &str,
    ) -> Result<Option<UserRecord>, crate::store::StoreError> {
        let mut conn = self.conn.clone();
        let json: Option<String> = conn.hget(USERS, username).await.map_err(error)?;
        json.map(|j| UserRecord::from_json(&j)).transpose()
    }
}

impl UserRecords for RedisStore {
    fn add_user(&self, user: UserRecord) -> StoreFuture<'_, bool> {
        let mut conn = self.conn.clone();
        Box::pin(async move {
            let added: i64 = self
                .scripts
                .add_user
                .key(USERS)
                .key(SUBJECTS)
                .arg(&user.username)
                .arg(&user.sub)
                .arg(user.to_json())
                .invoke_async(&mut conn)
                .await
                .map_err(error)?;
            Ok(added == 1)
        })
    }

    fn user(&self, username: String) -> StoreFuture<'_, Option<UserRecord>> {
        Box::pin(async move { self.read_user(&username).await })
    }

    fn user_by_sub(&self, sub: String) -> StoreFuture<'_, Option<UserRecord>> {
        let mut conn = self.conn.clone();
        Box::pin(async move {
            let username: Option<String> = conn.hget(SUBJECTS, &sub).await.map_err(error)?;
            match username {
                Some(username) => Ok(self
                    .read_user(&username)
                    .await?
                    .filter(|user| user.sub == sub)),
                None => Ok(None),
            }
        })
    }

    fn replace_user(&self, user: UserRecord) -> StoreFuture<'_, bool> {
        let mut conn = self.conn.clone();
        Box::pin(async move {
            // The subject is the stored account's, whatever the record says.
            let Some(current) = self.read_user(&user.username).await? else {
                return Ok(false);
            };
            let user = UserRecord {
                sub: current.sub,
                ..user
            };
            let replaced: i64 = self
                .scripts
                .replace_user
                .key(USERS)
                .key(SUBJECTS)
                .arg(&user.username)
                .arg(&user.sub)
                .arg(user.to_json())
                .invoke_async(&mut conn)
                .await
                .map_err(error)?;
            Ok(replaced == 1)
        })
    }

    fn remove_user(&self, username: String) -> StoreFuture<'_, bool> {
        let mut conn = self.conn.clone();
        Box::pin(async move {
            let Some(current) = self.read_user(&username).await? else {
                return Ok(false);
            };
            let removed: i64 = self
                .scripts
                .remove_user
                .key(USERS)
                .key(SUBJECTS)
                .key(super::provider::consents_key(&current.sub))
                .arg(&username)
                .arg(&current.sub)
                .invoke_async(&mut conn)
                .await
                .map_err(error)?;
            Ok(removed == 1)
        })
    }

    fn users(&self) -> StoreFuture<'_, Vec<UserRecord>> {
        let mut conn = self.conn.clone();
        Box::pin(async move {
            let all: Vec<(String, String)> = conn.hgetall(USERS).await.map_err(error)?;
            let mut users = all
                .iter()
                .map(|(_, json)| UserRecord::from_json(json))
                .collect::<Result<Vec<_>, _>>()?;
            users.sort_by(|a, b| a.username.cmp(&b.username));
            Ok(users)
        })
    }

    fn has_users(&self) -> StoreFuture<'_, bool> {
        let mut conn = self.conn.clone();
        Box::pin(async move {
            let count: u64 = conn.hlen(USERS).await.map_err(error)?;
            Ok(count > 0)
        })
    }
}
