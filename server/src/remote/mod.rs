//! Verification keys from another issuer: its JWK Set, found by discovery (RFC 8414 /
//! OpenID) or given as a URL, fetched at start and kept fresh.
//!
//! - **One fetch at a time.** Every fetch holds one async lock; a caller that waited for it
//!   uses what the fetch it waited for brought, so a burst never becomes a herd.
//! - **An unknown `kid`** (the issuer rotated) triggers a fetch at most once per
//!   [`RemoteOptions::refetch_interval`], counted from the last attempt of any kind: a flood of
//!   tokens with random `kid`s costs the issuer one request per interval.
//! - **Background refresh** when the answer's `Cache-Control: max-age` runs out, clamped to
//!   [1 min, 24 h] (5 min without one); a failed fetch is retried after a minute.
//! - **A failed fetch keeps the last good keys** (logged and counted): an issuer that is down
//!   does not take verification down. [`RemoteKeys::discover_in_background`] starts even
//!   while the issuer is unreachable: with no keys (tokens are answered 503
//!   `ERR_JWKS_UNAVAILABLE`), trying again after 1, 2, 4 … up to 60 seconds.
//! - Each key set comes with its own cache of verified tokens: a token verified under a key
//!   the issuer has since withdrawn is never answered from the cache.
//!
//! A warp service that accepts another issuer's access tokens (README: "Trusting another
//! issuer"):
//!
//! ```no_run
//! use std::sync::Arc;
//! use jwtkit_core::{Claims, Validation};
//! use jwtkit_server::filters::{Authenticator, authenticated, recover};
//! use jwtkit_server::remote::{RemoteKeys, RemoteOptions};
//! use jwtkit_server::SystemClock;
//! use warp::Filter;
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let issuer = "https://auth.example";
//! let policy = Validation::builder()
//!     .expect_issuer(issuer)
//!     .expect_audience("orders")
//!     .expect_type("at+jwt")
//!     .require_claim("sub")
//!     .build()?;
//! // Discovery, then the key set: both fetched now, the keys kept fresh from here on.
//! let keys = RemoteKeys::discover(issuer, policy, RemoteOptions::default()).await?;
//! let auth = Authenticator::remote(keys, Arc::new(SystemClock));
//! let orders = warp::path!("orders")
//!     .and(warp::get())
//!     .and(authenticated(auth))
//!     .map(|claims: Claims| format!("orders of {}", claims.sub().unwrap_or("?")));
//! warp::serve(orders.recover(recover)).run(([127, 0, 0, 1], 8080)).await;
//! # Ok(()) }
//! ```

mod fetch;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock, PoisonError, RwLock, Weak};
use std::time::Duration;

use jwtkit_core::{KeySet, Validation, Verifier};
use tokio::time::Instant;
use url::Url;

pub use fetch::{RemoteError, checked_url};

use crate::cache::{CacheStats, VerifiedCache};

/// How a [`RemoteKeys`] fetches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RemoteOptions {
    /// The least time between two fetches caused by an unknown `kid`.
    pub refetch_interval: Duration,
    /// The timeout of each request (connecting included).
    pub timeout: Duration,
    /// The largest metadata document or key set read.
    pub max_bytes: usize,
    /// The memory of each key set's cache of verified tokens (0: none).
    pub cache_bytes: usize,
    /// The shortest refresh period, whatever the key set's `max-age` says (a minute; a
    /// second for tests and development with an accelerated key lifecycle).
    pub min_refresh: Duration,
}

impl Default for RemoteOptions {
    fn default() -> Self {
        Self {
            refetch_interval: Duration::from_secs(30),
            timeout: Duration::from_secs(10),
            max_bytes: 256 << 10,
            cache_bytes: crate::cache::DEFAULT_BYTES,
            min_refresh: MIN_REFRESH,
        }
    }
}

/// The first retry after a fetch at start failed (doubled at each failure up to
/// [`MIN_REFRESH`]).
const FIRST_RETRY: Duration = Duration::from_secs(1);
/// The refresh period's bounds (the shortest by default), and its value when the issuer
/// names none.
pub const MIN_REFRESH: Duration = Duration::from_secs(60);
const MAX_REFRESH: Duration = Duration::from_secs(24 * 3600);
const DEFAULT_REFRESH: Duration = Duration::from_secs(300);

/// One key set and the cache of the tokens verified with it.
pub(crate) struct CachedVerifier {
    pub(crate) verifier: Verifier,
    pub(crate) cache: VerifiedCache,
}

pub use crate::metrics::RemoteStats;

/// The keys of a remote issuer; see the module documentation.
pub struct RemoteKeys {
    /// The issuer whose metadata names the key set's URL, when it is found by discovery.
    issuer: Option<String>,
    /// The key set's URL, once known.
    jwks_uri: OnceLock<Url>,
    policy: Validation,
    options: RemoteOptions,
    fetcher: fetch::Fetcher,
    /// The keys, once fetched.
    current: RwLock<Option<Arc<CachedVerifier>>>,
    /// Bumped at each new key set, the first included (a waiter compares it to see one
    /// arrived).
    generation: AtomicU64,
    /// Held for the duration of a fetch; the time of the last attempt.
    fetching: tokio::sync::Mutex<Fetching>,
    fetches: AtomicU64,
    failures: AtomicU64,
    unknown_kid_fetches: AtomicU64,
    /// What the caches of replaced key sets did, for the totals.
    retired: std::sync::Mutex<CacheStats>,
}

struct Fetching {
    last_attempt: Instant,
    last_body: Vec<u8>,
}

impl std::fmt::Debug for RemoteKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RemoteKeys")
            .field("issuer", &self.issuer)
            .field("jwks_uri", &self.jwks_uri())
            .finish_non_exhaustive()
    }
}

/// The key set's URL named by the metadata of `issuer` (RFC 8414's well-known URI, else
/// OpenID Connect's), which must name exactly `issuer`.
async fn discover_jwks_uri(fetcher: &fetch::Fetcher, issuer: &str) -> Result<Url, RemoteError> {
    let [rfc8414, openid] = fetch::metadata_urls(issuer)?;
    let metadata = match fetcher.get(&rfc8414).await {
        Ok(found) => found,
        Err(RemoteError::Status(404)) => fetcher.get(&openid).await?,
        Err(error) => return Err(error),
    };
    fetch::jwks_uri(&metadata.body, issuer)
}

impl RemoteKeys {
    /// The keys of `issuer`, found by discovery: its metadata (RFC 8414's well-known URI,
    /// else OpenID Connect's) must name exactly `issuer`, and its `jwks_uri` is fetched now.
    /// `policy` should expect `issuer` as `iss`.
    pub async fn discover(
        issuer: &str,
        policy: Validation,
        options: RemoteOptions,
    ) -> Result<Arc<Self>, RemoteError> {
        let remote = Self::new(Some(issuer), None, policy, options)?;
        let period = remote.first_fetch().await?;
        tokio::spawn(refresh(Arc::downgrade(&remote), period));
        Ok(remote)
    }

    /// [`RemoteKeys::discover`], but an issuer that cannot be reached now (or answers
    /// something unusable) is not an error: the keys start empty ([`RemoteKeys::has_keys`]
    /// is false) and discovery is tried again after 1, 2, 4 … up to 60 seconds, and
    /// whenever a token arrives (at most once per refetch interval). Only an `issuer` that
    /// is not a URL keys may be fetched from is an error.
    pub async fn discover_in_background(
        issuer: &str,
        policy: Validation,
        options: RemoteOptions,
    ) -> Result<Arc<Self>, RemoteError> {
        let remote = Self::new(Some(issuer), None, policy, options)?;
        let period = match remote.first_fetch().await {
            Ok(period) => period,
            Err(error) => {
                tracing::warn!(target: "jwtkit::remote", issuer, %error, "cannot fetch the issuer's keys yet; not ready, retrying");
                FIRST_RETRY
            }
        };
        tokio::spawn(refresh(Arc::downgrade(&remote), period));
        Ok(remote)
    }

    /// The keys of the JWK Set at `jwks_uri`, fetched now.
    pub async fn from_jwks_uri(
        jwks_uri: &str,
        policy: Validation,
        options: RemoteOptions,
    ) -> Result<Arc<Self>, RemoteError> {
        let remote = Self::new(None, Some(checked_url(jwks_uri)?), policy, options)?;
        let period = remote.first_fetch().await?;
        tokio::spawn(refresh(Arc::downgrade(&remote), period));
        Ok(remote)
    }

    fn new(
        issuer: Option<&str>,
        jwks_uri: Option<Url>,
        policy: Validation,
        options: RemoteOptions,
    ) -> Result<Arc<Self>, RemoteError> {
        if let Some(issuer) = issuer {
            fetch::metadata_urls(issuer)?;
        }
        Ok(Arc::new(Self {
            issuer: issuer.map(str::to_owned),
            jwks_uri: jwks_uri.map_or_else(OnceLock::new, OnceLock::from),
            current: RwLock::new(None),
            policy,
            fetcher: fetch::Fetcher::new(options.timeout, options.max_bytes)?,
            options,
            generation: AtomicU64::new(0),
            fetching: tokio::sync::Mutex::new(Fetching {
                last_attempt: Instant::now(),
                last_body: Vec::new(),
            }),
            fetches: AtomicU64::new(0),
            failures: AtomicU64::new(0),
            unknown_kid_fetches: AtomicU64::new(0),
            retired: std::sync::Mutex::new(CacheStats::default()),
        }))
    }

    /// The first fetch; the period until the next.
    async fn first_fetch(&self) -> Result<Duration, RemoteError> {
        let mut fetching = self.fetching.lock().await;
        let (_, max_age) = self.fetch(&mut fetching).await?;
        Ok(refresh_period(max_age, self.options.min_refresh))
    }

    /// Where the keys come from (unknown until discovery succeeded).
    pub fn jwks_uri(&self) -> Option<&str> {
        self.jwks_uri.get().map(Url::as_str)
    }

    /// The keys in use now (none before the first successful fetch).
    pub fn keys(&self) -> Option<KeySet> {
        self.current()
            .map(|current| current.verifier.keys().clone())
    }

    /// Whether a key set was fetched (a resource server is ready once it is).
    pub fn has_keys(&self) -> bool {
        self.current().is_some()
    }

    /// How it fetches.
    pub fn options(&self) -> &RemoteOptions {
        &self.options
    }

    /// What the fetches did.
    pub fn stats(&self) -> RemoteStats {
        RemoteStats {
            fetches: self.fetches.load(Ordering::Relaxed),
            failures: self.failures.load(Ordering::Relaxed),
            unknown_kid_fetches: self.unknown_kid_fetches.load(Ordering::Relaxed),
            // The first key set is no change.
            changes: self.generation.load(Ordering::Relaxed).saturating_sub(1),
        }
    }

    /// The key set in use and its cache.
    pub(crate) fn current(&self) -> Option<Arc<CachedVerifier>> {
        self.current
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The cache statistics of every key set so far.
    pub(crate) fn cache_stats(&self) -> CacheStats {
        let now = self
            .current()
            .map(|current| current.cache.stats())
            .unwrap_or_default();
        let retired = *self.retired.lock().unwrap_or_else(PoisonError::into_inner);
        CacheStats {
            hits: now.hits + retired.hits,
            misses: now.misses + retired.misses,
            evictions: now.evictions + retired.evictions,
            ..now
        }
    }

    /// For a token whose `kid` no key has (or that arrived before any key did): fetches the
    /// key set again unless a fetch was attempted within the refetch interval; whether the
    /// keys changed meanwhile (then the token is worth verifying again).
    pub async fn refetch_for_unknown_kid(&self) -> bool {
        let seen = self.generation.load(Ordering::Acquire);
        let mut fetching = self.fetching.lock().await;
        if self.generation.load(Ordering::Acquire) != seen {
            return true; // the fetch this caller waited for brought new keys
        }
        if fetching.last_attempt.elapsed() < self.options.refetch_interval {
            return false;
        }
        self.unknown_kid_fetches.fetch_add(1, Ordering::Relaxed);
        matches!(self.fetch(&mut fetching).await, Ok((true, _)))
    }

    /// One fetch, holding the lock; whether the key set changed, and its max-age.
    async fn fetch(
        &self,
        fetching: &mut Fetching,
    ) -> Result<(bool, Option<Duration>), RemoteError> {
        fetching.last_attempt = Instant::now();
        let result = match self.located().await {
            Ok(jwks_uri) => self.fetcher.get(jwks_uri).await,
            Err(error) => Err(error),
        };
        let result = match result {
            Ok(fetched) if fetched.body == fetching.last_body => Ok((false, fetched.max_age)),
            Ok(fetched) => fetch::key_set(&fetched.body).map(|(keys, skipped)| {
                log_skipped(&skipped);
                self.replace(keys);
                fetching.last_body = fetched.body;
                (true, fetched.max_age)
            }),
            Err(error) => Err(error),
        };
        match &result {
            Ok((changed, _)) => {
                self.fetches.fetch_add(1, Ordering::Relaxed);
                if *changed {
                    tracing::info!(target: "jwtkit::remote", jwks_uri = self.jwks_uri(), "the issuer's key set changed");
                }
            }
            Err(error) => {
                self.failures.fetch_add(1, Ordering::Relaxed);
                let meanwhile = if self.keys().is_some() {
                    "the last good ones stay in use"
                } else {
                    "none yet: tokens are answered 503 until they arrive"
                };
                tracing::warn!(target: "jwtkit::remote", issuer = self.issuer.as_deref(), jwks_uri = self.jwks_uri(), %error, "cannot fetch the issuer's keys; {meanwhile}");
            }
        }
        result
    }

    /// The key set's URL, by discovery the first time.
    async fn located(&self) -> Result<&Url, RemoteError> {
        if let Some(url) = self.jwks_uri.get() {
            return Ok(url);
        }
        let issuer = self.issuer.as_deref().unwrap_or_default();
        let url = discover_jwks_uri(&self.fetcher, issuer).await?;
        Ok(self.jwks_uri.get_or_init(|| url))
    }

    fn replace(&self, keys: KeySet) {
        let next = Arc::new(CachedVerifier {
            verifier: Verifier::new(keys, self.policy.clone()),
            cache: VerifiedCache::new(self.options.cache_bytes),
        });
        let previous = self
            .current
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .replace(next);
        if let Some(previous) = previous {
            let stats = previous.cache.stats();
            let mut retired = self.retired.lock().unwrap_or_else(PoisonError::into_inner);
            retired.hits += stats.hits;
            retired.misses += stats.misses;
            retired.evictions += stats.evictions;
        }
        self.generation.fetch_add(1, Ordering::AcqRel);
    }
}

fn log_skipped(skipped: &[String]) {
    for key in skipped {
        tracing::info!(target: "jwtkit::remote", key = %key, "a key of the issuer's set is not for verifying tokens: left out");
    }
}

/// `max-age` clamped to [`min`, 24 h]; 5 min without one.
fn refresh_period(max_age: Option<Duration>, min: Duration) -> Duration {
    max_age.map_or(DEFAULT_REFRESH, |age| age.clamp(min, MAX_REFRESH))
}

/// Refreshes the keys in the background until the [`RemoteKeys`] is dropped. Until a key
/// set was fetched, a failure is retried after twice the last wait, up to [`MIN_REFRESH`].
async fn refresh(remote: Weak<RemoteKeys>, mut period: Duration) {
    loop {
        tokio::time::sleep(period).await;
        let Some(remote) = remote.upgrade() else {
            return;
        };
        let mut fetching = remote.fetching.lock().await;
        let min = remote.options.min_refresh;
        period = match remote.fetch(&mut fetching).await {
            Ok((_, max_age)) => refresh_period(max_age, min),
            Err(_) if !remote.has_keys() => (period * 2).min(MIN_REFRESH),
            Err(_) => MIN_REFRESH,
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refresh_periods_are_clamped() {
        assert_eq!(refresh_period(None, MIN_REFRESH), DEFAULT_REFRESH);
        assert_eq!(
            refresh_period(Some(Duration::from_secs(5)), MIN_REFRESH),
            MIN_REFRESH
        );
        assert_eq!(
            refresh_period(Some(Duration::from_secs(5)), Duration::from_secs(1)),
            Duration::from_secs(5),
            "an accelerated lifecycle's"
        );
        assert_eq!(
            refresh_period(Some(Duration::from_secs(7 * 24 * 3600)), MIN_REFRESH),
            MAX_REFRESH
        );
        assert_eq!(
            refresh_period(Some(Duration::from_secs(600)), MIN_REFRESH),
            Duration::from_secs(600)
        );
    }
}
