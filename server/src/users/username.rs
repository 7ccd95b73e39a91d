//! Usernames: what a person may sign in as, and the one form it is kept in.

use std::fmt;

/// The most characters a username may have.
pub const MAX_USERNAME_CHARS: usize = 64;

/// Why a username is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UsernameProblem {
    /// No characters.
    Empty,
    /// More than [`MAX_USERNAME_CHARS`].
    TooLong,
    /// A character outside the allowed ones.
    Character(char),
}

impl fmt::Display for UsernameProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const ALLOWED: &str = "use letters a-z, digits and . _ - + @ (an e-mail address works)";
        match self {
            Self::Empty => write!(f, "the username is empty: {ALLOWED}"),
            Self::TooLong => write!(
                f,
                "the username is longer than {MAX_USERNAME_CHARS} characters"
            ),
            Self::Character(c) if c.is_whitespace() => {
                write!(f, "the username contains a space: {ALLOWED}")
            }
            Self::Character(c) => write!(f, "the username contains {c:?}: {ALLOWED}"),
        }
    }
}

impl std::error::Error for UsernameProblem {}

/// `username` as it is kept: ASCII letters lowercased, so that `Alice` and `alice` are one
/// account. Letters a-z, digits and `. _ - + @`, 1 to [`MAX_USERNAME_CHARS`] characters.
pub fn normalize_username(username: &str) -> Result<String, UsernameProblem> {
    if username.is_empty() {
        return Err(UsernameProblem::Empty);
    }
    if let Some(c) = username
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '+' | '@')))
    {
        return Err(UsernameProblem::Character(c));
    }
    if username.len() > MAX_USERNAME_CHARS {
        return Err(UsernameProblem::TooLong);
    }
    Ok(username.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_are_kept_lowercase_and_refused_for_the_right_reason() {
        assert_eq!(normalize_username("Alice").as_deref(), Ok("alice"));
        assert_eq!(
            normalize_username("ops+jwt@example.org").as_deref(),
            Ok("ops+jwt@example.org")
        );
        assert_eq!(normalize_username(""), Err(UsernameProblem::Empty));
        assert_eq!(
            normalize_username("al ice"),
            Err(UsernameProblem::Character(' '))
        );
        assert_eq!(
            normalize_username("zoë"),
            Err(UsernameProblem::Character('ë'))
        );
        assert_eq!(
            normalize_username(&"a".repeat(65)),
            Err(UsernameProblem::TooLong)
        );
        assert!(normalize_username(&"a".repeat(64)).is_ok());
        assert!(
            UsernameProblem::Character(' ')
                .to_string()
                .contains("a space")
        );
    }
}
