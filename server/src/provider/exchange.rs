//! The token endpoint's `authorization_code` grant (RFC 6749 §4.1.3, RFC 7636 §4.6, OpenID
//! Connect Core §3.1.3): a client redeems a code once, with the redirect URI and the
//! PKCE verifier of its request, for an access token and an ID token. A code presented a
//! second time was stolen or replayed: the tokens its first redemption issued are revoked
//! (RFC 6749 §4.1.2). The person's session then refreshes at the same endpoint as the same
//! client ([`Provider::refresh`]), rotating with reuse detection. Which client asks — a
//! public one naming its `client_id`, a confidential one authenticated by its secret — the
//! token endpoint has established before these calls.

use jwtkit_core::UnixTime;

use super::Provider;
use super::codes::{self, CodeGrant};
use super::id_token::IdToken;
use super::pkce;
use crate::clients::Client;
use crate::issuer::IssuedToken;
use crate::sessions::{SessionError, Sessions};
use crate::store::{Redeemed, Store, StoreError};

/// A code's redemption, as the form gives it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CodeExchange<'a> {
    /// `code`.
    pub code: &'a str,
    /// `redirect_uri`, as the authorization request gave it.
    pub redirect_uri: &'a str,
    /// `code_verifier`.
    pub code_verifier: &'a str,
}

/// What a redemption or a refresh issues.
#[derive(Debug, Clone)]
pub(crate) struct Exchanged {
    /// The access token.
    pub access: IssuedToken,
    /// The ID token (when `openid` was granted, at the code's redemption).
    pub id_token: Option<String>,
    /// The scopes granted.
    pub scope: Vec<String>,
    /// The refresh token (rotated at each refresh).
    pub refresh: String,
    /// Seconds the refresh token can still be used.
    pub refresh_expires_in: u64,
}

/// Why a redemption is refused.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum ExchangeError {
    /// Unknown, expired or redeemed code (`invalid_grant`).
    CodeInvalid,
    /// Redeemed before: what it issued is revoked now (`invalid_grant`).
    CodeReplayed,
    /// Issued to another client (`invalid_grant`).
    WrongClient,
    /// Not the redirect URI of the request (`invalid_grant`).
    RedirectUriMismatch,
    /// The verifier does not match the challenge (`invalid_grant`).
    VerifierInvalid,
    /// The session could not start, or the store failed.
    Session(SessionError),
    /// The ID token could not be signed.
    Signing(String),
}

/// What a redemption must match: the client, the redirect URI and the PKCE challenge of
/// the code's request.
#[derive(Debug, Clone)]
struct Expected {
    client_id: String,
    redirect_uri: String,
    code_verifier: String,
}

impl Expected {
    fn check(&self, grant: &CodeGrant) -> Result<(), ExchangeError> {
        if grant.client_id != self.client_id {
            return Err(ExchangeError::WrongClient);
        }
        if grant.redirect_uri != self.redirect_uri {
            return Err(ExchangeError::RedirectUriMismatch);
        }
        if !pkce::verifies(&self.code_verifier, &grant.code_challenge) {
            return Err(ExchangeError::VerifierInvalid);
        }
        Ok(())
    }
}

impl From<StoreError> for ExchangeError {
    fn from(error: StoreError) -> Self {
        Self::Session(SessionError::Store(error))
    }
}

impl Provider {
    /// Redeems `request` of `client` at `now`: the code once, for its client, with its
    /// redirect URI and verifier; a session for the person, an access token and an ID token.
    /// The store redeems the code and starts the session in one step where it can.
    pub(crate) async fn exchange(
        &self,
        store: &dyn Store,
        sessions: &Sessions,
        client: &Client,
        request: CodeExchange<'_>,
        jkt: Option<&str>,
        now: UnixTime,
    ) -> Result<Exchanged, ExchangeError> {
        let Some(code) = codes::hash(request.code) else {
            return Err(ExchangeError::CodeInvalid);
        };
        let (person, refresh) = sessions
            .prepare_person(code, &client.id, bound_refresh(client, jkt), now)
            .map_err(ExchangeError::Session)?;
        let expected = Expected {
            client_id: client.id.clone(),
            redirect_uri: request.redirect_uri.to_owned(),
            code_verifier: request.code_verifier.to_owned(),
        };
        let start = {
            let (person, expected) = (person.clone(), expected.clone());
            Box::new(move |document: &str| {
                let grant = codes::grant(document).ok()?;
                expected.check(&grant).ok()?;
                Some(person.of(&grant.sub, &grant.scope, &grant.login_sid))
            })
        };
        let (redeemed, ended) = store.redeem_code_for_session(code, now, start).await?;
        let grant = match redeemed {
            Redeemed::Fresh(document) => codes::grant(&document)?,
            Redeemed::Unknown => return Err(ExchangeError::CodeInvalid),
            Redeemed::Replayed { sid } => {
                if let Some(sid) = sid {
                    tracing::warn!(target: "jwtkit::provider", %sid, "an authorization code presented again: its session ended");
                    sessions
                        .end(&sid, now)
                        .await
                        .map_err(ExchangeError::Session)?;
                }
                return Err(ExchangeError::CodeReplayed);
            }
        };
        // A session started only past the checks, which ran in the store's step; none
        // started: the checks say why (the code is used up all the same: a wrong verifier
        // gets no second try).
        let Some(ended) = ended else {
            expected.check(&grant)?;
            return Err(
                StoreError::new("the store redeemed a code without starting its session").into(),
            );
        };
        let session = person.of(&grant.sub, &grant.scope, &grant.login_sid);
        let issued = sessions
            .person_started(&session, ended, refresh, jkt, now)
            .map_err(ExchangeError::Session)?;
        let access = issued.access;
        let id_token = if grant.scope.iter().any(|s| s == "openid") {
            let token = IdToken {
                iss: &self.issuer,
                sub: &grant.sub,
                aud: &client.id,
                auth_time: grant.auth_time,
                nonce: grant.nonce.as_deref(),
                sid: &grant.login_sid,
                access_token: &access.token,
            };
            let lifetime = i64::try_from(self.id_token_lifetime.as_secs()).unwrap_or(i64::MAX);
            Some(
                token
                    .sign(&self.id_signer(now), now, lifetime)
                    .map_err(|e| ExchangeError::Signing(e.to_string()))?,
            )
        } else {
            None
        };
        Ok(Exchanged {
            access,
            id_token,
            scope: grant.scope,
            refresh: issued.refresh,
            refresh_expires_in: issued.refresh_expires_in,
        })
    }

    /// Rotates a person's refresh token presented by `client` (see
    /// [`Sessions::refresh_person`]); a person who can no longer sign in ends the session.
    pub(crate) async fn refresh(
        &self,
        sessions: &Sessions,
        client: &Client,
        refresh_token: &str,
        scope: Option<&[String]>,
        jkt: Option<&str>,
        now: UnixTime,
    ) -> Result<Exchanged, ExchangeError> {
        let (info, grant) = sessions
            .refresh_person(refresh_token, jkt, &client.id, scope, now)
            .await
            .map_err(ExchangeError::Session)?;
        let person = self.directory.claims(info.sub.clone()).await.map_err(|e| {
            ExchangeError::Session(SessionError::Store(StoreError::new(e.to_string())))
        })?;
        if person.is_none() {
            tracing::info!(target: "jwtkit::provider", sid = %info.sid, "the session's person can no longer sign in: session ended");
            sessions
                .end(&info.sid, now)
                .await
                .map_err(ExchangeError::Session)?;
            return Err(ExchangeError::Session(SessionError::Revoked));
        }
        Ok(Exchanged {
            access: grant.access,
            id_token: None,
            scope: grant.roles,
            refresh: grant.refresh,
            refresh_expires_in: grant.refresh_expires_in,
        })
    }
}

/// The DPoP key a session's refresh tokens are bound to: a public client's proof's (RFC 9449
/// §5); a confidential client's refresh tokens are bound by its authentication instead.
fn bound_refresh<'a>(client: &Client, jkt: Option<&'a str>) -> Option<&'a str> {
    jkt.filter(|_| client.secret_hash.is_none())
}

impl Exchanged {
    /// The RFC 6749 §5.1 answer, with the ID token.
    pub(crate) fn to_json(&self) -> serde_json::Value {
        let mut answer = serde_json::json!({
            "access_token": self.access.token,
            "token_type": self.access.token_type(),
            "expires_in": self.access.expires_in,
            "scope": self.scope.join(" "),
            "refresh_token": self.refresh,
        });
        if let Some(id_token) = &self.id_token {
            answer["id_token"] = id_token.as_str().into();
        }
        answer
    }
}
