//! The OpenID provider: people sign in to registered clients with the authorization code
//! flow and PKCE (OAuth 2.1, RFC 9700, OpenID Connect Core). No HTTP here: the warp routes
//! (`routes::provider`) read requests into these calls and write their answers back.
//!
//! - [`request`]: the authorization request, and where a refusal may go;
//! - [`login`]: checking a password within the failure limits, and the sign-in at the
//!   provider that a cookie names;
//! - [`codes`]: single-use authorization codes in the store;
//! - [`exchange`]: the token endpoint's `authorization_code` grant;
//! - [`logout`]: RP-initiated logout;
//! - [`id_token`]: ID tokens; `pkce`: the S256 check.

use std::sync::Arc;

use crate::keys::SigningKeys;
use std::time::Duration;

use jwtkit_core::{Signer, UnixTime};
use serde_json::{Map, Value, json};

pub(crate) mod codes;
pub(crate) mod exchange;
pub(crate) mod id_token;
pub(crate) mod login;
pub(crate) mod logout;
mod pkce;
pub(crate) mod request;

use crate::clients::{Client, Clients};
use crate::store::{Store, StoreError};
use crate::users::{DirectoryError, UserClaims, UserDirectory};
use codes::CodeGrant;
use login::Login;
use request::{Authorization, Redirected};

/// `n` random bytes from the OS CSPRNG as base64url.
pub(crate) fn random_text(n: usize) -> Result<String, StoreError> {
    crate::random::text(n).map_err(|e| StoreError::new(format!("no randomness: {e}")))
}

/// The provider of one server.
pub(crate) struct Provider {
    /// The clients the configuration registers (others are in the store).
    pub configured_clients: Clients,
    /// The issuer (`iss`).
    pub issuer: String,
    /// Where people's accounts are.
    pub directory: Arc<dyn UserDirectory>,
    /// The keys in force: ID tokens are signed (`typ: JWT`) with the one signing at their
    /// issue time, `id_token_hint`s verified with them all.
    pub keys: SigningKeys,
    /// How long an ID token is valid.
    pub id_token_lifetime: Duration,
    /// How long a sign-in at the provider lasts.
    pub login_lifetime: Duration,
    /// How `id_token_hint`s are checked: its ID tokens' issuer and type.
    pub id_policy: jwtkit_core::Validation,
}

impl Provider {
    /// The signer of an ID token issued at `now`.
    pub(crate) fn id_signer(&self, now: jwtkit_core::UnixTime) -> Signer {
        Signer::new(self.keys.signing_key(now)).typ("JWT")
    }

    /// The verifier of `id_token_hint`s: the keys in force.
    pub(crate) fn id_verifier(&self) -> jwtkit_core::Verifier {
        jwtkit_core::Verifier::new(self.keys.in_force().keys().clone(), self.id_policy.clone())
    }
}

/// What answers an authorization request that may be answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Next {
    /// Redirect to the client with this code.
    Code(String),
    /// Ask the person to sign in.
    SignIn,
    /// Ask the person to consent to the client.
    Consent,
    /// Redirect to the client with this refusal.
    Refuse(Redirected),
}

impl Provider {
    /// The client `client_id` names: the configuration's, or else one registered in the
    /// store (`jwtkit clients add`), read afresh so that a removal counts at once everywhere.
    pub(crate) async fn client(
        &self,
        store: &dyn Store,
        client_id: &str,
    ) -> Result<Option<Client>, StoreError> {
        if let Some(client) = self.configured_clients.get(client_id) {
            return Ok(Some(client.clone()));
        }
        let Some(registration) = store.client(client_id.to_owned()).await? else {
            return Ok(None);
        };
        Client::from_json(&registration).map(Some).map_err(|e| {
            StoreError::new(format!(
                "the store's registration of the client {client_id:?} cannot be read: {e}"
            ))
        })
    }

    /// What answers `request` at `now`, for the person signed in as `login` (if anyone),
    /// who has just consented to its client or not.
    pub(crate) async fn next(
        &self,
        store: &dyn Store,
        request: &Authorization,
        login: Option<&Login>,
        consented: bool,
        now: UnixTime,
    ) -> Result<Next, StoreError> {
        let fresh_enough = |login: &&Login| {
            request
                .max_age
                .is_none_or(|age| now.as_secs().saturating_sub(login.auth_time) <= age as i64)
        };
        let login = login.filter(|_| !request.prompt.login).filter(fresh_enough);
        let Some(login) = login else {
            return Ok(if request.prompt.none {
                Next::Refuse(request.refuse("login_required", "the person is not signed in"))
            } else {
                Next::SignIn
            });
        };
        let asks_consent = !request.client.first_party || request.prompt.consent;
        if asks_consent && consented {
            // What it consented to before stays consented.
            let key = request.client.consent_key();
            let before = store.consent(login.sub.clone(), key.clone()).await?;
            let mut scopes: Vec<&str> = before.as_deref().unwrap_or_default().split(' ').collect();
            scopes.extend(request.scope.iter().map(String::as_str));
            scopes.retain(|s| !s.is_empty());
            scopes.sort_unstable();
            scopes.dedup();
            store
                .put_consent(login.sub.clone(), key, scopes.join(" "))
                .await?;
        } else if asks_consent && !self.remembers_consent(store, request, login).await? {
            return Ok(if request.prompt.none {
                Next::Refuse(request.refuse(
                    "consent_required",
                    "the person has not consented to this client",
                ))
            } else {
                Next::Consent
            });
        }
        let grant = CodeGrant {
            client_id: request.client.id.clone(),
            redirect_uri: request.redirect_uri.clone(),
            code_challenge: request.code_challenge.clone(),
            nonce: request.nonce.clone(),
            scope: request.scope.clone(),
            sub: login.sub.clone(),
            auth_time: login.auth_time,
            login_sid: login.sid.clone(),
        };
        codes::issue(store, &grant, now).await.map(Next::Code)
    }

    /// Whether the person signed in as `login` consented to `request`'s client for every
    /// scope it asks before (never when it asks with `prompt=consent`).
    async fn remembers_consent(
        &self,
        store: &dyn Store,
        request: &Authorization,
        login: &Login,
    ) -> Result<bool, StoreError> {
        if request.prompt.consent {
            return Ok(false);
        }
        let remembered = store
            .consent(login.sub.clone(), request.client.consent_key())
            .await?;
        Ok(remembered.is_some_and(|scopes| {
            let granted: Vec<&str> = scopes.split(' ').collect();
            request.scope.iter().all(|s| granted.contains(&s.as_str()))
        }))
    }

    /// The claims `/oauth2/userinfo` answers for `sub` with `scope` granted (OpenID Connect
    /// Core §5.3, §5.4); `None` when the subject is no longer a person who can sign in.
    pub(crate) async fn userinfo(
        &self,
        sub: &str,
        scope: &[&str],
    ) -> Result<Option<Value>, DirectoryError> {
        let Some(claims) = self.directory.claims(sub.to_owned()).await? else {
            return Ok(None);
        };
        Ok(Some(userinfo_claims(&claims, scope)))
    }
}

/// The claims of `claims` that `scope` grants: `sub` always, `profile`'s `name` and
/// `preferred_username`, `email`'s `email` and `email_verified`.
pub(crate) fn userinfo_claims(claims: &UserClaims, scope: &[&str]) -> Value {
    let mut answer = Map::new();
    answer.insert("sub".to_owned(), claims.sub.clone().into());
    if scope.contains(&"profile") {
        answer.insert(
            "preferred_username".to_owned(),
            claims.preferred_username.clone().into(),
        );
        if let Some(name) = &claims.name {
            answer.insert("name".to_owned(), name.clone().into());
        }
    }
    if scope.contains(&"email")
        && let Some(email) = &claims.email
    {
        answer.insert("email".to_owned(), email.clone().into());
        answer.insert(
            "email_verified".to_owned(),
            json!(claims.email_verified.unwrap_or(false)),
        );
    }
    Value::Object(answer)
}
