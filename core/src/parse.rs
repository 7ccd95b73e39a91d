//! The one strict parser for compact JWS tokens (RFC 7515 §7.1) and the JWTs they carry.
//!
//! Checks run in a fixed order, each before any work the next one needs: the byte-length
//! cap, exactly three segments, the base64url alphabet, canonical base64url, UTF-8 without a
//! byte order mark, JSON objects without duplicate members and with bounded nesting, then the
//! header rules of [`Header`].

use std::ops::Deref;
use std::sync::{Arc, OnceLock};

use crate::b64::{self, Canonical};
use crate::claims::Claims;
use crate::error::{MalformedError, Segment};
use crate::header::Header;

/// The default cap on a token's length in bytes.
pub const DEFAULT_MAX_BYTES: usize = 8 * 1024;

/// Limits applied before a token is examined.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParseOptions {
    max_bytes: usize,
    /// A `jwk` header parameter is allowed: DPoP proofs only, whose key is the header's by
    /// design (RFC 9449 §4.2); every other token naming its own key is refused.
    embedded_jwk: bool,
}

impl ParseOptions {
    /// Limits with the given cap on a token's length in bytes.
    pub fn with_max_bytes(max_bytes: usize) -> Self {
        Self {
            max_bytes,
            embedded_jwk: false,
        }
    }

    /// The options of a DPoP proof: the cap, and its `jwk` header parameter allowed.
    #[cfg(feature = "crypto")]
    pub(crate) fn for_dpop_proof(max_bytes: usize) -> Self {
        Self {
            max_bytes,
            embedded_jwk: true,
        }
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
    pub(crate) header: SharedHeader,
    pub(crate) payload: Vec<u8>,
    /// The signature's canonical base64url text, decoded only by a verifier that uses it.
    pub(crate) signature: Canonical<'t>,
    /// `BASE64URL(header) || '.' || BASE64URL(payload)`: the bytes the signature covers.
    pub(crate) signing_input: &'t [u8],
    /// `BASE64URL(header)`.
    pub(crate) header_segment: &'t [u8],
}

/// A parsed header: read from its token, or shared from a [`HeaderMemory`] (no copy). Equal
/// and shown as the header it is, wherever it came from.
#[derive(Clone)]
pub(crate) enum SharedHeader {
    /// Read from the token.
    Read(Header),
    /// Remembered from an earlier token with the same header segment.
    Remembered(Arc<Header>),
}

impl SharedHeader {
    /// The header, copied if it is shared.
    pub(crate) fn into_owned(self) -> Header {
        match self {
            Self::Read(header) => header,
            Self::Remembered(shared) => Arc::unwrap_or_clone(shared),
        }
    }
}

impl PartialEq for SharedHeader {
    fn eq(&self, other: &Self) -> bool {
        **self == **other
    }
}

impl std::fmt::Debug for SharedHeader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        (**self).fmt(f)
    }
}

impl Deref for SharedHeader {
    type Target = Header;

    fn deref(&self) -> &Header {
        match self {
            Self::Read(header) => header,
            Self::Remembered(shared) => shared,
        }
    }
}

/// A header segment (its base64url text) and its header.
type Remembered = (Box<[u8]>, Arc<Header>);

/// The parsed headers of a few header segments a verifier accepted (one issuer's tokens share
/// their header byte for byte), so that the next token with the same segment skips decoding
/// and reading it: the same bytes always parse to the same header. Filled once per slot,
/// only with the segments of tokens whose signature verified, so a flood of forged headers
/// cannot take the slots; a segment seen after the slots are full is parsed every time.
#[derive(Debug, Default)]
pub(crate) struct HeaderMemory {
    slots: [OnceLock<Remembered>; 4],
}

impl HeaderMemory {
    /// How many segments are remembered.
    #[cfg(all(test, feature = "crypto"))]
    pub(crate) fn len(&self) -> usize {
        self.slots
            .iter()
            .filter(|slot| slot.get().is_some())
            .count()
    }

    /// The header of `segment` (its base64url text), if remembered.
    fn get(&self, segment: &[u8]) -> Option<Arc<Header>> {
        self.slots.iter().find_map(|slot| match slot.get() {
            Some((known, header)) if **known == *segment => Some(header.clone()),
            _ => None,
        })
    }

    /// Remembers the header of a verified token's `segment`, if a slot is free.
    #[cfg_attr(not(feature = "crypto"), allow(dead_code))]
    pub(crate) fn remember(&self, segment: &[u8], header: &Header) {
        for slot in &self.slots {
            // A free slot takes it; a taken one (by another thread a moment ago, too) is
            // checked for it before the next is tried, so no segment takes two slots.
            let (known, _) = slot.get_or_init(|| (segment.into(), Arc::new(header.clone())));
            if **known == *segment {
                return;
            }
        }
    }
}

/// Parses a compact JWS with any payload (the JWS layer; JWTs add [`parse_claims`]).
pub(crate) fn parse_jws<'t>(
    token: &'t str,
    options: &ParseOptions,
) -> Result<Jws<'t>, MalformedError> {
    parse_jws_remembering(token, options, None)
}

/// [`parse_jws`], taking the header from `memory` when its segment is there.
pub(crate) fn parse_jws_remembering<'t>(
    token: &'t str,
    options: &ParseOptions,
    memory: Option<&HeaderMemory>,
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
    // One pass: is every byte in the alphabet or a dot, and where are the dots? Chunks keep
    // the common case branch-free and vectorised; dots are located only in their chunks.
    let (mut all_valid, mut dots) = (true, [bytes.len(); 2]);
    let mut found = 0;
    for (index, chunk) in bytes.chunks(32).enumerate() {
        let (invalid, count) = chunk_summary(chunk);
        all_valid &= invalid == 0;
        if count > 0 {
            for (offset, _) in chunk.iter().enumerate().filter(|(_, b)| **b == b'.') {
                if let Some(slot) = dots.get_mut(found) {
                    *slot = index * 32 + offset;
                }
                found += 1;
            }
        }
    }
    match found {
        2 => {}
        4 => return Err(MalformedError::JweUnsupported),
        dots => return Err(MalformedError::SegmentCount { found: dots + 1 }),
    }
    let header = &bytes[..dots[0]];
    let payload = &bytes[dots[0] + 1..dots[1]];
    let signature = &bytes[dots[1] + 1..];
    let segments = [
        (Segment::Header, header),
        (Segment::Payload, payload),
        (Segment::Signature, signature),
    ];
    if !all_valid {
        for (segment, text) in segments {
            if !text.iter().all(|&b| b64::is_alphabet_byte(b)) {
                return Err(MalformedError::InvalidCharacter { segment });
            }
        }
    }
    let [header, payload, signature] = segments.map(|(segment, text)| {
        Canonical::of_alphabet(text).ok_or(MalformedError::NonCanonicalBase64 { segment })
    });
    let (header, payload, signature) = (header?, payload?, signature?);
    let parsed = match memory.and_then(|memory| memory.get(header.as_bytes())) {
        Some(known) => SharedHeader::Remembered(known),
        None => SharedHeader::Read(Header::parse(
            utf8_string(header.decode(), Segment::Header)?,
            options.embedded_jwk,
        )?),
    };
    let header_len = header.as_bytes().len();
    Ok(Jws {
        header: parsed,
        payload: payload.decode(),
        signature,
        signing_input: &bytes[..header_len + 1 + payload.as_bytes().len()],
        header_segment: &bytes[..header_len],
    })
}

/// For up to 32 bytes: non-zero when one is not a token byte, and the number of dots.
fn chunk_summary(chunk: &[u8]) -> (u8, u8) {
    let (mut invalid, mut count) = (0u8, 0u8);
    for &b in chunk {
        invalid |= u8::from(!is_token_byte(b));
        count += u8::from(b == b'.');
    }
    (invalid, count)
}

/// `[A-Za-z0-9_-]` or the `.` between segments (branch-free, so the loop vectorises).
fn is_token_byte(b: u8) -> bool {
    (b.wrapping_sub(b'A') < 26)
        | ((b | 0x20).wrapping_sub(b'a') < 26)
        | (b.wrapping_sub(b'0') < 10)
        | (b == b'-')
        | (b == b'_')
        | (b == b'.')
}

/// Parses a JWS payload as a JWT claims set.
pub(crate) fn parse_claims(payload: Vec<u8>) -> Result<Claims, MalformedError> {
    Claims::parse(utf8_string(payload, Segment::Payload)?)
}

/// Checks UTF-8 without a byte order mark, keeping the bytes as a `String` (validated once).
fn utf8_string(bytes: Vec<u8>, segment: Segment) -> Result<String, MalformedError> {
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
            .and_then(|jws| parse_claims(jws.payload).map(|_| ()))
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
        assert_eq!(jws.signature.as_bytes(), b"c2ln");
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
