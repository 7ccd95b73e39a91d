//! DPoP proofs (RFC 9449 §4.3): the one check every jwtkit server applies to a `DPoP` header —
//! the token endpoint, `/api/v3/auth` and its refresh, and every resource server. A proof is a
//! JWT signed by the client's key, which its header carries (`jwk`, public only); it names the
//! request (`htm`, `htu`), its moment (`iat`), itself (`jti`, for the caller's replay cache),
//! the access token it accompanies (`ath`) and the server's nonce when one is asked for.
//!
//! What this module does not do: remember `jti`s (the caller's store does, for as long as the
//! `iat` window lasts), choose nonces, or compare the key with a token's `cnf.jkt` (the caller
//! has the token; [`VerifiedProof::jkt`] is the thumbprint to compare).

use std::fmt;

use sha2::{Digest, Sha256};

use crate::alg::Algorithm;
use crate::b64;
use crate::header::media_type_eq;
use crate::keys::{Jwk, Key};
use crate::parse::{self, ParseOptions};
use crate::time::UnixTime;

/// The `typ` of a DPoP proof.
pub const PROOF_TYPE: &str = "dpop+jwt";
/// The most bytes a proof may have (a proof carries an RSA key at most).
pub const MAX_PROOF_BYTES: usize = 8 * 1024;

/// What a server accepts: the proof algorithms (asymmetric only) and how far `iat` may lie
/// in the past and in the future.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProofPolicy {
    algorithms: Vec<Algorithm>,
    max_age_seconds: u32,
    max_ahead_seconds: u32,
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
}

/// Why a proof is refused. [`ProofError::NonceRequired`] answers `use_dpop_nonce`; every other
/// `invalid_dpop_proof` (RFC 9449 §7.1).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProofError {
    /// Not a compact JWS the strict parser accepts, or larger than [`MAX_PROOF_BYTES`].
    Malformed(String),
    /// `typ` is not `dpop+jwt`.
    Type,
    /// `alg` is symmetric, unknown, `none`, or not one the server accepts.
    Algorithm(String),
    /// No `jwk` in the header, one that is no valid public key of the `alg`, or one with
    /// private members.
    Key(String),
    /// The signature does not verify with the header's key.
    Signature,
    /// `htm` is not the request's method.
    Method,
    /// `htu` is not the request's URI.
    Uri,
    /// `iat` is missing, too old, or too far ahead.
    IssuedAt(String),
    /// `jti` is missing or empty.
    Jti,
    /// `ath` is missing with an access token, present without one, or not its hash.
    AccessTokenHash,
    /// The server asks for a nonce, and the proof has none or another (`use_dpop_nonce`).
    NonceRequired,
}

impl fmt::Display for ProofError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Malformed(why) => write!(f, "the DPoP proof is not a valid JWT: {why}"),
            Self::Type => write!(f, "the DPoP proof's typ is not \"{PROOF_TYPE}\""),
            Self::Algorithm(why) => write!(f, "the DPoP proof's alg is refused: {why}"),
            Self::Key(why) => write!(f, "the DPoP proof's jwk is refused: {why}"),
            Self::Signature => {
                f.write_str("the DPoP proof's signature does not verify with its jwk")
            }
            Self::Method => f.write_str("the DPoP proof's htm is not this request's method"),
            Self::Uri => f.write_str("the DPoP proof's htu is not this request's URI"),
            Self::IssuedAt(why) => write!(f, "the DPoP proof's iat is refused: {why}"),
            Self::Jti => f.write_str("the DPoP proof has no jti"),
            Self::AccessTokenHash => {
                f.write_str("the DPoP proof's ath is not the hash of the presented access token")
            }
            Self::NonceRequired => {
                f.write_str("the DPoP proof must carry the server's current nonce")
            }
        }
    }
}

impl std::error::Error for ProofError {}

/// The `ath` of `access_token`: base64url of its SHA-256 (RFC 9449 §4.2).
pub fn access_token_hash(access_token: &str) -> String {
    b64::encode(&Sha256::digest(access_token.as_bytes()))
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
    let jws =
        parse::parse_jws(proof, &options).map_err(|e| ProofError::Malformed(e.to_string()))?;
    let header = &jws.header;
    if !header
        .typ()
        .is_some_and(|typ| media_type_eq(typ, PROOF_TYPE))
    {
        return Err(ProofError::Type);
    }
    let alg = header.algorithm().ok_or_else(|| {
        ProofError::Algorithm(format!(
            "\"{}\" is not a JWS algorithm jwtkit verifies",
            header.alg()
        ))
    })?;
    if !policy.algorithms.contains(&alg) {
        return Err(ProofError::Algorithm(if alg.is_symmetric() {
            format!("{alg} is symmetric; a proof is signed by a key pair")
        } else {
            format!("{alg} is not one this server accepts")
        }));
    }
    let key = proof_key(header.members().get("jwk"), alg)?;
    // Signatures up to RSA-4096's 512 bytes are decoded on the stack.
    let (mut buffer, mut spill) = ([0; 512], Vec::new());
    key.verify(
        jws.signing_input,
        jws.signature.decode_onto(&mut buffer, &mut spill),
    )
    .map_err(|_| ProofError::Signature)?;
    let claims =
        parse::parse_claims(jws.payload).map_err(|e| ProofError::Malformed(e.to_string()))?;
    let jkt = key.thumbprint();
    let text = |name: &str| claims.get(name).and_then(|v| v.as_str());
    if text("htm") != Some(request.method) {
        return Err(ProofError::Method);
    }
    if !text("htu").is_some_and(|htu| same_uri(htu, request.uri)) {
        return Err(ProofError::Uri);
    }
    let iat = claims
        .iat()
        .ok_or_else(|| ProofError::IssuedAt("missing".to_owned()))?;
    let (iat_secs, now_secs) = (iat.as_secs_f64(), now.as_secs_f64());
    if iat_secs > now_secs + f64::from(policy.max_ahead_seconds) {
        return Err(ProofError::IssuedAt(
            "it is ahead of the server's clock".to_owned(),
        ));
    }
    if iat_secs < now_secs - f64::from(policy.max_age_seconds) {
        return Err(ProofError::IssuedAt(format!(
            "it is more than {} seconds old",
            policy.max_age_seconds
        )));
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
    Ok(VerifiedProof { jkt, jti, iat })
}

/// The public key of the header's `jwk` for `alg`; private members refused.
fn proof_key(jwk: Option<&serde_json::Value>, alg: Algorithm) -> Result<Key, ProofError> {
    let jwk = jwk.ok_or_else(|| ProofError::Key("the header has no jwk".to_owned()))?;
    if !jwk.is_object() {
        return Err(ProofError::Key("jwk is not an object".to_owned()));
    }
    let jwk = Jwk::from_json(&jwk.to_string()).map_err(|e| ProofError::Key(e.to_string()))?;
    let private = [&jwk.d, &jwk.p, &jwk.q, &jwk.dp, &jwk.dq, &jwk.qi, &jwk.k]
        .iter()
        .any(|member| member.is_some())
        || jwk.oth.is_some();
    if private {
        return Err(ProofError::Key(
            "it carries private or secret members (a proof carries the public key only)".to_owned(),
        ));
    }
    if jwk.alg.as_deref().is_some_and(|a| a != alg.as_str()) {
        return Err(ProofError::Key(format!("its alg is not the proof's {alg}")));
    }
    Key::from_jwk(&jwk, Some(alg)).map_err(|e| ProofError::Key(e.to_string()))
}

/// Whether `htu` names `uri` (RFC 9449 §4.3 step 9): query and fragment ignored, the scheme
/// and host compared without case, a default port the same as none (RFC 3986 §6.2.2–6.2.3).
fn same_uri(htu: &str, uri: &str) -> bool {
    match (normalized(htu), normalized(uri)) {
        (Some(a), Some(b)) => a == b,
        _ => false,
    }
}

/// `scheme://host[:port]/path`, lower-cased scheme and host, default port dropped, an empty
/// path as `/`, query and fragment removed; `None` for anything but an http(s) URI.
fn normalized(uri: &str) -> Option<String> {
    let end = uri.find(['?', '#']).unwrap_or(uri.len());
    let uri = &uri[..end];
    let (scheme, rest) = uri.split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    let default_port = match scheme.as_str() {
        "https" => ":443",
        "http" => ":80",
        _ => return None,
    };
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    if authority.is_empty() || authority.contains('@') {
        return None;
    }
    let authority = authority.to_ascii_lowercase();
    let authority = authority.strip_suffix(default_port).unwrap_or(&authority);
    let path = if path.is_empty() { "/" } else { path };
    Some(format!("{scheme}://{authority}{path}"))
}

#[cfg(test)]
mod tests;
