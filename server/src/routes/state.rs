//! What the handlers share: [`AppState`], built from the configuration.

use std::sync::Arc;

use bytes::Bytes;
use jwtkit_core::{Algorithm, PolicyError};
use warp::Rejection;
use warp::http::HeaderMap;

use super::table;
use crate::apikeys::ApiKeys;
use crate::config::Config;
use crate::dpop::ProofChecker;
use crate::error::ApiError;
use crate::error::Problem;
use crate::filters::{Authenticator, reject};
use crate::issuer::{TokenIssuer, access_token_policy};
use crate::keys::SigningKeys;
use crate::metrics::Metrics;
use crate::provider::Provider;
use crate::ratelimit::AuthLimiter;
use crate::revocations::Revocations;
use crate::sessions::{SessionError, SessionRules, Sessions};
use crate::store::Store;
use crate::store::instrumented::Instrumented;
use crate::time::SharedClock;
use crate::users::{PasswordHasher, StoreDirectory, UserDirectory};
use jwtkit_core::dpop::VerifiedProof;

/// Everything the handlers share.
pub struct AppState {
    pub(super) auth: Authenticator,
    pub(super) sessions: Sessions,
    pub(super) api_keys: ApiKeys,
    pub(super) limiter: AuthLimiter,
    pub(super) store: Arc<dyn Store>,
    pub(super) revocations: Arc<Revocations>,
    pub(super) metrics: Arc<Metrics>,
    pub(super) readiness: Readiness,
    pub(super) cors_origins: Vec<String>,
    pub(super) keys: SigningKeys,
    pub(super) metadata: Bytes,
    pub(super) clock: SharedClock,
    pub(super) provider: Provider,
    pub(super) public_url: String,
    pub(super) dpop: ProofChecker,
}

impl AppState {
    /// The state for `config`, keeping sessions in `store`, reading time from `clock`, and
    /// signing and verifying with the keys in force in `keys`.
    pub fn new(
        config: &Config,
        clock: SharedClock,
        store: Arc<dyn Store>,
        keys: SigningKeys,
    ) -> Result<Self, PolicyError> {
        let policy = access_token_policy(&config.issuer, &config.audience, config.leeway_seconds)?;
        let revocations = Arc::new(Revocations::new());
        let metrics = Arc::new(Metrics::new(&table::ROUTE_PATHS));
        let store: Arc<dyn Store> = Arc::new(Instrumented::new(store, metrics.clone()));
        let leeway = std::time::Duration::from_secs(u64::from(config.leeway_seconds));
        let rules = SessionRules {
            idle: config.refresh_idle_ttl,
            absolute: config.refresh_absolute_ttl,
            grace: config.refresh_grace,
            access_lifetime: config.token_ttl + leeway,
            leeway,
            max_per_subject: config.max_sessions_per_subject,
        };
        let issuer = TokenIssuer::new(
            keys.clone(),
            &config.issuer,
            &config.audience,
            config.token_ttl,
        );
        let provider = Provider {
            configured_clients: config.clients.clone(),
            issuer: config.issuer.clone(),
            directory: Arc::new(StoreDirectory::new(
                store.clone(),
                Arc::new(PasswordHasher::new()),
            )),
            keys: keys.clone(),
            id_token_lifetime: config.token_ttl,
            // A sign-in at the provider lasts as long as a session may.
            login_lifetime: config.login_ttl,
            // The audience is a client: checked against the registered ones after.
            id_policy: jwtkit_core::Validation::builder()
                .expect_issuer(&config.issuer)
                .ignore_audience()
                .expect_type("JWT")
                .require_claim("sub")
                .build()?,
        };
        let dpop = crate::dpop::checker(config, store.clone());
        Ok(Self {
            auth: Authenticator::of_issuer(
                keys.clone(),
                policy,
                clock.clone(),
                config.token_cache_bytes,
                revocations.clone(),
            )
            .with_dpop(dpop.clone()),
            sessions: Sessions::new(
                store.clone(),
                issuer,
                revocations.clone(),
                rules,
                config.api_keys.clone(),
            ),
            api_keys: config.api_keys.clone(),
            limiter: AuthLimiter::new(
                config.auth_failure_limit,
                config.auth_failure_window,
                config.trusted_proxies.clone(),
                config.forwarded_header,
            ),
            store,
            revocations,
            metrics,
            readiness: Readiness::default(),
            cors_origins: config.cors_origins.clone(),
            metadata: Bytes::from(metadata(config, &keys).to_string()),
            keys,
            clock,
            provider,
            public_url: config.public_url.clone(),
            dpop,
        })
    }

    /// The same, signing people in with `directory` (an application's own accounts) instead
    /// of the built-in directory in the store.
    #[must_use]
    pub fn with_user_directory(mut self, directory: Arc<dyn UserDirectory>) -> Self {
        self.provider.directory = directory;
        self
    }

    /// The authenticator, for protecting further routes.
    pub fn authenticator(&self) -> &Authenticator {
        &self.auth
    }

    /// The outcome of an authentication (an API key or client credentials) of the client
    /// `attempt` names, judged against the failure limit ([`AuthLimiter::judge_secret`]: a
    /// secret of 256 random bits): `failure`
    /// for a wrong secret, 429 with `Retry-After` over the limit, 503 when the store cannot
    /// count.
    pub(super) async fn limited<T>(
        &self,
        attempt: &str,
        now: jwtkit_core::UnixTime,
        found: Option<T>,
        failure: Problem,
    ) -> Result<T, crate::error::ApiError> {
        use crate::ratelimit::Refusal;
        let judged = self
            .limiter
            .judge_secret(self.store.as_ref(), attempt, now, found)
            .await;
        judged.map_err(|refusal| match refusal {
            Refusal::Failed => failure.into(),
            Refusal::Blocked(wait) => {
                crate::error::ApiError::from(Problem::TooManyFailedAttempts).with_retry_after(wait)
            }
            Refusal::Store(error) => session_error(self, SessionError::Store(error)),
        })
    }

    pub(super) fn guard(&self) -> Guard {
        Guard {
            auth: self.auth.clone(),
            metrics: self.metrics.clone(),
        }
    }

    /// This instance's view of the revocations (kept in step by [`crate::serve`]).
    pub fn revocations(&self) -> &Arc<Revocations> {
        &self.revocations
    }

    /// The store.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// The request's DPoP proof (if any) for the request `method` to `route`'s path, checked
    /// but not yet remembered: an endpoint that authenticates its caller remembers it
    /// ([`AppState::remember`]) once the caller is known, so that no anonymous request
    /// writes to the store.
    pub(super) fn proof(
        &self,
        headers: &HeaderMap,
        method: &str,
        route: table::Route,
        now: jwtkit_core::UnixTime,
    ) -> Result<Option<VerifiedProof>, ApiError> {
        let answer = |refusal| self.dpop.answer(&refusal, now);
        let Some(proof) = ProofChecker::proof_of(headers).map_err(answer)? else {
            return Ok(None);
        };
        self.dpop
            .verify(proof, method, route.path, None, now)
            .map(Some)
            .map_err(answer)
    }

    /// Remembers a checked proof (a replay refused); the thumbprint of its key.
    pub(super) async fn remember(
        &self,
        proof: Option<VerifiedProof>,
        now: jwtkit_core::UnixTime,
    ) -> Result<Option<String>, ApiError> {
        let Some(proof) = proof else {
            return Ok(None);
        };
        self.dpop
            .remember(&proof, now)
            .await
            .map_err(|refusal| self.dpop.answer(&refusal, now))?;
        Ok(Some(proof.jkt))
    }

    /// `now` from the clock (a failed read is a 503, never a guess).
    pub(super) fn now(&self) -> Result<jwtkit_core::UnixTime, Rejection> {
        self.now_or_error().map_err(crate::filters::reject)
    }

    /// [`AppState::now`] as an error response.
    pub(super) fn now_or_error(&self) -> Result<jwtkit_core::UnixTime, crate::error::ApiError> {
        self.clock
            .now()
            .map_err(|e| crate::error::ApiError::from_core(&e.into()))
    }
}

/// What the protected routes need: the authenticator, and the metrics that count refusals.
#[derive(Clone)]
pub(super) struct Guard {
    pub(super) auth: Authenticator,
    pub(super) metrics: Arc<Metrics>,
}

/// How long `/readyz` waits for the store.
const READY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(1);

/// The store's last answer to a readiness ping, reused for [`READY_TIMEOUT`].
#[derive(Debug, Default)]
pub(crate) struct Readiness {
    last: tokio::sync::Mutex<Option<(std::time::Instant, bool)>>,
}

impl Readiness {
    /// Whether the store answered a ping (a fresh one when the last is older than a second).
    pub(super) async fn check(&self, store: &dyn crate::store::Store) -> bool {
        let mut last = self.last.lock().await;
        if let Some((at, answered)) = *last
            && at.elapsed() < READY_TIMEOUT
        {
            return answered;
        }
        let answered = matches!(
            tokio::time::timeout(READY_TIMEOUT, store.ping()).await,
            Ok(Ok(()))
        );
        *last = Some((std::time::Instant::now(), answered));
        answered
    }
}

/// The refusal for a session error (a store failure is a 503, logged without secrets).
pub(super) fn session_rejection(state: &AppState, error: SessionError) -> Rejection {
    reject(session_error(state, error))
}

/// The error response for a session error, counted and logged.
pub(super) fn session_error(state: &AppState, error: SessionError) -> ApiError {
    match error {
        SessionError::Invalid => Problem::RefreshTokenInvalid.into(),
        SessionError::WrongClient => Problem::RefreshTokenWrongClient.into(),
        SessionError::Expired => Problem::RefreshTokenExpired.into(),
        SessionError::Reused => {
            state.metrics.reuse_detected();
            state.metrics.revocation();
            tracing::warn!(target: "jwtkit::sessions", "refresh token reused: session revoked");
            Problem::RefreshTokenReused.into()
        }
        SessionError::Revoked => Problem::RefreshTokenRevoked.into(),
        SessionError::ScopeExceeded => Problem::InvalidScope.into(),
        SessionError::KeyMismatch => {
            state.metrics.revocation();
            Problem::RefreshTokenKeyMismatch.into()
        }
        SessionError::Store(error) => {
            tracing::error!(target: "jwtkit::sessions", %error, "store unavailable");
            Problem::StoreUnavailable.into()
        }
        SessionError::Issue(error) => {
            tracing::error!(target: "jwtkit::sessions", %error, "cannot issue a token");
            Problem::Internal.into()
        }
    }
}

/// The OAuth metadata of a server configured by `config`, its endpoints where
/// [`table`] puts them, its signing algorithms those of the keys in force at start and, with
/// keys in the store, the one new keys get.
fn metadata(config: &Config, keys: &SigningKeys) -> serde_json::Value {
    let mut algorithms: Vec<Algorithm> = keys
        .in_force()
        .keys()
        .iter()
        .map(jwtkit_core::Key::algorithm)
        .collect();
    if let crate::config::Signing::Managed(managed) = &config.signing {
        algorithms.push(managed.algorithm);
    }
    crate::oauth::metadata::document(
        config,
        &crate::oauth::metadata::Endpoints {
            token: table::TOKEN.path,
            jwks: table::JWKS.path,
            revocation: table::REVOKE.path,
            introspection: table::INTROSPECT.path,
            authorization: table::AUTHORIZE.path,
            userinfo: table::USERINFO.path,
            end_session: table::END_SESSION.path,
        },
        &algorithms,
    )
}
