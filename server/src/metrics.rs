//! `/metrics` in the Prometheus text format (prometheus-client): requests by route and
//! status, token refusals by code, the verified-token cache's hits, evictions and size, rotations, reuse detections,
//! revocations, and the store's latency and errors by operation.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

/// What a cache of verified tokens did and holds (the authenticator's, or a remote issuer's
/// key sets' together).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CacheStats {
    /// Verifications answered from the cache.
    pub hits: u64,
    /// Verifications done in full.
    pub misses: u64,
    /// Entries that left to make room (not counting expired ones).
    pub evictions: u64,
    /// Tokens held now.
    pub entries: usize,
    /// What they count against the budget, in bytes.
    pub bytes: usize,
    /// The budget, in bytes.
    pub budget: usize,
}

/// What the fetches of a trusted issuer's key set did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RemoteStats {
    /// Fetches of the key set that brought a valid one.
    pub fetches: u64,
    /// Fetches that failed (the last good keys stayed in use).
    pub failures: u64,
    /// Fetches that brought a different key set.
    pub changes: u64,
    /// Fetches made because a token named a `kid` the keys did not have (none in a steady
    /// state with an issuer that announces its keys ahead).
    pub unknown_kid_fetches: u64,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    route: &'static str,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CodeLabels {
    code: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ResultLabels {
    result: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OperationLabels {
    operation: &'static str,
}

/// The statuses counted one by one; any other is counted under 0 (shown as "other").
const STATUSES: [u16; 13] = [
    200, 204, 400, 401, 403, 404, 405, 411, 413, 415, 429, 500, 503,
];

/// Requests counted on the hot path: one atomic increment per request, by route (the
/// declared ones, then "other") and status; brought into the registry at each scrape.
struct RequestCounts {
    /// The declared routes' paths.
    routes: &'static [&'static str],
    counts: Vec<[AtomicU64; STATUSES.len() + 1]>,
    seen: Vec<[AtomicU64; STATUSES.len() + 1]>,
}

impl RequestCounts {
    fn new(routes: &'static [&'static str]) -> Self {
        let table = || {
            (0..=routes.len())
                .map(|_| std::array::from_fn(|_| AtomicU64::new(0)))
                .collect()
        };
        Self {
            routes,
            counts: table(),
            seen: table(),
        }
    }
}

/// The server's metrics.
pub struct Metrics {
    registry: Registry,
    request_counts: RequestCounts,
    requests: Family<RequestLabels, Counter>,
    refusals: Family<CodeLabels, Counter>,
    cache: Family<ResultLabels, Counter>,
    cache_evictions: Counter,
    cache_entries: Gauge,
    cache_bytes: Gauge,
    rotations: Counter,
    reuses: Counter,
    revocations: Counter,
    store_errors: Family<OperationLabels, Counter>,
    store_latency: Family<OperationLabels, Histogram>,
    /// What the cache counters last reported (they are brought up to date at each scrape).
    cache_seen: [AtomicU64; 3],
    jwks_fetches: Family<ResultLabels, Counter>,
    jwks_unknown_kid_fetches: Counter,
    /// What the remote issuer's fetch counters last reported.
    remote_seen: [AtomicU64; 3],
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Metrics {
    /// Every metric, registered under the `jwtkit` prefix; requests counted by the paths of
    /// `routes` (any other path as "other").
    pub fn new(routes: &'static [&'static str]) -> Self {
        let mut registry = Registry::with_prefix("jwtkit");
        let requests = Family::<RequestLabels, Counter>::default();
        let refusals = Family::<CodeLabels, Counter>::default();
        let cache = Family::<ResultLabels, Counter>::default();
        let (rotations, reuses, revocations) =
            (Counter::default(), Counter::default(), Counter::default());
        let store_errors = Family::<OperationLabels, Counter>::default();
        let store_latency = Family::<OperationLabels, Histogram>::new_with_constructor(|| {
            Histogram::new(exponential_buckets(0.0001, 2.0, 16))
        });
        registry.register(
            "http_requests",
            "HTTP requests by route (the declared path, or other) and status (0: other)",
            requests.clone(),
        );
        registry.register(
            "token_refusals",
            "Bearer tokens refused, by error code",
            refusals.clone(),
        );
        registry.register(
            "verified_token_cache",
            "Bearer token verifications answered from the verified-token cache (hit) or in full (miss)",
            cache.clone(),
        );
        let (cache_evictions, cache_entries, cache_bytes) =
            (Counter::default(), Gauge::default(), Gauge::default());
        registry.register(
            "verified_token_cache_evictions",
            "Verified tokens the cache let go to make room (expired ones not counted)",
            cache_evictions.clone(),
        );
        registry.register(
            "verified_token_cache_entries",
            "Verified tokens the cache holds",
            cache_entries.clone(),
        );
        registry.register(
            "verified_token_cache_bytes",
            "What the cached tokens count against the cache's budget, in bytes",
            cache_bytes.clone(),
        );
        registry.register(
            "refresh_rotations",
            "Refresh tokens rotated",
            rotations.clone(),
        );
        registry.register(
            "refresh_reuse_detected",
            "Reused refresh tokens (each ended its session)",
            reuses.clone(),
        );
        registry.register(
            "revocations",
            "Sessions ended and access tokens revoked by requests to this instance",
            revocations.clone(),
        );
        registry.register(
            "store_errors",
            "Failed store operations, by operation",
            store_errors.clone(),
        );
        registry.register(
            "store_latency_seconds",
            "Store operation latency, by operation",
            store_latency.clone(),
        );
        let jwks_fetches = Family::<ResultLabels, Counter>::default();
        registry.register(
            "jwks_fetches",
            "Fetches of a trusted issuer's key set, by result (on error the last good keys stay in use)",
            jwks_fetches.clone(),
        );
        let jwks_unknown_kid_fetches = Counter::default();
        registry.register(
            "jwks_unknown_kid_fetches",
            "Fetches of a trusted issuer's key set made for a token whose kid the keys did not have",
            jwks_unknown_kid_fetches.clone(),
        );
        Self {
            registry,
            jwks_fetches,
            jwks_unknown_kid_fetches,
            remote_seen: std::array::from_fn(|_| AtomicU64::new(0)),
            request_counts: RequestCounts::new(routes),
            requests,
            refusals,
            cache,
            cache_evictions,
            cache_entries,
            cache_bytes,
            rotations,
            reuses,
            revocations,
            store_errors,
            store_latency,
            cache_seen: std::array::from_fn(|_| AtomicU64::new(0)),
        }
    }

    /// A request to `path` answered with `status` (on every request: one atomic increment).
    pub fn request(&self, path: &str, status: u16) {
        let routes = self.request_counts.routes;
        let route = routes
            .iter()
            .position(|route| *route == path)
            .unwrap_or(routes.len());
        let status = STATUSES
            .iter()
            .position(|s| *s == status)
            .map_or(0, |i| i + 1);
        if let Some(counter) = self
            .request_counts
            .counts
            .get(route)
            .and_then(|row| row.get(status))
        {
            counter.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Brings the request counters into the registry.
    fn sync_requests(&self) {
        let rows = self
            .request_counts
            .counts
            .iter()
            .zip(&self.request_counts.seen);
        for (route, (counts, seen)) in rows.enumerate() {
            let route = self
                .request_counts
                .routes
                .get(route)
                .copied()
                .unwrap_or("other");
            for (i, (count, seen)) in counts.iter().zip(seen).enumerate() {
                let now = count.load(Ordering::Relaxed);
                let before = seen.swap(now, Ordering::AcqRel);
                if now > before {
                    let status = i.checked_sub(1).map_or(0, |i| STATUSES[i]);
                    self.requests
                        .get_or_create(&RequestLabels { route, status })
                        .inc_by(now - before);
                }
            }
        }
    }

    /// A bearer token refused with `code`.
    pub fn refusal(&self, code: &'static str) {
        self.refusals.get_or_create(&CodeLabels { code }).inc();
    }

    /// A refresh token rotated.
    pub fn rotation(&self) {
        self.rotations.inc();
    }

    /// A reused refresh token detected.
    pub fn reuse_detected(&self) {
        self.reuses.inc();
    }

    /// A session ended or a token revoked.
    pub fn revocation(&self) {
        self.revocations.inc();
    }

    /// A store operation took `elapsed` and succeeded or not.
    pub fn store_operation(&self, operation: &'static str, elapsed: Duration, ok: bool) {
        let labels = OperationLabels { operation };
        self.store_latency
            .get_or_create(&labels)
            .observe(elapsed.as_secs_f64());
        if !ok {
            self.store_errors.get_or_create(&labels).inc();
        }
    }

    /// The text exposition, with the cache's figures brought up to `cache` (and a trusted
    /// issuer's fetches to `remote`).
    pub fn encode(&self, cache: CacheStats, remote: Option<RemoteStats>) -> String {
        self.sync_requests();
        if let Some(remote) = remote {
            for (seen, (result, now)) in self.remote_seen.iter().zip([
                ("ok", remote.fetches),
                ("error", remote.failures),
                ("unknown_kid", remote.unknown_kid_fetches),
            ]) {
                let delta = now.saturating_sub(seen.swap(now, Ordering::AcqRel));
                match result {
                    "unknown_kid" => self.jwks_unknown_kid_fetches.inc_by(delta),
                    result => self
                        .jwks_fetches
                        .get_or_create(&ResultLabels { result })
                        .inc_by(delta),
                };
            }
        }
        // One family guard at a time: creating a label set takes the family's write lock.
        for (seen, (result, now)) in self.cache_seen.iter().zip([
            ("hit", cache.hits),
            ("miss", cache.misses),
            ("eviction", cache.evictions),
        ]) {
            let before = seen.swap(now, Ordering::AcqRel);
            let delta = now.saturating_sub(before);
            match result {
                "eviction" => self.cache_evictions.inc_by(delta),
                result => self
                    .cache
                    .get_or_create(&ResultLabels { result })
                    .inc_by(delta),
            };
        }
        self.cache_entries
            .set(i64::try_from(cache.entries).unwrap_or(i64::MAX));
        self.cache_bytes
            .set(i64::try_from(cache.bytes).unwrap_or(i64::MAX));
        let mut text = String::new();
        match prometheus_client::encoding::text::encode(&mut text, &self.registry) {
            Ok(()) => text,
            // Writing into a String cannot fail; say so rather than serve half a page.
            Err(_) => "# the metrics could not be encoded\n".to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_by_route_code_and_operation() {
        let metrics = Metrics::new(&["/api/v3/secret", "/healthz"]);
        metrics.request("/api/v3/secret", 200);
        metrics.request("/api/v3/secret", 200);
        metrics.request("/nothing/here", 404);
        metrics.request("/healthz", 418);
        metrics.refusal("ERR_JWT_EXPIRED");
        metrics.rotation();
        metrics.store_operation("rotate", Duration::from_millis(2), false);
        let stats = |hits, evictions| CacheStats {
            hits,
            misses: 2,
            evictions,
            entries: 3,
            bytes: 4000,
            budget: 1 << 20,
        };
        let text = metrics.encode(stats(5, 1), None);
        for line in [
            "jwtkit_http_requests_total{route=\"/api/v3/secret\",status=\"200\"} 2",
            "jwtkit_http_requests_total{route=\"other\",status=\"404\"} 1",
            "jwtkit_http_requests_total{route=\"/healthz\",status=\"0\"} 1",
            "jwtkit_token_refusals_total{code=\"ERR_JWT_EXPIRED\"} 1",
            "jwtkit_verified_token_cache_total{result=\"hit\"} 5",
            "jwtkit_verified_token_cache_evictions_total 1",
            "jwtkit_verified_token_cache_entries 3",
            "jwtkit_verified_token_cache_bytes 4000",
            "jwtkit_refresh_rotations_total 1",
            "jwtkit_store_errors_total{operation=\"rotate\"} 1",
        ] {
            assert!(text.contains(line), "{line} missing:\n{text}");
        }
        let later = metrics.encode(stats(7, 4), None);
        assert!(later.contains("jwtkit_verified_token_cache_total{result=\"hit\"} 7"));
        assert!(later.contains("jwtkit_verified_token_cache_evictions_total 4"));
    }
}
