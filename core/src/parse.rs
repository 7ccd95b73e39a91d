//! The one strict parser for compact JWS tokens (RFC 7515 §7.1) and the JWTs they carry.
//!
//! Checks run in a fixed order, each before any work the next one needs: the byte-length
//! cap, exactly three segments, the base64url alphabet, canonical base64url, UTF-8 without a
//! byte order mark, JSON objects without duplicate members and with bounded nesting, then the
//! header rules of [`Header`].

use crate::b64;
use crate::claims::Claims;
use crate::error::{MalformedError, Segment};
use crate::header::Header;
use crate::json;

/// The default cap on a token's length in bytes.
pub const DEFAULT_MAX_BYTES: usize = 8 * 1024;

/// Limits applied before a token is examined.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParseOptions {
    max_bytes: usize,
}

impl ParseOptions {
    /// Limits with the given cap on a token's length in bytes.
    pub fn with_max_bytes(max_bytes: usize) -> Self {
        Self { max_bytes }
    }

    /// The cap on a token's length in bytes.
    pub fn max_bytes(&self) -> usize {
        self.max_bytes
    }
}

impl Default for ParseOptions {
    /// An 8 KiB cap.
    fn default() -> Self {
        Self::with_max_bytes(DEFAULT_MAX_BYTES)
    }
}

/// A compact JWS whose structure and header passed every check; its signature is unchecked.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Jws<'t> {
    pub(crate) header: Header,
    /// The header's JSON text, exactly as decoded.
    pub(crate) header_json: String,
    pub(crate) payload: Vec<u8>,
    pub(crate) signature: Vec<u8>,
    /// `BASE64URL(header) || '.' || BASE64URL(payload)`: the bytes the signature covers.
    pub(crate) signing_input: &'t [u8],
}

/// Parses a compact JWS with any payload (the JWS layer; JWTs add [`parse_claims`]).
pub(crate) fn parse_jws<'t>(
    token: &'t str,
    options: &ParseOptions,
) -> Result<Jws<'t>, MalformedError> {
    let bytes = token.as_bytes();
    if bytes.len() > options.max_bytes {
        return Err(MalformedError::TooLarge {
            len: bytes.len(),
            max: options.max_bytes,
        });
    }
    if bytes.first() == Some(&b'{') {
        return Err(MalformedError::JsonSerializationUnsupported);
    }
    let mut segments = [&bytes[..0]; 3];
    let mut count = 0;
    for segment in bytes.split(|&b| b == b'.') {
        if let Some(slot) = segments.get_mut(count) {
            *slot = segment;
        }
        count += 1;
    }
    match count {
        3 => {}
        5 => return Err(MalformedError::JweUnsupported),
        found => return Err(MalformedError::SegmentCount { found }),
    }
    let [header, payload, signature] = segments;
    for (segment, text) in [
        (Segment::Header, header),
        (Segment::Payload, payload),
        (Segment::Signature, signature),
    ] {
        if !b64::is_alphabet(text) {
            return Err(MalformedError::InvalidCharacter { segment });
        }
    }
    let decode =
        |segment, text| b64::decode(text).ok_or(MalformedError::NonCanonicalBase64 { segment });
    let header_bytes = decode(Segment::Header, header)?;
    let payload_bytes = decode(Segment::Payload, payload)?;
    let signature_bytes = decode(Segment::Signature, signature)?;

    let header_json = utf8_string(header_bytes, Segment::Header)?;
    let header_map = json::parse_object(&header_json).map_err(|f| f.in_segment(Segment::Header))?;
    Ok(Jws {
        header: Header::from_object(header_map)?,
        header_json,
        payload: payload_bytes,
        signature: signature_bytes,
        signing_input: &bytes[..header.len() + 1 + payload.len()],
    })
}

/// Parses a JWS payload as a JWT claims set.
#[cfg(any(feature = "crypto", test))]
pub(crate) fn parse_claims(payload: &[u8]) -> Result<Claims, MalformedError> {
    let text = utf8(payload, Segment::Payload)?;
    parse_claims_text(text)
}

/// Parses claims already known to be UTF-8 without a byte order mark.
pub(crate) fn parse_claims_text(text: &str) -> Result<Claims, MalformedError> {
    Claims::from_object(json::parse_object(text).map_err(|f| f.in_segment(Segment::Payload))?)
}

#[cfg(any(feature = "crypto", test))]
fn utf8(bytes: &[u8], segment: Segment) -> Result<&str, MalformedError> {
    match core::str::from_utf8(bytes) {
        Ok(text) if !text.starts_with('\u{feff}') => Ok(text),
        _ => Err(MalformedError::InvalidUtf8 { segment }),
    }
}

/// Checks UTF-8 without a byte order mark, keeping the bytes as a `String` (validated once).
pub(crate) fn utf8_string(bytes: Vec<u8>, segment: Segment) -> Result<String, MalformedError> {
    match String::from_utf8(bytes) {
        Ok(text) if !text.starts_with('\u{feff}') => Ok(text),
        _ => Err(MalformedError::InvalidUtf8 { segment }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn enc(text: &str) -> String {
        b64::encode(text.as_bytes())
    }

    fn code(token: &str) -> &'static str {
        parse_jws(token, &ParseOptions::default())
            .and_then(|jws| parse_claims(&jws.payload).map(|_| ()))
            .err()
            .map_or("OK", |e| e.code())
    }

    fn token(header: &str, payload: &str) -> String {
        format!("{}.{}.c2ln", enc(header), enc(payload))
    }

    #[test]
    fn accepts_a_well_formed_token() {
        let t = token(r#"{"alg":"HS256"}"#, r#"{"sub":"a"}"#);
        assert_eq!(code(&t), "OK");
        let jws = parse_jws(&t, &ParseOptions::default()).unwrap();
        assert_eq!(jws.signature, b"sig");
        assert_eq!(jws.signing_input, t.rsplit_once('.').unwrap().0.as_bytes());
    }

    #[test]
    fn caps_length_before_anything_else() {
        let t = token(r#"{"alg":"HS256"}"#, r#"{"sub":"a"}"#);
        let small = ParseOptions::with_max_bytes(t.len() - 1);
        let err = parse_jws(&t, &small).unwrap_err();
        assert_eq!(
            err,
            MalformedError::TooLarge {
                len: t.len(),
                max: t.len() - 1
            }
        );
        assert!(parse_jws(&t, &ParseOptions::with_max_bytes(t.len())).is_ok());
        // Even garbage gets the length error first.
        assert_eq!(
            code(&"!".repeat(DEFAULT_MAX_BYTES + 1)),
            "ERR_JWT_TOO_LARGE"
        );
    }

    #[test]
    fn requires_three_segments() {
        assert_eq!(code(""), "ERR_JWT_MALFORMED");
        assert_eq!(code("a.b"), "ERR_JWT_MALFORMED");
        assert_eq!(code("a.b.c.d"), "ERR_JWT_MALFORMED");
        assert_eq!(code("a.b.c.d.e"), "ERR_JWE_UNSUPPORTED");
        assert_eq!(code("a.b.c.d.e.f"), "ERR_JWT_MALFORMED");
        assert_eq!(
            code(r#"{"payload":"e30","signatures":[]}"#),
            "ERR_JWS_JSON_SERIALIZATION_UNSUPPORTED"
        );
    }

    #[test]
    fn requires_the_base64url_alphabet() {
        let h = enc(r#"{"alg":"HS256"}"#);
        let p = enc("{}");
        assert_eq!(code(&format!("{h}.{p}.c2ln=")), "ERR_JWT_INVALID_CHARACTER");
        assert_eq!(code(&format!("{h}.{p}.c2+n")), "ERR_JWT_INVALID_CHARACTER");
        assert_eq!(code(&format!("{h}.{p}.c2/n")), "ERR_JWT_INVALID_CHARACTER");
        assert_eq!(code(&format!("{h} .{p}.c2ln")), "ERR_JWT_INVALID_CHARACTER");
        assert_eq!(
            code(&format!("{h}.{p}\n.c2ln")),
            "ERR_JWT_INVALID_CHARACTER"
        );
        assert_eq!(code(&format!("{h}.{p}.c2?n")), "ERR_JWT_INVALID_CHARACTER");
        assert_eq!(
            code(&format!("{h}.{p}.c2ln\0")),
            "ERR_JWT_INVALID_CHARACTER"
        );
    }

    #[test]
    fn requires_canonical_base64url() {
        let p = enc("{}");
        // "e30" is "{}"; "e31" has non-zero trailing bits and would decode to the same bytes
        // in a lax decoder.
        assert_eq!(
            code(&format!("{}.e31.c2ln", enc(r#"{"alg":"HS256"}"#))),
            "ERR_JWT_NON_CANONICAL_BASE64"
        );
        assert_eq!(code(&format!("A.{p}.c2ln")), "ERR_JWT_NON_CANONICAL_BASE64");
        assert_eq!(
            code(&format!("{}.{p}.c2lnAB", enc(r#"{"alg":"HS256"}"#))),
            "ERR_JWT_NON_CANONICAL_BASE64"
        );
    }

    #[test]
    fn requires_utf8_without_bom() {
        let bom = format!(
            "{}.{}.c2ln",
            b64::encode(b"\xef\xbb\xbf{\"alg\":\"HS256\"}"),
            enc("{}")
        );
        assert_eq!(code(&bom), "ERR_JWT_INVALID_UTF8");
        let latin1 = format!(
            "{}.{}.c2ln",
            enc(r#"{"alg":"HS256"}"#),
            b64::encode(b"{\"a\":\"\xe9\"}")
        );
        assert_eq!(code(&latin1), "ERR_JWT_INVALID_UTF8");
        let utf16: Vec<u8> =
            r#"{"alg":"HS256"}"#.encode_utf16().flat_map(u16::to_le_bytes).collect();
        assert_eq!(
            code(&format!("{}.{}.c2ln", b64::encode(&utf16), enc("{}"))),
            "ERR_JWT_INVALID_JSON"
        );
    }

    #[test]
    fn requires_json_objects() {
        assert_eq!(code(&token(r#"["alg"]"#, "{}")), "ERR_JWT_NOT_AN_OBJECT");
        assert_eq!(
            code(&token(r#"{"alg":"HS256"}"#, "[]")),
            "ERR_JWT_NOT_AN_OBJECT"
        );
        assert_eq!(
            code(&token(r#"{"alg":"HS256"}"#, "hello")),
            "ERR_JWT_INVALID_JSON"
        );
        assert_eq!(
            code(&token(r#"{"alg":"HS256"}"#, "{}garbage")),
            "ERR_JWT_INVALID_JSON"
        );
        assert_eq!(
            code(&token(r#"{"alg":"HS256","alg":"none"}"#, "{}")),
            "ERR_JWT_DUPLICATE_MEMBER"
        );
        assert_eq!(
            code(&token(r#"{"alg":"HS256"}"#, r#"{"sub":"a","sub":"b"}"#)),
            "ERR_JWT_DUPLICATE_MEMBER"
        );
        let deep = format!("{{\"a\":{}1{}}}", "[".repeat(100), "]".repeat(100));
        assert_eq!(
            code(&token(r#"{"alg":"HS256"}"#, &deep)),
            "ERR_JWT_NESTING_TOO_DEEP"
        );
    }

    #[test]
    fn applies_header_rules() {
        assert_eq!(code(&token("{}", "{}")), "ERR_JWS_ALG_MISSING");
        assert_eq!(
            code(&token(r#"{"alg":"HS256","crit":["x"],"x":1}"#, "{}")),
            "ERR_JWS_CRIT_UNSUPPORTED"
        );
        assert_eq!(
            code(&token(r#"{"alg":"HS256","b64":false}"#, "{}")),
            "ERR_JWS_B64_UNSUPPORTED"
        );
        assert_eq!(
            code(&token(r#"{"alg":"HS256","cty":"jwt"}"#, "{}")),
            "ERR_JWT_NESTED_UNSUPPORTED"
        );
        // alg "none" parses; it is refused when verifying (and never verifies).
        assert_eq!(code(&token(r#"{"alg":"none"}"#, "{}")), "OK");
    }

    #[test]
    fn checks_registered_claim_types() {
        assert_eq!(
            code(&token(r#"{"alg":"HS256"}"#, r#"{"exp":"1"}"#)),
            "ERR_JWT_CLAIM_INVALID"
        );
    }
}
