//! The OpenID provider's codes and sign-ins in Redis, shared by every instance: a code is
//! redeemed once whichever instance sees it first, and judged by Redis's clock.
//! `jwtkit:code:{hex sha256}` (hash) lives its lifetime and the replay memory;
//! `jwtkit:login:{hex sha256}` (string) lives as long as the sign-in;
//! `jwtkit:consents:{sub}` (hash) holds a person's consents by client, as long as they are.

use jwtkit_core::UnixTime;
use redis::AsyncCommands;

use super::scripts::{hex, secs};
use super::{RedisStore, error};
use crate::store::provider::{ProviderRecords, REMEMBER_REDEEMED_SECONDS, Redeemed};
use crate::store::{StoreError, StoreFuture, TokenHash};

pub(super) fn code_key(code: &TokenHash) -> String {
    format!("jwtkit:code:{}", hex(code))
}

fn login_key(login: &TokenHash) -> String {
    format!("jwtkit:login:{}", hex(login))
}

/// The consents of the subject `sub`.
pub(super) fn consents_key(sub: &str) -> String {
    format!("jwtkit:consents:{sub}")
}

impl ProviderRecords for RedisStore {
    fn put_code(
        &self,
        code: TokenHash,
        grant: String,
        now: UnixTime,
        lifetime_seconds: f64,
    ) -> StoreFuture<'_, ()> {
        let mut conn = self.conn.clone();
        Box::pin(async move {
            self.scripts
                .put_code
                .key(code_key(&code))
                .arg(secs(now))
                .arg(lifetime_seconds)
                .arg(grant)
                .arg(REMEMBER_REDEEMED_SECONDS)
                .invoke_async::<i64>(&mut conn)
                .await
                .map(drop)
                .map_err(error)
        })
    }

    fn redeem_code(&self, code: TokenHash, now: UnixTime) -> StoreFuture<'_, Redeemed> {
        let mut conn = self.conn.clone();
        Box::pin(async move {
            let reply: Vec<String> = self
                .scripts
                .redeem_code
                .key(code_key(&code))
                .arg(secs(now))
                .invoke_async(&mut conn)
                .await
                .map_err(error)?;
            match reply.as_slice() {
                [kind, document] if kind == "fresh" => Ok(Redeemed::Fresh(document.clone())),
                [kind, sid] if kind == "replayed" => Ok(Redeemed::Replayed {
                    sid: (!sid.is_empty()).then(|| sid.clone()),
                }),
                [kind] if kind == "unknown" => Ok(Redeemed::Unknown),
                _ => Err(StoreError::new("a malformed redemption reply")),
            }
        })
    }

    fn put_login(
        &self,
        login: TokenHash,
        record: String,
        _now: UnixTime,
        lifetime_seconds: f64,
    ) -> StoreFuture<'_, ()> {
        let mut conn = self.conn.clone();
        Box::pin(async move {
            let millis = (lifetime_seconds * 1000.0).ceil().max(1.0) as u64;
            conn.pset_ex::<_, _, ()>(login_key(&login), record, millis)
                .await
                .map_err(error)
        })
    }

    fn login(&self, login: TokenHash, _now: UnixTime) -> StoreFuture<'_, Option<String>> {
        let mut conn = self.conn.clone();
        Box::pin(async move { conn.get(login_key(&login)).await.map_err(error) })
    }

    fn end_login(&self, login: TokenHash) -> StoreFuture<'_, bool> {
        let mut conn = self.conn.clone();
        Box::pin(async move {
            let removed: i64 = conn.del(login_key(&login)).await.map_err(error)?;
            Ok(removed == 1)
        })
    }

    fn consent(&self, sub: String, client: String) -> StoreFuture<'_, Option<String>> {
        let mut conn = self.conn.clone();
        Box::pin(async move { conn.hget(consents_key(&sub), client).await.map_err(error) })
    }

    fn put_consent(&self, sub: String, client: String, scopes: String) -> StoreFuture<'_, ()> {
        let mut conn = self.conn.clone();
        Box::pin(async move {
            conn.hset::<_, _, _, ()>(consents_key(&sub), client, scopes)
                .await
                .map_err(error)
        })
    }
}
