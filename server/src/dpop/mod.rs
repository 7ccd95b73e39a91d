//! DPoP at the server (RFC 9449): a request's one `DPoP` header checked for the request as
//! the public URL names it ([`jwtkit_core::dpop::verify_proof`]), and accepted once —
//! remembered in the store, so a proof used at one instance is refused at every other.
//!
//! The token endpoint and `/api/v3/auth` bind what they issue to the proof's key (an access
//! token's `cnf.jkt`, a session's refresh tokens); the auth filter asks a bound token's proof
//! of every request ([`crate::filters::Authenticator::with_dpop`]).

use std::sync::Arc;
use std::time::Duration;

use jwtkit_core::dpop::{
    ProofError, ProofPolicy, ProofRequest, VerifiedProof, algorithm_names, verify_proof,
};
use jwtkit_core::{Algorithm, Claims, UnixTime};
use sha2::{Digest, Sha256};
use warp::http::HeaderMap;

mod memory;
mod nonce;

pub use memory::MemoryReplays;
pub use nonce::Nonces;

use crate::config::{Config, DpopSettings, Signing};
use crate::error::{ApiError, Problem};
use crate::store::{ProofReplays, StoreError};

/// The request header that carries a proof.
pub const DPOP_HEADER: &str = "dpop";

/// The `Authorization` scheme of a DPoP-bound access token.
pub const DPOP_SCHEME: &str = "DPoP";

/// How far a proof's `iat` may lie ahead of the server's clock.
pub const MAX_AHEAD_SECONDS: u32 = 5;

/// Why a request's proof is refused.
#[derive(Debug, Clone, PartialEq)]
pub enum DpopRefusal {
    /// The proof fails a check of RFC 9449 §4.3.
    Proof(ProofError),
    /// The proof was accepted before (its key and `jti`).
    Replayed,
    /// The request carries more than one `DPoP` header, or one that is not text.
    Header,
    /// The replay cache cannot be reached: nothing is accepted.
    Store(StoreError),
}

/// Checks the proofs of requests; cheap to clone.
#[derive(Clone)]
pub struct ProofChecker(Arc<Inner>);

struct Inner {
    policy: ProofPolicy,
    /// The scheme and authority clients reach the server at, without a trailing `/`.
    public_url: String,
    replays: Arc<dyn ProofReplays>,
    /// The nonces every proof must carry one of, when the server hands them out.
    nonces: Option<Nonces>,
}

impl std::fmt::Debug for ProofChecker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProofChecker")
            .field("policy", &self.0.policy)
            .field("public_url", &self.0.public_url)
            .finish_non_exhaustive()
    }
}

impl ProofChecker {
    /// Proofs under `policy`, for requests to `public_url` (their `htu` is it and the
    /// request's path), remembered in `replays`.
    pub fn new(policy: ProofPolicy, public_url: &str, replays: Arc<dyn ProofReplays>) -> Self {
        Self(Arc::new(Inner {
            policy,
            public_url: public_url.trim_end_matches('/').to_owned(),
            replays,
            nonces: None,
        }))
    }

    /// The same, asking every proof for one of `nonces` (RFC 9449 §8, §9): a proof without
    /// the current one is refused with `use_dpop_nonce` and the nonce to use.
    #[must_use]
    pub fn with_nonces(self, nonces: Nonces) -> Self {
        Self(Arc::new(Inner {
            policy: self.0.policy.clone(),
            public_url: self.0.public_url.clone(),
            replays: self.0.replays.clone(),
            nonces: Some(nonces),
        }))
    }

    /// The answer to `refusal` at `now`: a `DPoP` challenge naming the algorithms, with the
    /// nonce to use when that is what was missing (a store failure is a 503, logged without
    /// the proof).
    pub fn answer(&self, refusal: &DpopRefusal, now: UnixTime) -> ApiError {
        let error = match refusal {
            DpopRefusal::Proof(error) => ApiError::from_proof(error),
            DpopRefusal::Replayed => Problem::DpopProofReplayed.into(),
            DpopRefusal::Header => Problem::DpopHeaderInvalid.into(),
            DpopRefusal::Store(error) => {
                tracing::error!(target: "jwtkit::dpop", %error, "the replay cache is unavailable");
                return Problem::StoreUnavailable.into();
            }
        };
        let error = error.with_dpop_algs(self.algs());
        match (refusal, &self.0.nonces) {
            (DpopRefusal::Proof(ProofError::NonceRequired), Some(nonces)) => {
                error.with_dpop_nonce(nonces.current(now))
            }
            _ => error,
        }
    }

    /// The algorithms proofs may use (the metadata's `dpop_signing_alg_values_supported`,
    /// the challenge's `algs`).
    pub fn algorithms(&self) -> &[Algorithm] {
        self.0.policy.algorithms()
    }

    /// The challenge's `algs` value: the algorithms, space-separated.
    pub fn algs(&self) -> String {
        algorithm_names(self.algorithms()).join(" ")
    }

    /// The request's proof: none, or its one `DPoP` header (RFC 9449 §4.3 step 1).
    pub fn proof_of(headers: &HeaderMap) -> Result<Option<&str>, DpopRefusal> {
        let mut values = headers.get_all(DPOP_HEADER).iter();
        match (values.next(), values.next()) {
            (None, _) => Ok(None),
            (Some(_), Some(_)) => Err(DpopRefusal::Header),
            (Some(value), None) => value.to_str().map(Some).map_err(|_| DpopRefusal::Header),
        }
    }

    /// Checks `proof` for the request `method path` (the path without the query) with
    /// `access_token` at `now`, without remembering it ([`ProofChecker::remember`] does).
    pub fn verify(
        &self,
        proof: &str,
        method: &str,
        path: &str,
        access_token: Option<&str>,
        now: UnixTime,
    ) -> Result<VerifiedProof, DpopRefusal> {
        let uri = format!("{}{path}", self.0.public_url);
        let request = ProofRequest {
            method,
            uri: &uri,
            access_token,
            nonce: None,
        };
        let verified =
            verify_proof(proof, &self.0.policy, &request, now).map_err(DpopRefusal::Proof)?;
        match &self.0.nonces {
            Some(nonces)
                if !verified
                    .nonce
                    .as_deref()
                    .is_some_and(|nonce| nonces.accepts(nonce, now)) =>
            {
                Err(DpopRefusal::Proof(ProofError::NonceRequired))
            }
            _ => Ok(verified),
        }
    }

    /// Remembers a verified proof, refusing one remembered before ([`DpopRefusal::Replayed`]).
    /// Its entry lasts as long as its `iat` keeps it acceptable.
    pub async fn remember(&self, proof: &VerifiedProof, now: UnixTime) -> Result<(), DpopRefusal> {
        let until = proof
            .iat
            .saturating_add_secs(f64::from(self.0.policy.window_seconds()));
        let first = self
            .0
            .replays
            .first_use_of_proof(replay_key(proof), now, until)
            .await
            .map_err(DpopRefusal::Store)?;
        if first {
            Ok(())
        } else {
            Err(DpopRefusal::Replayed)
        }
    }

    /// [`ProofChecker::verify`], then [`ProofChecker::remember`]: the whole check of a proof
    /// that comes without an access token (at the token endpoint, `/api/v3/auth` and its
    /// refresh); `None` when the request has no proof.
    pub async fn check_request(
        &self,
        headers: &HeaderMap,
        method: &str,
        path: &str,
        now: UnixTime,
    ) -> Result<Option<VerifiedProof>, DpopRefusal> {
        let Some(proof) = Self::proof_of(headers)? else {
            return Ok(None);
        };
        let verified = self.verify(proof, method, path, None, now)?;
        self.remember(&verified, now).await?;
        Ok(Some(verified))
    }
}

/// The algorithms a proof may use: every asymmetric one jwtkit verifies.
pub const PROOF_ALGORITHMS: [Algorithm; 5] = [
    Algorithm::ES256,
    Algorithm::EdDSA,
    Algorithm::ES384,
    Algorithm::PS256,
    Algorithm::RS256,
];

/// The checker of a server configured by `config`, remembering proofs in `replays` (the
/// store every instance shares).
pub(crate) fn checker(config: &Config, replays: Arc<dyn ProofReplays>) -> ProofChecker {
    let checker = ProofChecker::new(
        policy(config.dpop.proof_max_age),
        &config.public_url,
        replays,
    );
    // Every instance has the signing key, or with keys in the store the key-encryption key
    // (the signing key changes at each rotation): their nonces are each other's.
    let shared = zeroize::Zeroizing::new(match &config.signing {
        Signing::Fixed { signing_key, .. } => signing_key.to_private_jwk().to_json().into_bytes(),
        Signing::Managed(managed) => managed.key_encryption_key.0.to_vec(),
    });
    with_nonces(checker, &shared, config.dpop.nonce_interval)
}

/// The checker of a resource server reached at `public_url`, remembering proofs in memory
/// (and authenticating its nonces with a secret of its own); `None` when nonces are asked
/// for and no randomness can make that secret (then no DPoP token is taken at all).
pub(crate) fn resource_checker(settings: DpopSettings, public_url: &str) -> Option<ProofChecker> {
    let checker = ProofChecker::new(
        policy(settings.proof_max_age),
        public_url,
        Arc::new(MemoryReplays::new()),
    );
    let mut secret = [0u8; 32];
    if !settings.nonce_interval.is_zero() && getrandom::fill(&mut secret).is_err() {
        tracing::error!(target: "jwtkit::dpop", "no randomness for the DPoP nonces' secret: DPoP tokens are refused");
        return None;
    }
    Some(with_nonces(checker, &secret, settings.nonce_interval))
}

/// `checker` asking for nonces that change every `interval` (none for 0).
fn with_nonces(checker: ProofChecker, shared: &[u8], interval: Duration) -> ProofChecker {
    if interval.is_zero() {
        checker
    } else {
        checker.with_nonces(Nonces::new(shared, interval.as_secs()))
    }
}

/// Proofs by [`PROOF_ALGORITHMS`], at most `max_age` old.
fn policy(max_age: Duration) -> ProofPolicy {
    let max_age = u32::try_from(max_age.as_secs()).unwrap_or(u32::MAX);
    ProofPolicy::new(PROOF_ALGORITHMS, max_age, MAX_AHEAD_SECONDS)
}

/// The thumbprint a token is bound to: its `cnf.jkt` (RFC 9449 §6.1).
pub fn bound_key(claims: &Claims) -> Option<&str> {
    claims
        .get("cnf")
        .and_then(|cnf| cnf.get("jkt"))
        .and_then(|jkt| jkt.as_str())
}

/// What the replay cache keeps of a proof: a hash of its key's thumbprint and its `jti`
/// (`jti`s are unique per key; two keys may pick the same).
fn replay_key(proof: &VerifiedProof) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(proof.jkt.as_bytes());
    hasher.update(b".");
    hasher.update(proof.jti.as_bytes());
    hasher.finalize().into()
}
