//! RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0): a client sends the person
//! to the provider's `end_session_endpoint` with the ID token it holds (`id_token_hint`), and
//! perhaps a registered `post_logout_redirect_uri` and `state`. The sign-in at the provider
//! ends, and with it every session its codes started, on every instance.
//!
//! The hint is checked as the provider's own ID token (signature and issuer; an expired one
//! is still a hint, as the specification allows). Without a hint that names the browser's
//! sign-in, the person is asked to confirm, so that another site cannot sign them out.
//! A redirect goes only to a URI registered for the client, exactly.

use jwtkit_core::{ParseOptions, UnixTime, Verifier, dangerous};

use super::Provider;
use super::login::Login;
use crate::clients::Client;
use crate::sessions::{SessionError, Sessions};
use crate::store::{Store, StoreError};

/// A logout request that may be answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Logout {
    /// Where to send the browser afterwards (registered for the client).
    pub redirect_uri: Option<String>,
    /// Echoed there.
    pub state: Option<String>,
    /// The hint's subject and provider session ID.
    pub hint: Option<(String, String)>,
    /// The client, when the request names one.
    pub client: Option<Client>,
}

/// Why a logout request is refused (on the provider's own page: never a redirect).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LogoutRefusal {
    /// `id_token_hint` is not an ID token of this provider.
    HintInvalid,
    /// No registered client has the `client_id` (or the hint's audience).
    UnknownClient,
    /// `client_id` and the hint's audience differ.
    ClientMismatch,
    /// A `post_logout_redirect_uri` without a client to check it against.
    RedirectWithoutClient,
    /// A `post_logout_redirect_uri` the client did not register.
    RedirectNotRegistered,
}

impl LogoutRefusal {
    /// The stable code shown on the page.
    pub(crate) fn code(self) -> &'static str {
        match self {
            Self::HintInvalid => "ERR_LOGOUT_ID_TOKEN_HINT_INVALID",
            Self::UnknownClient => "ERR_LOGOUT_UNKNOWN_CLIENT",
            Self::ClientMismatch => "ERR_LOGOUT_CLIENT_MISMATCH",
            Self::RedirectWithoutClient => "ERR_LOGOUT_REDIRECT_WITHOUT_CLIENT",
            Self::RedirectNotRegistered => "ERR_LOGOUT_REDIRECT_URI_NOT_REGISTERED",
        }
    }

    /// What the page says.
    pub(crate) fn message(self) -> &'static str {
        match self {
            Self::HintInvalid => {
                "The sign-out link carries an ID token this provider did not issue."
            }
            Self::UnknownClient => {
                "The application that sent you here is not registered with this provider."
            }
            Self::ClientMismatch => "The sign-out link names two different applications.",
            Self::RedirectWithoutClient => {
                "The sign-out link asks to send you back without saying which application it is."
            }
            Self::RedirectNotRegistered => {
                "The sign-out link would send you to an address the application did not register. For your safety, you were not sent there."
            }
        }
    }
}

impl Provider {
    /// Checks a logout request's `params` against the registered clients, the hint against
    /// `verifier` (the provider's own keys and issuer); the outer error when the store
    /// cannot say which clients are registered.
    pub(crate) async fn check_logout(
        &self,
        store: &dyn Store,
        params: &[(String, String)],
        verifier: &Verifier,
    ) -> Result<Result<Logout, LogoutRefusal>, StoreError> {
        let named = match Named::read(params, verifier) {
            Ok(named) => named,
            Err(refusal) => return Ok(Err(refusal)),
        };
        let client = match &named.client_id {
            Some(id) => match self.client(store, id).await? {
                Some(client) => Some(client),
                None => return Ok(Err(LogoutRefusal::UnknownClient)),
            },
            None => None,
        };
        Ok(named.with_client(client))
    }

    /// Ends the sign-in `login` (named by `cookie`) and every session its codes started;
    /// returns how many sessions ended.
    pub(crate) async fn log_out(
        &self,
        store: &dyn Store,
        sessions: &Sessions,
        cookie: &str,
        login: &Login,
        now: UnixTime,
    ) -> Result<usize, SessionError> {
        super::login::end(store, cookie).await?;
        let prefix = format!("{}.", login.sid);
        let live = store
            .sessions(Some(login.sub.clone()), now)
            .await
            .map_err(SessionError::Store)?;
        let mut ended = 0;
        for session in live.iter().filter(|s| s.sid.starts_with(&prefix)) {
            ended += usize::from(sessions.end(&session.sid, now).await?);
        }
        Ok(ended)
    }
}

impl Logout {
    /// Whether the hint names `login`: the client that holds its ID token asks, so no
    /// confirmation is needed.
    pub(crate) fn names(&self, login: &Login) -> bool {
        self.hint
            .as_ref()
            .is_some_and(|(sub, sid)| *sub == login.sub && *sid == login.sid)
    }
}

/// The subject, provider session ID and audience of an ID token of this provider, checked
/// as of when it was issued (an expired ID token is still a hint).
fn hint(token: &str, verifier: &Verifier) -> Option<(String, String, String)> {
    let unverified = dangerous::decode_unverified(token, &ParseOptions::default()).ok()?;
    let issued = unverified.claims().iat()?;
    let verified = verifier.verify(token, issued).ok()?;
    let claims = verified.claims();
    let text = |name: &str| claims.get(name).and_then(|v| v.as_str()).map(str::to_owned);
    Some((claims.sub()?.to_owned(), text("sid")?, text("aud")?))
}

/// What a logout request names, before its client is looked up.
struct Named {
    hint: Option<(String, String, String)>,
    client_id: Option<String>,
    redirect_uri: Option<String>,
    state: Option<String>,
}

impl Named {
    fn read(params: &[(String, String)], verifier: &Verifier) -> Result<Self, LogoutRefusal> {
        let get = |name: &str| {
            params
                .iter()
                .find(|(n, v)| n == name && !v.is_empty())
                .map(|(_, v)| v.clone())
        };
        let hint = match get("id_token_hint") {
            None => None,
            Some(token) => Some(hint(&token, verifier).ok_or(LogoutRefusal::HintInvalid)?),
        };
        let client_id = match (get("client_id"), &hint) {
            (Some(id), Some((_, _, aud))) if &id != aud => {
                return Err(LogoutRefusal::ClientMismatch);
            }
            (Some(id), _) => Some(id),
            (None, Some((_, _, aud))) => Some(aud.clone()),
            (None, None) => None,
        };
        Ok(Self {
            hint,
            client_id,
            redirect_uri: get("post_logout_redirect_uri"),
            state: get("state"),
        })
    }

    /// The request, with `client` the registered client it names.
    fn with_client(self, client: Option<Client>) -> Result<Logout, LogoutRefusal> {
        let redirect_uri = match (self.redirect_uri, &client) {
            (None, _) => None,
            (Some(_), None) => return Err(LogoutRefusal::RedirectWithoutClient),
            (Some(uri), Some(client)) if client.post_logout_redirect_uris.contains(&uri) => {
                Some(uri)
            }
            (Some(_), Some(_)) => return Err(LogoutRefusal::RedirectNotRegistered),
        };
        Ok(Logout {
            redirect_uri,
            state: self.state,
            hint: self.hint.map(|(sub, sid, _)| (sub, sid)),
            client,
        })
    }
}
