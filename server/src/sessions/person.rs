//! People's sessions (the authorization code grant): started for a person at a client,
//! refreshed at the token endpoint by the same client.

use jwtkit_core::UnixTime;

use super::refresh_token::random_text;
use super::{Grant, Opening, SessionError, Sessions, seconds_left};
use crate::store::{Endpoint, SessionInfo, TokenHash};

impl Sessions {
    /// Starts the session of a person, `sub`, signed in at the client `client_id` with
    /// `scope` granted by the authorization code `code` (whose record learns the session, so
    /// that a replay of the code ends it), from the sign-in at the provider `login_sid`: its
    /// ID is `{login_sid}.{random}` (so that logging out of that sign-in finds it), its roles
    /// are the scope, and its refresh token refreshes at the token endpoint as the same
    /// client ([`Sessions::refresh_person`]).
    pub(crate) async fn start_person(
        &self,
        code: TokenHash,
        sub: &str,
        client_id: &str,
        scope: &[String],
        login_sid: &str,
        now: UnixTime,
    ) -> Result<Grant, SessionError> {
        let sid = format!("{login_sid}.{}", random_text(16)?);
        let opening = Opening {
            sid: Some(sid),
            code: Some(code),
            sub,
            client_id,
            roles: scope,
            endpoint: Endpoint::Authorize,
        };
        let (info, refresh) = self.open(opening, now).await?;
        self.person_grant(&info, scope, refresh, now)
    }

    /// Rotates a person's refresh token presented by the client `client_id` at the token
    /// endpoint, the access token limited to `scope`; returns the session too (whose
    /// person the caller may still refuse). A refresh token presented by another client, or
    /// one that is not a person's, was stolen: the session ends.
    pub(crate) async fn refresh_person(
        &self,
        presented: &str,
        client_id: &str,
        scope: Option<&[String]>,
        now: UnixTime,
    ) -> Result<(SessionInfo, Grant), SessionError> {
        let (info, refresh) = self.rotate(presented, now).await?;
        if info.endpoint != Endpoint::Authorize || info.client_id != client_id {
            return Err(self
                .end_stolen(&info, now, "a refresh token presented by another client")
                .await);
        }
        let scope = match scope {
            None => info.roles.clone(),
            Some(scope) if scope.iter().all(|s| info.roles.contains(s)) => scope.to_vec(),
            Some(_) => return Err(SessionError::ScopeExceeded),
        };
        let grant = self.person_grant(&info, &scope, refresh, now)?;
        Ok((info, grant))
    }

    fn person_grant(
        &self,
        info: &SessionInfo,
        scope: &[String],
        refresh: String,
        now: UnixTime,
    ) -> Result<Grant, SessionError> {
        let access =
            self.issuer
                .issue_for_person(&info.sub, &info.client_id, scope, &info.sid, now)?;
        Ok(Grant {
            access,
            roles: scope.to_vec(),
            refresh,
            refresh_expires_in: seconds_left(info, now),
        })
    }
}
