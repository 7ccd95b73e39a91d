//! The table of each phase: every kind of error jwtkit-core returns, with its stable code and
//! message.

use crate::time::UnixTime;

use super::Segment;
use crate::error_table;

error_table! {
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
        } => "ERR_JWT_TOO_LARGE", "token is {len} bytes, over the limit of {max} bytes",
        /// The token does not have exactly three `.`-separated segments.
        SegmentCount {
            /// How many segments were found.
            found: usize,
        } => "ERR_JWT_MALFORMED",
            "token must have 3 dot-separated segments (header.payload.signature), found {found}",
        /// The token has five segments: a JWE (RFC 7516), which jwtkit does not accept.
        JweUnsupported => "ERR_JWE_UNSUPPORTED",
            "token is a JWE (5 segments); only JWS is accepted",
        /// The token is a JWS JSON serialization (RFC 7515 §7.2); only the compact form is accepted.
        JsonSerializationUnsupported => "ERR_JWS_JSON_SERIALIZATION_UNSUPPORTED",
            "token uses the JWS JSON serialization; only the compact form is accepted",
        /// A segment holds a byte outside the base64url alphabet `[A-Za-z0-9_-]`.
        InvalidCharacter {
            /// The segment with the byte.
            segment: Segment,
        } => "ERR_JWT_INVALID_CHARACTER",
            "{segment} segment has a character outside the base64url alphabet",
        /// A segment is not canonical unpadded base64url (impossible length or non-zero trailing bits).
        NonCanonicalBase64 {
            /// The offending segment.
            segment: Segment,
        } => "ERR_JWT_NON_CANONICAL_BASE64", "{segment} segment is not canonical unpadded base64url",
        /// The decoded header or payload is not UTF-8, or starts with a byte order mark.
        InvalidUtf8 {
            /// The offending segment.
            segment: Segment,
        } => "ERR_JWT_INVALID_UTF8", "{segment} is not UTF-8 without a byte order mark",
        /// The decoded header or payload is not valid JSON.
        InvalidJson {
            /// The offending segment.
            segment: Segment,
        } => "ERR_JWT_INVALID_JSON", "{segment} is not valid JSON",
        /// The header or payload is valid JSON but not a JSON object.
        NotAnObject {
            /// The offending segment.
            segment: Segment,
        } => "ERR_JWT_NOT_AN_OBJECT", "{segment} is not a JSON object",
        /// A JSON object holds the same member name twice (RFC 7515 §5.2, RFC 7519 §4).
        DuplicateMember {
            /// The offending segment.
            segment: Segment,
        } => "ERR_JWT_DUPLICATE_MEMBER", "{segment} has a duplicate member name",
        /// The JSON nests deeper than the limit.
        NestingTooDeep {
            /// The offending segment.
            segment: Segment,
            /// The limit on nesting depth.
            max: usize,
        } => "ERR_JWT_NESTING_TOO_DEEP", "{segment} JSON nests deeper than {max} levels",
        /// The header has no `alg` member (RFC 7515 §4.1.1).
        AlgorithmMissing => "ERR_JWS_ALG_MISSING", "header has no \"alg\" parameter",
        /// A header parameter has the wrong JSON type (e.g. a numeric `alg`).
        HeaderParameterInvalid {
            /// The header parameter's name.
            name: &'static str,
        } => "ERR_JWS_HEADER_INVALID", "header parameter \"{name}\" has the wrong type",
        /// The header has a `crit` member; jwtkit supports no extensions (RFC 7515 §4.1.11).
        CriticalHeaderUnsupported => "ERR_JWS_CRIT_UNSUPPORTED",
            "header has \"crit\"; no critical extensions are supported",
        /// The header has `b64` (RFC 7797 unencoded payload), which jwtkit does not accept.
        UnencodedPayloadUnsupported => "ERR_JWS_B64_UNSUPPORTED",
            "header has \"b64\"; unencoded payloads are not supported",
        /// The header says `cty: JWT`: a nested JWT (RFC 7519 §5.2), which jwtkit does not accept.
        NestedJwtUnsupported => "ERR_JWT_NESTED_UNSUPPORTED",
            "header says \"cty\": \"JWT\"; nested tokens are not supported",
        /// The header carries a key or key location (`jwk`, `jku`, `x5u`, `x5c`); jwtkit never
        /// trusts keys named by the token itself (RFC 8725 §3.10).
        EmbeddedKeyUnsupported {
            /// The header parameter's name.
            name: &'static str,
        } => "ERR_JWS_EMBEDDED_KEY_UNSUPPORTED",
            "header has \"{name}\"; keys named by the token itself are never trusted",
        /// A registered claim has the wrong type or an out-of-range value (RFC 7519 §4.1).
        ClaimInvalid {
            /// The claim's name.
            name: &'static str,
        } => "ERR_JWT_CLAIM_INVALID", "claim \"{name}\" has the wrong type or is out of range",
    }
}

error_table! {
    /// The algorithm, key selection or signature check failed.
    #[derive(Debug, Clone, PartialEq, Eq)]
    #[non_exhaustive]
    pub enum SignatureError {
        /// The header's `alg` is not one jwtkit implements (this includes `none`).
        AlgorithmUnsupported => "ERR_JOSE_ALG_UNSUPPORTED",
            "the \"alg\" header parameter names an unsupported algorithm",
        /// The header's `alg` is implemented but not in the policy's allow-list.
        AlgorithmNotAllowed => "ERR_JOSE_ALG_NOT_ALLOWED",
            "the \"alg\" header parameter names an algorithm that is not allowed",
        /// No configured key matches the token's `kid` and `alg`.
        NoMatchingKey => "ERR_JWKS_NO_MATCHING_KEY",
            "no configured key matches the token's \"kid\" and \"alg\"",
        /// The token has no `kid` and several configured keys could verify it.
        MultipleMatchingKeys => "ERR_JWKS_MULTIPLE_MATCHING_KEYS",
            "the token has no \"kid\" and several configured keys match its \"alg\"",
        /// The header's `alg` differs from the algorithm bound to the selected key.
        KeyAlgorithmMismatch => "ERR_JWS_KEY_ALG_MISMATCH",
            "the \"alg\" header parameter differs from the key's algorithm",
        /// The signature does not verify.
        VerificationFailed => "ERR_JWS_SIGNATURE_VERIFICATION_FAILED",
            "signature verification failed",
    }
}

error_table! {
    /// A claim does not satisfy the validation policy (RFC 7519 §4.1, RFC 8725 §3).
    #[derive(Debug, Clone, PartialEq)]
    #[non_exhaustive]
    pub enum ClaimsError {
        /// `now >= exp + leeway` (RFC 7519 §4.1.4).
        Expired {
            /// The token's `exp`.
            exp: UnixTime,
            /// The time of the check.
            now: UnixTime,
        } => "ERR_JWT_EXPIRED", "token expired: \"exp\" is {exp}, the time is {now}",
        /// `now < nbf - leeway` (RFC 7519 §4.1.5).
        NotYetValid {
            /// The token's `nbf`.
            nbf: UnixTime,
            /// The time of the check.
            now: UnixTime,
        } => "ERR_JWT_NOT_YET_VALID", "token is not yet valid: \"nbf\" is {nbf}, the time is {now}",
        /// `iat > now + leeway`: the token claims to be issued in the future.
        IssuedInFuture {
            /// The token's `iat`.
            iat: UnixTime,
            /// The time of the check.
            now: UnixTime,
        } => "ERR_JWT_ISSUED_IN_FUTURE",
            "token is issued in the future: \"iat\" is {iat}, the time is {now}",
        /// A claim the policy requires is absent.
        Missing {
            /// The claim's name.
            name: String,
        } => "ERR_JWT_CLAIM_MISSING", "required claim \"{name}\" is missing",
        /// `iss` differs from the expected issuer.
        IssuerMismatch => "ERR_JWT_ISSUER_MISMATCH", "\"iss\" is not the expected issuer",
        /// `iss` is present but the policy neither expects nor ignores an issuer.
        IssuerUnexpected => "ERR_JWT_ISSUER_UNEXPECTED", "\"iss\" is present but no issuer is expected",
        /// `aud` does not contain the expected audience.
        AudienceMismatch => "ERR_JWT_AUDIENCE_MISMATCH",
            "\"aud\" does not contain the expected audience",
        /// `aud` is present but the policy expects no audience (RFC 7519 §4.1.3).
        AudienceUnexpected => "ERR_JWT_AUDIENCE_UNEXPECTED",
            "\"aud\" is present but no audience is expected",
        /// The header's `typ` differs from the expected type, or is absent when one is expected.
        TypeMismatch => "ERR_JWT_TYPE_MISMATCH", "\"typ\" is not the expected token type",
        /// `typ` is present but the policy neither expects nor ignores a type.
        TypeUnexpected => "ERR_JWT_TYPE_UNEXPECTED", "\"typ\" is present but no type is expected",
    }
}

error_table! {
    /// A key or key set cannot be used.
    #[derive(Debug, Clone, PartialEq, Eq)]
    #[non_exhaustive]
    pub enum KeyError {
        /// The JWK is not valid JSON of the right shape, or a member is missing or malformed.
        InvalidJwk {
            /// What is wrong, without key material.
            reason: &'static str,
        } => "ERR_JWK_INVALID", "invalid JWK: {reason}",
        /// The key's algorithm is not one jwtkit implements, or none was given.
        AlgorithmUnsupported => "ERR_JWK_ALG_UNSUPPORTED",
            "the key's algorithm is missing or unsupported",
        /// The key type or curve does not fit the algorithm.
        AlgorithmMismatch => "ERR_JWK_ALG_MISMATCH",
            "the key's type or curve does not fit its algorithm",
        /// The key is weaker than the algorithm requires (RFC 7518 §3.2, §3.3; RFC 8725 §3.5).
        TooWeak {
            /// The minimum size in bits.
            min_bits: usize,
        } => "ERR_JWK_TOO_WEAK", "the key is too weak: at least {min_bits} bits are required",
        /// The JWK's `use` or `key_ops` does not allow signatures.
        UsageNotPermitted => "ERR_JWK_USAGE_NOT_PERMITTED",
            "the key's \"use\" or \"key_ops\" does not permit signatures",
        /// A public key cannot sign.
        NotAPrivateKey => "ERR_JWK_NOT_PRIVATE", "the key has no private part and cannot sign",
        /// No key in the set has the requested `kid`.
        KidNotFound => "ERR_JWKS_KID_NOT_FOUND", "no key in the set has the requested \"kid\"",
        /// Two keys in a set share a `kid`.
        DuplicateKeyId => "ERR_JWKS_DUPLICATE_KID", "two keys in the set share a \"kid\"",
        /// A key set mixes symmetric and asymmetric keys.
        MixedKeyTypes => "ERR_JWKS_MIXED_KEY_TYPES", "the key set mixes symmetric and asymmetric keys",
        /// A key set is empty.
        EmptyKeySet => "ERR_JWKS_EMPTY", "the key set is empty",
        /// The system's random number generator failed.
        RandomnessUnavailable => "ERR_RANDOMNESS_UNAVAILABLE",
            "the system random number generator failed",
    }
}

error_table! {
    /// A validation policy is inconsistent: a mistake of the code that builds it.
    #[derive(Debug, Clone, PartialEq, Eq)]
    #[non_exhaustive]
    pub enum PolicyError {
        /// The policy cannot be built as asked (e.g. leeway over the cap).
        Invalid {
            /// What is wrong.
            reason: &'static str,
        } => "ERR_POLICY_INVALID", "invalid validation policy: {reason}",
    }
}

error_table! {
    /// The current time cannot be read: nothing time-bound can be judged, so nothing is
    /// accepted (a clock that fell back to a default would accept expired tokens).
    #[derive(Debug, Clone, PartialEq, Eq)]
    #[non_exhaustive]
    pub enum ClockError {
        /// The clock could not be read, or reads a time outside the NumericDate range.
        Unavailable => "ERR_CLOCK_UNAVAILABLE", "the current time cannot be read",
    }
}
