//! People's accounts as the store keeps them (the built-in user directory's records): one
//! record per username, found by username (signing in) or by subject (the claims of a
//! token's `sub`). Both backends keep the record as the same JSON document.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::{StoreError, StoreFuture};

/// One account.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct UserRecord {
    /// What the person types to sign in (normalised: see `users::username`).
    pub username: String,
    /// The subject identifier: generated once, never reassigned, even after the account is
    /// removed and its username taken again (OpenID Connect Core §2, `sub`).
    pub sub: String,
    /// The argon2id hash of the password, as a PHC string (salt and parameters included).
    pub password_hash: String,
    /// The full name (the `name` claim).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The e-mail address (the `email` claim).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Whether the e-mail address was verified (the `email_verified` claim).
    #[serde(default)]
    pub email_verified: bool,
    /// A disabled account cannot sign in; its record and subject stay.
    #[serde(default)]
    pub disabled: bool,
    /// When it was added (seconds since the epoch).
    pub created: f64,
    /// When its password was last set (seconds since the epoch).
    pub password_set: f64,
}

// The hash is not a password, but it is what an offline guesser wants: never in a log.
impl fmt::Debug for UserRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UserRecord")
            .field("username", &self.username)
            .field("sub", &self.sub)
            .field("password_hash", &"<redacted>")
            .field("name", &self.name)
            .field("email", &self.email)
            .field("email_verified", &self.email_verified)
            .field("disabled", &self.disabled)
            .finish_non_exhaustive()
    }
}

impl UserRecord {
    /// The record as the stores write it.
    pub(crate) fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// A record the stores wrote.
    pub(crate) fn from_json(json: &str) -> Result<Self, StoreError> {
        serde_json::from_str(json)
            .map_err(|e| StoreError::new(format!("a stored user record is malformed: {e}")))
    }
}

/// The accounts of the built-in user directory.
pub trait UserRecords: Send + Sync {
    /// Adds `user`; `false` (and nothing changed) when its username or subject is taken.
    fn add_user(&self, user: UserRecord) -> StoreFuture<'_, bool>;

    /// The account signing in as `username`.
    fn user(&self, username: String) -> StoreFuture<'_, Option<UserRecord>>;

    /// The account whose subject is `sub`.
    fn user_by_sub(&self, sub: String) -> StoreFuture<'_, Option<UserRecord>>;

    /// Replaces the account of `user.username` (its subject unchanged); `false` when there
    /// is none.
    fn replace_user(&self, user: UserRecord) -> StoreFuture<'_, bool>;

    /// Removes the account of `username`; `false` when there is none.
    fn remove_user(&self, username: String) -> StoreFuture<'_, bool>;

    /// Every account, by username.
    fn users(&self) -> StoreFuture<'_, Vec<UserRecord>>;

    /// Whether there is an account at all (none read).
    fn has_users(&self) -> StoreFuture<'_, bool>;
}
