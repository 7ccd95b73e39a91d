//! People's sessions (the authorization code grant): started for a person at a client,
//! refreshed at the token endpoint by the same client.

use jwtkit_core::UnixTime;

use super::refresh_token::random_text;
use super::{Grant, Opening, SessionError, Sessions, seconds_left};
use crate::issuer::Binding;
use crate::store::{Endpoint, NewSession, SessionInfo, TokenHash};

/// A person's session before its code is redeemed: everything but who the code names,
/// chosen ahead (the ID's random part, the first refresh token), so that the store can start
/// it in the very step that redeems the code (see [`crate::store::SessionStart`]).
#[derive(Debug, Clone)]
pub(crate) struct PersonSession {
    template: NewSession,
}

impl PersonSession {
    /// The session of the person `sub`, signed in at the provider as `login_sid`, with
    /// `scope` granted: its ID is `{login_sid}.{random}` (so that logging out of that sign-in
    /// finds it), its roles are the scope. The same every time it is asked.
    pub(crate) fn of(&self, sub: &str, scope: &[String], login_sid: &str) -> NewSession {
        NewSession {
            sid: format!("{login_sid}.{}", self.template.sid),
            sub: sub.to_owned(),
            roles: scope.to_vec(),
            ..self.template.clone()
        }
    }
}

impl Sessions {
    /// A person's session at the client `client_id`, to be started by the authorization
    /// code `code` (whose record learns the session, so that a replay of the code ends it),
    /// and its first refresh token; its refresh token refreshes at the token endpoint as the
    /// same client ([`Sessions::refresh_person`]).
    /// With `jkt`, the session's refresh tokens are bound to that DPoP key (a public
    /// client's; a confidential client's are bound by its authentication).
    pub(crate) fn prepare_person(
        &self,
        code: TokenHash,
        client_id: &str,
        jkt: Option<&str>,
        now: UnixTime,
    ) -> Result<(PersonSession, String), SessionError> {
        let opening = Opening {
            sid: Some(random_text(16)?),
            code: Some(code),
            sub: "",
            client_id,
            roles: &[],
            endpoint: Endpoint::Authorize,
            jkt,
        };
        let (template, refresh) = self.new_session(opening, now)?;
        Ok((PersonSession { template }, refresh))
    }

    /// The grant of `session`, started in the store, which ended the sessions `ended`.
    /// Its access token is bound to the DPoP key `jkt` the request proved, if any.
    pub(crate) fn person_started(
        &self,
        session: &NewSession,
        ended: Vec<String>,
        refresh: String,
        jkt: Option<&str>,
        now: UnixTime,
    ) -> Result<Grant, SessionError> {
        let info = self.opened(session, ended);
        self.person_grant(&info, &session.roles, refresh, jkt, now)
    }

    /// Rotates a person's refresh token presented by the client `client_id` at the token
    /// endpoint, the access token limited to `scope`; returns the session too (whose
    /// person the caller may still refuse). A refresh token presented by another client, or
    /// one that is not a person's, was stolen: the session ends.
    pub(crate) async fn refresh_person(
        &self,
        presented: &str,
        jkt: Option<&str>,
        client_id: &str,
        scope: Option<&[String]>,
        now: UnixTime,
    ) -> Result<(SessionInfo, Grant), SessionError> {
        let (info, refresh) = self.rotate(presented, jkt, now).await?;
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
        let grant = self.person_grant(&info, &scope, refresh, jkt, now)?;
        Ok((info, grant))
    }

    fn person_grant(
        &self,
        info: &SessionInfo,
        scope: &[String],
        refresh: String,
        jkt: Option<&str>,
        now: UnixTime,
    ) -> Result<Grant, SessionError> {
        let binding = Binding {
            sid: Some(&info.sid),
            jkt,
        };
        let access =
            self.issuer
                .issue_for_person(&info.sub, &info.client_id, scope, binding, now)?;
        Ok(Grant {
            access,
            roles: scope.to_vec(),
            refresh,
            refresh_expires_in: seconds_left(info, now),
        })
    }
}
