//! Limits failed `/auth` attempts per client address (fixed window).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::Duration;

use jwtkit_core::UnixTime;

/// Most addresses tracked at once; beyond it, expired windows are pruned first.
const MAX_TRACKED: usize = 100_000;

/// Counts failures per address; an address over the limit is refused until its window ends.
#[derive(Debug)]
pub struct FailureLimiter {
    limit: u32,
    window: Duration,
    windows: Mutex<HashMap<IpAddr, (f64, u32)>>,
}

impl FailureLimiter {
    /// At most `limit` failures per `window` per address.
    pub fn new(limit: u32, window: Duration) -> Self {
        Self {
            limit,
            window,
            windows: Mutex::new(HashMap::new()),
        }
    }

    /// `Some(wait)` while `addr` is over the limit at `now`.
    pub fn blocked(&self, addr: IpAddr, now: UnixTime) -> Option<Duration> {
        let windows = self
            .windows
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let &(start, count) = windows.get(&addr)?;
        let end = start + self.window.as_secs_f64();
        let now = now.as_secs_f64();
        (count >= self.limit && now < end).then(|| Duration::from_secs_f64(end - now))
    }

    /// Records a failed attempt from `addr` at `now`.
    pub fn record_failure(&self, addr: IpAddr, now: UnixTime) {
        let now = now.as_secs_f64();
        let window = self.window.as_secs_f64();
        let mut windows = self
            .windows
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if windows.len() >= MAX_TRACKED {
            windows.retain(|_, (start, _)| now < *start + window);
        }
        let entry = windows.entry(addr).or_insert((now, 0));
        if now >= entry.0 + window {
            *entry = (now, 0);
        }
        entry.1 = entry.1.saturating_add(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_after_the_limit_until_the_window_ends() {
        let limiter = FailureLimiter::new(2, Duration::from_secs(60));
        let ip: IpAddr = [127, 0, 0, 1].into();
        let other: IpAddr = [127, 0, 0, 2].into();
        let t = |s| UnixTime::from_secs(s).unwrap();
        limiter.record_failure(ip, t(100));
        assert_eq!(limiter.blocked(ip, t(100)), None);
        limiter.record_failure(ip, t(110));
        assert_eq!(limiter.blocked(ip, t(110)), Some(Duration::from_secs(50)));
        assert_eq!(limiter.blocked(other, t(110)), None);
        assert_eq!(limiter.blocked(ip, t(160)), None, "window over");
        limiter.record_failure(ip, t(160));
        assert_eq!(limiter.blocked(ip, t(160)), None, "new window");
    }
}
