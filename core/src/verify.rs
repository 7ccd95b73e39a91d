//! Verification: parse strictly, select the key, check the signature, then the claims.

use crate::claims::Claims;
use crate::error::{Error, SignatureError};
use crate::header::Header;
use crate::keys::KeySet;
use crate::parse::{self, ParseOptions};
use crate::policy::Validation;
use crate::time::UnixTime;

/// Verifies tokens against a key set and a validation policy. Cheap to share (`Clone`).
///
/// ```
/// use jwtkit_core::{Algorithm, Key, KeySet, Signer, UnixTime, Validation, Verifier};
/// let key = Key::generate(Algorithm::HS256)?;
/// let now = UnixTime::from_secs(1_700_000_000).unwrap();
/// let claims = serde_json::json!({"sub": "ann", "exp": 1_700_000_180});
/// let token = Signer::new(key.clone()).typ("at+jwt").sign(&claims)?;
///
/// let policy = Validation::builder().expect_type("at+jwt").require_claim("sub").build()?;
/// let verifier = Verifier::new(KeySet::from(key), policy);
/// let verified = verifier.verify(&token, now)?;
/// assert_eq!(verified.claims().sub(), Some("ann"));
/// # Ok::<(), jwtkit_core::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Verifier {
    keys: KeySet,
    policy: Validation,
}

/// A token whose signature and claims passed verification.
#[derive(Debug, Clone, PartialEq)]
pub struct VerifiedToken {
    header: Header,
    claims: Claims,
}

impl VerifiedToken {
    /// The verified header.
    pub fn header(&self) -> &Header {
        &self.header
    }

    /// The verified claims.
    pub fn claims(&self) -> &Claims {
        &self.claims
    }

    /// Splits into header and claims.
    pub fn into_parts(self) -> (Header, Claims) {
        (self.header, self.claims)
    }
}

/// A JWS whose header and signature passed verification; its payload is arbitrary bytes.
#[derive(Debug, Clone, PartialEq)]
pub struct VerifiedJws {
    header: Header,
    payload: Vec<u8>,
}

impl VerifiedJws {
    /// The verified header.
    pub fn header(&self) -> &Header {
        &self.header
    }

    /// The verified payload.
    pub fn payload(&self) -> &[u8] {
        &self.payload
    }
}

impl Verifier {
    /// A verifier trusting `keys` under `policy`.
    pub fn new(keys: KeySet, policy: Validation) -> Self {
        Self { keys, policy }
    }

    /// The trusted keys.
    pub fn keys(&self) -> &KeySet {
        &self.keys
    }

    /// The validation policy.
    pub fn policy(&self) -> &Validation {
        &self.policy
    }

    /// Verifies a JWT at time `now`: strict parsing, algorithm and key selection, signature,
    /// then the claims against the policy.
    pub fn verify(&self, token: &str, now: UnixTime) -> Result<VerifiedToken, Error> {
        let jws = self.verify_jws(token)?;
        let claims = parse::parse_claims(jws.payload)?;
        self.policy.validate(&jws.header, &claims, now)?;
        Ok(VerifiedToken {
            header: jws.header,
            claims,
        })
    }

    /// Judges again, at `now`, a token that this verifier accepted before (e.g. one kept in a
    /// cache): its bytes, keys and policy are unchanged, so the signature and form still hold
    /// and only the policy's checks (`exp`, `nbf`, `iat`, `iss`, `aud`, `typ`, required
    /// claims) run again. A remembered token is accepted exactly when [`Verifier::verify`]
    /// would accept it at `now`.
    pub fn revalidate(&self, verified: &VerifiedToken, now: UnixTime) -> Result<(), Error> {
        self.policy
            .validate(&verified.header, &verified.claims, now)
            .map_err(Error::from)
    }

    /// Verifies a compact JWS with any payload: every header rule and the signature, no
    /// claims (for JWS that do not carry a JWT, e.g. conformance vectors).
    pub fn verify_jws(&self, token: &str) -> Result<VerifiedJws, Error> {
        verify_signature(&self.keys, &self.policy, self.policy.parse_options(), token)
    }
}

fn verify_signature(
    keys: &KeySet,
    policy: &Validation,
    options: &ParseOptions,
    token: &str,
) -> Result<VerifiedJws, Error> {
    let jws = parse::parse_jws(token, options)?;
    let alg = jws
        .header
        .algorithm()
        .ok_or(SignatureError::AlgorithmUnsupported)?;
    if !policy.allows(alg) {
        return Err(SignatureError::AlgorithmNotAllowed.into());
    }
    let key = keys.select(alg, jws.header.kid())?;
    // Signatures up to RSA-4096's 512 bytes are decoded on the stack.
    let (mut buffer, mut spill) = ([0; 512], Vec::new());
    key.verify(
        jws.signing_input,
        jws.signature.decode_onto(&mut buffer, &mut spill),
    )?;
    Ok(VerifiedJws {
        header: jws.header,
        payload: jws.payload,
    })
}
