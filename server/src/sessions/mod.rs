//! Sessions: a refresh-token family per `/auth`, rotated at every refresh with reuse
//! detection (RFC 9700 §4.14.2), ended by logout or revocation.
//!
//! - A refresh token is `jwtr_` and 256 random bits (base64url). The store keeps only its
//!   SHA-256 hash.
//! - A rotation uses the presented token up and makes its successor current. The successor
//!   is also stored *sealed* under the presented token (XOR with a SHA-256 pad of it): only a
//!   client presenting that very token can read it back. So a second use of the immediate
//!   predecessor within the grace window (two tabs refreshing at once) is answered with the
//!   same current token instead of tripping reuse detection, and nothing older is honoured.
//! - Any other second use is a reuse: the whole session ends, refresh tokens and access
//!   tokens (by their `sid`) alike.
//! - A session remembers its client and where it started ([`Endpoint`]): a confidential
//!   client's refresh token refreshes only at the token endpoint with that client's
//!   authentication, and a refresh token presented anywhere else, or by another client, ends
//!   its session. A session whose client no longer exists ends at its next refresh; one
//!   whose client lost roles carries only the roles the client still has.
//! - A subject has at most [`SessionRules::max_per_subject`] live sessions: starting one
//!   more ends the oldest.

use std::sync::Arc;
use std::time::Duration;

use jwtkit_core::UnixTime;

mod person;
mod refresh_token;
mod rotation;

pub(crate) use refresh_token::{hash, is_refresh_token};
use refresh_token::{new_refresh_token, random_text};

use crate::apikeys::ApiKeys;
use crate::issuer::{Binding, IssueError, IssuedToken, TokenIssuer};
use crate::revocations::Revocations;
use crate::store::{Endpoint, NewSession, SessionInfo, Store, StoreError, TokenHash};

/// The prefix of every refresh token (makes leaked ones easy to recognise).
pub(crate) const REFRESH_PREFIX: &str = "jwtr_";

/// How long sessions live and how rotations are judged.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct SessionRules {
    /// A session ends unless refreshed within this long (sliding).
    pub idle: Duration,
    /// A session ends this long after it started, whatever happens.
    pub absolute: Duration,
    /// How long after a rotation its immediate predecessor is still honoured.
    pub grace: Duration,
    /// The longest an access token of a session can live after it ends (its lifetime plus
    /// the leeway): how long a revocation must be remembered.
    pub access_lifetime: Duration,
    /// The clock-skew allowance of verification: a token verifies until `exp` plus this.
    pub leeway: Duration,
    /// The most live sessions one subject may have; starting one more ends the oldest.
    pub max_per_subject: u32,
}

/// What a client receives when a session starts or is refreshed.
#[derive(Debug, Clone)]
pub(crate) struct Grant {
    /// The access token.
    pub access: IssuedToken,
    /// The roles it carries (its `scope`).
    pub roles: Vec<String>,
    /// The current refresh token.
    pub refresh: String,
    /// Seconds until the refresh token expires (idle or absolute, whichever is first).
    pub refresh_expires_in: u64,
}

/// Why a session operation failed.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub(crate) enum SessionError {
    /// No such refresh token (or not a refresh token at all).
    Invalid,
    /// The session's idle or absolute lifetime is over.
    Expired,
    /// The refresh token was used before: the session is now revoked.
    Reused,
    /// The session was ended before.
    Revoked,
    /// The refresh token was presented by a client other than its own (or at an endpoint
    /// its client does not use): taken as stolen, its session has been ended.
    WrongClient,
    /// A scope beyond the session's roles was requested.
    ScopeExceeded,
    /// The refresh token is bound to a DPoP key that the request did not prove possession
    /// of (another key's proof, or none): taken as stolen, its session has been ended.
    KeyMismatch,
    /// The store cannot be reached.
    Store(StoreError),
    /// The access token could not be issued.
    Issue(IssueError),
}

impl From<StoreError> for SessionError {
    fn from(error: StoreError) -> Self {
        Self::Store(error)
    }
}

impl From<IssueError> for SessionError {
    fn from(error: IssueError) -> Self {
        Self::Issue(error)
    }
}

/// Starts, refreshes and ends sessions.
pub(crate) struct Sessions {
    store: Arc<dyn Store>,
    issuer: TokenIssuer,
    revocations: Arc<Revocations>,
    rules: SessionRules,
    clients: ApiKeys,
}

/// What a new session is: its ID, who for which client, where it starts, and its roles.
pub(super) struct Opening<'a> {
    /// Its ID, or `None` for a random one.
    pub(super) sid: Option<String>,
    /// The authorization code that starts it, if one does (its hash).
    pub(super) code: Option<TokenHash>,
    pub(super) sub: &'a str,
    pub(super) client_id: &'a str,
    pub(super) roles: &'a [String],
    pub(super) endpoint: Endpoint,
    /// The DPoP key (its thumbprint) its refresh tokens are bound to.
    pub(super) jkt: Option<&'a str>,
}

impl Sessions {
    /// Sessions kept in `store`, access tokens from `issuer`, revocations also applied to
    /// this instance's `revocations` at once, for the `clients` configured now.
    pub(crate) fn new(
        store: Arc<dyn Store>,
        issuer: TokenIssuer,
        revocations: Arc<Revocations>,
        rules: SessionRules,
        clients: ApiKeys,
    ) -> Self {
        Self {
            store,
            issuer,
            revocations,
            rules,
            clients,
        }
    }

    /// Starts a session at `endpoint` for the authenticated client `sub` (an API key's
    /// name, its own subject) with `roles`; with `jkt`, its tokens are bound to that DPoP
    /// key, and each refresh must prove it.
    pub(crate) async fn start(
        &self,
        sub: &str,
        roles: &[String],
        endpoint: Endpoint,
        jkt: Option<&str>,
        now: UnixTime,
    ) -> Result<Grant, SessionError> {
        let opening = Opening {
            sid: None,
            code: None,
            sub,
            client_id: sub,
            roles,
            endpoint,
            jkt,
        };
        let (info, refresh) = self.open(opening, now).await?;
        self.grant(&info, roles, refresh, jkt, now)
    }

    /// A new session in the store, and its first refresh token.
    pub(super) async fn open(
        &self,
        opening: Opening<'_>,
        now: UnixTime,
    ) -> Result<(SessionInfo, String), SessionError> {
        let (session, refresh) = self.new_session(opening, now)?;
        let ended = self.store.create_session(session.clone()).await?;
        Ok((self.opened(&session, ended), refresh))
    }

    /// What the store is asked to keep for `opening`, and its first refresh token.
    pub(super) fn new_session(
        &self,
        opening: Opening<'_>,
        now: UnixTime,
    ) -> Result<(NewSession, String), SessionError> {
        let Opening {
            sid,
            code,
            sub,
            client_id,
            roles,
            endpoint,
            jkt,
        } = opening;
        let sid = match sid {
            Some(sid) => sid,
            None => random_text(16)?,
        };
        let refresh = new_refresh_token()?;
        let session = NewSession {
            sid,
            sub: sub.to_owned(),
            client_id: client_id.to_owned(),
            endpoint,
            roles: roles.to_vec(),
            refresh: hash(&refresh),
            now,
            absolute_expiry: now.saturating_add_secs(self.rules.absolute.as_secs_f64()),
            idle_expiry: now.saturating_add_secs(self.rules.idle.as_secs_f64()),
            max_per_subject: self.rules.max_per_subject,
            revoke_until: self.revoke_until(now),
            code,
            jkt: jkt.map(str::to_owned),
        };
        Ok((session, refresh))
    }

    /// `session`, now kept in the store, which ended the sessions `ended` to make room (or
    /// the new one, its code replayed): their revocations applied here at once.
    pub(super) fn opened(&self, session: &NewSession, ended: Vec<String>) -> SessionInfo {
        for sid in &ended {
            self.revocations.revoke_session(sid, session.revoke_until);
        }
        if !ended.is_empty() {
            tracing::info!(
                target: "jwtkit::sessions",
                sub = session.sub,
                ended = ended.len(),
                "sessions ended as a new one started (the subject's oldest, to make room; or the new one, its code replayed)"
            );
        }
        SessionInfo {
            sid: session.sid.clone(),
            sub: session.sub.clone(),
            client_id: session.client_id.clone(),
            endpoint: session.endpoint,
            roles: session.roles.clone(),
            created: session.now,
            absolute_expiry: session.absolute_expiry,
            idle_expiry: session.idle_expiry,
            generation: 0,
            jkt: session.jkt.clone(),
        }
    }

    /// An access token without a session, so without a refresh token (the
    /// `client_credentials` grant: the client asks for a new one, RFC 6749 §4.4.3), bound to
    /// the DPoP key `jkt` when there is one.
    pub(crate) fn issue_without_session(
        &self,
        sub: &str,
        roles: &[String],
        jkt: Option<&str>,
        now: UnixTime,
    ) -> Result<IssuedToken, SessionError> {
        let binding = Binding { sid: None, jkt };
        Ok(self.issuer.issue_bound(sub, roles, binding, now)?)
    }

    /// Ends the session `sid` (logout): its refresh tokens stop working and its access tokens
    /// are refused, on this instance at once and on every other through the store.
    pub(crate) async fn end(&self, sid: &str, now: UnixTime) -> Result<bool, SessionError> {
        let until = self.revoke_until(now);
        let ended = self.store.end_session(sid.to_owned(), now, until).await?;
        self.revocations.revoke_session(sid, until);
        Ok(ended)
    }

    /// Ends the session of a refresh token; `false` for an unknown one.
    pub(crate) async fn end_by_refresh(
        &self,
        token: &str,
        now: UnixTime,
    ) -> Result<bool, SessionError> {
        if !is_refresh_token(token) {
            return Ok(false);
        }
        match self.store.session_of(hash(token)).await? {
            Some(sid) => self.end(&sid, now).await,
            None => Ok(false),
        }
    }

    /// Revokes one access token by its `jti` until it can no longer verify: its `exp` plus
    /// the leeway.
    pub(crate) async fn revoke_access_token(
        &self,
        jti: &str,
        exp: UnixTime,
    ) -> Result<(), SessionError> {
        let until = exp.saturating_add_secs(self.rules.leeway.as_secs_f64());
        self.store.revoke_token(jti.to_owned(), until).await?;
        self.revocations.revoke_token(jti, until);
        Ok(())
    }

    fn revoke_until(&self, now: UnixTime) -> UnixTime {
        now.saturating_add_secs(self.rules.access_lifetime.as_secs_f64())
    }

    /// The grant of a session's refresh: its access token bound to the DPoP key `jkt` the
    /// request proved, if any.
    fn grant(
        &self,
        info: &SessionInfo,
        roles: &[String],
        refresh: String,
        jkt: Option<&str>,
        now: UnixTime,
    ) -> Result<Grant, SessionError> {
        let binding = Binding {
            sid: Some(&info.sid),
            jkt,
        };
        let access = self.issuer.issue_bound(&info.sub, roles, binding, now)?;
        Ok(Grant {
            access,
            roles: roles.to_vec(),
            refresh,
            refresh_expires_in: seconds_left(info, now),
        })
    }
}

/// The whole seconds left of the session's current refresh token, never more than there are.
pub(super) fn seconds_left(info: &SessionInfo, now: UnixTime) -> u64 {
    let left = info.refresh_expiry().as_secs_f64() - now.as_secs_f64();
    left.max(0.0).floor() as u64
}

#[cfg(test)]
mod tests;
