//! Issuing RFC 9068 access tokens: the one issuer that the server's `/auth` and the
//! command line's `jwtkit issue` share, so they can never issue different tokens.

use std::fmt;
use std::time::Duration;

use jwtkit_core::{Error, KeyError, Signer, UnixTime};

use crate::keys::SigningKeys;
use serde::Serialize;
use serde_json::{Map, Value};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// The `typ` of every issued token (RFC 9068 §2.1).
pub const ACCESS_TOKEN_TYPE: &str = "at+jwt";

/// The claims the issuer writes into every token; extra claims cannot set them.
pub const ISSUED_CLAIMS: [&str; 12] = [
    "iss",
    "sub",
    "aud",
    "client_id",
    "exp",
    "iat",
    "nbf",
    "jti",
    "roles",
    "scope",
    "sid",
    "cnf",
];

/// The policy every RFC 9068 access token is verified with, here and at a resource server
/// trusting `issuer`: `typ: at+jwt`, exactly this `iss` and `aud`, a `sub`, and `leeway`
/// seconds of clock skew.
pub fn access_token_policy(
    issuer: &str,
    audience: &str,
    leeway_seconds: u32,
) -> Result<jwtkit_core::Validation, jwtkit_core::PolicyError> {
    jwtkit_core::Validation::builder()
        .expect_issuer(issuer)
        .expect_audience(audience)
        .expect_type(ACCESS_TOKEN_TYPE)
        .require_claim("sub")
        .leeway_seconds(leeway_seconds)
        .build()
}

/// Signs access tokens for authenticated API keys.
#[derive(Debug, Clone)]
pub struct TokenIssuer {
    keys: SigningKeys,
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
    /// Whether it is bound to a DPoP key (its `cnf.jkt`).
    pub dpop_bound: bool,
}

impl IssuedToken {
    /// Its `token_type` (RFC 6749 §7.1): `DPoP` when bound to a key (RFC 9449 §5), else
    /// `Bearer`.
    pub fn token_type(&self) -> &'static str {
        if self.dpop_bound { "DPoP" } else { "Bearer" }
    }

    /// `expires_at` as an RFC 3339 timestamp (UTC, whole seconds).
    pub fn expires_at_rfc3339(&self) -> String {
        crate::time::rfc3339(self.expires_at)
    }
}

/// Why a token could not be issued.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum IssueError {
    /// An extra claim would overwrite one of [`ISSUED_CLAIMS`].
    ReservedClaim {
        /// The claim's name.
        name: String,
    },
    /// Signing failed (no randomness, a claim out of range, ...).
    Token(Error),
}

impl fmt::Display for IssueError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ReservedClaim { name } => {
                write!(f, "the claim {name:?} is written by the issuer itself")
            }
            Self::Token(error) => write!(f, "{error} ({})", error.code()),
        }
    }
}

impl std::error::Error for IssueError {}

impl From<Error> for IssueError {
    fn from(error: Error) -> Self {
        Self::Token(error)
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
    #[serde(skip_serializing_if = "Option::is_none")]
    scope: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sid: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cnf: Option<Confirmation<'a>>,
    #[serde(flatten)]
    extra: &'a Map<String, Value>,
}

/// The key a token is bound to (RFC 7800 `cnf`; RFC 9449 §6.1 `jkt`).
#[derive(Serialize)]
struct Confirmation<'a> {
    jkt: &'a str,
}

/// Where a token belongs: its session (`sid`), and the DPoP key it is bound to (`cnf.jkt`).
#[derive(Debug, Clone, Copy, Default)]
pub struct Binding<'a> {
    /// The session it is issued in.
    pub sid: Option<&'a str>,
    /// The RFC 7638 thumbprint of the DPoP key it is bound to.
    pub jkt: Option<&'a str>,
}

/// To whom a token is granted, and what.
struct Grantee<'a> {
    client_id: &'a str,
    roles: &'a [String],
    scope: Option<String>,
}

impl TokenIssuer {
    /// An issuer signing with the key of `keys` in force at each token's issue time (its
    /// algorithm and `kid` go in the header).
    pub fn new(
        keys: SigningKeys,
        issuer: impl Into<String>,
        audience: impl Into<String>,
        ttl: Duration,
    ) -> Self {
        Self {
            keys,
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
    /// claims `iss`, `sub`, `aud`, `client_id`, `exp`, `iat`, `nbf`, a random `jti`, `roles`,
    /// and the same roles as RFC 9068's space-separated `scope` (absent when there are none).
    pub fn issue(
        &self,
        subject: &str,
        roles: &[String],
        now: UnixTime,
    ) -> Result<IssuedToken, IssueError> {
        self.issue_with_claims(subject, roles, &Map::new(), now)
    }

    /// [`TokenIssuer::issue`] in a session and bound to a key as `binding` says (its `sid`
    /// and `cnf` claims).
    pub fn issue_bound(
        &self,
        subject: &str,
        roles: &[String],
        binding: Binding<'_>,
        now: UnixTime,
    ) -> Result<IssuedToken, IssueError> {
        self.issue_inner(subject, roles, binding, &Map::new(), now)
    }

    /// A token for a person, `subject`, signed in at the client `client_id` with `scope`
    /// granted, in the session and bound as `binding` says: no roles, the scope as RFC 9068's
    /// `scope`.
    pub fn issue_for_person(
        &self,
        subject: &str,
        client_id: &str,
        scope: &[String],
        binding: Binding<'_>,
        now: UnixTime,
    ) -> Result<IssuedToken, IssueError> {
        let grant = Grantee {
            client_id,
            roles: &[],
            scope: (!scope.is_empty()).then(|| scope.join(" ")),
        };
        self.sign(subject, grant, binding, &Map::new(), now)
    }

    /// [`TokenIssuer::issue`] with `extra` claims beside the issued ones (none of which they
    /// may set: [`IssueError::ReservedClaim`]).
    pub fn issue_with_claims(
        &self,
        subject: &str,
        roles: &[String],
        extra: &Map<String, Value>,
        now: UnixTime,
    ) -> Result<IssuedToken, IssueError> {
        self.issue_inner(subject, roles, Binding::default(), extra, now)
    }

    fn issue_inner(
        &self,
        subject: &str,
        roles: &[String],
        binding: Binding<'_>,
        extra: &Map<String, Value>,
        now: UnixTime,
    ) -> Result<IssuedToken, IssueError> {
        // A client's own token: it is its subject, and its roles are the scope.
        let grant = Grantee {
            client_id: subject,
            roles,
            scope: (!roles.is_empty()).then(|| roles.join(" ")),
        };
        self.sign(subject, grant, binding, extra, now)
    }

    fn sign(
        &self,
        subject: &str,
        grant: Grantee<'_>,
        binding: Binding<'_>,
        extra: &Map<String, Value>,
        now: UnixTime,
    ) -> Result<IssuedToken, IssueError> {
        if let Some(name) = extra
            .keys()
            .find(|name| ISSUED_CLAIMS.contains(&name.as_str()))
        {
            return Err(IssueError::ReservedClaim { name: name.clone() });
        }
        let iat = now.as_secs();
        let exp = i64::try_from(self.ttl.as_secs())
            .ok()
            .and_then(|ttl| iat.checked_add(ttl))
            .and_then(UnixTime::from_secs)
            .ok_or(Error::from(jwtkit_core::MalformedError::ClaimInvalid {
                name: "exp",
            }))?;
        let mut jti = [0u8; 16];
        getrandom::fill(&mut jti).map_err(|_| Error::from(KeyError::RandomnessUnavailable))?;
        let claims = AccessTokenClaims {
            iss: &self.issuer,
            sub: subject,
            aud: &self.audience,
            client_id: grant.client_id,
            exp: exp.as_secs(),
            iat,
            nbf: iat,
            jti: URL_SAFE_NO_PAD.encode(jti),
            roles: grant.roles,
            scope: grant.scope,
            sid: binding.sid,
            cnf: binding.jkt.map(|jkt| Confirmation { jkt }),
            extra,
        };
        Ok(IssuedToken {
            token: Signer::new(self.keys.signing_key(now))
                .typ(ACCESS_TOKEN_TYPE)
                .sign(&claims)?,
            expires_at: exp,
            expires_in: self.ttl.as_secs(),
            dpop_bound: binding.jkt.is_some(),
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
            SigningKeys::single(key.clone()),
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
        assert_eq!(claims.get("scope"), Some(&serde_json::json!("admin")));
        let other = issuer.issue("svc", &[], now).unwrap();
        assert_ne!(claims.jti(), other_jti(&other.token, &key, now).as_deref());
    }

    #[test]
    fn extra_claims_join_but_never_replace_the_issued_ones() {
        let key = Key::generate(Algorithm::HS256).unwrap();
        let issuer = TokenIssuer::new(
            SigningKeys::single(key),
            "iss",
            "aud",
            Duration::from_secs(60),
        );
        let now = UnixTime::from_secs(1_700_000_000).unwrap();
        let mut extra = Map::new();
        extra.insert("tenant".into(), "acme".into());
        assert!(issuer.issue_with_claims("svc", &[], &extra, now).is_ok());
        for name in ISSUED_CLAIMS {
            let mut extra = Map::new();
            extra.insert(name.into(), "x".into());
            assert_eq!(
                issuer
                    .issue_with_claims("svc", &[], &extra, now)
                    .unwrap_err(),
                IssueError::ReservedClaim { name: name.into() }
            );
        }
        let forever = TokenIssuer::new(
            SigningKeys::single(Key::generate(Algorithm::HS256).unwrap()),
            "iss",
            "aud",
            Duration::from_secs(u64::MAX),
        );
        assert_eq!(
            forever.issue("svc", &[], now).unwrap_err(),
            IssueError::Token(jwtkit_core::MalformedError::ClaimInvalid { name: "exp" }.into()),
            "an expiry past 9999 is refused, not wrapped"
        );
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
