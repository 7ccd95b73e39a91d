//! The shared store: Redis, for several instances (`redis::aio::ConnectionManager`, which
//! reconnects by itself). Every multi-key step is one Lua script, so rotation is atomic:
//! consume, detect reuse, issue the successor, all or nothing. Every key carries a TTL.
//! Revocations go into a stream that every instance reads (`XREAD BLOCK` on a connection of
//! its own), from where it left off — after a reconnect too, so none is missed.
//!
//! The scripts are files of their own in this folder (`*.lua`), each after the
//! helpers of `prelude.lua`. Keys (a single Redis or primary; the scripts touch keys
//! they derive, as Redis Cluster does not allow):
//! - `jwtkit:session:{sid}`: the session (hash), until its lifetime ends (plus an hour);
//! - `jwtkit:refresh:{hex sha256}`: a refresh token's generation, rotation time, sealed
//!   successor (hash), as long as its session;
//! - `jwtkit:subject-sessions:{sub}`: the live sessions of a subject (sorted set, scored by
//!   their absolute expiry, so the oldest come first): pruned as they expire or end, its TTL
//!   only ever pushed forward (`EXPIREAT … GT`);
//! - `jwtkit:revocations`: the revocation stream, trimmed to the longest access-token life;
//! - `jwtkit:attempt:{client}`: a failed-attempt counter (hash), for its window;
//! - `jwtkit:dpop:{hex sha256}`: a DPoP proof seen (see `proofs`), for its window;
//! - `jwtkit:users` and `jwtkit:user-subjects`: the built-in user directory's accounts
//!   (see `users`), which never expire;
//! - `jwtkit:code:{hex sha256}` and `jwtkit:login:{hex sha256}`: the OpenID provider's
//!   authorization codes and sign-ins (see `provider`);
//! - `jwtkit:keys`: the signing keys' ring (hash: `version`, `document`; see `keys`), which
//!   never expires.
//!
//! Time is judged by one clock for every instance: Redis's own (`TIME`, [`Clock::Redis`]).
//! The times an instance passes (a session's lifetimes, the end of a logout's revocation, its
//! `now`) are moved onto that clock by the difference between the two, and the times read
//! back are moved onto the reader's, so an instance whose clock is off neither ends sessions
//! early nor keeps them late for the others. A token's revocation lasts until its `exp` and
//! the leeway: a time of the token's, which every instance judges as it judges the `exp`.

use std::sync::Arc;
use std::time::Duration;

use jwtkit_core::UnixTime;
use redis::AsyncCommands;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::streams::StreamReadReply;

mod clients;
mod keys;
mod listing;
mod proofs;
mod provider;
mod scripts;
mod users;

use scripts::{Scripts, attempts, refresh_key, secs, session, subject_key, text, time};

use super::{
    Attempts, MAX_ACCESS_LIFETIME, NewSession, Revocation, RevocationBatch, Rotated, Rotation,
    SessionInfo, Store, StoreError, StoreFuture, TokenHash,
};

/// The revocation stream.
const STREAM: &str = "jwtkit:revocations";
/// How long an ended or expired session is remembered, in seconds.
const REMEMBER_ENDED: f64 = 3600.0;
/// How long a revocation can matter, in milliseconds; older stream entries are trimmed.
const RETENTION_MS: u128 = MAX_ACCESS_LIFETIME.as_millis();
/// The most revocations one read of the stream returns.
const REVOCATION_BATCH: usize = 1000;
/// How long a watcher's read waits for a new revocation, in milliseconds.
const WATCH_BLOCK_MS: u64 = 1000;

/// Whose clock the store judges time by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Clock {
    /// The Redis server's (`TIME`): one clock for every instance, whatever theirs say.
    Redis,
    /// The `now` each call passes, as it is: for tests that move time.
    Caller,
}

/// The shared store.
#[derive(Clone)]
pub struct RedisStore {
    clock: Clock,
    conn: ConnectionManager,
    /// A connection of its own for blocking reads of the revocation stream.
    watch: ConnectionManager,
    scripts: Arc<Scripts>,
}

/// How far the clock that read `now` is behind Redis's, in seconds (0 judging by the
/// caller's): the times scripts store move back onto the caller's clock by it.
async fn clock_shift(
    conn: &mut ConnectionManager,
    clock: Clock,
    now: UnixTime,
) -> Result<f64, StoreError> {
    match clock {
        Clock::Caller => Ok(0.0),
        Clock::Redis => {
            let (secs, micros): (u64, u64) =
                redis::cmd("TIME").query_async(conn).await.map_err(error)?;
            Ok(secs as f64 + micros as f64 / 1e6 - now.as_secs_f64())
        }
    }
}

fn error(e: redis::RedisError) -> StoreError {
    // Redis errors name the command and the server's message, never the arguments.
    StoreError::new(e)
}

impl RedisStore {
    /// A store on the Redis at `url`, judging time by Redis's clock. Connects lazily: a Redis
    /// that is down at start makes requests answer 503 until it is back, rather than keeping
    /// the server down.
    pub fn open(url: &str) -> Result<Self, StoreError> {
        Self::open_with_clock(url, Clock::Redis)
    }

    /// A store on the Redis at `url`, judging time by `clock`.
    pub fn open_with_clock(url: &str, clock: Clock) -> Result<Self, StoreError> {
        let client =
            redis::Client::open(url).map_err(|_| StoreError::new("the Redis URL is not valid"))?;
        let config = |response_timeout: Duration| {
            ConnectionManagerConfig::new()
                .set_connection_timeout(Some(Duration::from_secs(2)))
                .set_response_timeout(Some(response_timeout))
                .set_number_of_retries(1)
                .set_max_delay(Duration::from_secs(1))
        };
        let conn =
            ConnectionManager::new_lazy_with_config(client.clone(), config(Duration::from_secs(2)))
                .map_err(error)?;
        let watch = ConnectionManager::new_lazy_with_config(
            client,
            config(Duration::from_millis(WATCH_BLOCK_MS + 2000)),
        )
        .map_err(error)?;
        Ok(Self {
            clock,
            conn,
            watch,
            scripts: Arc::new(Scripts::new(clock)),
        })
    }
}

impl Store for RedisStore {
    fn create_session(&self, s: NewSession) -> StoreFuture<'_, Vec<String>> {
        let mut conn = self.conn.clone();
        let scripts = self.scripts.clone();
        Box::pin(async move {
            let mut invocation = scripts
                .create_session
                .key(format!("jwtkit:session:{}", s.sid));
            invocation
                .key(refresh_key(&s.refresh))
                .key(subject_key(&s.sub));
            if let Some(code) = &s.code {
                invocation.key(provider::code_key(code));
            }
            invocation
                .arg(&s.sid)
                .arg(&s.sub)
                .arg(serde_json::Value::from(s.roles.clone()).to_string())
                .arg(secs(s.now))
                .arg(secs(s.absolute_expiry))
                .arg(secs(s.idle_expiry))
                .arg(&s.client_id)
                .arg(s.endpoint.name())
                .arg(s.max_per_subject)
                .arg(secs(s.revoke_until))
                .arg(REMEMBER_ENDED)
                .arg(s.jkt.as_deref().unwrap_or(""))
                .invoke_async(&mut conn)
                .await
                .map_err(error)
        })
    }

    fn rotate(&self, r: Rotation) -> StoreFuture<'_, Rotated> {
        let mut conn = self.conn.clone();
        let scripts = self.scripts.clone();
        Box::pin(async move {
            let reply: Vec<Vec<u8>> = scripts
                .rotate
                .key(refresh_key(&r.presented))
                .key(refresh_key(&r.successor))
                .arg(secs(r.now))
                .arg(r.grace_seconds)
                .arg(r.idle_seconds)
                .arg(&r.sealed_successor[..])
                .arg(secs(r.revoke_until))
                .arg(REMEMBER_ENDED)
                .invoke_async(&mut conn)
                .await
                .map_err(error)?;
            let (kind, rest) = reply
                .split_first()
                .ok_or_else(|| StoreError::new("an empty rotation reply"))?;
            Ok(match kind.as_slice() {
                b"rotated" => Rotated::Rotated(session(rest)?),
                b"grace" => {
                    let sealed = rest
                        .get(10)
                        .and_then(|s| <[u8; 32]>::try_from(s.as_slice()).ok())
                        .ok_or_else(|| StoreError::new("a stored successor is malformed"))?;
                    Rotated::Grace(session(rest)?, sealed)
                }
                b"reused" => Rotated::Reused {
                    sid: text(rest.first().map_or(&[][..], Vec::as_slice))?,
                },
                b"expired" => Rotated::Expired,
                b"revoked" => Rotated::Revoked,
                _ => Rotated::Unknown,
            })
        })
    }

    fn session_of(&self, refresh: TokenHash) -> StoreFuture<'_, Option<String>> {
        let mut conn = self.conn.clone();
        Box::pin(async move { conn.hget(refresh_key(&refresh), "sid").await.map_err(error) })
    }

    fn end_session(&self, sid: String, now: UnixTime, until: UnixTime) -> StoreFuture<'_, bool> {
        let mut conn = self.conn.clone();
        let scripts = self.scripts.clone();
        Box::pin(async move {
            let ended: i64 = scripts
                .end_session
                .arg(sid)
                .arg(secs(until))
                .arg(secs(now))
                .invoke_async(&mut conn)
                .await
                .map_err(error)?;
            Ok(ended == 1)
        })
    }

    fn end_sessions_of(
        &self,
        sub: String,
        now: UnixTime,
        until: UnixTime,
    ) -> StoreFuture<'_, usize> {
        let mut conn = self.conn.clone();
        let scripts = self.scripts.clone();
        Box::pin(async move {
            let count: usize = scripts
                .end_sessions_of
                .key(subject_key(&sub))
                .arg(secs(until))
                .arg(secs(now))
                .invoke_async(&mut conn)
                .await
                .map_err(error)?;
            Ok(count)
        })
    }

    fn revoke_token(&self, jti: String, until: UnixTime) -> StoreFuture<'_, ()> {
        let mut conn = self.conn.clone();
        Box::pin(async move {
            let until = secs(until);
            conn.xadd::<_, _, _, _, ()>(
                STREAM,
                "*",
                &[
                    ("kind", "token"),
                    ("value", jti.as_str()),
                    ("until", until.as_str()),
                ],
            )
            .await
            .map_err(error)
        })
    }

    fn sessions(&self, sub: Option<String>, now: UnixTime) -> StoreFuture<'_, Vec<SessionInfo>> {
        Box::pin(listing::sessions(self.conn.clone(), self.clock, sub, now))
    }

    fn revocations(&self, cursor: String, now: UnixTime) -> StoreFuture<'_, RevocationBatch> {
        let mut conn = self.watch.clone();
        let clock = self.clock;
        Box::pin(async move {
            let shift = clock_shift(&mut conn, clock, now).await?;
            let from = if cursor.is_empty() {
                "0"
            } else {
                cursor.as_str()
            };
            let reply: Option<StreamReadReply> = redis::cmd("XREAD")
                .arg("COUNT")
                .arg(REVOCATION_BATCH)
                .arg("BLOCK")
                .arg(WATCH_BLOCK_MS)
                .arg("STREAMS")
                .arg(STREAM)
                .arg(from)
                .query_async(&mut conn)
                .await
                .map_err(error)?;
            let entries: Vec<_> = reply
                .into_iter()
                .flat_map(|r| r.keys)
                .flat_map(|k| k.ids)
                .collect();
            let mut batch = RevocationBatch {
                revocations: Vec::new(),
                cursor: from.to_owned(),
                caught_up: entries.len() < REVOCATION_BATCH,
            };
            for entry in entries {
                batch.cursor.clone_from(&entry.id);
                let field = |name: &str| entry.get::<String>(name);
                let (Some(kind), Some(value), Some(until)) =
                    (field("kind"), field("value"), field("until"))
                else {
                    continue;
                };
                let until = time(until.as_bytes())?;
                // A session's end is kept on Redis's clock, moved back onto this instance's;
                // a token's is its `exp` and leeway, a time of the token's.
                let revocation = match kind.as_str() {
                    "session" => Revocation::Session {
                        sid: value,
                        until: until.saturating_add_secs(-shift),
                    },
                    _ => Revocation::Token { jti: value, until },
                };
                if revocation.until() > now {
                    batch.revocations.push(revocation);
                }
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
        let mut conn = self.conn.clone();
        let scripts = self.scripts.clone();
        Box::pin(async move {
            let reply: Vec<String> = scripts
                .count_failure
                .key(format!("jwtkit:attempt:{key}"))
                .arg(secs(now))
                .arg(window_seconds)
                .invoke_async(&mut conn)
                .await
                .map_err(error)?;
            attempts(&reply)
        })
    }

    fn failures(&self, key: String, now: UnixTime) -> StoreFuture<'_, Attempts> {
        let mut conn = self.conn.clone();
        let scripts = self.scripts.clone();
        Box::pin(async move {
            let reply: Vec<String> = scripts
                .failures
                .key(format!("jwtkit:attempt:{key}"))
                .arg(secs(now))
                .invoke_async(&mut conn)
                .await
                .map_err(error)?;
            attempts(&reply)
        })
    }

    fn prune(&self, _now: UnixTime) -> StoreFuture<'_, ()> {
        // Sessions, tokens and counters expire by their TTLs; the stream is trimmed here.
        let mut conn = self.conn.clone();
        let scripts = self.scripts.clone();
        Box::pin(async move {
            scripts
                .trim
                .arg(RETENTION_MS.to_string())
                .invoke_async::<()>(&mut conn)
                .await
                .map_err(error)
        })
    }

    fn ping(&self) -> StoreFuture<'_, ()> {
        let mut conn = self.conn.clone();
        Box::pin(async move {
            redis::cmd("PING")
                .query_async::<String>(&mut conn)
                .await
                .map(drop)
                .map_err(error)
        })
    }
}
