//! Limits failed authentications per client, counted in the store (so every instance on one
//! store counts together), in fixed windows.
//!
//! Only failures are counted. A failed attempt is counted atomically *after* the secret was
//! judged (in memory), and is answered 429 instead of 401 once the count is over the limit;
//! a successful one only reads the count, and is answered 429 while the failures are at the
//! limit. So honest clients with many requests in flight are never refused for them, and
//! parallel guesses learn nothing beyond the limit: over it, a right secret and a wrong one
//! get the same 429.
//!
//! A right API key or client secret (256 random bits: never guessed) from a client whose
//! failures were within the limit less than [`REMEMBERED_FOR`] ago is let through without
//! reading the count again ([`AuthLimiter::judge_secret`]): a failure at this instance
//! forgets the client at once, one counted by another instance is seen within that time. A
//! password's success always reads the count.
//!
//! The client is the peer, or — when the peer is a trusted reverse proxy — the rightmost
//! address of the one forwarding header the proxies write ([`ForwardedHeader`]) that is not
//! itself a trusted proxy. Addresses are canonical before every comparison (an IPv4 peer of a
//! dual-stack listener, `::ffff:a.b.c.d`, is `a.b.c.d`). IPv6 clients are counted by their
//! /64 (one host usually owns a whole /64).

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use ipnet::{IpNet, Ipv6Net};
use jwtkit_core::UnixTime;
use warp::http::HeaderMap;

pub(crate) use crate::config::ForwardedHeader;
use crate::store::{Attempts, Store, StoreError};

/// How long a client found within the limit is remembered so (see the module's
/// documentation).
pub(crate) const REMEMBERED_FOR: Duration = Duration::from_secs(1);
/// The most clients remembered; beyond, the memory starts again.
const MAX_REMEMBERED: usize = 10_000;

/// Counts failed authentications per client in a fixed window.
#[derive(Debug, Clone)]
pub(crate) struct AuthLimiter {
    limit: u32,
    window: Duration,
    trusted_proxies: Vec<IpNet>,
    header: ForwardedHeader,
    /// The clients found within the limit, and when.
    within_limit: Arc<Mutex<HashMap<String, UnixTime>>>,
    /// Failures judged here so far: a success is remembered only when none came while its
    /// count was read (a failure forgets its client, and must not be overtaken).
    failures_judged: Arc<AtomicU64>,
}

/// Whether an authentication may go on.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Admission {
    /// Within the limit.
    Allowed,
    /// Over it: retry after this long.
    Blocked(Duration),
}

/// Why an authentication was refused by [`AuthLimiter::judge`].
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Refusal {
    /// The secret was wrong (401).
    Failed,
    /// Over the limit: retry after this long (429, whether the secret was right or not).
    Blocked(Duration),
    /// The store cannot count (503).
    Store(StoreError),
}

impl AuthLimiter {
    /// At most `limit` failures per client per `window`; `header` is believed only from
    /// `trusted_proxies`.
    pub(crate) fn new(
        limit: u32,
        window: Duration,
        trusted_proxies: Vec<IpNet>,
        header: ForwardedHeader,
    ) -> Self {
        Self {
            limit,
            window,
            trusted_proxies,
            header,
            within_limit: Arc::default(),
            failures_judged: Arc::default(),
        }
    }

    /// The counter key of the client behind `peer` and `headers`.
    pub(crate) fn key(&self, peer: Option<SocketAddr>, headers: &HeaderMap) -> String {
        let client = client_address(
            peer.map(|p| p.ip()),
            headers,
            &self.trusted_proxies,
            self.header,
        );
        match client {
            Some(IpAddr::V4(ip)) => format!("auth:{ip}"),
            Some(IpAddr::V6(ip)) => format!("auth:{}", Ipv6Net::new_assert(ip, 64).trunc()),
            None => "auth:unknown".to_owned(),
        }
    }

    /// The outcome of an authentication of the client `key` names, `found` being what the
    /// secret authenticates (`None`: a wrong one): a failure is counted, and refused as
    /// [`Refusal::Blocked`] rather than [`Refusal::Failed`] once over the limit; a success is
    /// refused as [`Refusal::Blocked`] too while the failures are at the limit.
    pub(crate) async fn judge<T>(
        &self,
        store: &dyn Store,
        key: &str,
        now: UnixTime,
        found: Option<T>,
    ) -> Result<T, Refusal> {
        let admission = match &found {
            Some(_) => self.succeeded(store, key, now).await,
            None => self.failed(store, key, now).await,
        };
        match admission.map_err(Refusal::Store)? {
            Admission::Allowed => found.ok_or(Refusal::Failed),
            Admission::Blocked(wait) => Err(Refusal::Blocked(wait)),
        }
    }

    /// [`AuthLimiter::judge`] for a secret of 256 random bits (an API key, a client
    /// secret): a right one from a client found within the limit less than
    /// [`REMEMBERED_FOR`] ago goes through without reading the count.
    pub(crate) async fn judge_secret<T>(
        &self,
        store: &dyn Store,
        key: &str,
        now: UnixTime,
        found: Option<T>,
    ) -> Result<T, Refusal> {
        if found.is_some() && self.remembered(key, now) {
            return found.ok_or(Refusal::Failed);
        }
        let failures_before = self.failures_judged.load(Ordering::Acquire);
        let judged = self.judge(store, key, now, found).await;
        if judged.is_ok() && self.failures_judged.load(Ordering::Acquire) == failures_before {
            let mut within = self
                .within_limit
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            if within.len() >= MAX_REMEMBERED {
                within.clear();
            }
            within.insert(key.to_owned(), now);
        }
        judged
    }

    /// Whether `key` was found within the limit less than [`REMEMBERED_FOR`] before `now`.
    fn remembered(&self, key: &str, now: UnixTime) -> bool {
        let within = self
            .within_limit
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        within.get(key).is_some_and(|at| {
            let age = now.as_secs_f64() - at.as_secs_f64();
            (0.0..REMEMBERED_FOR.as_secs_f64()).contains(&age)
        })
    }

    /// Whether the client `key` names may try at all at `now`: refused as
    /// [`Refusal::Blocked`] while its failures are at the limit, so that a costly check (a
    /// password hash) is not even made.
    pub(crate) async fn admitted(
        &self,
        store: &dyn Store,
        key: &str,
        now: UnixTime,
    ) -> Result<(), Refusal> {
        match self
            .succeeded(store, key, now)
            .await
            .map_err(Refusal::Store)?
        {
            Admission::Allowed => Ok(()),
            Admission::Blocked(wait) => Err(Refusal::Blocked(wait)),
        }
    }

    /// A failed authentication of `key` at `now`: counted; [`Admission::Blocked`] when the
    /// count is now over the limit (answer 429, not 401).
    async fn failed(
        &self,
        store: &dyn Store,
        key: &str,
        now: UnixTime,
    ) -> Result<Admission, StoreError> {
        self.failures_judged.fetch_add(1, Ordering::AcqRel);
        self.within_limit
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(key);
        let failures = store
            .count_failure(key.to_owned(), now, self.window.as_secs_f64())
            .await?;
        Ok(admission(failures, failures.count > self.limit, now))
    }

    /// A successful authentication of `key` at `now`: [`Admission::Blocked`] while the
    /// failures in the window are at the limit.
    async fn succeeded(
        &self,
        store: &dyn Store,
        key: &str,
        now: UnixTime,
    ) -> Result<Admission, StoreError> {
        let failures = store.failures(key.to_owned(), now).await?;
        Ok(admission(failures, failures.count >= self.limit, now))
    }
}

/// Allowed, or blocked until the failures' window ends.
fn admission(failures: Attempts, over: bool, now: UnixTime) -> Admission {
    if !over {
        return Admission::Allowed;
    }
    let wait = failures.window_end.as_secs_f64() - now.as_secs_f64();
    Admission::Blocked(Duration::from_secs_f64(wait.max(0.0)))
}

/// The client's address: the peer, unless it is a trusted proxy; then the rightmost address
/// of `header` that is not one (the leftmost when all are). Every address is canonical.
pub(crate) fn client_address(
    peer: Option<IpAddr>,
    headers: &HeaderMap,
    trusted: &[IpNet],
    header: ForwardedHeader,
) -> Option<IpAddr> {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    let peer = peer?.to_canonical();
    if !is_trusted(&peer) {
        return Some(peer);
    }
    let mut client = peer;
    for hop in forwarded_hops(headers, header).iter().rev() {
        match hop.map(|ip| ip.to_canonical()) {
            // An address that cannot be read ("unknown", obfuscated): the proxy that added
            // it is the last one that can be told apart.
            None => return Some(client),
            Some(ip) if is_trusted(&ip) => client = ip,
            Some(ip) => return Some(ip),
        }
    }
    Some(client)
}

/// The addresses of `header`, nearest last; `None` for a hop that is not an address.
fn forwarded_hops(headers: &HeaderMap, header: ForwardedHeader) -> Vec<Option<IpAddr>> {
    let elements = headers
        .get_all(header.name())
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim);
    match header {
        ForwardedHeader::XForwardedFor => elements.map(parse_node).collect(),
        ForwardedHeader::Forwarded => elements
            .map(|element| {
                element
                    .split(';')
                    .filter_map(|pair| pair.trim().split_once('='))
                    .find(|(name, _)| name.eq_ignore_ascii_case("for"))
                    .and_then(|(_, value)| parse_node(value))
            })
            .collect(),
    }
}
/// An address as forwarding headers write it: `1.2.3.4`, `1.2.3.4:80`, `"[2001:db8::1]:80"`.
fn parse_node(text: &str) -> Option<IpAddr> {
    let text = text.trim().trim_matches('"');
    if let Ok(ip) = text.parse() {
        return Some(ip);
    }
    if let Ok(addr) = text.parse::<SocketAddr>() {
        return Some(addr.ip());
    }
    text.strip_prefix('[')
        .and_then(|rest| rest.split(']').next())
        .and_then(|ip| ip.parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use warp::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, HeaderValue::from_static(value));
        }
        map
    }

    fn ip(text: &str) -> Option<IpAddr> {
        Some(text.parse().unwrap())
    }

    fn trusted() -> Vec<IpNet> {
        vec!["10.0.0.0/8".parse().unwrap()]
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_right_secret_skips_the_count_for_a_second_unless_a_failure_intervenes() {
        let dir = std::env::temp_dir().join(format!("jwtkit-limiter-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let store = crate::store::sqlite::SqliteStore::open(&dir.join("s.sqlite3")).unwrap();
        let limiter = AuthLimiter::new(
            2,
            Duration::from_secs(60),
            vec![],
            ForwardedHeader::XForwardedFor,
        );
        let at = |secs: f64| UnixTime::from_secs_f64(1_800_000_000.0 + secs).unwrap();
        let judge = |now| limiter.judge_secret(&store, "auth:1.2.3.4", now, Some(()));
        assert_eq!(judge(at(0.0)).await, Ok(()), "read: within the limit");
        // Another instance counts failures up to the limit.
        for _ in 0..2 {
            store
                .count_failure("auth:1.2.3.4".into(), at(0.1), 60.0)
                .await
                .unwrap();
        }
        assert_eq!(judge(at(0.5)).await, Ok(()), "remembered: not read again");
        assert!(
            matches!(judge(at(1.0)).await, Err(Refusal::Blocked(_))),
            "a second later, read again: at the limit"
        );
        // A failure here forgets at once.
        let other = "auth:5.6.7.8";
        assert_eq!(
            limiter.judge_secret(&store, other, at(2.0), Some(())).await,
            Ok(())
        );
        let failed: Result<(), Refusal> = limiter.judge_secret(&store, other, at(2.1), None).await;
        assert_eq!(failed, Err(Refusal::Failed));
        store
            .count_failure(other.into(), at(2.2), 60.0)
            .await
            .unwrap();
        assert!(matches!(
            limiter.judge_secret(&store, other, at(2.3), Some(())).await,
            Err(Refusal::Blocked(_))
        ));
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn forwarding_headers_count_only_from_trusted_proxies() {
        let xff = headers(&[("x-forwarded-for", "6.6.6.6, 1.2.3.4, 10.0.0.7")]);
        let client =
            |peer: &str, h: &HeaderMap, header| client_address(ip(peer), h, &trusted(), header);
        let x = ForwardedHeader::XForwardedFor;
        // From an untrusted peer the headers are the client's own words: ignored.
        assert_eq!(client("5.5.5.5", &xff, x), ip("5.5.5.5"));
        // Through trusted proxies: the rightmost untrusted hop, not the spoofable leftmost.
        assert_eq!(client("10.0.0.1", &xff, x), ip("1.2.3.4"));
        let all_trusted = headers(&[("x-forwarded-for", "10.9.9.9")]);
        assert_eq!(client("10.0.0.1", &all_trusted, x), ip("10.9.9.9"));
        assert_eq!(client("10.0.0.1", &HeaderMap::new(), x), ip("10.0.0.1"));

        let f = ForwardedHeader::Forwarded;
        let forwarded = headers(&[(
            "forwarded",
            "for=6.6.6.6, for=\"[2001:db8::1]:4711\";proto=https, for=10.1.1.1",
        )]);
        assert_eq!(client("10.0.0.1", &forwarded, f), ip("2001:db8::1"));
        let unknown = headers(&[("forwarded", "for=unknown, for=10.2.2.2")]);
        assert_eq!(client("10.0.0.1", &unknown, f), ip("10.2.2.2"));
    }

    #[test]
    fn only_the_header_the_proxies_write_is_read() {
        // A proxy that appends to X-Forwarded-For passes the client's own Forwarded through:
        // a client must not pick its counter (or a victim's) with it.
        let spoofed = headers(&[
            ("forwarded", "for=198.51.100.77"),
            ("x-forwarded-for", "203.0.113.5"),
        ]);
        let x = ForwardedHeader::XForwardedFor;
        assert_eq!(
            client_address(ip("10.0.0.1"), &spoofed, &trusted(), x),
            ip("203.0.113.5")
        );
        // And the other way round, for proxies that write Forwarded.
        let spoofed = headers(&[
            ("forwarded", "for=203.0.113.5"),
            ("x-forwarded-for", "198.51.100.77"),
        ]);
        assert_eq!(
            client_address(
                ip("10.0.0.1"),
                &spoofed,
                &trusted(),
                ForwardedHeader::Forwarded
            ),
            ip("203.0.113.5")
        );
        assert_eq!(ForwardedHeader::from_name("X-Forwarded-For"), Some(x));
        assert_eq!(ForwardedHeader::from_name("x-real-ip"), None);
    }

    #[test]
    fn ipv4_peers_of_a_dual_stack_listener_are_trusted_as_ipv4() {
        // `--bind [::]:port` sees an IPv4 proxy as ::ffff:10.0.0.1.
        let xff = headers(&[("x-forwarded-for", "203.0.113.5, ::ffff:10.0.0.9")]);
        let x = ForwardedHeader::XForwardedFor;
        assert_eq!(
            client_address(ip("::ffff:10.0.0.1"), &xff, &trusted(), x),
            ip("203.0.113.5")
        );
        // An untrusted mapped peer is the client, as IPv4.
        assert_eq!(
            client_address(ip("::ffff:5.5.5.5"), &xff, &trusted(), x),
            ip("5.5.5.5")
        );
    }

    #[test]
    fn ipv6_clients_are_counted_by_their_64() {
        let limiter = AuthLimiter::new(
            3,
            Duration::from_secs(60),
            vec![],
            ForwardedHeader::default(),
        );
        let key = |addr: &str| limiter.key(Some(addr.parse().unwrap()), &HeaderMap::new());
        assert_eq!(
            key("[2001:db8:1:2:aaaa::1]:1"),
            key("[2001:db8:1:2:bbbb::9]:2")
        );
        assert_ne!(key("[2001:db8:1:2::1]:1"), key("[2001:db8:1:3::1]:1"));
        assert_eq!(key("[::ffff:1.2.3.4]:1"), key("1.2.3.4:1"), "IPv4-mapped");
        assert_ne!(key("1.2.3.4:1"), key("1.2.3.5:1"));
    }
}
