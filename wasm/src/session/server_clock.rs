//! Judging a session's token on the server's clock: the offset, where it came from, and the
//! refresh margin.

use jwtkit_core::UnixTime;

/// How far a `Date` header may lie before the fresh token's `iat` and still be believed: the
/// header has whole seconds and is written after the token.
const DATE_SLACK_SECONDS: f64 = 5.0;
/// `Date` and `iat` are whole seconds, rounded down: at receipt the server's clock may be up
/// to this much later. Taken as that much later, so that rounding never makes a token look
/// fresher than it is (a token then looks expired up to a second early, never late).
const ROUNDING_SECONDS: f64 = 1.0;
/// The refresh margin: at most this, or a fifth of the token's lifetime if that is less.
const MAX_MARGIN_SECONDS: f64 = 30.0;

/// Where a session's clock offset came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ClockSource {
    /// The response's `Date` header, consistent with the fresh token.
    Date,
    /// The fresh token's `iat` (no `Date`, or one inconsistent with the token).
    Iat,
    /// Given by the caller (a token restored from elsewhere says nothing about clocks).
    Explicit,
    /// Another tab's estimate, with the token it passed on (until the next fresh token).
    Tab,
}

impl ClockSource {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Date => "date",
            Self::Iat => "iat",
            Self::Explicit => "explicit",
            Self::Tab => "tab",
        }
    }
}

/// The offset (server clock minus local clock) for a token received at `local`: the
/// server's `Date` when it is consistent with the fresh token (`iat − slack ≤ date < exp`),
/// else its `iat`, plus the rounding of either; a `Date` that would make the fresh token look
/// expired, or issued in the future, is not believed.
pub(crate) fn estimate_offset(
    local: f64,
    server_date: Option<f64>,
    iat: Option<UnixTime>,
    exp: UnixTime,
) -> (f64, ClockSource) {
    let exp = exp.as_secs_f64();
    let iat = iat.map(UnixTime::as_secs_f64);
    let (server, source) = match (server_date, iat) {
        (Some(date), Some(iat)) if iat - DATE_SLACK_SECONDS <= date && date < exp => {
            (date, ClockSource::Date)
        }
        (_, Some(iat)) => (iat, ClockSource::Iat),
        (Some(date), None) if date < exp => (date, ClockSource::Date),
        _ => return (0.0, ClockSource::Explicit),
    };
    (server + ROUNDING_SECONDS - local, source)
}

/// How long before `exp` a token is refreshed: `explicit`, or 30 s or a fifth of its lifetime,
/// whichever is smaller.
pub(crate) fn refresh_margin(explicit: Option<f64>, iat: Option<UnixTime>, exp: UnixTime) -> f64 {
    explicit.unwrap_or_else(|| {
        let lifetime = iat.map(|iat| exp.as_secs_f64() - iat.as_secs_f64());
        lifetime.map_or(MAX_MARGIN_SECONDS, |l| {
            (l / 5.0).clamp(0.0, MAX_MARGIN_SECONDS)
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn t(secs: i64) -> UnixTime {
        UnixTime::from_secs(secs).unwrap()
    }

    #[test]
    fn a_date_is_believed_only_when_it_fits_the_fresh_token() {
        let (iat, exp) = (Some(t(1000)), t(1180));
        // Local clock 100 s behind; the Date agrees with the token.
        assert_eq!(
            estimate_offset(900.0, Some(1001.0), iat, exp),
            (102.0, ClockSource::Date)
        );
        // A Date an hour behind would send expired tokens for an hour: not believed.
        assert_eq!(
            estimate_offset(900.0, Some(-2600.0), iat, exp),
            (101.0, ClockSource::Iat)
        );
        // One at or past exp would make every fresh token look expired: not believed.
        assert_eq!(
            estimate_offset(900.0, Some(1180.0), iat, exp),
            (101.0, ClockSource::Iat)
        );
        assert_eq!(
            estimate_offset(900.0, None, iat, exp),
            (101.0, ClockSource::Iat)
        );
        assert_eq!(
            estimate_offset(900.0, Some(995.5), iat, exp),
            (96.5, ClockSource::Date)
        );
    }

    #[test]
    fn the_margin_is_30_s_or_a_fifth_of_the_lifetime() {
        assert_eq!(refresh_margin(None, Some(t(0)), t(180)), 30.0);
        assert_eq!(refresh_margin(None, Some(t(0)), t(60)), 12.0);
        assert_eq!(refresh_margin(None, None, t(60)), 30.0);
        assert_eq!(refresh_margin(Some(5.0), Some(t(0)), t(180)), 5.0);
    }
}
