//! Authorization codes: `jwtc_` and 256 random bits, single use, at most 60 seconds, kept in
//! the store only as their hash with what they grant, bound to the client, the redirect URI,
//! the PKCE challenge and the nonce (RFC 6749 §4.1.2, §10.5; RFC 7636). Any instance on the
//! store redeems a code, once.

use jwtkit_core::UnixTime;
use serde::{Deserialize, Serialize};

use crate::store::{Store, StoreError, TokenHash};

/// How long a code may be redeemed, in seconds (RFC 6749 §4.1.2 recommends at most 10
/// minutes; a browser redirect takes a second).
pub(crate) const CODE_LIFETIME_SECONDS: f64 = 60.0;
/// The prefix of every code.
const CODE_PREFIX: &str = "jwtc_";

/// What a code grants, and what its redemption must match.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct CodeGrant {
    /// The client it was issued to.
    pub client_id: String,
    /// The redirect URI of the request.
    pub redirect_uri: String,
    /// The PKCE challenge (S256).
    pub code_challenge: String,
    /// The request's nonce, for the ID token.
    pub nonce: Option<String>,
    /// The scopes granted.
    pub scope: Vec<String>,
    /// Who signed in.
    pub sub: String,
    /// When they signed in.
    pub auth_time: i64,
    /// The provider's session ID of that sign-in.
    pub login_sid: String,
}

/// A new code for `grant`.
pub(crate) async fn issue(
    store: &dyn Store,
    grant: &CodeGrant,
    now: UnixTime,
) -> Result<String, StoreError> {
    let code = format!(
        "{CODE_PREFIX}{}",
        super::random_text(32).map_err(|e| StoreError::new(format!("{e:?}")))?
    );
    let document = serde_json::to_string(grant).map_err(StoreError::new)?;
    store
        .put_code(
            crate::sessions::hash(&code),
            document,
            now,
            CODE_LIFETIME_SECONDS,
        )
        .await?;
    Ok(code)
}

/// The hash a code is kept under; `None` for what is no code of this provider's.
pub(crate) fn hash(code: &str) -> Option<TokenHash> {
    code.starts_with(CODE_PREFIX)
        .then(|| crate::sessions::hash(code))
}

/// A redeemed code's document.
pub(crate) fn grant(document: &str) -> Result<CodeGrant, StoreError> {
    serde_json::from_str(document)
        .map_err(|e| StoreError::new(format!("a stored code is malformed: {e}")))
}
