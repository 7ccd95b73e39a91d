//! Errors: one table per phase. Each variant is declared once, with its fields, its stable
//! `code()` and its message; [`error_table!`] derives the enum, `code()`, `Display` and the
//! list of codes from that one declaration.
//!
//! Codes follow the `ERR_*` style of panva/jose so that callers (Rust, JavaScript, HTTP
//! clients) switch on a string that never changes. Messages describe the rule that failed;
//! they never contain the token, a segment of it, or key material.

use core::fmt;

mod phases;

pub use phases::{ClaimsError, ClockError, KeyError, MalformedError, PolicyError, SignatureError};

/// Declares an error enum from a table: each variant with its fields, `=> "CODE", "message"`
/// (a format string over the fields). Derives the enum, `code()`, `Display`,
/// `std::error::Error` and `TABLE` (a list of [`ErrorEntry`]). jwtkit's other crates
/// declare their own errors with it.
///
/// ```
/// jwtkit_core::error_table! {
///     /// Why a widget failed.
///     #[derive(Debug)]
///     pub enum WidgetError {
///         /// Too big.
///         TooBig { size: usize } => "ERR_WIDGET_TOO_BIG", "widget is {size} units",
///         /// Missing.
///         Missing => "ERR_WIDGET_MISSING", "no widget",
///     }
/// }
/// assert_eq!(WidgetError::TooBig { size: 3 }.to_string(), "widget is 3 units");
/// assert_eq!(WidgetError::TABLE[1].code, "ERR_WIDGET_MISSING");
/// ```
#[macro_export]
macro_rules! error_table {
    (
        $(#[$attr:meta])*
        pub enum $name:ident {
            $(
                $(#[$vattr:meta])*
                $variant:ident $({ $($(#[$fattr:meta])* $field:ident : $fty:ty),+ $(,)? })?
                    => $code:literal, $message:literal
            ),+ $(,)?
        }
    ) => {
        $(#[$attr])*
        pub enum $name {
            $( $(#[$vattr])* $variant $({ $($(#[$fattr])* $field: $fty),+ })?, )+
        }

        impl $name {
            /// Every kind of this enum, in declaration order: its code and message template.
            pub const TABLE: &'static [$crate::ErrorEntry] =
                &[$($crate::ErrorEntry { code: $code, message: $message }),+];

            /// The stable error code.
            pub fn code(&self) -> &'static str {
                match self {
                    $( Self::$variant { .. } => $code, )+
                }
            }
        }

        impl ::core::fmt::Display for $name {
            #[allow(unused_variables)]
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                match self {
                    $( Self::$variant $({ $($field),+ })? => write!(f, $message), )+
                }
            }
        }

        impl ::std::error::Error for $name {}
    };
}

/// One row of an error table: a stable code and its message template (`{name}` stands for
/// a detail of the error, never for a token or key material).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ErrorEntry {
    /// The stable code, e.g. `ERR_JWT_EXPIRED`.
    pub code: &'static str,
    /// The message, with `{field}` placeholders for the error's details.
    pub message: &'static str,
}

/// Any error of jwtkit-core: a malformed token, a failed signature check, a claim that does
/// not satisfy the validation policy, a key or policy that cannot be used, or a clock that
/// cannot be read.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Error {
    /// The token is not a well-formed compact JWS/JWT (see [`MalformedError`]).
    Malformed(MalformedError),
    /// The signature, algorithm or key selection failed (see [`SignatureError`]).
    Signature(SignatureError),
    /// The claims do not satisfy the validation policy (see [`ClaimsError`]).
    Claims(ClaimsError),
    /// A key or key set is not acceptable (see [`KeyError`]).
    Key(KeyError),
    /// A validation policy is inconsistent (see [`PolicyError`]).
    Policy(PolicyError),
    /// The current time is unknown, so no token can be judged (see [`ClockError`]).
    Clock(ClockError),
}

/// The phase of verification (or of setting it up) an [`Error`] belongs to: each has its
/// own table of codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Phase {
    /// The token is not well formed ([`MalformedError`]).
    Malformed,
    /// The signature, algorithm or key selection failed ([`SignatureError`]).
    Signature,
    /// The claims do not satisfy the policy ([`ClaimsError`]).
    Claims,
    /// A key or key set is not acceptable ([`KeyError`]).
    Keys,
    /// A validation policy is inconsistent ([`PolicyError`]).
    Policy,
    /// The current time is unknown ([`ClockError`]).
    Clock,
}

impl Phase {
    /// Its name in the documentation's tables.
    pub fn name(self) -> &'static str {
        match self {
            Self::Malformed => "malformed",
            Self::Signature => "signature",
            Self::Claims => "claims",
            Self::Keys => "keys",
            Self::Policy => "policy",
            Self::Clock => "clock",
        }
    }
}

impl fmt::Display for Phase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl Error {
    /// Every phase's table: what the documentation lists.
    pub const TABLES: [(Phase, &'static [ErrorEntry]); 6] = [
        (Phase::Malformed, MalformedError::TABLE),
        (Phase::Signature, SignatureError::TABLE),
        (Phase::Claims, ClaimsError::TABLE),
        (Phase::Keys, KeyError::TABLE),
        (Phase::Policy, PolicyError::TABLE),
        (Phase::Clock, ClockError::TABLE),
    ];

    /// The phase this error belongs to.
    pub fn phase(&self) -> Phase {
        match self {
            Self::Malformed(_) => Phase::Malformed,
            Self::Signature(_) => Phase::Signature,
            Self::Claims(_) => Phase::Claims,
            Self::Key(_) => Phase::Keys,
            Self::Policy(_) => Phase::Policy,
            Self::Clock(_) => Phase::Clock,
        }
    }

    /// The stable error code, e.g. `ERR_JWT_EXPIRED`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Malformed(e) => e.code(),
            Self::Signature(e) => e.code(),
            Self::Claims(e) => e.code(),
            Self::Key(e) => e.code(),
            Self::Policy(e) => e.code(),
            Self::Clock(e) => e.code(),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Malformed(e) => e.fmt(f),
            Self::Signature(e) => e.fmt(f),
            Self::Claims(e) => e.fmt(f),
            Self::Key(e) => e.fmt(f),
            Self::Policy(e) => e.fmt(f),
            Self::Clock(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for Error {}

macro_rules! from_phase {
    ($($phase:ident => $variant:ident),*) => {$(
        impl From<$phase> for Error {
            fn from(e: $phase) -> Self {
                Self::$variant(e)
            }
        }
    )*};
}
from_phase!(
    MalformedError => Malformed,
    SignatureError => Signature,
    ClaimsError => Claims,
    KeyError => Key,
    PolicyError => Policy,
    ClockError => Clock
);

/// Which part of a compact token a parsing error is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Segment {
    /// The JOSE header (first segment).
    Header,
    /// The payload, i.e. the JWT claims set (second segment).
    Payload,
    /// The signature (third segment).
    Signature,
}

impl fmt::Display for Segment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Header => "header",
            Self::Payload => "payload",
            Self::Signature => "signature",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::UnixTime;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn codes_are_distinct_and_match_code() {
        let all: Vec<&str> = Error::TABLES
            .iter()
            .flat_map(|(_, table)| table.iter().map(|e| e.code))
            .collect();
        let mut sorted = all.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), all.len(), "two kinds share a code");
        assert!(all.iter().all(|c| c.starts_with("ERR_")));
        assert_eq!(
            ClaimsError::IssuerUnexpected.code(),
            ClaimsError::TABLE[5].code,
            "CODES follows the declaration order"
        );
    }

    #[test]
    fn messages_come_from_the_table() {
        let t = |s| UnixTime::from_secs(s).unwrap();
        assert_eq!(
            ClaimsError::Expired {
                exp: t(10),
                now: t(20)
            }
            .to_string(),
            "token expired: \"exp\" is 10, the time is 20"
        );
        assert_eq!(
            MalformedError::NestingTooDeep {
                segment: Segment::Payload,
                max: 16
            }
            .to_string(),
            "payload JSON nests deeper than 16 levels"
        );
        assert_eq!(
            Error::from(ClockError::Unavailable).code(),
            "ERR_CLOCK_UNAVAILABLE"
        );
    }

    #[test]
    fn each_error_is_in_its_phase_table() {
        let t = UnixTime::EPOCH;
        for error in [
            Error::from(MalformedError::JweUnsupported),
            SignatureError::VerificationFailed.into(),
            ClaimsError::Expired { exp: t, now: t }.into(),
            KeyError::EmptyKeySet.into(),
            PolicyError::Invalid { reason: "x" }.into(),
            ClockError::Unavailable.into(),
        ] {
            let (_, table) = Error::TABLES
                .iter()
                .find(|(phase, _)| *phase == error.phase())
                .unwrap();
            assert!(table.iter().any(|e| e.code == error.code()), "{error:?}");
        }
    }
}
