//! Refreshes: a refresh token rotated in the store ([`Sessions::rotate`]), then judged for
//! where it was presented — by its own client, at an endpoint its session uses, with a proof
//! of the DPoP key it is bound to — a presentation anywhere else ending its session.

use jwtkit_core::UnixTime;

use super::refresh_token::{hash, is_refresh_token, new_refresh_token, seal, unseal};
use super::{Grant, SessionError, Sessions};
use crate::store::{Endpoint, Rotated, Rotation, SessionInfo};

impl Sessions {
    /// Rotates a refresh token presented at `/api/v3/auth/refresh` (see the module
    /// documentation): the refresh token is the credential, so a confidential client's is
    /// refused there, and its session ends.
    pub(crate) async fn refresh(
        &self,
        presented: &str,
        jkt: Option<&str>,
        now: UnixTime,
    ) -> Result<Grant, SessionError> {
        let (info, refresh) = self.rotate(presented, jkt, now).await?;
        if info.endpoint != Endpoint::Auth {
            return Err(self
                .end_stolen(
                    &info,
                    now,
                    "a confidential client's refresh token presented without its authentication",
                )
                .await);
        }
        let roles = self.current_roles(&info, now).await?;
        self.grant(&info, &roles, refresh, jkt, now)
    }

    /// Rotates a refresh token presented by the authenticated `client` at the token
    /// endpoint (its `refresh_token` grant), the access token limited to `scope` (RFC 6749
    /// §6).
    ///
    /// A refresh token presented by a client other than the one it was issued to was stolen:
    /// the session ends ([`SessionError::WrongClient`]). A scope beyond the session's roles is
    /// refused after the rotation ([`SessionError::ScopeExceeded`]); the presented token
    /// then gets the current one within the grace window, as after any lost response.
    pub(crate) async fn refresh_for(
        &self,
        presented: &str,
        jkt: Option<&str>,
        now: UnixTime,
        client: &str,
        scope: Option<&[String]>,
    ) -> Result<Grant, SessionError> {
        let (info, refresh) = self.rotate(presented, jkt, now).await?;
        if client != info.client_id || info.endpoint == Endpoint::Authorize {
            return Err(self
                .end_stolen(&info, now, "a refresh token presented by another client")
                .await);
        }
        let roles = self.current_roles(&info, now).await?;
        let roles = match scope {
            None => roles,
            Some(scope) if scope.iter().all(|s| roles.contains(s)) => scope.to_vec(),
            Some(_) => return Err(SessionError::ScopeExceeded),
        };
        self.grant(&info, &roles, refresh, jkt, now)
    }

    /// Ends the session of a refresh token presented where it does not belong.
    pub(super) async fn end_stolen(
        &self,
        info: &SessionInfo,
        now: UnixTime,
        why: &str,
    ) -> SessionError {
        tracing::warn!(target: "jwtkit::sessions", sid = %info.sid, "{why}: session ended");
        match self.end(&info.sid, now).await {
            Ok(_) => SessionError::WrongClient,
            Err(error) => error,
        }
    }

    /// The session's roles that its client still holds; the session ends when its client
    /// is gone ([`SessionError::Revoked`]).
    async fn current_roles(
        &self,
        info: &SessionInfo,
        now: UnixTime,
    ) -> Result<Vec<String>, SessionError> {
        let Some(client) = self.clients.named(&info.client_id) else {
            tracing::info!(
                target: "jwtkit::sessions",
                sid = %info.sid,
                client_id = %info.client_id,
                "the session's client no longer exists: session ended"
            );
            self.end(&info.sid, now).await?;
            return Err(SessionError::Revoked);
        };
        Ok(info
            .roles
            .iter()
            .filter(|role| client.roles().contains(role))
            .cloned()
            .collect())
    }

    /// The rotation itself: the session and its current refresh token. A session bound to
    /// a DPoP key rotates only for a request that proved it (`jkt`, its proof's thumbprint);
    /// any other request was made with a stolen refresh token, and the session ends.
    pub(super) async fn rotate(
        &self,
        presented: &str,
        jkt: Option<&str>,
        now: UnixTime,
    ) -> Result<(SessionInfo, String), SessionError> {
        let (info, refresh) = self.rotate_in_store(presented, now).await?;
        if info.jkt.is_some() && info.jkt.as_deref() != jkt {
            tracing::warn!(
                target: "jwtkit::sessions",
                sid = %info.sid,
                "a DPoP-bound refresh token presented without a proof of its key: session ended"
            );
            self.end(&info.sid, now).await?;
            return Err(SessionError::KeyMismatch);
        }
        Ok((info, refresh))
    }

    async fn rotate_in_store(
        &self,
        presented: &str,
        now: UnixTime,
    ) -> Result<(SessionInfo, String), SessionError> {
        if !is_refresh_token(presented) {
            return Err(SessionError::Invalid);
        }
        let successor = new_refresh_token()?;
        let rotation = Rotation {
            presented: hash(presented),
            successor: hash(&successor),
            sealed_successor: seal(presented, &successor)?,
            now,
            grace_seconds: self.rules.grace.as_secs_f64(),
            idle_seconds: self.rules.idle.as_secs_f64(),
            revoke_until: self.revoke_until(now),
        };
        match self.store.rotate(rotation).await? {
            Rotated::Rotated(info) => Ok((info, successor)),
            Rotated::Grace(info, sealed) => Ok((info, unseal(presented, &sealed))),
            Rotated::Reused { sid } => {
                self.revocations
                    .revoke_session(&sid, self.revoke_until(now));
                Err(SessionError::Reused)
            }
            Rotated::Expired => Err(SessionError::Expired),
            Rotated::Revoked => Err(SessionError::Revoked),
            Rotated::Unknown => Err(SessionError::Invalid),
        }
    }
}
