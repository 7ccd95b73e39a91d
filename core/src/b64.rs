//! Canonical base64url without padding (RFC 7515 §2, RFC 4648 §5).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// Whether every byte is in the base64url alphabet `[A-Za-z0-9_-]`.
pub(crate) fn is_alphabet(bytes: &[u8]) -> bool {
    bytes
        .iter()
        .all(|&b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Decodes canonical unpadded base64url: `None` for padding, characters outside the
/// alphabet, an impossible length or non-zero trailing bits. Each encoded string thus has
/// exactly one decoding and each byte string exactly one encoding.
pub(crate) fn decode(text: &[u8]) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(text).ok()
}

/// Encodes bytes as unpadded base64url.
#[cfg(any(feature = "crypto", test))]
pub(crate) fn encode(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Appends the unpadded base64url encoding of `bytes` to `out`.
#[cfg(feature = "crypto")]
pub(crate) fn encode_into(bytes: &[u8], out: &mut String) {
    URL_SAFE_NO_PAD.encode_string(bytes, out);
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
        assert_eq!(decode(b"AQ=="), None, "padding");
        assert_eq!(decode(b"A"), None, "impossible length");
        assert_eq!(decode(b"+/"), None, "standard alphabet");
        assert_eq!(decode(b""), Some(vec![]));
        assert!(is_alphabet(b"az_-09AZ"));
        assert!(!is_alphabet(b"a b"));
        assert!(!is_alphabet(b"a="));
    }
}
