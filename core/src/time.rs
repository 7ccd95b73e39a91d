//! Time without a clock: [`UnixTime`] values and the [`Clock`] trait.
//!
//! jwtkit-core never reads the system clock (it would panic on wasm32); callers pass `now`
//! in, or hand a [`Clock`] to code that needs one. The server supplies a system clock and the
//! browser package reads `Date.now()`.

use core::fmt;

use crate::error::ClockError;

/// The largest NumericDate jwtkit accepts: 9999-12-31T23:59:59Z.
pub const MAX_UNIX_SECONDS: f64 = 253_402_300_799.0;

/// An instant as seconds since 1970-01-01T00:00:00Z, possibly fractional: the JWT NumericDate
/// (RFC 7519 §2). Always finite and within `0..=253402300799`.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
pub struct UnixTime(f64);

impl UnixTime {
    /// The epoch, 1970-01-01T00:00:00Z.
    pub const EPOCH: UnixTime = UnixTime(0.0);

    /// An instant from whole seconds; `None` when outside `0..=253402300799`.
    pub fn from_secs(secs: i64) -> Option<Self> {
        if (0..=MAX_UNIX_SECONDS as i64).contains(&secs) {
            Some(Self(secs as f64))
        } else {
            None
        }
    }

    /// An instant from possibly fractional seconds; `None` when not finite or out of range.
    pub fn from_secs_f64(secs: f64) -> Option<Self> {
        if secs.is_finite() && (0.0..=MAX_UNIX_SECONDS).contains(&secs) {
            // -0.0 is in range; normalise it so that it prints as 0.
            Some(Self(secs + 0.0))
        } else {
            None
        }
    }

    /// An instant from milliseconds since the epoch (as JavaScript's `Date.now()` gives).
    pub fn from_millis(millis: f64) -> Option<Self> {
        Self::from_secs_f64(millis / 1000.0)
    }

    /// Seconds since the epoch.
    pub fn as_secs_f64(self) -> f64 {
        self.0
    }

    /// Whole seconds since the epoch, rounded down.
    pub fn as_secs(self) -> i64 {
        // In range by construction: 0..=253402300799 fits i64 exactly.
        self.0.floor() as i64
    }

    /// This instant moved by `secs` seconds (either direction), clamped to the valid range.
    pub fn saturating_add_secs(self, secs: f64) -> Self {
        let moved = self.0 + secs;
        if moved.is_nan() {
            return self;
        }
        Self(moved.clamp(0.0, MAX_UNIX_SECONDS))
    }
}

impl fmt::Display for UnixTime {
    /// Seconds since the epoch, with milliseconds when fractional, printed with integer
    /// arithmetic only: float formatting would add kilobytes to the wasm build.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // In range by construction (0..=253402300799), so the millisecond count fits an i64.
        let millis = (self.0 * 1000.0).round() as i64;
        let (secs, frac) = (millis.div_euclid(1000), millis.rem_euclid(1000));
        if frac == 0 {
            write!(f, "{secs}")
        } else {
            // Three digits without a padded format (which would pull in more formatting code).
            let digits =
                [frac / 100, frac / 10 % 10, frac % 10].map(|d| char::from(b'0' + d as u8));
            let digits: String = digits.iter().collect();
            write!(f, "{secs}.{}", digits.trim_end_matches('0'))
        }
    }
}

/// A source of the current time, injected wherever "now" is needed.
///
/// A clock that cannot be read says so ([`ClockError`]) instead of guessing: a fallback such
/// as the epoch would make every token without `iat` or `nbf` look unexpired.
pub trait Clock {
    /// The current time, or [`ClockError::Unavailable`].
    fn now(&self) -> Result<UnixTime, ClockError>;
}

/// A clock that always reads the same instant: for tests, reproductions and conformance runs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FixedClock(pub UnixTime);

impl Clock for FixedClock {
    fn now(&self) -> Result<UnixTime, ClockError> {
        Ok(self.0)
    }
}

impl<C: Clock + ?Sized> Clock for &C {
    fn now(&self) -> Result<UnixTime, ClockError> {
        (**self).now()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn range_is_enforced() {
        assert_eq!(UnixTime::from_secs(-1), None);
        assert!(UnixTime::from_secs(253_402_300_799).is_some());
        assert_eq!(UnixTime::from_secs(253_402_300_800), None);
        assert_eq!(UnixTime::from_secs_f64(f64::NAN), None);
        assert_eq!(UnixTime::from_secs_f64(f64::INFINITY), None);
        assert_eq!(UnixTime::from_secs_f64(-0.5), None);
        assert_eq!(UnixTime::from_secs_f64(1.5).map(UnixTime::as_secs), Some(1));
        assert_eq!(
            UnixTime::from_millis(1500.0).map(UnixTime::as_secs_f64),
            Some(1.5)
        );
    }

    #[test]
    fn prints_without_float_formatting() {
        let s = |x: f64| UnixTime::from_secs_f64(x).unwrap().to_string();
        assert_eq!(
            (
                s(0.0),
                s(1_700_000_000.0),
                s(1.5),
                s(2.25),
                s(1.0004),
                s(253_402_300_799.0)
            ),
            (
                "0".into(),
                "1700000000".into(),
                "1.5".into(),
                "2.25".into(),
                "1".into(),
                "253402300799".into()
            )
        );
        assert_eq!(s(253_402_300_798.999), "253402300798.999");
    }

    #[test]
    fn saturating_add_stays_in_range() {
        let t = UnixTime::from_secs(10).unwrap();
        assert_eq!(t.saturating_add_secs(-20.0), UnixTime::EPOCH);
        assert_eq!(t.saturating_add_secs(5.0).as_secs(), 15);
        assert_eq!(t.saturating_add_secs(f64::NAN), t);
    }
}
