//! Verification: parse strictly, select the key, check the signature, then the claims.

use crate::claims::Claims;
use crate::error::{Error, SignatureError};
use crate::header::Header;
use crate::keys::KeySet;
use std::sync::Arc;

use crate::parse::{self, HeaderMemory, ParseOptions, SharedHeader};
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
    /// The headers of the tokens it verified, shared by its clones.
    headers: Arc<HeaderMemory>,
}

/// A token whose signature and claims passed verification.
#[derive(Debug, Clone, PartialEq)]
pub struct VerifiedToken {
    header: SharedHeader,
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
        (self.header.into_owned(), self.claims)
    }
}

/// A JWS whose header and signature passed verification; its payload is arbitrary bytes.
#[derive(Debug, Clone, PartialEq)]
pub struct VerifiedJws {
    header: SharedHeader,
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
        Self {
            keys,
            policy,
            headers: Arc::default(),
        }
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
        verify_signature(
            &self.keys,
            &self.policy,
            self.policy.parse_options(),
            &self.headers,
            token,
        )
    }
}

fn verify_signature(
    keys: &KeySet,
    policy: &Validation,
    options: &ParseOptions,
    headers: &HeaderMemory,
    token: &str,
) -> Result<VerifiedJws, Error> {
    let jws = parse::parse_jws_remembering(token, options, Some(headers))?;
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
    if let SharedHeader::Read(header) = &jws.header {
        headers.remember(jws.header_segment, header);
    }
    Ok(VerifiedJws {
        header: jws.header,
        payload: jws.payload,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alg::Algorithm;
    use crate::keys::Key;
    use crate::sign::Signer;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    const NOW: i64 = 1_700_000_000;

    fn now() -> UnixTime {
        UnixTime::from_secs(NOW).unwrap()
    }

    fn remembered(verifier: &Verifier) -> usize {
        verifier.headers.len()
    }

    /// The verdicts (a code, or the subject) of `tokens`, one after another on `verifier`.
    fn verdicts(verifier: &Verifier, tokens: &[String]) -> Vec<String> {
        tokens
            .iter()
            .map(|t| match verifier.verify(t, now()) {
                Ok(v) => v.claims().sub().unwrap_or_default().to_owned(),
                Err(e) => e.code().to_owned(),
            })
            .collect()
    }

    #[test]
    fn a_remembered_header_skips_reading_nothing_else() {
        let key = Key::generate(Algorithm::HS256).unwrap();
        let other = Key::generate(Algorithm::HS256).unwrap();
        let policy = Validation::builder()
            .expect_type("at+jwt")
            .require_claim("sub")
            .build()
            .unwrap();
        let claims = |sub: &str, exp: i64| serde_json::json!({"sub": sub, "exp": exp});
        let signer = Signer::new(key.clone()).typ("at+jwt");
        let good = signer.sign(&claims("ann", NOW + 60)).unwrap();
        let (signing_input, _) = good.rsplit_once('.').unwrap();
        let forged_signature = format!("{signing_input}.{}", crate::b64::encode(&[0; 32]));
        let header = good.split('.').next().unwrap();
        let payload = crate::b64::encode(br#"{"sub":"mallory","exp":1700000060}"#);
        let forged_payload = format!("{header}.{payload}.{}", good.rsplit_once('.').unwrap().1);
        let tokens = [
            good.clone(),
            forged_signature,
            forged_payload,
            signer.sign(&claims("bob", NOW - 60)).unwrap(),
            Signer::new(other)
                .typ("at+jwt")
                .sign(&claims("eve", NOW + 60))
                .unwrap(),
            Signer::new(key.clone())
                .sign(&claims("untyped", NOW + 60))
                .unwrap(),
            signer.sign(&claims("cat", NOW + 60)).unwrap(),
        ];
        let fresh = |t: &String| {
            verdicts(
                &Verifier::new(KeySet::from(key.clone()), policy.clone()),
                std::slice::from_ref(t),
            )
            .remove(0)
        };
        let expected: Vec<String> = tokens.iter().map(fresh).collect();
        assert_eq!(
            expected,
            [
                "ann",
                "ERR_JWS_SIGNATURE_VERIFICATION_FAILED",
                "ERR_JWS_SIGNATURE_VERIFICATION_FAILED",
                "ERR_JWT_EXPIRED",
                "ERR_JWKS_NO_MATCHING_KEY",
                "ERR_JWT_TYPE_MISMATCH",
                "cat",
            ]
        );
        // One verifier for all, twice over: the same verdicts with its header remembered.
        let warm = Verifier::new(KeySet::from(key), policy);
        let twice: Vec<String> = tokens.iter().chain(&tokens).cloned().collect();
        assert_eq!(
            verdicts(&warm, &twice),
            [expected.clone(), expected].concat()
        );
        // Only headers of tokens whose signature verified are remembered: the signer's own
        // (`typ` at+jwt) and the untyped one, refused by the policy after its signature.
        assert_eq!(remembered(&warm), 2);
        // A verified token is the same whether its header was remembered or read.
        let cold = Verifier::new(warm.keys().clone(), warm.policy().clone());
        assert_eq!(
            warm.verify(&good, now()).unwrap(),
            cold.verify(&good, now()).unwrap()
        );
    }

    #[cfg(not(target_arch = "wasm32"))]
    #[test]
    fn threads_verifying_one_header_at_once_take_one_slot() {
        let key = Key::generate(Algorithm::HS256).unwrap();
        let token = Signer::new(key.clone())
            .sign(&serde_json::json!({"exp": NOW + 60}))
            .unwrap();
        for _ in 0..20 {
            let verifier = Verifier::new(
                KeySet::from(key.clone()),
                Validation::builder().build().unwrap(),
            );
            std::thread::scope(|scope| {
                for _ in 0..4 {
                    scope.spawn(|| verifier.verify(&token, now()).unwrap());
                }
            });
            assert_eq!(remembered(&verifier), 1);
        }
    }

    #[test]
    fn forged_tokens_cannot_take_the_slots() {
        let key = Key::generate(Algorithm::HS256).unwrap();
        let policy = Validation::builder().build().unwrap();
        let verifier = Verifier::new(KeySet::from(key.clone()), policy);
        for i in 0..20 {
            let header = crate::b64::encode(format!(r#"{{"alg":"HS256","x":{i}}}"#).as_bytes());
            let forged = format!("{header}.e30.{}", crate::b64::encode(&[0; 32]));
            assert_eq!(
                verifier.verify(&forged, now()).unwrap_err().code(),
                "ERR_JWS_SIGNATURE_VERIFICATION_FAILED"
            );
        }
        assert_eq!(remembered(&verifier), 0);
        let good = Signer::new(key)
            .sign(&serde_json::json!({"exp": NOW + 60}))
            .unwrap();
        verifier.verify(&good, now()).unwrap();
        assert_eq!(remembered(&verifier), 1);
    }
}
