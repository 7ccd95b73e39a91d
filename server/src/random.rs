//! Random text from the OS CSPRNG, for every secret and identifier jwtkit makes: API keys,
//! client secrets, refresh tokens, authorization codes, cookies and session IDs. Callers
//! say what an unavailable generator means in their own errors.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// `n` random bytes as base64url (without padding).
pub(crate) fn text(n: usize) -> Result<String, getrandom::Error> {
    let mut bytes = vec![0u8; n];
    getrandom::fill(&mut bytes)?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}
