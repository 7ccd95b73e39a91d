//! Refresh tokens: `jwtr_` and 256 random bits (base64url), kept by the store only as their
//! SHA-256 hash, and each successor sealed under its predecessor.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

use super::{REFRESH_PREFIX, SessionError};
use crate::issuer::IssueError;
use crate::store::TokenHash;

/// `n` random bytes as base64url.
pub(super) fn random_text(n: usize) -> Result<String, SessionError> {
    crate::random::text(n).map_err(|_| {
        SessionError::Issue(IssueError::Token(
            jwtkit_core::KeyError::RandomnessUnavailable.into(),
        ))
    })
}

pub(super) fn new_refresh_token() -> Result<String, SessionError> {
    Ok(format!("{REFRESH_PREFIX}{}", random_text(32)?))
}

/// Whether `text` has the form of a refresh token: the prefix and 43 base64url characters.
pub(crate) fn is_refresh_token(text: &str) -> bool {
    text.strip_prefix(REFRESH_PREFIX).is_some_and(|rest| {
        rest.len() == 43
            && rest
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    })
}

/// The SHA-256 of a refresh token: what the store keeps.
pub(crate) fn hash(token: &str) -> TokenHash {
    Sha256::digest(token.as_bytes()).into()
}

/// The one-time pad a token seals its successor with.
fn pad(token: &str) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(b"jwtkit refresh successor\0");
    hasher.update(token.as_bytes());
    hasher.finalize().into()
}

/// The 32 random bytes of `successor` XOR the pad of `presented`.
pub(super) fn seal(presented: &str, successor: &str) -> Result<[u8; 32], SessionError> {
    let raw = successor
        .strip_prefix(REFRESH_PREFIX)
        .and_then(|rest| URL_SAFE_NO_PAD.decode(rest).ok())
        .and_then(|bytes| <[u8; 32]>::try_from(bytes).ok())
        .ok_or(SessionError::Invalid)?;
    let pad = pad(presented);
    Ok(std::array::from_fn(|i| raw[i] ^ pad[i]))
}

/// The successor sealed under `presented`.
pub(super) fn unseal(presented: &str, sealed: &[u8; 32]) -> String {
    let pad = pad(presented);
    let raw: [u8; 32] = std::array::from_fn(|i| sealed[i] ^ pad[i]);
    format!("{REFRESH_PREFIX}{}", URL_SAFE_NO_PAD.encode(raw))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refresh_tokens_carry_256_random_bits() {
        let a = new_refresh_token().unwrap();
        let b = new_refresh_token().unwrap();
        assert!(is_refresh_token(&a) && is_refresh_token(&b) && a != b);
        assert_eq!(a.len(), REFRESH_PREFIX.len() + 43);
        assert!(!is_refresh_token(&a[1..]));
        assert!(!is_refresh_token(&format!("{a}=")));
        assert!(!is_refresh_token("jwtr_"));
        assert!(!is_refresh_token(&a.replace("jwtr_", "jwtk_")));
    }

    #[test]
    fn only_the_presented_token_unseals_its_successor() {
        let (presented, successor) = (new_refresh_token().unwrap(), new_refresh_token().unwrap());
        let sealed = seal(&presented, &successor).unwrap();
        assert_eq!(unseal(&presented, &sealed), successor);
        let other = new_refresh_token().unwrap();
        assert_ne!(unseal(&other, &sealed), successor);
        assert_ne!(
            &sealed[..],
            &URL_SAFE_NO_PAD.decode(&successor[5..]).unwrap()[..],
            "sealed, not plain"
        );
    }
}
