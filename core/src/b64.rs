//! Canonical base64url without padding (RFC 7515 §2, RFC 4648 §5).
//!
//! Each encoded string has exactly one decoding and each byte string exactly one encoding:
//! padding, characters outside the alphabet, an impossible length (4n + 1) and non-zero
//! trailing bits are all refused.
//!
//! Why not the `base64` crate: the parser needs the canonical-form verdict *without*
//! decoding (a segment is judged before its bytes are needed, and the signature is only
//! decoded by a verifier that uses it, onto the stack), the checks in the parser's order
//! (alphabet, then length and trailing bits, per segment, each with its own error), and a
//! decode-only wasm build without a general-purpose engine. The `base64` crate is the
//! reference it is tested against (`tests/properties.rs`: both agree on every input).

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// Not in the alphabet (the high bit marks it, so one OR over a chunk finds it).
const INVALID: u8 = 0xFF;

/// Each byte's 6-bit value, or [`INVALID`].
const VALUES: [u8; 256] = {
    let mut table = [INVALID; 256];
    let mut i = 0;
    while i < 64 {
        table[ALPHABET[i] as usize] = i as u8;
        i += 1;
    }
    table
};

/// Whether `byte` is in the base64url alphabet `[A-Za-z0-9_-]`.
pub(crate) fn is_alphabet_byte(byte: u8) -> bool {
    VALUES[usize::from(byte)] != INVALID
}

/// Whether every byte is in the base64url alphabet `[A-Za-z0-9_-]`.
#[cfg(test)]
pub(crate) fn is_alphabet(bytes: &[u8]) -> bool {
    bytes.iter().all(|&b| is_alphabet_byte(b))
}

/// Whether `text`, already known to be in the alphabet, is canonical: a possible length and
/// zero trailing bits. Checks without decoding.
pub(crate) fn is_canonical(text: &[u8]) -> bool {
    let last = text.last().map_or(0, |&b| VALUES[usize::from(b)]);
    match text.len() % 4 {
        0 => true,
        1 => false,
        2 => last & 0x0F == 0,
        _ => last & 0x03 == 0,
    }
}

/// Text known to be canonical unpadded base64url: its decoding cannot fail, so it has no
/// error path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Canonical<'t>(&'t [u8]);

impl<'t> Canonical<'t> {
    /// `text` when it is canonical base64url (alphabet, length and trailing bits).
    #[cfg(any(feature = "crypto", test))]
    pub(crate) fn new(text: &'t [u8]) -> Option<Self> {
        (text.iter().all(|&b| is_alphabet_byte(b)) && is_canonical(text)).then_some(Self(text))
    }

    /// `text`, whose bytes the caller has found in the alphabet (the parser checks a whole
    /// token in one pass), when its length and trailing bits are canonical.
    pub(crate) fn of_alphabet(text: &'t [u8]) -> Option<Self> {
        debug_assert!(text.iter().all(|&b| is_alphabet_byte(b)));
        is_canonical(text).then_some(Self(text))
    }

    /// The encoded text.
    pub(crate) fn as_bytes(self) -> &'t [u8] {
        self.0
    }

    /// The decoded length.
    pub(crate) fn decoded_len(self) -> usize {
        // Never 4n + 1 (not canonical).
        self.0.len() / 4 * 3 + (self.0.len() % 4).saturating_sub(1)
    }

    /// The decoded bytes.
    pub(crate) fn decode(self) -> Vec<u8> {
        let mut out = vec![0; self.decoded_len()];
        decode_exact(self.0, &mut out);
        out
    }

    /// The decoded bytes, in `buffer` when they fit, else in `spill`.
    #[cfg(feature = "crypto")]
    pub(crate) fn decode_onto<'b>(self, buffer: &'b mut [u8], spill: &'b mut Vec<u8>) -> &'b [u8] {
        let len = self.decoded_len();
        let out = match buffer.get_mut(..len) {
            Some(out) => out,
            None => {
                spill.resize(len, 0);
                spill.as_mut_slice()
            }
        };
        decode_exact(self.0, out);
        out
    }
}

/// Decodes canonical `text` into `out`, exactly [`Canonical::decoded_len`] long.
fn decode_exact(text: &[u8], out: &mut [u8]) {
    // Eight characters (48 bits) at a time. Every byte is in the alphabet (a 6-bit value).
    let value = |byte: u8| u64::from(VALUES[usize::from(byte)]);
    let wide = text.chunks_exact(8);
    let rest = wide.remainder();
    let mut dst = out.chunks_exact_mut(6);
    for (chunk, dst) in wide.zip(dst.by_ref()) {
        let n = value(chunk[0]) << 42
            | value(chunk[1]) << 36
            | value(chunk[2]) << 30
            | value(chunk[3]) << 24
            | value(chunk[4]) << 18
            | value(chunk[5]) << 12
            | value(chunk[6]) << 6
            | value(chunk[7]);
        dst.copy_from_slice(&n.to_be_bytes()[2..]);
    }
    let out = dst.into_remainder();
    let quads = rest.chunks_exact(4);
    let tail = quads.remainder();
    let written = rest.len() / 4 * 3;
    for (chunk, dst) in quads.zip(out.chunks_exact_mut(3)) {
        let n = chunk.iter().fold(0u64, |n, &b| n << 6 | value(b));
        dst.copy_from_slice(&n.to_be_bytes()[5..]);
    }
    let n = tail.iter().fold(0u64, |n, &b| n << 6 | value(b));
    match (tail.len(), out.get_mut(written..)) {
        (2, Some([last])) => *last = (n >> 4) as u8,
        (3, Some(last @ [_, _])) => last.copy_from_slice(&((n >> 2) as u16).to_be_bytes()),
        _ => {}
    }
}

/// Decodes canonical unpadded base64url: `None` for padding, characters outside the
/// alphabet, an impossible length or non-zero trailing bits.
#[cfg(any(feature = "crypto", test))]
pub(crate) fn decode(text: &[u8]) -> Option<Vec<u8>> {
    Canonical::new(text).map(Canonical::decode)
}

/// Encodes bytes as unpadded base64url.
#[cfg(any(feature = "crypto", test))]
pub(crate) fn encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    encode_into(bytes, &mut out);
    out
}

/// Appends the unpadded base64url encoding of `bytes` to `out`.
#[cfg(any(feature = "crypto", test))]
pub(crate) fn encode_into(bytes: &[u8], out: &mut String) {
    let at = |n: u32, shift: u32| char::from(ALPHABET[(n >> shift & 0x3F) as usize]);
    let chunks = bytes.chunks_exact(3);
    let tail = chunks.remainder();
    out.reserve(bytes.len().div_ceil(3) * 4);
    for chunk in chunks {
        let n = u32::from(chunk[0]) << 16 | u32::from(chunk[1]) << 8 | u32::from(chunk[2]);
        out.extend([at(n, 18), at(n, 12), at(n, 6), at(n, 0)]);
    }
    match *tail {
        [a] => {
            let n = u32::from(a) << 16;
            out.extend([at(n, 18), at(n, 12)]);
        }
        [a, b] => {
            let n = u32::from(a) << 16 | u32::from(b) << 8;
            out.extend([at(n, 18), at(n, 12), at(n, 6)]);
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn canonical_only() {
        assert_eq!(decode(b"AQ"), Some(vec![1]));
        assert_eq!(decode(b"AR"), None, "non-zero trailing bits");
        assert_eq!(decode(b"AAE"), Some(vec![0, 1]));
        assert_eq!(decode(b"AAF"), None, "non-zero trailing bits");
        assert_eq!(decode(b"AQ=="), None, "padding");
        assert_eq!(decode(b"A"), None, "impossible length");
        assert_eq!(decode(b"AAAAA"), None, "impossible length");
        assert_eq!(decode(b"+/"), None, "standard alphabet");
        assert_eq!(decode(b"AA+A"), None, "standard alphabet in a full chunk");
        assert_eq!(decode(b""), Some(vec![]));
        assert!(is_alphabet(b"az_-09AZ"));
        assert!(!is_alphabet(b"a b"));
        assert!(!is_alphabet(b"a="));
        assert!(is_canonical(b"AQ") && !is_canonical(b"AR") && !is_canonical(b"A"));
    }

    #[test]
    fn round_trips_every_length_and_byte() {
        let bytes: Vec<u8> = (0..=255).collect();
        for len in 0..bytes.len() {
            let text = encode(&bytes[..len]);
            assert!(!text.contains('='));
            assert_eq!(decode(text.as_bytes()).as_deref(), Some(&bytes[..len]));
        }
        // RFC 4648 §10 vectors, in the URL-safe alphabet without padding.
        for (plain, encoded) in [
            ("", ""),
            ("f", "Zg"),
            ("fo", "Zm8"),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg"),
            ("fooba", "Zm9vYmE"),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(encode(plain.as_bytes()), encoded);
        }
        assert_eq!(encode(&[0xfb, 0xff]), "-_8");
    }
}

/// The own base64url against the `base64` crate (URL-safe, no padding, canonical trailing
/// bits): the same encoding for every byte string, the same verdict and bytes for every text.
#[cfg(all(test, not(target_arch = "wasm32")))]
mod differential {
    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use proptest::prelude::*;

    use super::*;

    /// Cases per property: 256 by default, `JWTKIT_FUZZ_CASES` for more (`cargo xtask fuzz`).
    fn config() -> ProptestConfig {
        let cases = std::env::var("JWTKIT_FUZZ_CASES")
            .ok()
            .and_then(|n| n.parse().ok())
            .unwrap_or(256);
        ProptestConfig::with_cases(cases)
    }

    /// Mostly alphabet characters, sometimes padding, the standard alphabet or anything.
    fn text() -> impl Strategy<Value = Vec<u8>> {
        let byte = prop_oneof![
            8 => proptest::sample::select(ALPHABET.to_vec()),
            1 => proptest::sample::select(b"=+/ .".to_vec()),
            1 => any::<u8>(),
        ];
        proptest::collection::vec(byte, 0..40)
    }

    proptest! {
        #![proptest_config(config())]

        #[test]
        fn encodes_like_the_base64_crate(bytes in proptest::collection::vec(any::<u8>(), 0..100)) {
            prop_assert_eq!(encode(&bytes), URL_SAFE_NO_PAD.encode(&bytes));
        }

        #[test]
        fn decodes_like_the_base64_crate(text in text()) {
            prop_assert_eq!(decode(&text), URL_SAFE_NO_PAD.decode(&text).ok());
        }

        #[test]
        fn every_encoding_is_canonical(bytes in proptest::collection::vec(any::<u8>(), 0..100)) {
            let text = URL_SAFE_NO_PAD.encode(&bytes);
            let canonical = Canonical::new(text.as_bytes());
            prop_assert_eq!(canonical.map(Canonical::decode), Some(bytes));
        }
    }
}
