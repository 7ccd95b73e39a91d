//! ID tokens (OpenID Connect Core §2, §3.1.3.6): signed by the issuer's key with `typ: JWT`,
//! for the client (`aud`), with `auth_time`, `nonce`, the provider's `sid` and `at_hash`.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jwtkit_core::{Algorithm, Signer, UnixTime};
use serde::Serialize;
use sha2::{Digest as _, Sha256, Sha384, Sha512};

/// The claims of an ID token.
#[derive(Debug, Serialize)]
struct IdTokenClaims<'a> {
    iss: &'a str,
    sub: &'a str,
    aud: &'a str,
    exp: i64,
    iat: i64,
    auth_time: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    nonce: Option<&'a str>,
    sid: &'a str,
    at_hash: String,
}

/// What an ID token says.
pub(crate) struct IdToken<'a> {
    /// The issuer.
    pub iss: &'a str,
    /// Who signed in.
    pub sub: &'a str,
    /// The client.
    pub aud: &'a str,
    /// When they signed in.
    pub auth_time: i64,
    /// The request's nonce.
    pub nonce: Option<&'a str>,
    /// The provider's session ID.
    pub sid: &'a str,
    /// The access token issued beside it.
    pub access_token: &'a str,
}

impl IdToken<'_> {
    /// Signed with `signer`, valid for `lifetime_seconds` from `now`.
    pub(crate) fn sign(
        &self,
        signer: &Signer,
        now: UnixTime,
        lifetime_seconds: i64,
    ) -> Result<String, jwtkit_core::Error> {
        let iat = now.as_secs();
        let claims = IdTokenClaims {
            iss: self.iss,
            sub: self.sub,
            aud: self.aud,
            exp: iat.saturating_add(lifetime_seconds),
            iat,
            auth_time: self.auth_time,
            nonce: self.nonce,
            sid: self.sid,
            at_hash: half_hash(signer.key().algorithm(), self.access_token),
        };
        signer.sign(&claims)
    }
}

/// The left half of the hash of `token` that `alg` signs with, base64url (the `at_hash`
/// rule of OpenID Connect Core §3.1.3.6; SHA-512 for EdDSA with Ed25519, as OpenID
/// providers and relying parties do).
pub(crate) fn half_hash(alg: Algorithm, token: &str) -> String {
    let digest: Vec<u8> = match alg.as_str() {
        a if a.ends_with("384") => Sha384::digest(token).to_vec(),
        a if a.ends_with("512") || a == "EdDSA" => Sha512::digest(token).to_vec(),
        _ => Sha256::digest(token).to_vec(),
    };
    URL_SAFE_NO_PAD.encode(&digest[..digest.len() / 2])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_hash_follows_the_algorithm() {
        // OpenID Connect Core §A.3's example access token and its RS256 at_hash.
        let token = "jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y";
        assert_eq!(half_hash(Algorithm::RS256, token), "77QmUPtjPfzWtF2AnpK9RQ");
        assert_eq!(half_hash(Algorithm::ES256, token), "77QmUPtjPfzWtF2AnpK9RQ");
        assert_eq!(
            half_hash(Algorithm::EdDSA, token).len(),
            43,
            "half of SHA-512"
        );
        assert_eq!(
            half_hash(Algorithm::ES384, token).len(),
            32,
            "half of SHA-384"
        );
    }
}
