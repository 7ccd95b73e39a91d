//! A person's sign-in at the provider: checking a password (within the failure limits), and
//! the sign-in that follows, kept in the store and named by a cookie, so that a second
//! client or a reload signs in without the form.
//!
//! Failed sign-ins are counted per client address and per username, through the failure
//! limiter every authentication uses: in windows, so that an attacker can hold an account
//! back for a window at a time but never lock it for good. Past the limit the password is
//! not even checked, so a flood costs no hashing.

use jwtkit_core::UnixTime;
use serde::{Deserialize, Serialize};

use crate::ratelimit::{AuthLimiter, Refusal};
use crate::store::{Store, StoreError};
use crate::users::{
    Authentication, DirectoryError, Password, UserClaims, UserDirectory, normalize_username,
};

/// The prefix of a sign-in cookie's value.
const LOGIN_PREFIX: &str = "jwtl_";

/// A sign-in at the provider.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Login {
    /// The provider's session ID (the ID token's `sid`).
    pub sid: String,
    /// Who signed in.
    pub sub: String,
    /// When (the ID token's `auth_time`).
    pub auth_time: i64,
}

/// Why a sign-in failed.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum SignInError {
    /// A wrong password or an unknown username (the same answer for both).
    Refused,
    /// The right password, a disabled account.
    Disabled,
    /// Too many failures from this address or for this username: retry after this long.
    Blocked(std::time::Duration),
    /// The store or the hashing cannot answer now (503).
    Unavailable(String),
    /// Too many sign-ins at once (503).
    Busy,
}

impl From<StoreError> for SignInError {
    fn from(error: StoreError) -> Self {
        Self::Unavailable(error.reason)
    }
}

impl From<DirectoryError> for SignInError {
    fn from(error: DirectoryError) -> Self {
        match error {
            DirectoryError::Busy => Self::Busy,
            DirectoryError::Unavailable(reason) => Self::Unavailable(reason),
        }
    }
}

fn limited(refusal: Refusal) -> SignInError {
    match refusal {
        Refusal::Failed => SignInError::Refused,
        Refusal::Blocked(wait) => SignInError::Blocked(wait),
        Refusal::Store(error) => error.into(),
    }
}

/// Checks `username` and `password` with `directory`, counting failures under the client
/// `address` (the limiter's key) and the username.
pub(crate) async fn sign_in(
    directory: &dyn UserDirectory,
    limiter: &AuthLimiter,
    store: &dyn Store,
    address: &str,
    username: &str,
    password: Password,
    now: UnixTime,
) -> Result<UserClaims, SignInError> {
    let account = format!(
        "sign-in:{}",
        normalize_username(username).unwrap_or_else(|_| username.to_owned())
    );
    // Over a limit already: refused before any hashing.
    limiter
        .admitted(store, address, now)
        .await
        .map_err(limited)?;
    limiter
        .admitted(store, &account, now)
        .await
        .map_err(limited)?;
    let outcome = directory
        .authenticate(username.to_owned(), password)
        .await?;
    let found = match &outcome {
        Authentication::Authenticated(claims) => Some(claims.clone()),
        Authentication::Refused | Authentication::Disabled => None,
    };
    let by_address = limiter.judge(store, address, now, found.clone()).await;
    let by_account = limiter.judge(store, &account, now, found).await;
    let claims = by_address.and(by_account).map_err(limited);
    match (outcome, claims) {
        (Authentication::Disabled, Err(SignInError::Refused)) => Err(SignInError::Disabled),
        (_, claims) => claims,
    }
}

/// A new sign-in for `sub` at `now`, kept for `lifetime_seconds`: the cookie's value and
/// the sign-in. The browser's sign-in before it (`before`: its cookie's value and record)
/// ends, the cookie's value changing with every sign-in; the same person keeps its session
/// ID, so that logging out still ends the sessions the earlier sign-in started.
pub(crate) async fn start(
    store: &dyn Store,
    sub: &str,
    before: Option<(&str, &Login)>,
    now: UnixTime,
    lifetime_seconds: f64,
) -> Result<(String, Login), SignInError> {
    let cookie = format!("{LOGIN_PREFIX}{}", super::random_text(32)?);
    let sid = match before {
        Some((_, earlier)) if earlier.sub == sub => earlier.sid.clone(),
        _ => super::random_text(16)?,
    };
    let login = Login {
        sid,
        sub: sub.to_owned(),
        auth_time: now.as_secs(),
    };
    let record =
        serde_json::to_string(&login).map_err(|e| SignInError::Unavailable(e.to_string()))?;
    store
        .put_login(
            crate::sessions::hash(&cookie),
            record,
            now,
            lifetime_seconds,
        )
        .await?;
    if let Some((earlier, _)) = before {
        end(store, earlier).await?;
    }
    Ok((cookie, login))
}

/// The sign-in the cookie `value` names, while it lasts.
pub(crate) async fn current(
    store: &dyn Store,
    value: &str,
    now: UnixTime,
) -> Result<Option<Login>, StoreError> {
    if !value.starts_with(LOGIN_PREFIX) {
        return Ok(None);
    }
    let record = store.login(crate::sessions::hash(value), now).await?;
    Ok(record.and_then(|r| serde_json::from_str(&r).ok()))
}

/// Ends the sign-in the cookie `value` names; `false` when there was none.
pub(crate) async fn end(store: &dyn Store, value: &str) -> Result<bool, StoreError> {
    if !value.starts_with(LOGIN_PREFIX) {
        return Ok(false);
    }
    store.end_login(crate::sessions::hash(value)).await
}
