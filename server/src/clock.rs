//! The system clock, which jwtkit-core deliberately lacks.

use std::time::{SystemTime, UNIX_EPOCH};

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_plausible_time() {
        let now = SystemClock.now().unwrap().as_secs();
        assert!(now > 1_700_000_000 && now < 4_000_000_000, "{now}");
    }

    #[test]
    fn a_clock_before_the_epoch_or_past_9999_is_unavailable() {
        use std::time::Duration;
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
