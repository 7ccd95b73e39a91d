//! The validation policy: which tokens a verifier accepts (RFC 7519 §4.1, RFC 8725 §3).
//!
//! Modelled on Tink's JWT API: nothing is accepted by default that was not asked for.
//! - `exp` is required unless [`ValidationBuilder::allow_missing_expiration`] is called.
//! - Setting an expectation (`iss`, `aud`, `typ`) makes that claim required, matched exactly
//!   (`typ` as a media type, RFC 7515 §4.1.9).
//! - A token that carries `iss`, `aud` or `typ` the policy neither expects nor explicitly
//!   ignores is rejected: an access token is not accepted where an ID token is expected just
//!   because nobody thought to check (RFC 7519 §4.1.3 requires this for `aud`).
//! - Leeway is explicit, defaults to 0 and is capped at [`MAX_LEEWAY_SECONDS`].

use crate::alg::Algorithm;
use crate::claims::Claims;
use crate::error::{ClaimsError, PolicyError};
use crate::header::{Header, media_type_eq};
use crate::parse::ParseOptions;
use crate::time::UnixTime;

/// The largest clock-skew allowance a policy may have: 10 minutes.
pub const MAX_LEEWAY_SECONDS: u32 = 600;

#[derive(Debug, Clone, PartialEq, Eq, Default)]
enum Expect {
    /// The claim must be absent.
    #[default]
    Absent,
    /// The claim is not checked.
    Ignored,
    /// The claim must be present and match.
    Value(String),
}

/// A validation policy, built with [`Validation::builder`]. Immutable once built.
///
/// ```
/// use jwtkit_core::{Algorithm, Validation};
/// let policy = Validation::builder()
///     .algorithms([Algorithm::HS256])
///     .expect_issuer("https://auth.example")
///     .expect_audience("api")
///     .expect_type("at+jwt")
///     .require_claim("sub")
///     .leeway_seconds(30)
///     .build()?;
/// assert_eq!(policy.leeway_seconds(), 30);
/// # Ok::<(), jwtkit_core::PolicyError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Validation {
    algorithms: Vec<Algorithm>,
    issuer: Expect,
    audience: Expect,
    typ: Expect,
    required: Vec<String>,
    exp_required: bool,
    leeway: u32,
    parse: ParseOptions,
}

/// Builds a [`Validation`]; see its documentation for the defaults.
#[derive(Debug, Clone)]
#[must_use]
pub struct ValidationBuilder(Validation);

impl Validation {
    /// A builder with the strict defaults: `exp` required, no leeway, and no `iss`, `aud` or
    /// `typ` accepted until expected or ignored.
    pub fn builder() -> ValidationBuilder {
        ValidationBuilder(Validation {
            algorithms: Vec::new(),
            issuer: Expect::Absent,
            audience: Expect::Absent,
            typ: Expect::Absent,
            required: Vec::new(),
            exp_required: true,
            leeway: 0,
            parse: ParseOptions::default(),
        })
    }

    /// The allowed algorithms; empty means "the algorithm bound to the selected key".
    pub fn algorithms(&self) -> &[Algorithm] {
        &self.algorithms
    }

    /// Whether `alg` passes the allow-list.
    pub fn allows(&self, alg: Algorithm) -> bool {
        self.algorithms.is_empty() || self.algorithms.contains(&alg)
    }

    /// The clock-skew allowance in seconds.
    pub fn leeway_seconds(&self) -> u32 {
        self.leeway
    }

    /// The limits applied when parsing.
    pub fn parse_options(&self) -> &ParseOptions {
        &self.parse
    }

    /// Checks the header's `typ` and the claims against this policy at time `now`.
    pub fn validate(
        &self,
        header: &Header,
        claims: &Claims,
        now: UnixTime,
    ) -> Result<(), ClaimsError> {
        let leeway = f64::from(self.leeway);
        let now_s = now.as_secs_f64();
        match claims.exp() {
            None if self.exp_required => return Err(ClaimsError::Missing { name: "exp".into() }),
            None => {}
            Some(exp) => check_expiry(exp, now, self.leeway)?,
        }
        if let Some(nbf) = claims.nbf()
            && now_s < nbf.as_secs_f64() - leeway
        {
            return Err(ClaimsError::NotYetValid { nbf, now });
        }
        if let Some(iat) = claims.iat()
            && iat.as_secs_f64() > now_s + leeway
        {
            return Err(ClaimsError::IssuedInFuture { iat, now });
        }
        match (&self.typ, header.typ()) {
            (Expect::Ignored, _) | (Expect::Absent, None) => {}
            (Expect::Absent, Some(_)) => return Err(ClaimsError::TypeUnexpected),
            (Expect::Value(want), Some(got)) if media_type_eq(want, got) => {}
            (Expect::Value(_), _) => return Err(ClaimsError::TypeMismatch),
        }
        match (&self.issuer, claims.iss()) {
            (Expect::Ignored, _) | (Expect::Absent, None) => {}
            (Expect::Absent, Some(_)) => return Err(ClaimsError::IssuerUnexpected),
            (Expect::Value(want), Some(got)) if want == got => {}
            (Expect::Value(_), None) => return Err(ClaimsError::Missing { name: "iss".into() }),
            (Expect::Value(_), Some(_)) => return Err(ClaimsError::IssuerMismatch),
        }
        match (&self.audience, claims.aud()) {
            (Expect::Ignored, _) | (Expect::Absent, None) => {}
            (Expect::Absent, Some(_)) => return Err(ClaimsError::AudienceUnexpected),
            (Expect::Value(want), Some(got)) if got.contains(want) => {}
            (Expect::Value(_), None) => return Err(ClaimsError::Missing { name: "aud".into() }),
            (Expect::Value(_), Some(_)) => return Err(ClaimsError::AudienceMismatch),
        }
        if let Some(name) = self.required.iter().find(|name| !claims.contains(name)) {
            return Err(ClaimsError::Missing { name: name.clone() });
        }
        Ok(())
    }
}

/// The expiry rule on its own: expired when `now >= exp + leeway` (RFC 7519 §4.1.4).
/// `leeway` is capped at [`MAX_LEEWAY_SECONDS`].
pub fn check_expiry(exp: UnixTime, now: UnixTime, leeway_seconds: u32) -> Result<(), ClaimsError> {
    let leeway = f64::from(leeway_seconds.min(MAX_LEEWAY_SECONDS));
    if now.as_secs_f64() >= exp.as_secs_f64() + leeway {
        Err(ClaimsError::Expired { exp, now })
    } else {
        Ok(())
    }
}

impl ValidationBuilder {
    /// Only these algorithms are accepted (in addition to each key's own binding).
    pub fn algorithms(mut self, algorithms: impl IntoIterator<Item = Algorithm>) -> Self {
        self.0.algorithms = algorithms.into_iter().collect();
        self
    }

    /// `iss` must be present and equal `issuer` exactly.
    pub fn expect_issuer(mut self, issuer: impl Into<String>) -> Self {
        self.0.issuer = Expect::Value(issuer.into());
        self
    }

    /// `iss` is not checked.
    pub fn ignore_issuer(mut self) -> Self {
        self.0.issuer = Expect::Ignored;
        self
    }

    /// `aud` must be present and contain `audience` exactly.
    pub fn expect_audience(mut self, audience: impl Into<String>) -> Self {
        self.0.audience = Expect::Value(audience.into());
        self
    }

    /// `aud` is not checked.
    pub fn ignore_audience(mut self) -> Self {
        self.0.audience = Expect::Ignored;
        self
    }

    /// The header's `typ` must be present and equal this media type (case-insensitively;
    /// `application/at+jwt` equals `at+jwt`).
    pub fn expect_type(mut self, typ: impl Into<String>) -> Self {
        self.0.typ = Expect::Value(typ.into());
        self
    }

    /// The header's `typ` is not checked.
    pub fn ignore_type(mut self) -> Self {
        self.0.typ = Expect::Ignored;
        self
    }

    /// The claim `name` must be present (any value).
    pub fn require_claim(mut self, name: impl Into<String>) -> Self {
        self.0.required.push(name.into());
        self
    }

    /// Tokens without `exp` are accepted (they never expire). Use with care.
    pub fn allow_missing_expiration(mut self) -> Self {
        self.0.exp_required = false;
        self
    }

    /// Clock-skew allowance for `exp`, `nbf` and `iat`, at most [`MAX_LEEWAY_SECONDS`].
    pub fn leeway_seconds(mut self, seconds: u32) -> Self {
        self.0.leeway = seconds;
        self
    }

    /// Tokens longer than `max` bytes are rejected before any other work.
    pub fn max_token_bytes(mut self, max: usize) -> Self {
        self.0.parse = ParseOptions::with_max_bytes(max);
        self
    }

    /// The policy, or [`PolicyError::Invalid`] when it is inconsistent.
    pub fn build(self) -> Result<Validation, PolicyError> {
        let policy = self.0;
        if policy.leeway > MAX_LEEWAY_SECONDS {
            return Err(PolicyError::Invalid {
                reason: "leeway is over 600 seconds",
            });
        }
        let empty = |e: &Expect| matches!(e, Expect::Value(v) if v.is_empty());
        if empty(&policy.issuer) || empty(&policy.audience) || empty(&policy.typ) {
            return Err(PolicyError::Invalid {
                reason: "an expected value is empty",
            });
        }
        if policy.required.iter().any(String::is_empty) {
            return Err(PolicyError::Invalid {
                reason: "a required claim name is empty",
            });
        }
        if policy.parse.max_bytes() == 0 {
            return Err(PolicyError::Invalid {
                reason: "the token size limit is 0",
            });
        }
        Ok(policy)
    }
}
