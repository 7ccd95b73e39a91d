//! What the token endpoint issues (RFC 6749 §4.4, §6), for an authenticated client.
//!
//! - `client_credentials`: an access token with the requested roles of the client (all when
//!   no scope is asked for), and no refresh token, so no session (§4.4.3): the client asks
//!   for a new one, and RFC 7009 revocation ends one early.
//! - `refresh_token`: rotates a refresh token issued to this client (see
//!   [`crate::sessions`]); the scope may narrow, never widen (§6).

use jwtkit_core::UnixTime;
use serde_json::{Value, json};

use crate::apikeys::ApiKey;
use crate::issuer::IssuedToken;
use crate::sessions::{SessionError, Sessions};

/// jwtkit's token-request parameter by which a browser client asks for a person's refresh
/// token in an `HttpOnly` cookie instead of the JSON body, and the values it may take (the
/// metadata's `refresh_token_delivery_values_supported`).
pub(crate) const REFRESH_TOKEN_DELIVERY: &str = "refresh_token_delivery";
pub(crate) const REFRESH_TOKEN_DELIVERIES: [&str; 2] = ["body", "cookie"];

/// The grant types the token endpoint takes, as the metadata names them.
pub(crate) const GRANT_TYPES: [&str; 3] =
    ["authorization_code", "client_credentials", "refresh_token"];

/// A token request, read from the endpoint's form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum TokenRequest<'a> {
    /// `grant_type=client_credentials`.
    ClientCredentials {
        /// The scope asked for (`None`: all of the client's).
        scope: Option<Vec<String>>,
    },
    /// `grant_type=refresh_token`.
    RefreshToken {
        /// The presented refresh token.
        refresh_token: &'a str,
        /// The scope asked for (`None`: the session's).
        scope: Option<Vec<String>>,
    },
}

/// What a grant issued.
#[derive(Debug, Clone)]
pub(crate) struct Issued {
    /// The access token.
    pub access: IssuedToken,
    /// The roles it carries (its `scope`).
    pub roles: Vec<String>,
    /// The next refresh token, for a refreshed session.
    pub refresh: Option<String>,
}

/// Why a grant was refused.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum GrantError {
    /// A scope beyond the client's roles (`invalid_scope`).
    InvalidScope,
    /// The session refused, or the store failed.
    Session(SessionError),
}

impl From<SessionError> for GrantError {
    fn from(error: SessionError) -> Self {
        match error {
            SessionError::ScopeExceeded => Self::InvalidScope,
            other => Self::Session(other),
        }
    }
}

/// Issues what `request` asks of `client`, bound to the DPoP key `jkt` the request proved
/// (if any). A confidential client's refresh tokens stay unbound: its authentication binds
/// them (RFC 9449 §5).
pub(crate) async fn issue(
    sessions: &Sessions,
    client: &ApiKey,
    request: TokenRequest<'_>,
    jkt: Option<&str>,
    now: UnixTime,
) -> Result<Issued, GrantError> {
    match request {
        TokenRequest::ClientCredentials { scope } => {
            let roles = match scope {
                None => client.roles().to_vec(),
                Some(scope) if scope.iter().all(|s| client.roles().contains(s)) => scope,
                Some(_) => return Err(GrantError::InvalidScope),
            };
            let access = sessions.issue_without_session(client.name(), &roles, jkt, now)?;
            Ok(Issued {
                access,
                roles,
                refresh: None,
            })
        }
        TokenRequest::RefreshToken {
            refresh_token,
            scope,
        } => {
            let grant = sessions
                .refresh_for(refresh_token, jkt, now, client.name(), scope.as_deref())
                .await?;
            Ok(Issued {
                access: grant.access,
                roles: grant.roles,
                refresh: Some(grant.refresh),
            })
        }
    }
}

impl Issued {
    /// The RFC 6749 §5.1 answer.
    pub(crate) fn to_json(&self) -> Value {
        let mut response = json!({
            "access_token": self.access.token,
            "token_type": self.access.token_type(),
            "expires_in": self.access.expires_in,
        });
        if let Some(refresh) = &self.refresh {
            response["refresh_token"] = refresh.as_str().into();
        }
        if !self.roles.is_empty() {
            response["scope"] = self.roles.join(" ").into();
        }
        response
    }
}
