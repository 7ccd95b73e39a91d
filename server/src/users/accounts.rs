//! Managing the built-in directory's accounts (`jwtkit users`): adding one, setting its
//! password, disabling and removing it. A new password, a disabled account and a removed one
//! end the account's sessions at once, on every instance on the store.

use std::fmt;

use jwtkit_core::UnixTime;
use jwtkit_core::suggest::closest;

use super::password::{HashError, Password, PasswordHasher, PasswordProblem, check_new};
use super::username::{UsernameProblem, normalize_username};
use crate::store::{MAX_ACCESS_LIFETIME, Store, StoreError, UserRecord};

/// The most characters of a `name` claim.
const MAX_NAME_CHARS: usize = 200;
/// The most characters of an e-mail address (RFC 5321's path limit).
const MAX_EMAIL_CHARS: usize = 254;

/// An account to add.
#[derive(Debug, Clone)]
pub struct NewUser {
    /// What they sign in as.
    pub username: String,
    /// Their password.
    pub password: Password,
    /// Their full name.
    pub name: Option<String>,
    /// Their e-mail address.
    pub email: Option<String>,
    /// Whether the address was verified.
    pub email_verified: bool,
}

/// Why an account could not be changed.
#[derive(Debug, Clone, PartialEq)]
pub enum AccountError {
    /// The username is not one a person may have.
    Username(UsernameProblem),
    /// The password breaks a rule.
    Password(PasswordProblem),
    /// The name or e-mail address is not one.
    Profile(String),
    /// The username is taken.
    Taken(String),
    /// There is no such account.
    NoSuchUser {
        /// The username given.
        username: String,
        /// The closest username there is.
        closest: Option<String>,
    },
    /// The store cannot be read or written.
    Store(StoreError),
    /// The password could not be hashed.
    Hash(HashError),
}

impl fmt::Display for AccountError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Username(problem) => problem.fmt(f),
            Self::Password(problem) => problem.fmt(f),
            Self::Profile(problem) => f.write_str(problem),
            Self::Taken(username) => write!(
                f,
                "there is a user {username:?} already: choose another username, or change \
                 theirs with `jwtkit users passwd {username}`"
            ),
            Self::NoSuchUser { username, closest } => {
                write!(f, "there is no user {username:?}")?;
                match closest {
                    Some(name) => write!(f, ": did you mean {name:?}?"),
                    None => f.write_str(": `jwtkit users list` shows them"),
                }
            }
            Self::Store(error) => error.fmt(f),
            Self::Hash(error) => error.fmt(f),
        }
    }
}

impl std::error::Error for AccountError {}

impl From<StoreError> for AccountError {
    fn from(error: StoreError) -> Self {
        Self::Store(error)
    }
}

impl From<HashError> for AccountError {
    fn from(error: HashError) -> Self {
        Self::Hash(error)
    }
}

/// A new subject identifier: `u_` and 128 random bits, never reassigned.
fn new_subject() -> Result<String, AccountError> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes)
        .map_err(|e| AccountError::Hash(HashError::Failed(e.to_string())))?;
    Ok(format!(
        "u_{}",
        bytes.iter().map(|b| format!("{b:02x}")).collect::<String>()
    ))
}

fn check_profile(name: Option<&str>, email: Option<&str>) -> Result<(), AccountError> {
    if let Some(name) = name {
        if name.trim().is_empty() || name.chars().any(char::is_control) {
            return Err(AccountError::Profile(
                "the name is empty or has a control character".to_owned(),
            ));
        }
        if name.chars().count() > MAX_NAME_CHARS {
            return Err(AccountError::Profile(format!(
                "the name is longer than {MAX_NAME_CHARS} characters"
            )));
        }
    }
    if let Some(email) = email {
        let parts = email.split_once('@');
        let plausible = parts.is_some_and(|(local, domain)| {
            !local.is_empty() && domain.contains('.') && !domain.contains('@')
        }) && !email.chars().any(|c| c.is_whitespace() || c.is_control())
            && email.chars().count() <= MAX_EMAIL_CHARS;
        if !plausible {
            return Err(AccountError::Profile(format!(
                "{email:?} is not an e-mail address (e.g. alice@example.org)"
            )));
        }
    }
    Ok(())
}

/// Adds an account; returns it (its subject generated).
pub async fn add(
    store: &dyn Store,
    hasher: &PasswordHasher,
    user: NewUser,
    now: UnixTime,
) -> Result<UserRecord, AccountError> {
    let username = normalize_username(&user.username).map_err(AccountError::Username)?;
    check_new(&user.password, &username).map_err(AccountError::Password)?;
    check_profile(user.name.as_deref(), user.email.as_deref())?;
    let record = UserRecord {
        sub: new_subject()?,
        password_hash: hasher.hash(&user.password).await?,
        name: user.name,
        email: user.email,
        email_verified: user.email_verified,
        disabled: false,
        created: now.as_secs_f64(),
        password_set: now.as_secs_f64(),
        username,
    };
    if store.add_user(record.clone()).await? {
        Ok(record)
    } else {
        Err(AccountError::Taken(record.username))
    }
}

/// The account of `username`, or [`AccountError::NoSuchUser`] naming the closest one.
pub async fn find(store: &dyn Store, username: &str) -> Result<UserRecord, AccountError> {
    let normalized = normalize_username(username).map_err(AccountError::Username)?;
    if let Some(user) = store.user(normalized).await? {
        return Ok(user);
    }
    let users = store.users().await?;
    let names: Vec<&str> = users.iter().map(|u| u.username.as_str()).collect();
    Err(AccountError::NoSuchUser {
        username: username.to_owned(),
        closest: closest(username, &names).map(str::to_owned),
    })
}

/// Ends every session of `user`; returns how many.
async fn end_sessions(
    store: &dyn Store,
    user: &UserRecord,
    now: UnixTime,
) -> Result<usize, AccountError> {
    let until = now.saturating_add_secs(MAX_ACCESS_LIFETIME.as_secs_f64());
    Ok(store.end_sessions_of(user.sub.clone(), now, until).await?)
}

/// Replaces `user`, or says it is gone.
async fn replace(store: &dyn Store, user: UserRecord) -> Result<(), AccountError> {
    if store.replace_user(user.clone()).await? {
        Ok(())
    } else {
        Err(AccountError::NoSuchUser {
            username: user.username,
            closest: None,
        })
    }
}

/// Sets the password of `username` and ends their sessions; returns how many ended.
pub async fn set_password(
    store: &dyn Store,
    hasher: &PasswordHasher,
    username: &str,
    password: &Password,
    now: UnixTime,
) -> Result<usize, AccountError> {
    let mut user = find(store, username).await?;
    check_new(password, &user.username).map_err(AccountError::Password)?;
    user.password_hash = hasher.hash(password).await?;
    user.password_set = now.as_secs_f64();
    replace(store, user.clone()).await?;
    end_sessions(store, &user, now).await
}

/// Disables (or enables again) the account of `username`; disabling ends its sessions.
/// Returns how many ended.
pub async fn set_disabled(
    store: &dyn Store,
    username: &str,
    disabled: bool,
    now: UnixTime,
) -> Result<usize, AccountError> {
    let mut user = find(store, username).await?;
    user.disabled = disabled;
    replace(store, user.clone()).await?;
    if disabled {
        end_sessions(store, &user, now).await
    } else {
        Ok(0)
    }
}

/// Removes the account of `username` and ends its sessions; returns how many ended. Its
/// subject is never given to another account.
pub async fn remove(
    store: &dyn Store,
    username: &str,
    now: UnixTime,
) -> Result<usize, AccountError> {
    let user = find(store, username).await?;
    let ended = end_sessions(store, &user, now).await?;
    if !store.remove_user(user.username.clone()).await? {
        return Err(AccountError::NoSuchUser {
            username: user.username,
            closest: None,
        });
    }
    Ok(ended)
}
