//! Limits `/auth` attempts per client, counted in the store (so every instance on one store
//! counts together): each attempt is counted *before* the key is checked, atomically, and a
//! successful one is taken back, so N parallel guesses get no more than the limit.
//!
//! The client is the peer, or — when the peer is a trusted reverse proxy — the rightmost
//! address of `Forwarded` / `X-Forwarded-For` that is not itself a trusted proxy. IPv6
//! clients are counted by their /64 (one host usually owns a whole /64).

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use ipnet::{IpNet, Ipv6Net};
use jwtkit_core::UnixTime;
use warp::http::HeaderMap;

use crate::store::{Store, StoreError};

/// Counts attempts per client in a fixed window.
#[derive(Debug, Clone)]
pub struct AuthLimiter {
    limit: u32,
    window: Duration,
    trusted_proxies: Vec<IpNet>,
}

/// Whether an attempt may go on.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Admission {
    /// Within the limit.
    Allowed,
    /// Over it: retry after this long.
    Blocked(Duration),
}

impl AuthLimiter {
    /// At most `limit` attempts per client per `window`; forwarding headers are believed
    /// only from `trusted_proxies`.
    pub fn new(limit: u32, window: Duration, trusted_proxies: Vec<IpNet>) -> Self {
        Self {
            limit,
            window,
            trusted_proxies,
        }
    }

    /// The counter key of the client behind `peer` and `headers`.
    pub fn key(&self, peer: Option<SocketAddr>, headers: &HeaderMap) -> String {
        match client_address(peer.map(|p| p.ip()), headers, &self.trusted_proxies) {
            Some(IpAddr::V4(ip)) => format!("auth:{ip}"),
            Some(IpAddr::V6(ip)) => match ip.to_ipv4_mapped() {
                Some(v4) => format!("auth:{v4}"),
                None => format!("auth:{}", Ipv6Net::new_assert(ip, 64).trunc()),
            },
            None => "auth:unknown".to_owned(),
        }
    }

    /// Counts an attempt of `key` at `now`.
    pub async fn attempt(
        &self,
        store: &dyn Store,
        key: &str,
        now: UnixTime,
    ) -> Result<Admission, StoreError> {
        let attempts = store
            .count_attempt(key.to_owned(), now, self.window.as_secs_f64())
            .await?;
        if attempts.count <= self.limit {
            return Ok(Admission::Allowed);
        }
        let wait = attempts.window_end.as_secs_f64() - now.as_secs_f64();
        Ok(Admission::Blocked(Duration::from_secs_f64(wait.max(0.0))))
    }
}

/// The client's address: the peer, unless it is a trusted proxy; then the rightmost
/// forwarded address that is not one (the leftmost when all are).
pub fn client_address(
    peer: Option<IpAddr>,
    headers: &HeaderMap,
    trusted: &[IpNet],
) -> Option<IpAddr> {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    let peer = peer?;
    if !is_trusted(&peer) {
        return Some(peer);
    }
    let hops = forwarded_hops(headers);
    let mut client = peer;
    for hop in hops.iter().rev() {
        match hop {
            // An address that cannot be read ("unknown", obfuscated): the proxy that added
            // it is the last one that can be told apart.
            None => return Some(client),
            Some(ip) if is_trusted(ip) => client = *ip,
            Some(ip) => return Some(*ip),
        }
    }
    Some(client)
}

/// The forwarded addresses, nearest last: `Forwarded: for=` (RFC 7239) when present, else
/// `X-Forwarded-For`. `None` for a hop that is not an address.
fn forwarded_hops(headers: &HeaderMap) -> Vec<Option<IpAddr>> {
    let values = |name: &str| {
        headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .map(str::to_owned)
            .collect::<Vec<_>>()
    };
    let forwarded = values("forwarded");
    if !forwarded.is_empty() {
        return forwarded
            .iter()
            .map(|element| {
                element
                    .split(';')
                    .filter_map(|pair| pair.trim().split_once('='))
                    .find(|(name, _)| name.eq_ignore_ascii_case("for"))
                    .and_then(|(_, value)| parse_node(value))
            })
            .collect();
    }
    values("x-forwarded-for")
        .iter()
        .map(|hop| parse_node(hop))
        .collect()
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

    #[test]
    fn forwarding_headers_count_only_from_trusted_proxies() {
        let trusted: Vec<IpNet> = vec!["10.0.0.0/8".parse().unwrap()];
        let xff = headers(&[("x-forwarded-for", "6.6.6.6, 1.2.3.4, 10.0.0.7")]);
        // From an untrusted peer the headers are the client's own words: ignored.
        assert_eq!(client_address(ip("5.5.5.5"), &xff, &trusted), ip("5.5.5.5"));
        // Through trusted proxies: the rightmost untrusted hop, not the spoofable leftmost.
        assert_eq!(
            client_address(ip("10.0.0.1"), &xff, &trusted),
            ip("1.2.3.4")
        );
        let forwarded = headers(&[(
            "forwarded",
            "for=6.6.6.6, for=\"[2001:db8::1]:4711\";proto=https, for=10.1.1.1",
        )]);
        assert_eq!(
            client_address(ip("10.0.0.1"), &forwarded, &trusted),
            ip("2001:db8::1")
        );
        let unknown = headers(&[("forwarded", "for=unknown, for=10.2.2.2")]);
        assert_eq!(
            client_address(ip("10.0.0.1"), &unknown, &trusted),
            ip("10.2.2.2")
        );
        let all_trusted = headers(&[("x-forwarded-for", "10.9.9.9")]);
        assert_eq!(
            client_address(ip("10.0.0.1"), &all_trusted, &trusted),
            ip("10.9.9.9")
        );
        assert_eq!(
            client_address(ip("10.0.0.1"), &HeaderMap::new(), &trusted),
            ip("10.0.0.1")
        );
    }

    #[test]
    fn ipv6_clients_are_counted_by_their_64() {
        let limiter = AuthLimiter::new(3, Duration::from_secs(60), vec![]);
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
