//! People who sign in: the [`UserDirectory`] through which an application that embeds
//! jwtkit plugs its own accounts in, and the built-in directory in the store
//! ([`StoreDirectory`]: SQLite by default, Redis across instances), managed by
//! [`accounts`] (`jwtkit users`).
//!
//! A sign-in reveals nothing about who exists: a wrong password and an unknown username get
//! the same answer ([`Authentication::Refused`]) after the same work, as a password is
//! checked against a hash for unknown users too.

use std::sync::Arc;

use futures_util::future::BoxFuture;
use serde::Serialize;

pub mod accounts;
mod hashing;
pub mod password;
mod username;

pub use password::{HashError, Password, PasswordHasher, PasswordProblem};
pub use username::{MAX_USERNAME_CHARS, UsernameProblem, normalize_username};

use crate::store::{Store, StoreError, UserRecord};

/// What a directory says of a person: the claims of their subject (OpenID Connect Core
/// §5.1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UserClaims {
    /// The subject identifier: stable, never reassigned.
    pub sub: String,
    /// The username they sign in with.
    pub preferred_username: String,
    /// The full name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The e-mail address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Whether the e-mail address was verified (only with `email`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email_verified: Option<bool>,
}

impl From<&UserRecord> for UserClaims {
    fn from(user: &UserRecord) -> Self {
        Self {
            sub: user.sub.clone(),
            preferred_username: user.username.clone(),
            name: user.name.clone(),
            email: user.email.clone(),
            email_verified: user.email.as_ref().map(|_| user.email_verified),
        }
    }
}

/// The outcome of a sign-in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Authentication {
    /// The password is right: this is who signed in.
    Authenticated(UserClaims),
    /// A wrong password or an unknown username: the same answer for both.
    Refused,
    /// The password is right but the account is disabled.
    Disabled,
}

/// Why a directory cannot answer (503 with `Retry-After`: never a sign-in refused for it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DirectoryError {
    /// The accounts cannot be read.
    Unavailable(String),
    /// Too many sign-ins at once (see [`password`]).
    Busy,
}

impl std::fmt::Display for DirectoryError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Unavailable(reason) => write!(f, "the user directory is unavailable: {reason}"),
            Self::Busy => HashError::Busy.fmt(f),
        }
    }
}

impl std::error::Error for DirectoryError {}

impl From<StoreError> for DirectoryError {
    fn from(error: StoreError) -> Self {
        Self::Unavailable(error.reason)
    }
}

impl From<HashError> for DirectoryError {
    fn from(error: HashError) -> Self {
        match error {
            HashError::Busy => Self::Busy,
            HashError::Failed(reason) => Self::Unavailable(reason),
        }
    }
}

/// Where people's accounts are: implement it to sign people in with an application's own
/// accounts.
pub trait UserDirectory: Send + Sync {
    /// Who `username` and `password` authenticate. An implementation must answer a wrong
    /// password and an unknown username alike, after the same work.
    fn authenticate(
        &self,
        username: String,
        password: Password,
    ) -> BoxFuture<'_, Result<Authentication, DirectoryError>>;

    /// The claims of the subject `sub`; `None` when it is unknown or disabled (its tokens
    /// then get no claims).
    fn claims(&self, sub: String) -> BoxFuture<'_, Result<Option<UserClaims>, DirectoryError>>;
}

/// The built-in directory: accounts in the store, passwords hashed with argon2id.
#[derive(Clone)]
pub struct StoreDirectory {
    store: Arc<dyn Store>,
    hasher: Arc<PasswordHasher>,
}

impl StoreDirectory {
    /// The accounts in `store`, checked with `hasher`.
    pub fn new(store: Arc<dyn Store>, hasher: Arc<PasswordHasher>) -> Self {
        Self { store, hasher }
    }
}

impl UserDirectory for StoreDirectory {
    fn authenticate(
        &self,
        username: String,
        password: Password,
    ) -> BoxFuture<'_, Result<Authentication, DirectoryError>> {
        Box::pin(async move {
            let found = match normalize_username(&username) {
                Ok(username) => self.store.user(username).await?,
                Err(_) => None,
            };
            let Some(user) = found else {
                self.hasher.verify_nothing(&password).await?;
                return Ok(Authentication::Refused);
            };
            if !self.hasher.verify(&password, &user.password_hash).await? {
                return Ok(Authentication::Refused);
            }
            Ok(if user.disabled {
                Authentication::Disabled
            } else {
                Authentication::Authenticated(UserClaims::from(&user))
            })
        })
    }

    fn claims(&self, sub: String) -> BoxFuture<'_, Result<Option<UserClaims>, DirectoryError>> {
        Box::pin(async move {
            let user = self.store.user_by_sub(sub).await?;
            Ok(user.filter(|u| !u.disabled).as_ref().map(UserClaims::from))
        })
    }
}
