//! Canonical base64url without padding (RFC 7515 §2, RFC 4648 §5).
//!
//! Each encoded string has exactly one decoding and each byte string exactly one encoding:
//! padding, characters outside the alphabet, an impossible length (4n + 1) and non-zero
//! trailing bits are all refused.

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

/// The decoded length of `len` characters; `None` for the impossible lengths 4n + 1.
pub(crate) fn decoded_len(len: usize) -> Option<usize> {
    match len % 4 {
        1 => None,
        rem => Some(len / 4 * 3 + rem.saturating_sub(1)),
    }
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

/// Decodes canonical unpadded base64url into `out`, which must be exactly
/// [`decoded_len`] long; `None` when `text` is not canonical base64url.
pub(crate) fn decode_into(text: &[u8], out: &mut [u8]) -> Option<()> {
    if decoded_len(text.len()) != Some(out.len()) || !is_canonical_tail(text) {
        return None;
    }
    // Eight characters (48 bits) at a time; characters outside the alphabet have the high
    // bit set in VALUES, collected in `bad` and checked once at the end.
    // (A bad character garbles `out`, which is then not returned.)
    let mut bad = 0u8;
    let mut value = |byte: u8| {
        let v = VALUES[usize::from(byte)];
        bad |= v;
        u64::from(v)
    };
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
    if bad & 0x80 != 0 {
        return None;
    }
    match tail.len() {
        2 => out[written] = (n >> 4) as u8,
        3 => out[written..].copy_from_slice(&((n >> 2) as u16).to_be_bytes()),
        _ => {}
    }
    Some(())
}

/// `is_canonical` for text that may hold characters outside the alphabet.
fn is_canonical_tail(text: &[u8]) -> bool {
    text.last()
        .is_none_or(|&b| is_alphabet_byte(b) && is_canonical(text))
}

/// Decodes canonical unpadded base64url: `None` for padding, characters outside the
/// alphabet, an impossible length or non-zero trailing bits.
#[cfg(any(feature = "crypto", test))]
pub(crate) fn decode(text: &[u8]) -> Option<Vec<u8>> {
    let mut out = vec![0; decoded_len(text.len())?];
    decode_into(text, &mut out).map(|()| out)
}

/// Encodes bytes as unpadded base64url.
#[cfg(any(feature = "crypto", test))]
pub(crate) fn encode(bytes: &[u8]) -> String {
    let mut out = Vec::with_capacity(bytes.len().div_ceil(3) * 4);
    encode_into(bytes, &mut out);
    // The alphabet is ASCII.
    String::from_utf8(out).unwrap_or_default()
}

/// Appends the unpadded base64url encoding of `bytes` to `out` (ASCII bytes).
#[cfg(any(feature = "crypto", test))]
pub(crate) fn encode_into(bytes: &[u8], out: &mut Vec<u8>) {
    let at = |n: u32, shift: u32| ALPHABET[(n >> shift & 0x3F) as usize];
    let chunks = bytes.chunks_exact(3);
    let tail = chunks.remainder();
    out.reserve(bytes.len().div_ceil(3) * 4);
    for chunk in chunks {
        let n = u32::from(chunk[0]) << 16 | u32::from(chunk[1]) << 8 | u32::from(chunk[2]);
        out.extend_from_slice(&[at(n, 18), at(n, 12), at(n, 6), at(n, 0)]);
    }
    match *tail {
        [a] => {
            let n = u32::from(a) << 16;
            out.extend_from_slice(&[at(n, 18), at(n, 12)]);
        }
        [a, b] => {
            let n = u32::from(a) << 16 | u32::from(b) << 8;
            out.extend_from_slice(&[at(n, 18), at(n, 12), at(n, 6)]);
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
