//! A store that records each operation's latency and failures in the metrics.

use std::sync::Arc;
use std::time::Instant;

use jwtkit_core::UnixTime;

use super::clients::ClientRecords;
use super::keys::{KeyRecords, StoredRing};
use super::proofs::ProofReplays;
use super::provider::{ProviderRecords, Redeemed};
use super::{
    Attempts, NewSession, RevocationBatch, Rotated, Rotation, SessionInfo, SessionStart, Store,
    StoreFuture, TokenHash, UserRecord, UserRecords,
};
use crate::metrics::Metrics;

/// `inner`, measured.
pub struct Instrumented {
    inner: Arc<dyn Store>,
    metrics: Arc<Metrics>,
}

impl Instrumented {
    /// Measures every operation of `inner` into `metrics`.
    pub fn new(inner: Arc<dyn Store>, metrics: Arc<Metrics>) -> Self {
        Self { inner, metrics }
    }

    fn measure<'a, T: Send + 'a>(
        &'a self,
        operation: &'static str,
        future: StoreFuture<'a, T>,
    ) -> StoreFuture<'a, T> {
        Box::pin(async move {
            let start = Instant::now();
            let result = future.await;
            self.metrics
                .store_operation(operation, start.elapsed(), result.is_ok());
            result
        })
    }
}

impl Store for Instrumented {
    fn create_session(&self, session: NewSession) -> StoreFuture<'_, Vec<String>> {
        self.measure("create_session", self.inner.create_session(session))
    }

    fn redeem_code_for_session(
        &self,
        code: TokenHash,
        now: UnixTime,
        start: SessionStart,
    ) -> StoreFuture<'_, (Redeemed, Option<Vec<String>>)> {
        self.measure(
            "redeem_code_for_session",
            self.inner.redeem_code_for_session(code, now, start),
        )
    }

    fn rotate(&self, rotation: Rotation) -> StoreFuture<'_, Rotated> {
        self.measure("rotate", self.inner.rotate(rotation))
    }

    fn session_of(&self, refresh: TokenHash) -> StoreFuture<'_, Option<String>> {
        self.measure("session_of", self.inner.session_of(refresh))
    }

    fn end_session(&self, sid: String, now: UnixTime, until: UnixTime) -> StoreFuture<'_, bool> {
        self.measure("end_session", self.inner.end_session(sid, now, until))
    }

    fn end_sessions_of(
        &self,
        sub: String,
        now: UnixTime,
        until: UnixTime,
    ) -> StoreFuture<'_, usize> {
        self.measure(
            "end_sessions_of",
            self.inner.end_sessions_of(sub, now, until),
        )
    }

    fn revoke_token(&self, jti: String, until: UnixTime) -> StoreFuture<'_, ()> {
        self.measure("revoke_token", self.inner.revoke_token(jti, until))
    }

    fn sessions(&self, sub: Option<String>, now: UnixTime) -> StoreFuture<'_, Vec<SessionInfo>> {
        self.measure("sessions", self.inner.sessions(sub, now))
    }

    /// Not measured: it waits for news by design.
    fn revocations(&self, cursor: String, now: UnixTime) -> StoreFuture<'_, RevocationBatch> {
        self.inner.revocations(cursor, now)
    }

    fn count_failure(
        &self,
        key: String,
        now: UnixTime,
        window_seconds: f64,
    ) -> StoreFuture<'_, Attempts> {
        self.measure(
            "count_failure",
            self.inner.count_failure(key, now, window_seconds),
        )
    }

    fn failures(&self, key: String, now: UnixTime) -> StoreFuture<'_, Attempts> {
        self.measure("failures", self.inner.failures(key, now))
    }

    fn prune(&self, now: UnixTime) -> StoreFuture<'_, ()> {
        self.measure("prune", self.inner.prune(now))
    }

    fn ping(&self) -> StoreFuture<'_, ()> {
        self.measure("ping", self.inner.ping())
    }
}

impl UserRecords for Instrumented {
    fn add_user(&self, user: UserRecord) -> StoreFuture<'_, bool> {
        self.measure("add_user", self.inner.add_user(user))
    }

    fn user(&self, username: String) -> StoreFuture<'_, Option<UserRecord>> {
        self.measure("user", self.inner.user(username))
    }

    fn user_by_sub(&self, sub: String) -> StoreFuture<'_, Option<UserRecord>> {
        self.measure("user_by_sub", self.inner.user_by_sub(sub))
    }

    fn replace_user(&self, user: UserRecord) -> StoreFuture<'_, bool> {
        self.measure("replace_user", self.inner.replace_user(user))
    }

    fn remove_user(&self, username: String) -> StoreFuture<'_, bool> {
        self.measure("remove_user", self.inner.remove_user(username))
    }

    fn users(&self) -> StoreFuture<'_, Vec<UserRecord>> {
        self.measure("users", self.inner.users())
    }

    fn has_users(&self) -> StoreFuture<'_, bool> {
        self.measure("has_users", self.inner.has_users())
    }
}

impl ProofReplays for Instrumented {
    fn first_use_of_proof(
        &self,
        proof: TokenHash,
        now: UnixTime,
        until: UnixTime,
    ) -> StoreFuture<'_, bool> {
        self.measure(
            "first_use_of_proof",
            self.inner.first_use_of_proof(proof, now, until),
        )
    }
}

impl ProviderRecords for Instrumented {
    fn put_code(
        &self,
        code: TokenHash,
        grant: String,
        now: UnixTime,
        lifetime_seconds: f64,
    ) -> StoreFuture<'_, ()> {
        self.measure(
            "put_code",
            self.inner.put_code(code, grant, now, lifetime_seconds),
        )
    }

    fn redeem_code(&self, code: TokenHash, now: UnixTime) -> StoreFuture<'_, Redeemed> {
        self.measure("redeem_code", self.inner.redeem_code(code, now))
    }

    fn put_login(
        &self,
        login: TokenHash,
        record: String,
        now: UnixTime,
        lifetime_seconds: f64,
    ) -> StoreFuture<'_, ()> {
        self.measure(
            "put_login",
            self.inner.put_login(login, record, now, lifetime_seconds),
        )
    }

    fn login(&self, login: TokenHash, now: UnixTime) -> StoreFuture<'_, Option<String>> {
        self.measure("login", self.inner.login(login, now))
    }

    fn end_login(&self, login: TokenHash) -> StoreFuture<'_, bool> {
        self.measure("end_login", self.inner.end_login(login))
    }

    fn consent(&self, sub: String, client: String) -> StoreFuture<'_, Option<String>> {
        self.measure("consent", self.inner.consent(sub, client))
    }

    fn put_consent(&self, sub: String, client: String, scopes: String) -> StoreFuture<'_, ()> {
        self.measure("put_consent", self.inner.put_consent(sub, client, scopes))
    }
}

impl ClientRecords for Instrumented {
    fn add_client(&self, client_id: String, registration: String) -> StoreFuture<'_, bool> {
        self.measure("add_client", self.inner.add_client(client_id, registration))
    }

    fn client(&self, client_id: String) -> StoreFuture<'_, Option<String>> {
        self.measure("client", self.inner.client(client_id))
    }

    fn clients(&self) -> StoreFuture<'_, Vec<String>> {
        self.measure("clients", self.inner.clients())
    }

    fn remove_client(&self, client_id: String) -> StoreFuture<'_, bool> {
        self.measure("remove_client", self.inner.remove_client(client_id))
    }
}

impl KeyRecords for Instrumented {
    fn key_ring(&self, now: UnixTime) -> StoreFuture<'_, StoredRing> {
        self.measure("key_ring", self.inner.key_ring(now))
    }

    fn replace_key_ring(&self, version: u64, document: String) -> StoreFuture<'_, bool> {
        self.measure(
            "replace_key_ring",
            self.inner.replace_key_ring(version, document),
        )
    }
}
