//! Time on the server: the system clock, which jwtkit-core deliberately lacks, and the one
//! reader of durations and writer of RFC 3339 timestamps that the server and the command
//! line share.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use jwtkit_core::{Clock, ClockError, UnixTime};

/// Reads the operating system's wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    /// The wall clock; [`ClockError::Unavailable`] when it reads before the epoch or after
    /// 9999 (never a made-up time, which would let expired tokens through).
    fn now(&self) -> Result<UnixTime, ClockError> {
        // The one place that reads the wall clock; core takes `now` as an argument.
        #[allow(clippy::disallowed_methods)]
        let now = SystemTime::now();
        since_epoch(now)
    }
}

/// `time` as a NumericDate, or [`ClockError::Unavailable`] when it is not one.
fn since_epoch(time: SystemTime) -> Result<UnixTime, ClockError> {
    let elapsed = time
        .duration_since(UNIX_EPOCH)
        .map_err(|_| ClockError::Unavailable)?;
    UnixTime::from_secs_f64(elapsed.as_secs_f64()).ok_or(ClockError::Unavailable)
}

/// A clock shared between the server's tasks.
pub type SharedClock = std::sync::Arc<dyn Clock + Send + Sync>;

/// A duration as settings and flags write it: whole seconds (`180`) or with units (`90s`,
/// `3m`, `1h 30m`); `None` otherwise, or when it overflows.
pub fn parse_duration(text: &str) -> Option<Duration> {
    match text.parse::<u64>() {
        Ok(secs) => Some(Duration::from_secs(secs)),
        Err(_) => humantime::parse_duration(text).ok(),
    }
}

/// `time` as an RFC 3339 timestamp in UTC, whole seconds (`2027-01-15T08:03:00Z`).
pub fn rfc3339(time: UnixTime) -> String {
    // A NumericDate is never negative: its absolute value is itself.
    let secs = time.as_secs().unsigned_abs();
    humantime::format_rfc3339_seconds(UNIX_EPOCH + Duration::from_secs(secs)).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_plausible_time() {
        let now = SystemClock.now().unwrap().as_secs();
        assert!(now > 1_700_000_000 && now < 4_000_000_000, "{now}");
    }

    #[test]
    fn durations_and_timestamps() {
        assert_eq!(parse_duration("180"), Some(Duration::from_secs(180)));
        assert_eq!(parse_duration("3m"), Some(Duration::from_secs(180)));
        assert_eq!(parse_duration("1h 30m"), Some(Duration::from_secs(5400)));
        assert_eq!(parse_duration("soon"), None);
        assert_eq!(parse_duration(""), None);
        assert_eq!(parse_duration("-1"), None);
        let t = UnixTime::from_secs(1_800_000_180).unwrap();
        assert_eq!(rfc3339(t), "2027-01-15T08:03:00Z");
    }

    #[test]
    fn a_clock_before_the_epoch_or_past_9999_is_unavailable() {
        let before = UNIX_EPOCH - Duration::from_secs(1);
        assert_eq!(since_epoch(before), Err(ClockError::Unavailable));
        let after = UNIX_EPOCH + Duration::from_secs(253_402_300_800);
        assert_eq!(since_epoch(after), Err(ClockError::Unavailable));
        assert_eq!(
            since_epoch(UNIX_EPOCH + Duration::from_secs(5)).map(UnixTime::as_secs),
            Ok(5)
        );
    }
}
