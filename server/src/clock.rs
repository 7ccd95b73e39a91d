//! The system clock, which jwtkit-core deliberately lacks.

use std::time::{SystemTime, UNIX_EPOCH};

use jwtkit_core::{Clock, UnixTime};

/// Reads the operating system's wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> UnixTime {
        // The one place that reads the wall clock; core takes `now` as an argument.
        #[allow(clippy::disallowed_methods)]
        let elapsed = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        UnixTime::from_secs_f64(elapsed.as_secs_f64()).unwrap_or(UnixTime::EPOCH)
    }
}

/// A clock shared between the server's tasks.
pub type SharedClock = std::sync::Arc<dyn Clock + Send + Sync>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_plausible_time() {
        let now = SystemClock.now().as_secs();
        assert!(now > 1_700_000_000 && now < 4_000_000_000, "{now}");
    }
}
