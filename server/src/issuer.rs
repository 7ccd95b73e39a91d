//! Issuing RFC 9068 access tokens.

use std::time::{Duration, UNIX_EPOCH};

use jwtkit_core::{Error, Signer, UnixTime};
use serde::Serialize;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// The `typ` of every issued token (RFC 9068 §2.1).
pub const ACCESS_TOKEN_TYPE: &str = "at+jwt";

/// Signs access tokens for authenticated API keys.
#[derive(Debug, Clone)]
pub struct TokenIssuer {
    signer: Signer,
    issuer: String,
    audience: String,
    ttl: Duration,
}

/// A freshly issued token.
#[derive(Debug, Clone)]
pub struct IssuedToken {
    /// The compact JWT.
    pub token: String,
    /// Its `exp`.
    pub expires_at: UnixTime,
    /// Seconds from issuance to expiry.
    pub expires_in: u64,
}

impl IssuedToken {
    /// `expires_at` as an RFC 3339 timestamp (UTC, whole seconds).
    pub fn expires_at_rfc3339(&self) -> String {
        let secs = u64::try_from(self.expires_at.as_secs()).unwrap_or(0);
        humantime::format_rfc3339_seconds(UNIX_EPOCH + Duration::from_secs(secs)).to_string()
    }
}

#[derive(Serialize)]
struct AccessTokenClaims<'a> {
    iss: &'a str,
    sub: &'a str,
    aud: &'a str,
    client_id: &'a str,
    exp: i64,
    iat: i64,
    nbf: i64,
    jti: String,
    roles: &'a [String],
}

impl TokenIssuer {
    /// An issuer signing with `signer` (its key's algorithm and `kid` go in the header).
    pub fn new(
        signer: Signer,
        issuer: impl Into<String>,
        audience: impl Into<String>,
        ttl: Duration,
    ) -> Self {
        Self {
            signer: signer.typ(ACCESS_TOKEN_TYPE),
            issuer: issuer.into(),
            audience: audience.into(),
            ttl,
        }
    }

    /// The token lifetime.
    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// Issues a token for `subject` with `roles` at time `now`: `typ: at+jwt`, `kid`, and the
    /// claims `iss`, `sub`, `aud`, `client_id`, `exp`, `iat`, `nbf`, a random `jti`, `roles`.
    pub fn issue(
        &self,
        subject: &str,
        roles: &[String],
        now: UnixTime,
    ) -> Result<IssuedToken, Error> {
        let iat = now.as_secs();
        let ttl = i64::try_from(self.ttl.as_secs()).unwrap_or(i64::MAX);
        let exp = iat.saturating_add(ttl);
        let mut jti = [0u8; 16];
        getrandom::fill(&mut jti)
            .map_err(|_| Error::Key(jwtkit_core::KeyError::RandomnessUnavailable))?;
        let claims = AccessTokenClaims {
            iss: &self.issuer,
            sub: subject,
            aud: &self.audience,
            client_id: subject,
            exp,
            iat,
            nbf: iat,
            jti: URL_SAFE_NO_PAD.encode(jti),
            roles,
        };
        let token = self.signer.sign(&claims)?;
        let expires_at = UnixTime::from_secs(exp).ok_or(Error::Malformed(
            jwtkit_core::MalformedError::ClaimInvalid { name: "exp" },
        ))?;
        Ok(IssuedToken {
            token,
            expires_at,
            expires_in: self.ttl.as_secs(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jwtkit_core::{Algorithm, Key, KeySet, Validation, Verifier};

    #[test]
    fn issues_rfc_9068_access_tokens() {
        let key = Key::generate(Algorithm::ES256).unwrap();
        let issuer = TokenIssuer::new(
            Signer::new(key.clone()),
            "https://iss",
            "api",
            Duration::from_secs(180),
        );
        let now = UnixTime::from_secs(1_700_000_000).unwrap();
        let issued = issuer.issue("svc", &["admin".to_owned()], now).unwrap();
        assert_eq!(issued.expires_in, 180);
        assert_eq!(issued.expires_at_rfc3339(), "2023-11-14T22:16:20Z");
        let policy = Validation::builder()
            .expect_issuer("https://iss")
            .expect_audience("api")
            .expect_type("application/at+jwt")
            .require_claim("sub")
            .require_claim("jti")
            .require_claim("client_id")
            .build()
            .unwrap();
        let verified = Verifier::new(KeySet::from(key.clone()), policy)
            .verify(&issued.token, now)
            .unwrap();
        let claims = verified.claims();
        assert_eq!(verified.header().kid(), Some(key.kid()));
        assert_eq!(
            (claims.sub(), claims.iat(), claims.nbf()),
            (Some("svc"), Some(now), Some(now))
        );
        assert_eq!(claims.exp(), Some(issued.expires_at));
        assert_eq!(claims.get("roles"), Some(&serde_json::json!(["admin"])));
        let other = issuer.issue("svc", &[], now).unwrap();
        assert_ne!(claims.jti(), other_jti(&other.token, &key, now).as_deref());
    }

    fn other_jti(token: &str, key: &Key, now: UnixTime) -> Option<String> {
        let policy = Validation::builder()
            .ignore_issuer()
            .ignore_audience()
            .ignore_type()
            .build()
            .unwrap();
        let verified = Verifier::new(KeySet::from(key.clone()), policy)
            .verify(token, now)
            .unwrap();
        verified.claims().jti().map(str::to_owned)
    }
}
