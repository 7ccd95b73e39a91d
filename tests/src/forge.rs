//! Token-forging helpers for the attack suite: they build tokens byte by byte, the way an
//! attacker does, bypassing every check of jwtkit's own signer.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jwtkit_core::Key;

/// Unpadded base64url.
pub fn b64(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Decodes unpadded base64url; `None` when it is not.
pub fn unb64(text: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(text).ok()
}

/// `BASE64URL(header).BASE64URL(payload)`: the signing input of a compact JWS.
pub fn signing_input(header: &[u8], payload: &[u8]) -> String {
    format!("{}.{}", b64(header), b64(payload))
}

/// A token with this header and payload text, signed by `key` whatever the header claims.
pub fn forge(header: &str, payload: &str, key: &Key) -> Result<String, jwtkit_core::KeyError> {
    forge_bytes(header.as_bytes(), payload.as_bytes(), key)
}

/// Like [`forge`] for arbitrary bytes (invalid UTF-8, byte order marks, UTF-16).
pub fn forge_bytes(
    header: &[u8],
    payload: &[u8],
    key: &Key,
) -> Result<String, jwtkit_core::KeyError> {
    let input = signing_input(header, payload);
    let signature = key.sign(input.as_bytes())?;
    Ok(format!("{input}.{}", b64(signature)))
}

/// A token with this header and payload text and the given raw signature bytes.
pub fn with_signature(header: &str, payload: &str, signature: &[u8]) -> String {
    format!(
        "{}.{}",
        signing_input(header.as_bytes(), payload.as_bytes()),
        b64(signature)
    )
}

/// Replaces the signature of `token` by `signature`.
pub fn resign(token: &str, signature: &[u8]) -> String {
    let input = token.rsplit_once('.').map_or(token, |(input, _)| input);
    format!("{input}.{}", b64(signature))
}

/// The signature bytes of `token`.
pub fn signature_of(token: &str) -> Vec<u8> {
    token
        .rsplit_once('.')
        .and_then(|(_, sig)| unb64(sig))
        .unwrap_or_default()
}
