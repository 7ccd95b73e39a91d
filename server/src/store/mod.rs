//! Where the server's state lives: sessions (refresh-token families), revocations and the
//! `/auth` failure counters, behind one [`Store`] trait with two real backends — SQLite in a
//! file (the embedded default, [`sqlite::SqliteStore`]) and Redis for several instances
//! ([`redis::RedisStore`]). An instance's memory only caches what the store holds (the
//! revocation view of `revocations`).
//!
//! Refresh tokens are kept only as SHA-256 hashes. Each rotation stores the successor sealed
//! under the presented token (which the store never sees), so that an honest second use of
//! the immediate predecessor within the grace window gets the *same* current token back,
//! and a stolen copy of the store yields no usable refresh token.

use std::fmt;

use futures_util::future::BoxFuture;
use jwtkit_core::UnixTime;

use crate::config::StoreLocation;

pub mod clients;
pub mod instrumented;
pub mod keys;
pub mod proofs;
pub mod provider;
pub mod redis;
pub mod sqlite;
pub mod users;

pub use clients::ClientRecords;
pub use keys::{KeyRecords, StoredRing};
pub use proofs::ProofReplays;
pub use provider::{ProviderRecords, Redeemed};
pub use users::{UserRecord, UserRecords};

/// The longest an access token can live: the largest `token_ttl` (24 h) plus the largest
/// leeway. A revocation never needs to be remembered longer.
pub const MAX_ACCESS_LIFETIME: std::time::Duration =
    std::time::Duration::from_secs(24 * 3600 + jwtkit_core::MAX_LEEWAY_SECONDS as u64);

/// What a store operation returns.
pub type StoreFuture<'a, T> = BoxFuture<'a, Result<T, StoreError>>;

/// The store cannot be reached or refused the operation: the request is answered 503 with
/// `Retry-After`, never with a false success.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreError {
    /// What failed (no secrets, no tokens).
    pub reason: String,
}

impl StoreError {
    /// A store error saying `reason`.
    pub fn new(reason: impl fmt::Display) -> Self {
        Self {
            reason: reason.to_string(),
        }
    }
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the store is unavailable: {}", self.reason)
    }
}

impl std::error::Error for StoreError {}

/// A refresh token's SHA-256 hash: all the store ever holds of it.
pub type TokenHash = [u8; 32];

/// Where a session started, which decides where its refresh tokens are accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    /// `POST /api/v3/auth`: the refresh token is the holder's credential (a browser's), and
    /// refreshes at `/api/v3/auth/refresh` or, with the client's authentication, at the token
    /// endpoint.
    Auth,
    /// The token endpoint, for a confidential client: the refresh token refreshes only
    /// there, with that client's authentication (RFC 6749 §6).
    Token,
    /// The authorization code grant: a person signed in at a public client. The refresh
    /// token refreshes only at the token endpoint, presented with that client's
    /// `client_id`; a public client holds no secret, so rotation and reuse detection are
    /// what protect it (RFC 9700 §4.14.2).
    Authorize,
}

impl Endpoint {
    /// The name the stores write.
    pub fn name(self) -> &'static str {
        match self {
            Self::Auth => "auth",
            Self::Token => "token",
            Self::Authorize => "authorize",
        }
    }

    /// The endpoint a store wrote as `name` (sessions stored before it was recorded started
    /// at `/api/v3/auth`).
    pub fn from_name(name: Option<&str>) -> Self {
        match name {
            Some("token") => Self::Token,
            Some("authorize") => Self::Authorize,
            _ => Self::Auth,
        }
    }
}

/// What decides, from a freshly redeemed code's document, the session its redemption starts:
/// `None` starts none (the code is used up all the same).
pub type SessionStart = Box<dyn Fn(&str) -> Option<NewSession> + Send>;

/// A new session and its first refresh token.
#[derive(Debug, Clone, PartialEq)]
pub struct NewSession {
    /// The session ID (the access tokens' `sid`).
    pub sid: String,
    /// The subject (an API key's name).
    pub sub: String,
    /// The client it was issued to (its `client_id`).
    pub client_id: String,
    /// Where it started.
    pub endpoint: Endpoint,
    /// The roles granted.
    pub roles: Vec<String>,
    /// The first refresh token's hash.
    pub refresh: TokenHash,
    /// When it starts.
    pub now: UnixTime,
    /// When it ends whatever happens (absolute lifetime).
    pub absolute_expiry: UnixTime,
    /// When it ends unless refreshed before (idle lifetime).
    pub idle_expiry: UnixTime,
    /// The most live sessions a subject may have: starting one more ends the oldest.
    pub max_per_subject: u32,
    /// Until when the revocation of a session ended to make room must be remembered.
    pub revoke_until: UnixTime,
    /// The authorization code (its hash) that starts it: the code's record learns the
    /// session in the same write, so that a later replay of the code ends it; a code
    /// replayed already (between its redemption and this write) ends the session as it
    /// starts, and its ID is among those returned.
    pub code: Option<TokenHash>,
    /// The thumbprint of the DPoP key its refresh tokens are bound to.
    pub jkt: Option<String>,
}

/// A session as the store knows it.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionInfo {
    /// The session ID.
    pub sid: String,
    /// The subject (an API key's name).
    pub sub: String,
    /// The client it was issued to.
    pub client_id: String,
    /// Where it started.
    pub endpoint: Endpoint,
    /// The roles granted.
    pub roles: Vec<String>,
    /// When it started.
    pub created: UnixTime,
    /// When it ends whatever happens.
    pub absolute_expiry: UnixTime,
    /// When it ends unless refreshed before.
    pub idle_expiry: UnixTime,
    /// How many rotations it has had.
    pub generation: u32,
    /// The thumbprint of the DPoP key its refresh tokens are bound to (RFC 9449 §5): a
    /// refresh proves possession of that key.
    pub jkt: Option<String>,
}

impl SessionInfo {
    /// When the session's current refresh token expires: the earlier of the two lifetimes.
    pub fn refresh_expiry(&self) -> UnixTime {
        if self.idle_expiry < self.absolute_expiry {
            self.idle_expiry
        } else {
            self.absolute_expiry
        }
    }
}

/// One rotation request: the presented token's hash, its successor (hash, and sealed under
/// the presented token), the time, and the session rules.
#[derive(Debug, Clone, PartialEq)]
pub struct Rotation {
    /// The presented refresh token's hash.
    pub presented: TokenHash,
    /// The successor's hash.
    pub successor: TokenHash,
    /// The successor sealed under the presented token (see `sessions`).
    pub sealed_successor: [u8; 32],
    /// The time of the request.
    pub now: UnixTime,
    /// How long after a rotation its immediate predecessor is still honoured (seconds).
    pub grace_seconds: f64,
    /// The idle lifetime (seconds), slid forward by a rotation.
    pub idle_seconds: f64,
    /// Until when a revocation of the session must be remembered (its access tokens'
    /// longest possible life).
    pub revoke_until: UnixTime,
}

/// What became of a rotation, decided atomically by the store.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Rotated {
    /// The presented token was current: it is used up and the successor is now current.
    Rotated(SessionInfo),
    /// The presented token is the immediate predecessor of the current one, within the grace
    /// window: the current token, sealed under the presented one, is handed back again.
    Grace(SessionInfo, [u8; 32]),
    /// The presented token was rotated before (outside the grace window, or an older
    /// generation): the whole session is revoked now.
    Reused {
        /// The revoked session.
        sid: String,
    },
    /// The session's idle or absolute lifetime is over.
    Expired,
    /// The session was ended (logout, revocation, reuse).
    Revoked,
    /// No such refresh token.
    Unknown,
}

/// Something revoked, remembered until `until` (after which nothing it covers is valid).
#[derive(Debug, Clone, PartialEq)]
pub enum Revocation {
    /// Every access token carrying this `sid`.
    Session {
        /// The session ID.
        sid: String,
        /// When the revocation may be forgotten.
        until: UnixTime,
    },
    /// The access token with this `jti`.
    Token {
        /// The token ID.
        jti: String,
        /// When the revocation may be forgotten.
        until: UnixTime,
    },
}

impl Revocation {
    /// When it may be forgotten.
    pub fn until(&self) -> UnixTime {
        match self {
            Self::Session { until, .. } | Self::Token { until, .. } => *until,
        }
    }
}

/// Revocations recorded after a cursor, and the cursor after them.
#[derive(Debug, Clone, PartialEq)]
pub struct RevocationBatch {
    /// The revocations, oldest first.
    pub revocations: Vec<Revocation>,
    /// Where the next read starts.
    pub cursor: String,
    /// Whether this batch reaches the newest revocation (a reader catching up on a long
    /// history gets several batches, and is not in step before the last).
    pub caught_up: bool,
}

/// A failure counter.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Attempts {
    /// Failures counted in the current window.
    pub count: u32,
    /// When the window ends.
    pub window_end: UnixTime,
}

/// Opens the store at `location`: the SQLite file (created when missing), or a connection to
/// Redis.
pub async fn open(location: &StoreLocation) -> Result<std::sync::Arc<dyn Store>, StoreError> {
    match location {
        StoreLocation::Sqlite(path) => Ok(std::sync::Arc::new(sqlite::SqliteStore::open(path)?)),
        StoreLocation::Redis(url) => Ok(std::sync::Arc::new(redis::RedisStore::open(url)?)),
    }
}

/// Opens the store at `location` as an operator's tool does: one that exists and answers,
/// never a new one. A SQLite path that does not exist (or holds no jwtkit store) and a Redis
/// that answers nothing are refused, so that a typo cannot look like an empty store.
pub async fn open_existing(
    location: &StoreLocation,
) -> Result<std::sync::Arc<dyn Store>, StoreError> {
    match location {
        StoreLocation::Sqlite(path) => Ok(std::sync::Arc::new(sqlite::SqliteStore::open_existing(
            path,
        )?)),
        StoreLocation::Redis(url) => {
            let store = redis::RedisStore::open(url)?;
            store.ping().await.map_err(|e| {
                StoreError::new(format!(
                    "the Redis at --store answers nothing ({}): check the URL and that Redis runs",
                    e.reason
                ))
            })?;
            Ok(std::sync::Arc::new(store))
        }
    }
}

/// The state of the server, shared by every instance that uses the same store.
pub trait Store:
    UserRecords + ProviderRecords + ClientRecords + ProofReplays + KeyRecords + Send + Sync
{
    /// Starts a session with its first refresh token. When its subject already has
    /// `max_per_subject` live sessions, the oldest are ended (and their revocations recorded)
    /// to make room; returns their IDs (and the new one's, when its code was replayed: see
    /// [`NewSession::code`]).
    fn create_session(&self, session: NewSession) -> StoreFuture<'_, Vec<String>>;

    /// Redeems a code at `now` (as [`ProviderRecords::redeem_code`]) and, when it is fresh
    /// and `start` accepts its document, starts the session `start` makes of it (as
    /// [`Store::create_session`], whose `code` is this one): the sessions that ended, or
    /// `None` when no session started. A store that can does both in one step; by default,
    /// one after the other.
    fn redeem_code_for_session(
        &self,
        code: TokenHash,
        now: UnixTime,
        start: SessionStart,
    ) -> StoreFuture<'_, (Redeemed, Option<Vec<String>>)> {
        Box::pin(async move {
            let redeemed = self.redeem_code(code, now).await?;
            let session = match &redeemed {
                Redeemed::Fresh(document) => start(document),
                _ => None,
            };
            let ended = match session {
                Some(session) => Some(self.create_session(session).await?),
                None => None,
            };
            Ok((redeemed, ended))
        })
    }

    /// Rotates a refresh token, atomically: consume, detect reuse, issue the successor, all
    /// or nothing (see [`Rotated`]).
    fn rotate(&self, rotation: Rotation) -> StoreFuture<'_, Rotated>;

    /// The session a refresh token belongs to, if it is known.
    fn session_of(&self, refresh: TokenHash) -> StoreFuture<'_, Option<String>>;

    /// Ends a session: its refresh tokens stop working and its access tokens are revoked
    /// until `until`, a time on the clock that read `now` (a shared store keeps it on its
    /// own clock, and every instance reads it back on its own). `false` when there was no
    /// such live session; the revocation is recorded then too (the session may have been
    /// forgotten while its access tokens live), unless the session is known to have ended
    /// before.
    fn end_session(&self, sid: String, now: UnixTime, until: UnixTime) -> StoreFuture<'_, bool>;

    /// Ends every session of an API key (see [`Store::end_session`]); returns how many.
    fn end_sessions_of(
        &self,
        sub: String,
        now: UnixTime,
        until: UnixTime,
    ) -> StoreFuture<'_, usize>;

    /// Revokes one access token by its `jti` until `until`: its `exp` plus the leeway, a
    /// time of the token's, which every instance compares with its own clock as it does
    /// `exp`.
    fn revoke_token(&self, jti: String, until: UnixTime) -> StoreFuture<'_, ()>;

    /// The live sessions (of one API key, or all), at `now`.
    fn sessions(&self, sub: Option<String>, now: UnixTime) -> StoreFuture<'_, Vec<SessionInfo>>;

    /// The revocations after `cursor` (`""` for all), waiting up to about a second for new
    /// ones; live ones only (`until` after `now`).
    fn revocations(&self, cursor: String, now: UnixTime) -> StoreFuture<'_, RevocationBatch>;

    /// Counts a failure under `key` in a fixed window of `window_seconds`, atomically;
    /// returns the count with this one.
    fn count_failure(
        &self,
        key: String,
        now: UnixTime,
        window_seconds: f64,
    ) -> StoreFuture<'_, Attempts>;

    /// The failures counted under `key` in its window at `now` (0 when none or over).
    fn failures(&self, key: String, now: UnixTime) -> StoreFuture<'_, Attempts>;

    /// Forgets what has expired at `now`.
    fn prune(&self, now: UnixTime) -> StoreFuture<'_, ()>;

    /// Whether the store answers.
    fn ping(&self) -> StoreFuture<'_, ()>;
}
