//! Errors, one enum per phase, each variant with a stable `code()`.
//!
//! Codes follow the `ERR_*` style of panva/jose so that callers (Rust, JavaScript, HTTP
//! clients) switch on a string that never changes. Messages describe the rule that failed;
//! they never contain the token, a segment of it, or key material.

use core::fmt;

/// Any error of jwtkit-core: a malformed token, a failed signature check, a claim that does
/// not satisfy the validation policy, or a key that cannot be loaded.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Error {
    /// The token is not a well-formed compact JWS/JWT (see [`MalformedError`]).
    Malformed(MalformedError),
    /// The signature, algorithm or key selection failed (see [`SignatureError`]).
    Signature(SignatureError),
    /// The claims do not satisfy the validation policy (see [`ClaimsError`]).
    Claims(ClaimsError),
    /// A key, key set or policy is not acceptable (see [`KeyError`]).
    Key(KeyError),
}

impl Error {
    /// The stable error code, e.g. `ERR_JWT_EXPIRED`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Malformed(e) => e.code(),
            Self::Signature(e) => e.code(),
            Self::Claims(e) => e.code(),
            Self::Key(e) => e.code(),
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
        }
    }
}

impl std::error::Error for Error {}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn seconds_print_without_float_formatting() {
        let s = |x: f64| Secs(x).to_string();
        assert_eq!(
            (
                s(0.0),
                s(1_700_000_000.0),
                s(1.5),
                s(2.25),
                s(1.0004),
                s(253_402_300_799.999)
            ),
            (
                "0".into(),
                "1700000000".into(),
                "1.5".into(),
                "2.25".into(),
                "1".into(),
                "253402300799.999".into()
            )
        );
    }
}

macro_rules! from_phase {
    ($($phase:ident => $variant:ident),*) => {$(
        impl From<$phase> for Error {
            fn from(e: $phase) -> Self {
                Self::$variant(e)
            }
        }
        impl std::error::Error for $phase {}
    )*};
}
from_phase!(MalformedError => Malformed, SignatureError => Signature, ClaimsError => Claims, KeyError => Key);

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

/// The token is not a well-formed compact JWS (RFC 7515 §7.1) carrying a JWT (RFC 7519 §7.2).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum MalformedError {
    /// The token is longer than the configured limit; nothing else was examined.
    TooLarge {
        /// Length of the token in bytes.
        len: usize,
        /// The configured limit in bytes.
        max: usize,
    },
    /// The token does not have exactly three `.`-separated segments.
    SegmentCount {
        /// How many segments were found.
        found: usize,
    },
    /// The token has five segments: a JWE (RFC 7516), which jwtkit does not accept.
    JweUnsupported,
    /// The token is a JWS JSON serialization (RFC 7515 §7.2); only the compact form is accepted.
    JsonSerializationUnsupported,
    /// A segment holds a byte outside the base64url alphabet `[A-Za-z0-9_-]`.
    InvalidCharacter {
        /// The segment with the byte.
        segment: Segment,
    },
    /// A segment is not canonical unpadded base64url (impossible length or non-zero trailing bits).
    NonCanonicalBase64 {
        /// The offending segment.
        segment: Segment,
    },
    /// The decoded header or payload is not UTF-8, or starts with a byte order mark.
    InvalidUtf8 {
        /// The offending segment.
        segment: Segment,
    },
    /// The decoded header or payload is not valid JSON.
    InvalidJson {
        /// The offending segment.
        segment: Segment,
    },
    /// The header or payload is valid JSON but not a JSON object.
    NotAnObject {
        /// The offending segment.
        segment: Segment,
    },
    /// A JSON object holds the same member name twice (RFC 7515 §5.2, RFC 7519 §4).
    DuplicateMember {
        /// The offending segment.
        segment: Segment,
    },
    /// The JSON nests deeper than the limit.
    NestingTooDeep {
        /// The offending segment.
        segment: Segment,
        /// The limit on nesting depth.
        max: usize,
    },
    /// The header has no `alg` member (RFC 7515 §4.1.1).
    AlgorithmMissing,
    /// A header parameter has the wrong JSON type (e.g. a numeric `alg`).
    HeaderParameterInvalid {
        /// The header parameter's name.
        name: &'static str,
    },
    /// The header has a `crit` member; jwtkit supports no extensions (RFC 7515 §4.1.11).
    CriticalHeaderUnsupported,
    /// The header has `b64` (RFC 7797 unencoded payload), which jwtkit does not accept.
    UnencodedPayloadUnsupported,
    /// The header says `cty: JWT`: a nested JWT (RFC 7519 §5.2), which jwtkit does not accept.
    NestedJwtUnsupported,
    /// The header carries a key or key location (`jwk`, `jku`, `x5u`, `x5c`); jwtkit never
    /// trusts keys named by the token itself (RFC 8725 §3.10).
    EmbeddedKeyUnsupported {
        /// The header parameter's name.
        name: &'static str,
    },
    /// A registered claim has the wrong type or an out-of-range value (RFC 7519 §4.1).
    ClaimInvalid {
        /// The claim's name.
        name: &'static str,
    },
}

impl MalformedError {
    /// The stable error code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::TooLarge { .. } => "ERR_JWT_TOO_LARGE",
            Self::SegmentCount { .. } => "ERR_JWT_MALFORMED",
            Self::JweUnsupported => "ERR_JWE_UNSUPPORTED",
            Self::JsonSerializationUnsupported => "ERR_JWS_JSON_SERIALIZATION_UNSUPPORTED",
            Self::InvalidCharacter { .. } => "ERR_JWT_INVALID_CHARACTER",
            Self::NonCanonicalBase64 { .. } => "ERR_JWT_NON_CANONICAL_BASE64",
            Self::InvalidUtf8 { .. } => "ERR_JWT_INVALID_UTF8",
            Self::InvalidJson { .. } => "ERR_JWT_INVALID_JSON",
            Self::NotAnObject { .. } => "ERR_JWT_NOT_AN_OBJECT",
            Self::DuplicateMember { .. } => "ERR_JWT_DUPLICATE_MEMBER",
            Self::NestingTooDeep { .. } => "ERR_JWT_NESTING_TOO_DEEP",
            Self::AlgorithmMissing => "ERR_JWS_ALG_MISSING",
            Self::HeaderParameterInvalid { .. } => "ERR_JWS_HEADER_INVALID",
            Self::CriticalHeaderUnsupported => "ERR_JWS_CRIT_UNSUPPORTED",
            Self::UnencodedPayloadUnsupported => "ERR_JWS_B64_UNSUPPORTED",
            Self::NestedJwtUnsupported => "ERR_JWT_NESTED_UNSUPPORTED",
            Self::EmbeddedKeyUnsupported { .. } => "ERR_JWS_EMBEDDED_KEY_UNSUPPORTED",
            Self::ClaimInvalid { .. } => "ERR_JWT_CLAIM_INVALID",
        }
    }
}

impl fmt::Display for MalformedError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooLarge { len, max } => {
                write!(f, "token is {len} bytes, over the limit of {max} bytes")
            }
            Self::SegmentCount { found } => write!(
                f,
                "token must have 3 dot-separated segments (header.payload.signature), found {found}"
            ),
            Self::JweUnsupported => {
                f.write_str("token is a JWE (5 segments); only JWS is accepted")
            }
            Self::JsonSerializationUnsupported => f.write_str(
                "token uses the JWS JSON serialization; only the compact form is accepted",
            ),
            Self::InvalidCharacter { segment } => {
                write!(
                    f,
                    "{segment} segment has a character outside the base64url alphabet"
                )
            }
            Self::NonCanonicalBase64 { segment } => {
                write!(f, "{segment} segment is not canonical unpadded base64url")
            }
            Self::InvalidUtf8 { segment } => {
                write!(f, "{segment} is not UTF-8 without a byte order mark")
            }
            Self::InvalidJson { segment } => write!(f, "{segment} is not valid JSON"),
            Self::NotAnObject { segment } => write!(f, "{segment} is not a JSON object"),
            Self::DuplicateMember { segment } => {
                write!(f, "{segment} has a duplicate member name")
            }
            Self::NestingTooDeep { segment, max } => {
                write!(f, "{segment} JSON nests deeper than {max} levels")
            }
            Self::AlgorithmMissing => f.write_str("header has no \"alg\" parameter"),
            Self::HeaderParameterInvalid { name } => {
                write!(f, "header parameter \"{name}\" has the wrong type")
            }
            Self::CriticalHeaderUnsupported => {
                f.write_str("header has \"crit\"; no critical extensions are supported")
            }
            Self::UnencodedPayloadUnsupported => {
                f.write_str("header has \"b64\"; unencoded payloads are not supported")
            }
            Self::NestedJwtUnsupported => {
                f.write_str("header says \"cty\": \"JWT\"; nested tokens are not supported")
            }
            Self::EmbeddedKeyUnsupported { name } => write!(
                f,
                "header has \"{name}\"; keys named by the token itself are never trusted"
            ),
            Self::ClaimInvalid { name } => {
                write!(f, "claim \"{name}\" has the wrong type or is out of range")
            }
        }
    }
}

/// The algorithm, key selection or signature check failed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SignatureError {
    /// The header's `alg` is not one jwtkit implements (this includes `none`).
    AlgorithmUnsupported,
    /// The header's `alg` is implemented but not in the policy's allow-list.
    AlgorithmNotAllowed,
    /// No configured key matches the token's `kid` and `alg`.
    NoMatchingKey,
    /// The token has no `kid` and several configured keys could verify it.
    MultipleMatchingKeys,
    /// The header's `alg` differs from the algorithm bound to the selected key.
    KeyAlgorithmMismatch,
    /// The signature does not verify.
    VerificationFailed,
}

impl SignatureError {
    /// The stable error code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::AlgorithmUnsupported => "ERR_JOSE_ALG_UNSUPPORTED",
            Self::AlgorithmNotAllowed => "ERR_JOSE_ALG_NOT_ALLOWED",
            Self::NoMatchingKey => "ERR_JWKS_NO_MATCHING_KEY",
            Self::MultipleMatchingKeys => "ERR_JWKS_MULTIPLE_MATCHING_KEYS",
            Self::KeyAlgorithmMismatch => "ERR_JWS_KEY_ALG_MISMATCH",
            Self::VerificationFailed => "ERR_JWS_SIGNATURE_VERIFICATION_FAILED",
        }
    }
}

impl fmt::Display for SignatureError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::AlgorithmUnsupported => {
                "the \"alg\" header parameter names an unsupported algorithm"
            }
            Self::AlgorithmNotAllowed => {
                "the \"alg\" header parameter names an algorithm that is not allowed"
            }
            Self::NoMatchingKey => "no configured key matches the token's \"kid\" and \"alg\"",
            Self::MultipleMatchingKeys => {
                "the token has no \"kid\" and several configured keys match its \"alg\""
            }
            Self::KeyAlgorithmMismatch => {
                "the \"alg\" header parameter differs from the key's algorithm"
            }
            Self::VerificationFailed => "signature verification failed",
        })
    }
}

/// A claim does not satisfy the validation policy (RFC 7519 §4.1, RFC 8725 §3).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum ClaimsError {
    /// `now >= exp + leeway` (RFC 7519 §4.1.4).
    Expired {
        /// The token's `exp`, in seconds since the epoch.
        exp: f64,
        /// The time of the check, in seconds since the epoch.
        now: f64,
    },
    /// `now < nbf - leeway` (RFC 7519 §4.1.5).
    NotYetValid {
        /// The token's `nbf`, in seconds since the epoch.
        nbf: f64,
        /// The time of the check, in seconds since the epoch.
        now: f64,
    },
    /// `iat > now + leeway`: the token claims to be issued in the future.
    IssuedInFuture {
        /// The token's `iat`, in seconds since the epoch.
        iat: f64,
        /// The time of the check, in seconds since the epoch.
        now: f64,
    },
    /// A claim the policy requires is absent.
    Missing {
        /// The claim's name.
        name: String,
    },
    /// `iss` differs from the expected issuer.
    IssuerMismatch,
    /// `aud` does not contain the expected audience.
    AudienceMismatch,
    /// `aud` is present but the policy expects no audience (RFC 7519 §4.1.3).
    AudienceUnexpected,
    /// `iss` is present but the policy neither expects nor ignores an issuer.
    IssuerUnexpected,
    /// The header's `typ` differs from the expected type, or is absent when one is expected.
    TypeMismatch,
    /// `typ` is present but the policy neither expects nor ignores a type.
    TypeUnexpected,
}

impl ClaimsError {
    /// The stable error code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Expired { .. } => "ERR_JWT_EXPIRED",
            Self::NotYetValid { .. } => "ERR_JWT_NOT_YET_VALID",
            Self::IssuedInFuture { .. } => "ERR_JWT_ISSUED_IN_FUTURE",
            Self::Missing { .. } => "ERR_JWT_CLAIM_MISSING",
            Self::IssuerMismatch => "ERR_JWT_ISSUER_MISMATCH",
            Self::AudienceMismatch => "ERR_JWT_AUDIENCE_MISMATCH",
            Self::AudienceUnexpected => "ERR_JWT_AUDIENCE_UNEXPECTED",
            Self::IssuerUnexpected => "ERR_JWT_ISSUER_UNEXPECTED",
            Self::TypeMismatch => "ERR_JWT_TYPE_MISMATCH",
            Self::TypeUnexpected => "ERR_JWT_TYPE_UNEXPECTED",
        }
    }
}

impl fmt::Display for ClaimsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Expired { exp, now } => {
                write!(
                    f,
                    "token expired: \"exp\" is {}, the time is {}",
                    Secs(*exp),
                    Secs(*now)
                )
            }
            Self::NotYetValid { nbf, now } => {
                write!(
                    f,
                    "token is not yet valid: \"nbf\" is {}, the time is {}",
                    Secs(*nbf),
                    Secs(*now)
                )
            }
            Self::IssuedInFuture { iat, now } => {
                write!(
                    f,
                    "token is issued in the future: \"iat\" is {}, the time is {}",
                    Secs(*iat),
                    Secs(*now)
                )
            }
            Self::Missing { name } => write!(f, "required claim \"{name}\" is missing"),
            Self::IssuerMismatch => f.write_str("\"iss\" is not the expected issuer"),
            Self::AudienceMismatch => f.write_str("\"aud\" does not contain the expected audience"),
            Self::AudienceUnexpected => {
                f.write_str("\"aud\" is present but no audience is expected")
            }
            Self::IssuerUnexpected => f.write_str("\"iss\" is present but no issuer is expected"),
            Self::TypeMismatch => f.write_str("\"typ\" is not the expected token type"),
            Self::TypeUnexpected => f.write_str("\"typ\" is present but no type is expected"),
        }
    }
}

/// Seconds since the epoch, printed with integer arithmetic only (whole seconds, or with
/// milliseconds when fractional): float formatting would add kilobytes to the wasm build.
pub(crate) struct Secs(pub(crate) f64);

impl fmt::Display for Secs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // NumericDates are within 0..=253402300799, so the millisecond count fits an i64.
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

/// A key, key set or validation policy cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyError {
    /// The JWK is not valid JSON of the right shape, or a member is missing or malformed.
    InvalidJwk {
        /// What is wrong, without key material.
        reason: &'static str,
    },
    /// The key's algorithm is not one jwtkit implements, or none was given.
    AlgorithmUnsupported,
    /// The key type or curve does not fit the algorithm.
    AlgorithmMismatch,
    /// The key is weaker than the algorithm requires (RFC 7518 §3.2, §3.3; RFC 8725 §3.5).
    TooWeak {
        /// The minimum size in bits.
        min_bits: usize,
    },
    /// The JWK's `use` or `key_ops` does not allow signatures.
    UsageNotPermitted,
    /// A public key cannot sign.
    NotAPrivateKey,
    /// Two keys in a set share a `kid`.
    DuplicateKeyId,
    /// A key set mixes symmetric and asymmetric keys.
    MixedKeyTypes,
    /// A key set is empty.
    EmptyKeySet,
    /// The validation policy is inconsistent (e.g. leeway over the cap).
    InvalidPolicy {
        /// What is wrong.
        reason: &'static str,
    },
    /// The system's random number generator failed.
    RandomnessUnavailable,
}

impl KeyError {
    /// The stable error code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidJwk { .. } => "ERR_JWK_INVALID",
            Self::AlgorithmUnsupported => "ERR_JWK_ALG_UNSUPPORTED",
            Self::AlgorithmMismatch => "ERR_JWK_ALG_MISMATCH",
            Self::TooWeak { .. } => "ERR_JWK_TOO_WEAK",
            Self::UsageNotPermitted => "ERR_JWK_USAGE_NOT_PERMITTED",
            Self::NotAPrivateKey => "ERR_JWK_NOT_PRIVATE",
            Self::DuplicateKeyId => "ERR_JWKS_DUPLICATE_KID",
            Self::MixedKeyTypes => "ERR_JWKS_MIXED_KEY_TYPES",
            Self::EmptyKeySet => "ERR_JWKS_EMPTY",
            Self::InvalidPolicy { .. } => "ERR_POLICY_INVALID",
            Self::RandomnessUnavailable => "ERR_RANDOMNESS_UNAVAILABLE",
        }
    }
}

impl fmt::Display for KeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidJwk { reason } => write!(f, "invalid JWK: {reason}"),
            Self::AlgorithmUnsupported => {
                f.write_str("the key's algorithm is missing or unsupported")
            }
            Self::AlgorithmMismatch => {
                f.write_str("the key's type or curve does not fit its algorithm")
            }
            Self::TooWeak { min_bits } => {
                write!(
                    f,
                    "the key is too weak: at least {min_bits} bits are required"
                )
            }
            Self::UsageNotPermitted => {
                f.write_str("the key's \"use\" or \"key_ops\" does not permit signatures")
            }
            Self::NotAPrivateKey => f.write_str("the key has no private part and cannot sign"),
            Self::DuplicateKeyId => f.write_str("two keys in the set share a \"kid\""),
            Self::MixedKeyTypes => f.write_str("the key set mixes symmetric and asymmetric keys"),
            Self::EmptyKeySet => f.write_str("the key set is empty"),
            Self::InvalidPolicy { reason } => write!(f, "invalid validation policy: {reason}"),
            Self::RandomnessUnavailable => f.write_str("the system random number generator failed"),
        }
    }
}
