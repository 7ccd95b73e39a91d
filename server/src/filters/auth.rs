//! The auth filters: [`authenticated`] and [`require_role`], and the [`Authenticator`] (keys,
//! policy, clock and verified-token cache) they verify with.

use std::future::{Ready, ready};
use std::sync::Arc;

use jwtkit_core::{Claims, UnixTime, Validation, Verifier};
use warp::Filter;
use warp::http::Method;
use warp::http::header::HeaderMap;
use warp::path::FullPath;
use warp::reject::{Reject, Rejection};

use super::credentials::{Scheme, credentials};
use super::local::LocalKeys;
use crate::cache::{self, CacheStats, VerifiedCache};
use crate::dpop::{DpopRefusal, ProofChecker, bound_key};
use crate::error::{ApiError, HeaderFault, Problem};
use crate::keys::SigningKeys;
use crate::remote::{CachedVerifier, RemoteKeys};
use crate::revocations::Revocations;
use crate::time::SharedClock;

/// The claim that lists a token's roles (RFC 9068 §7.2.1.1).
pub const ROLES_CLAIM: &str = "roles";

/// What the auth filter needs: a verifier (keys + policy), a clock, and a cache of the
/// tokens it has verified. Cheap to clone (clones share the cache).
///
/// The cache makes a client that sends the same token on every request pay for the strict
/// parse and the signature once: it holds only tokens that passed, keyed by their exact
/// text, for this authenticator's (immutable) keys and policy, and every hit has the policy's
/// claims checks run again at the current time, so nothing is accepted that a full
/// verification would refuse. It uses at most [`Authenticator::DEFAULT_CACHE_BYTES`];
/// [`Authenticator::with_cache_budget`] changes that (0 turns it off). Tokens longer than
/// [`MAX_CACHED_TOKEN_BYTES`](super::MAX_CACHED_TOKEN_BYTES) are verified in full every time.
///
/// With [`Authenticator::with_dpop`], it takes DPoP-bound tokens too (RFC 9449 §7):
/// `Authorization: DPoP` and a fresh proof of the token's key on every request — a cached
/// token is a verified token, never a verified request, so the proof is checked each time
/// — and refuses a bound token sent as a bearer token.
#[derive(Clone)]
pub struct Authenticator {
    inner: Arc<Inner>,
    dpop: Option<ProofChecker>,
}

struct Inner {
    keys: Keys,
    clock: SharedClock,
    revocations: Option<Arc<Revocations>>,
}

/// Where the keys come from.
// One per authenticator, already behind its `Arc`: boxing would add a pointer to every
// verification.
#[allow(clippy::large_enum_variant)]
enum Keys {
    /// Given once, with the cache of the tokens verified with them.
    Fixed(CachedVerifier),
    /// The issuer's own keys in force (see `local`).
    Local(LocalKeys),
    /// A remote issuer's, refreshed (each key set with its own cache).
    Remote(Arc<RemoteKeys>),
}

impl Authenticator {
    /// The memory an authenticator's cache of verified tokens may use unless told
    /// otherwise, in bytes.
    pub const DEFAULT_CACHE_BYTES: usize = cache::DEFAULT_BYTES;

    /// An authenticator verifying with `verifier` at the time `clock` reads.
    pub fn new(verifier: Verifier, clock: SharedClock) -> Self {
        Self::with_cache_budget(verifier, clock, Self::DEFAULT_CACHE_BYTES)
    }

    /// The same, its cache using at most `bytes` (0: verify every token in full).
    pub fn with_cache_budget(verifier: Verifier, clock: SharedClock, bytes: usize) -> Self {
        Self::of(Inner {
            keys: Keys::Fixed(CachedVerifier {
                verifier,
                cache: VerifiedCache::new(bytes),
            }),
            clock,
            revocations: None,
        })
    }

    /// An authenticator verifying with the keys of a remote issuer ([`RemoteKeys`]): a token
    /// whose `kid` none of them has makes it fetch them again (at most once per the remote's
    /// refetch interval) and, when they changed, verify the token once more. Its cache is
    /// sized by the remote's options.
    pub fn remote(keys: Arc<RemoteKeys>, clock: SharedClock) -> Self {
        Self::of(Inner {
            keys: Keys::Remote(keys),
            clock,
            revocations: None,
        })
    }

    fn of(inner: Inner) -> Self {
        Self {
            inner: Arc::new(inner),
            dpop: None,
        }
    }

    /// The same, taking DPoP-bound tokens with proofs that `checker` verifies (see the
    /// type's documentation).
    #[must_use]
    pub fn with_dpop(mut self, checker: ProofChecker) -> Self {
        self.dpop = Some(checker);
        self
    }

    /// The checker of DPoP proofs, when bound tokens are taken.
    pub fn dpop(&self) -> Option<&ProofChecker> {
        self.dpop.as_ref()
    }

    /// The issuer's own authenticator: the keys in force verify with `policy` (a new cache
    /// of `cache_bytes` for each generation of keys), refusing the tokens `revocations` holds
    /// (checked after the cache, on every request, in memory).
    pub(crate) fn of_issuer(
        keys: SigningKeys,
        policy: Validation,
        clock: SharedClock,
        cache_bytes: usize,
        revocations: Arc<Revocations>,
    ) -> Self {
        Self::of(Inner {
            keys: Keys::Local(LocalKeys::new(keys, policy, cache_bytes)),
            clock,
            revocations: Some(revocations),
        })
    }

    /// The verifier in use now (a remote issuer's changes with its keys, and is none before
    /// they were first fetched).
    pub fn verifier(&self) -> Option<Verifier> {
        match &self.inner.keys {
            Keys::Fixed(cached) => Some(cached.verifier.clone()),
            Keys::Local(local) => Some(local.current().verifier.clone()),
            Keys::Remote(remote) => remote.current().map(|g| g.verifier.clone()),
        }
    }

    /// The remote issuer's keys, for an authenticator made by [`Authenticator::remote`].
    pub fn remote_keys(&self) -> Option<&Arc<RemoteKeys>> {
        match &self.inner.keys {
            Keys::Fixed(_) | Keys::Local(_) => None,
            Keys::Remote(remote) => Some(remote),
        }
    }

    /// What the cache of verified tokens did and holds.
    pub fn cache_stats(&self) -> CacheStats {
        match &self.inner.keys {
            Keys::Fixed(cached) => cached.cache.stats(),
            Keys::Local(local) => local.current().cache.stats(),
            Keys::Remote(remote) => remote.cache_stats(),
        }
    }

    /// The memory the cache of verified tokens may use, in bytes.
    pub fn cache_budget(&self) -> usize {
        match &self.inner.keys {
            Keys::Fixed(cached) => cached.cache.budget(),
            Keys::Local(local) => local.cache_bytes(),
            Keys::Remote(remote) => remote.options().cache_bytes,
        }
    }

    /// Verifies a bearer token now (refusing it when the clock cannot be read).
    pub fn verify(&self, token: &str) -> Result<Claims, AuthRejection> {
        let now = self
            .inner
            .clock
            .now()
            .map_err(|e| AuthRejection::InvalidToken(e.into()))?;
        self.verify_at(token, now)
    }

    /// Verifies a bearer token at `now`: from the cache or in full, then against the
    /// revocations.
    pub fn verify_at(&self, token: &str, now: UnixTime) -> Result<Claims, AuthRejection> {
        let inner = &*self.inner;
        let claims = match &inner.keys {
            Keys::Fixed(cached) => cached.cache.verify(&cached.verifier, token, now),
            Keys::Local(local) => {
                let cached = local.current();
                cached.cache.verify(&cached.verifier, token, now)
            }
            Keys::Remote(remote) => {
                let cached = remote.current().ok_or(AuthRejection::KeysUnavailable)?;
                cached.cache.verify(&cached.verifier, token, now)
            }
        }
        .map_err(AuthRejection::InvalidToken)?;
        match &inner.revocations {
            Some(revocations) if revocations.is_revoked(&claims, now) => {
                Err(AuthRejection::Revoked(Box::new(claims)))
            }
            _ => Ok(claims),
        }
    }

    /// The verified claims of the `Authorization: Bearer` token of `headers` (a DPoP-bound
    /// token is refused: it comes with a proof, [`Authenticator::authenticate_request`]).
    pub fn authenticate(&self, headers: &HeaderMap) -> Result<Claims, AuthRejection> {
        match credentials(headers)? {
            (Scheme::Bearer, token) => {
                let claims = self.verify(token)?;
                match bound_key(&claims) {
                    None => Ok(claims),
                    Some(_) => Err(AuthRejection::TokenAsBearer),
                }
            }
            (Scheme::Dpop, _) => Err(AuthRejection::MissingCredentials),
        }
    }

    /// The verified claims of the access token of a request `method` to `path` (the path as
    /// the server's public URL names it, without the query): `Authorization: Bearer`, or —
    /// with [`Authenticator::with_dpop`] — `Authorization: DPoP` and the `DPoP` proof of the
    /// token's key (RFC 9449 §7.1). For a remote issuer's token under a `kid` it does not
    /// know yet, once more after fetching its keys again (see [`Authenticator::remote`]).
    pub async fn authenticate_request(
        &self,
        method: &str,
        path: &str,
        headers: &HeaderMap,
    ) -> Result<Claims, AuthRejection> {
        let (scheme, token) = credentials(headers)?;
        let checker = match (scheme, &self.dpop) {
            (Scheme::Dpop, None) => return Err(AuthRejection::MissingCredentials),
            (Scheme::Dpop, Some(checker)) => Some(checker),
            (Scheme::Bearer, _) => None,
        };
        // A revoked token is judged for its binding too: a bound one is "revoked" only to the
        // holder of its key (logout accepts a revoked token, so a thief must not reach that).
        let verified = self.verify_fetching(token).await;
        let claims = match (&verified, checker) {
            (Ok(claims), _) => claims,
            (Err(AuthRejection::Revoked(claims)), _) => claims,
            // RFC 9449 §7.1: a token refused under the DPoP scheme is answered with a DPoP
            // challenge.
            (Err(AuthRejection::InvalidToken(error)), Some(checker)) => {
                return Err(AuthRejection::Dpop(Box::new(
                    ApiError::from_core(error).with_dpop_challenge(checker.algs()),
                )));
            }
            (Err(_), _) => return verified,
        };
        let jkt = bound_key(claims);
        let Some(checker) = checker else {
            return match jkt {
                None => verified,
                Some(_) => Err(AuthRejection::TokenAsBearer),
            };
        };
        let now = self
            .inner
            .clock
            .now()
            .map_err(|e| AuthRejection::InvalidToken(e.into()))?;
        let dpop =
            |refusal: DpopRefusal| AuthRejection::Dpop(Box::new(checker.answer(&refusal, now)));
        let proof = ProofChecker::proof_of(headers)
            .map_err(dpop)?
            .ok_or_else(|| {
                AuthRejection::Dpop(Box::new(bound_refusal(Problem::DpopProofMissing, checker)))
            })?;
        let proven = checker
            .verify(proof, method, path, Some(token), now)
            .map_err(dpop)?;
        if jkt != Some(proven.jkt.as_str()) {
            return Err(AuthRejection::Dpop(Box::new(bound_refusal(
                Problem::DpopKeyMismatch,
                checker,
            ))));
        }
        checker.remember(&proven, now).await.map_err(dpop)?;
        verified
    }

    /// [`Authenticator::verify`], and for a remote issuer's token under a `kid` it does not
    /// know yet, once more after fetching its keys again.
    async fn verify_fetching(&self, token: &str) -> Result<Claims, AuthRejection> {
        match (self.verify(token), &self.inner.keys) {
            (Err(AuthRejection::InvalidToken(error)), Keys::Remote(remote))
                if error == jwtkit_core::SignatureError::NoMatchingKey.into() =>
            {
                if remote.refetch_for_unknown_kid().await {
                    self.verify(token)
                } else {
                    Err(AuthRejection::InvalidToken(error))
                }
            }
            (Err(AuthRejection::KeysUnavailable), Keys::Remote(remote)) => {
                remote.refetch_for_unknown_kid().await;
                self.verify(token)
            }
            (result, _) => result,
        }
    }
}

/// A DPoP refusal of the table, its challenge naming the algorithms `checker` takes.
fn bound_refusal(problem: Problem, checker: &ProofChecker) -> ApiError {
    ApiError::from(problem).with_dpop_algs(checker.algs())
}

/// Why a request was refused by [`authenticated`] or [`require_role`].
#[derive(Debug)]
#[non_exhaustive]
pub enum AuthRejection {
    /// No `Authorization: Bearer` credentials (RFC 6750 §3.1: no error code).
    MissingCredentials,
    /// The `Authorization` header is malformed (RFC 6750 `invalid_request`).
    InvalidRequest(HeaderFault),
    /// The token was refused (RFC 6750 `invalid_token`), with the core's error.
    InvalidToken(jwtkit_core::Error),
    /// The token is valid but revoked (its session ended, or itself); its claims.
    Revoked(Box<Claims>),
    /// The token lacks the required role (RFC 6750 `insufficient_scope`).
    InsufficientScope {
        /// The role that was required.
        role: &'static str,
    },
    /// A remote issuer's keys were never fetched yet: the token cannot be judged (503).
    KeysUnavailable,
    /// A DPoP-bound token sent as a bearer token (RFC 9449 §7.2).
    TokenAsBearer,
    /// A DPoP token's proof was refused, or is missing, or proves another key than the
    /// token's: the answer, with its `DPoP` challenge.
    Dpop(Box<ApiError>),
}

impl Reject for AuthRejection {}

impl AuthRejection {
    /// The RFC 6750 response for this rejection.
    pub fn to_error(&self) -> ApiError {
        match self {
            Self::MissingCredentials => Problem::BearerTokenMissing.into(),
            Self::InvalidRequest(fault) => {
                Problem::AuthorizationHeaderInvalid { fault: *fault }.into()
            }
            Self::InvalidToken(error) => ApiError::from_core(error),
            Self::Revoked(_) => Problem::TokenRevoked.into(),
            Self::InsufficientScope { role } => Problem::InsufficientScope { role }.into(),
            Self::KeysUnavailable => Problem::JwksUnavailable.into(),
            Self::TokenAsBearer => Problem::DpopTokenAsBearer.into(),
            Self::Dpop(error) => (**error).clone(),
        }
    }
}

/// Extracts the verified claims of the request's access token
/// ([`Authenticator::authenticate_request`]), or rejects with an [`AuthRejection`] that
/// [`recover`](super::recover::recover) turns into the RFC 6750 (or RFC 9449) response.
/// A DPoP proof names the request's URI: the public URL of the authenticator's
/// [`ProofChecker`] and the request's path.
pub fn authenticated(
    auth: Authenticator,
) -> impl Filter<Extract = (Claims,), Error = Rejection> + Clone {
    warp::method()
        .and(warp::path::full())
        .and(warp::header::headers_cloned())
        .and_then(move |method: Method, path: FullPath, headers: HeaderMap| {
            let auth = auth.clone();
            async move {
                auth.authenticate_request(method.as_str(), path.as_str(), &headers)
                    .await
                    .map_err(warp::reject::custom)
            }
        })
}

/// For `.and_then(...)` after [`authenticated`]: passes the claims on when their `roles`
/// array contains `role`, else rejects with [`AuthRejection::InsufficientScope`].
pub fn require_role(
    role: &'static str,
) -> impl Fn(Claims) -> Ready<Result<Claims, Rejection>> + Clone {
    move |claims: Claims| {
        let has_role = claims
            .get(ROLES_CLAIM)
            .and_then(|roles| roles.as_array())
            .is_some_and(|roles| roles.iter().any(|r| r.as_str() == Some(role)));
        ready(if has_role {
            Ok(claims)
        } else {
            Err(warp::reject::custom(AuthRejection::InsufficientScope {
                role,
            }))
        })
    }
}
