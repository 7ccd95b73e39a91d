//! This instance's view of the current revocations: the sessions (`sid`) and access tokens
//! (`jti`) that must be refused until their `until`. Checked on every request after the
//! verified-token cache, in memory (no round trip); kept in step with the store by
//! [`watch`], which also applies every instance's revocations within about a second.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use jwtkit_core::{Claims, UnixTime};

use crate::store::{Revocation, RevocationBatch, Store};
use crate::time::SharedClock;

/// The revocations this instance knows of.
#[derive(Debug, Default)]
pub struct Revocations {
    view: RwLock<View>,
    /// How many entries the view holds: 0 skips the lock on the hot path.
    entries: AtomicUsize,
    /// Whether the last read from the store succeeded.
    in_step: AtomicBool,
}

#[derive(Debug, Default)]
struct View {
    sessions: HashMap<String, UnixTime>,
    tokens: HashMap<String, UnixTime>,
    cursor: String,
    /// When the view last forgot expired entries (a full pass, so at most once a second).
    pruned: Option<UnixTime>,
}

/// How often the view forgets expired entries, in seconds (an expired one matches no live
/// token meanwhile: its `until` is compared on every lookup).
const PRUNE_EVERY: f64 = 1.0;

impl View {
    fn insert(&mut self, revocation: Revocation) {
        let (map, key, until) = match revocation {
            Revocation::Session { sid, until } => (&mut self.sessions, sid, until),
            Revocation::Token { jti, until } => (&mut self.tokens, jti, until),
        };
        let entry = map.entry(key).or_insert(until);
        if until > *entry {
            *entry = until;
        }
    }

    fn prune(&mut self, now: UnixTime) {
        if self
            .pruned
            .is_some_and(|last| now.as_secs_f64() - last.as_secs_f64() < PRUNE_EVERY)
        {
            return;
        }
        self.sessions.retain(|_, until| *until > now);
        self.tokens.retain(|_, until| *until > now);
        self.pruned = Some(now);
    }

    fn len(&self) -> usize {
        self.sessions.len() + self.tokens.len()
    }
}

impl Revocations {
    /// An empty view.
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether a token with these claims is revoked at `now` (its session, or itself).
    pub fn is_revoked(&self, claims: &Claims, now: UnixTime) -> bool {
        if self.entries.load(Ordering::Acquire) == 0 {
            return false;
        }
        let view = self.read();
        let revoked = |map: &HashMap<String, UnixTime>, key: Option<&str>| {
            key.and_then(|key| map.get(key))
                .is_some_and(|until| now < *until)
        };
        revoked(&view.sessions, claims.sid()) || revoked(&view.tokens, claims.jti())
    }

    /// Records a session's revocation here at once (the store carries it to the others).
    pub fn revoke_session(&self, sid: &str, until: UnixTime) {
        self.update(|view| {
            view.insert(Revocation::Session {
                sid: sid.to_owned(),
                until,
            });
        });
    }

    /// Records a token's revocation here at once.
    pub fn revoke_token(&self, jti: &str, until: UnixTime) {
        self.update(|view| {
            view.insert(Revocation::Token {
                jti: jti.to_owned(),
                until,
            });
        });
    }

    /// Applies what the store reported, forgetting what expired by `now`. Revocations are
    /// never withdrawn, so merging is right whatever this instance already knew. In step
    /// once a batch reaches the newest revocation.
    pub fn apply(&self, batch: RevocationBatch, now: UnixTime) {
        let caught_up = batch.caught_up;
        self.update(|view| {
            for revocation in batch.revocations {
                view.insert(revocation);
            }
            view.cursor = batch.cursor;
            view.prune(now);
        });
        self.in_step.store(caught_up, Ordering::Release);
    }

    /// Where the next read from the store starts.
    pub fn cursor(&self) -> String {
        self.read().cursor.clone()
    }

    /// Whether the view is in step with the store: its last read succeeded and reached the
    /// newest revocation.
    pub fn in_step(&self) -> bool {
        self.in_step.load(Ordering::Acquire)
    }

    /// How many revocations are in force here.
    pub fn len(&self) -> usize {
        self.entries.load(Ordering::Acquire)
    }

    /// Whether none is.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn update(&self, change: impl FnOnce(&mut View)) {
        let mut view = self.view.write().unwrap_or_else(PoisonError::into_inner);
        change(&mut view);
        self.entries.store(view.len(), Ordering::Release);
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, View> {
        // Every update leaves the maps consistent, so a poisoned lock is still usable.
        self.view.read().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Keeps `revocations` in step with `store` until the task is dropped: reads every new
/// revocation (the store waits up to about a second for one), and after a failure retries
/// every second with the last known revocations still in force.
pub(crate) async fn watch(
    store: Arc<dyn Store>,
    revocations: Arc<Revocations>,
    clock: SharedClock,
) {
    loop {
        let Ok(now) = clock.now() else {
            tokio::time::sleep(Duration::from_secs(1)).await;
            continue;
        };
        match store.revocations(revocations.cursor(), now).await {
            Ok(batch) => revocations.apply(batch, now),
            Err(error) => {
                if revocations.in_step.swap(false, Ordering::AcqRel) {
                    tracing::warn!(%error, "revocations out of step with the store; retrying");
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(json: &str) -> Claims {
        let token = format!(
            "eyJhbGciOiJIUzI1NiJ9.{}.c2ln",
            base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, json)
        );
        jwtkit_core::dangerous::decode_unverified(&token, &Default::default())
            .unwrap()
            .into_parts()
            .1
    }

    fn t(secs: i64) -> UnixTime {
        UnixTime::from_secs(secs).unwrap()
    }

    #[test]
    fn revoked_sessions_and_tokens_are_refused_until_their_end() {
        let view = Revocations::new();
        let a = claims(r#"{"sid":"s1","jti":"j1"}"#);
        let b = claims(r#"{"sid":"s2","jti":"j2"}"#);
        assert!(!view.is_revoked(&a, t(100)));
        view.revoke_session("s1", t(200));
        view.revoke_token("j2", t(150));
        assert!(view.is_revoked(&a, t(100)) && view.is_revoked(&b, t(100)));
        assert!(!view.is_revoked(&a, t(200)), "forgotten at its end");
        assert!(!view.is_revoked(&b, t(150)));
        assert!(!view.is_revoked(&claims("{}"), t(100)));
        view.apply(
            RevocationBatch {
                revocations: vec![],
                cursor: "7".into(),
                caught_up: true,
            },
            t(160),
        );
        assert_eq!(
            (view.len(), view.cursor()),
            (1, "7".to_owned()),
            "j2 pruned"
        );
    }

    #[test]
    fn in_step_only_once_caught_up() {
        let view = Revocations::new();
        let batch = |n: i64, caught_up| RevocationBatch {
            revocations: vec![Revocation::Token {
                jti: format!("j{n}"),
                until: t(500),
            }],
            cursor: n.to_string(),
            caught_up,
        };
        assert!(!view.in_step(), "nothing read yet");
        view.apply(batch(1, false), t(100));
        assert!(!view.in_step(), "a long history still being read");
        view.apply(batch(2, true), t(100));
        assert!(view.in_step());
        assert_eq!(view.len(), 2);
    }
}
