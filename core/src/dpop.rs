//! DPoP proofs (RFC 9449 §4.3): the one check every jwtkit server applies to a `DPoP` header —
//! the token endpoint, `/api/v3/auth` and its refresh, and every resource server. A proof is a
//! JWT signed by the client's key, which its header carries (`jwk`, public only); it names the
//! request (`htm`, `htu`), its moment (`iat`), itself (`jti`, for the caller's replay cache),
//! the access token it accompanies (`ath`) and the server's nonce when one is asked for.
//!
//! What this module does not do: remember `jti`s (the caller's store does, for as long as the
//! `iat` window lasts), choose nonces, or compare the key with a token's `cnf.jkt` (the caller
//! has the token; [`VerifiedProof::jkt`] is the thumbprint to compare).

use sha2::{Digest, Sha256};

use crate::KeyError;
use crate::alg::Algorithm;
use crate::b64;
use crate::header::media_type_eq;
use crate::keys::Key;

mod key;
mod uri;

use crate::parse::{self, ParseOptions};
use crate::time::UnixTime;
use key::ProofKeys;
use uri::same_uri;

/// RFC 9864's name of EdDSA with Ed25519, accepted as a proof's `alg` wherever `EdDSA` is.
pub const FULLY_SPECIFIED_ED25519: &str = "Ed25519";

/// The names a server announces for `algorithms` (the metadata's
/// `dpop_signing_alg_values_supported`, the challenge's `algs`): each one's, and RFC 9864's
/// `Ed25519` beside `EdDSA`.
pub fn algorithm_names(algorithms: &[Algorithm]) -> Vec<&'static str> {
    algorithms
        .iter()
        .flat_map(|alg| match alg {
            Algorithm::EdDSA => vec![alg.as_str(), FULLY_SPECIFIED_ED25519],
            _ => vec![alg.as_str()],
        })
        .collect()
}

/// The `typ` of a DPoP proof.
pub const PROOF_TYPE: &str = "dpop+jwt";
/// The most bytes a proof may have (a proof carries an RSA key at most).
pub const MAX_PROOF_BYTES: usize = 8 * 1024;

/// What a server accepts: the proof algorithms (asymmetric only) and how far `iat` may lie
/// in the past and in the future. Its clones share the keys it imported from proofs (see
/// `key`: a client's key is imported once, its every proof's signature still checked).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProofPolicy {
    algorithms: Vec<Algorithm>,
    max_age_seconds: u32,
    max_ahead_seconds: u32,
    keys: ProofKeys,
}

impl ProofPolicy {
    /// Proofs by `algorithms` (the symmetric ones dropped: a proof is signed by a key pair),
    /// issued at most `max_age_seconds` ago and at most `max_ahead_seconds` ahead of `now`.
    pub fn new(
        algorithms: impl IntoIterator<Item = Algorithm>,
        max_age_seconds: u32,
        max_ahead_seconds: u32,
    ) -> Self {
        let mut algorithms: Vec<Algorithm> = algorithms
            .into_iter()
            .filter(|alg| !alg.is_symmetric())
            .collect();
        algorithms.dedup();
        Self {
            algorithms,
            max_age_seconds,
            max_ahead_seconds,
            keys: ProofKeys::default(),
        }
    }

    /// The algorithms accepted (the metadata's `dpop_signing_alg_values_supported`, the
    /// challenge's `algs`).
    pub fn algorithms(&self) -> &[Algorithm] {
        &self.algorithms
    }

    /// How long a proof stays acceptable after its `iat`: a replay cache keeps its `jti` that
    /// long (plus the time it may be ahead).
    pub fn window_seconds(&self) -> u32 {
        self.max_age_seconds.saturating_add(self.max_ahead_seconds)
    }
}

/// The request a proof must name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProofRequest<'a> {
    /// The HTTP method (`htm`).
    pub method: &'a str,
    /// The request's URI as the server's public URL gives it (`htu`); its query and fragment
    /// are ignored.
    pub uri: &'a str,
    /// The access token presented with the proof, whose hash `ath` must be.
    pub access_token: Option<&'a str>,
    /// The nonce the server expects, when it asks for one.
    pub nonce: Option<&'a str>,
}

/// A proof that passed every check.
#[derive(Debug, Clone, PartialEq)]
pub struct VerifiedProof {
    /// The RFC 7638 thumbprint of the proof's key (a bound token's `cnf.jkt`).
    pub jkt: String,
    /// The proof's `jti`, for the replay cache.
    pub jti: String,
    /// When the proof says it was made.
    pub iat: UnixTime,
    /// The server nonce it carries, if any (a server that hands out nonces checks it).
    pub nonce: Option<String>,
}

crate::error_table! {
    /// Why a proof is refused. [`ProofError::NonceRequired`] answers `use_dpop_nonce`; every
    /// other `invalid_dpop_proof` (RFC 9449 §7.1).
    #[derive(Debug, Clone, PartialEq, Eq)]
    #[non_exhaustive]
    pub enum ProofError {
        /// Not a compact JWS the strict parser accepts, or larger than [`MAX_PROOF_BYTES`].
        Malformed {
            /// What the parser refused.
            reason: String,
        } => "ERR_DPOP_PROOF_MALFORMED", "the DPoP proof is not a valid JWT: {reason}",
        /// `typ` is not `dpop+jwt`.
        Type => "ERR_DPOP_PROOF_TYPE", "the DPoP proof's typ is not \"dpop+jwt\"",
        /// `alg` is symmetric, unknown, `none`, or not one the server accepts.
        Algorithm {
            /// Why the algorithm is refused.
            reason: String,
        } => "ERR_DPOP_PROOF_ALGORITHM", "the DPoP proof's alg is refused: {reason}",
        /// No `jwk` in the header, one that is no valid public key of the `alg`, or one with
        /// private members.
        Key {
            /// Why the key is refused.
            reason: String,
        } => "ERR_DPOP_PROOF_KEY", "the DPoP proof's jwk is refused: {reason}",
        /// The signature does not verify with the header's key.
        Signature => "ERR_DPOP_PROOF_SIGNATURE",
            "the DPoP proof's signature does not verify with its jwk",
        /// `htm` is not the request's method.
        Method => "ERR_DPOP_PROOF_HTM", "the DPoP proof's htm is not this request's method",
        /// `htu` is not the request's URI.
        Uri => "ERR_DPOP_PROOF_HTU", "the DPoP proof's htu is not this request's URI",
        /// `iat` is missing, too old, or too far ahead.
        IssuedAt {
            /// Why the time is refused.
            reason: String,
        } => "ERR_DPOP_PROOF_IAT", "the DPoP proof's iat is refused: {reason}",
        /// `jti` is missing or empty.
        Jti => "ERR_DPOP_PROOF_JTI", "the DPoP proof has no jti",
        /// `ath` is missing with an access token, present without one, or not its hash.
        AccessTokenHash => "ERR_DPOP_PROOF_ATH",
            "the DPoP proof's ath is not the hash of the presented access token",
        /// The server asks for a nonce, and the proof has none or another (`use_dpop_nonce`).
        NonceRequired => "ERR_DPOP_NONCE_REQUIRED",
            "the DPoP proof must carry the server's current nonce (its DPoP-Nonce header)",
    }
}

/// The `ath` of `access_token`: base64url of its SHA-256 (RFC 9449 §4.2).
pub fn access_token_hash(access_token: &str) -> String {
    b64::encode(&Sha256::digest(access_token.as_bytes()))
}

/// A proof of possession of `key` (a key pair's private key) for `request`, made at `iat`
/// with the unique `jti`: the header carries the public key (`jwk`), the claims `htm`, `htu`,
/// `iat`, `jti`, and `ath` and `nonce` when the request has them (RFC 9449 §4.2). For clients
/// that hold their key in Rust — the command line (`jwtkit dpop proof`), tests; a browser
/// signs with WebCrypto, its key never readable.
pub fn sign_proof(
    key: &Key,
    request: &ProofRequest<'_>,
    iat: UnixTime,
    jti: &str,
) -> Result<String, KeyError> {
    let symmetric = KeyError::InvalidJwk {
        reason: "a DPoP proof is signed by a key pair, and this key is symmetric",
    };
    let jwk = key.to_public_jwk().ok_or(symmetric)?;
    let jwk: serde_json::Value =
        serde_json::from_str(&jwk.to_json()).map_err(|_| KeyError::InvalidJwk {
            reason: "the public JWK does not read back as JSON",
        })?;
    let header =
        serde_json::json!({"typ": PROOF_TYPE, "alg": key.algorithm().as_str(), "jwk": jwk});
    let mut claims = serde_json::json!({
        "htm": request.method,
        "htu": request.uri,
        "iat": iat.as_secs(),
        "jti": jti,
    });
    if let Some(token) = request.access_token {
        claims["ath"] = access_token_hash(token).into();
    }
    if let Some(nonce) = request.nonce {
        claims["nonce"] = nonce.into();
    }
    let mut proof = b64::encode(header.to_string().as_bytes());
    proof.push('.');
    proof.push_str(&b64::encode(claims.to_string().as_bytes()));
    let signature = key.sign(proof.as_bytes())?;
    proof.push('.');
    proof.push_str(&b64::encode(&signature));
    Ok(proof)
}

/// Checks `proof` for `request` at `now` under `policy` (RFC 9449 §4.3, steps 2–11; the
/// caller checks that the request carries exactly one `DPoP` header, and remembers the `jti`).
pub fn verify_proof(
    proof: &str,
    policy: &ProofPolicy,
    request: &ProofRequest<'_>,
    now: UnixTime,
) -> Result<VerifiedProof, ProofError> {
    let options = ParseOptions::for_dpop_proof(MAX_PROOF_BYTES);
    let jws = parse::parse_jws(proof, &options).map_err(|e| ProofError::Malformed {
        reason: e.to_string(),
    })?;
    let header = &jws.header;
    if !header
        .typ()
        .is_some_and(|typ| media_type_eq(typ, PROOF_TYPE))
    {
        return Err(ProofError::Type);
    }
    // RFC 9864's fully-specified name of EdDSA over Ed25519 (what WebCrypto-based clients
    // such as oauth4webapi write for an Ed25519 key).
    let alg = if header.alg() == FULLY_SPECIFIED_ED25519 {
        Some(Algorithm::EdDSA)
    } else {
        header.algorithm()
    };
    let alg = alg.ok_or_else(|| ProofError::Algorithm {
        reason: format!(
            "\"{}\" is not a JWS algorithm jwtkit verifies",
            header.alg()
        ),
    })?;
    if !policy.algorithms.contains(&alg) {
        return Err(ProofError::Algorithm {
            reason: if alg.is_symmetric() {
                format!("{alg} is symmetric; a proof is signed by a key pair")
            } else {
                format!("{alg} is not one this server accepts")
            },
        });
    }
    let imported = policy
        .keys
        .get(header.members().get("jwk"), alg, header.alg())?;
    let (key, jkt) = (&imported.0, &imported.1);
    // Signatures up to RSA-4096's 512 bytes are decoded on the stack.
    let (mut buffer, mut spill) = ([0; 512], Vec::new());
    key.verify(
        jws.signing_input,
        jws.signature.decode_onto(&mut buffer, &mut spill),
    )
    .map_err(|_| ProofError::Signature)?;
    let claims = parse::parse_claims(jws.payload).map_err(|e| ProofError::Malformed {
        reason: e.to_string(),
    })?;
    let text = |name: &str| claims.get(name).and_then(|v| v.as_str());
    if text("htm") != Some(request.method) {
        return Err(ProofError::Method);
    }
    if !text("htu").is_some_and(|htu| same_uri(htu, request.uri)) {
        return Err(ProofError::Uri);
    }
    let iat = claims.iat().ok_or_else(|| ProofError::IssuedAt {
        reason: "missing".to_owned(),
    })?;
    let (iat_secs, now_secs) = (iat.as_secs_f64(), now.as_secs_f64());
    if iat_secs > now_secs + f64::from(policy.max_ahead_seconds) {
        return Err(ProofError::IssuedAt {
            reason: "it is ahead of the server's clock".to_owned(),
        });
    }
    if iat_secs < now_secs - f64::from(policy.max_age_seconds) {
        return Err(ProofError::IssuedAt {
            reason: format!("it is more than {} seconds old", policy.max_age_seconds),
        });
    }
    let jti = match claims.jti() {
        Some(jti) if !jti.is_empty() => jti.to_owned(),
        _ => return Err(ProofError::Jti),
    };
    match (request.access_token, text("ath")) {
        (None, None) => {}
        (Some(token), Some(ath)) if ath == access_token_hash(token) => {}
        _ => return Err(ProofError::AccessTokenHash),
    }
    if let Some(nonce) = request.nonce
        && text("nonce") != Some(nonce)
    {
        return Err(ProofError::NonceRequired);
    }
    Ok(VerifiedProof {
        jkt: jkt.clone(),
        jti,
        iat,
        nonce: text("nonce").map(str::to_owned),
    })
}

#[cfg(test)]
mod tests;
