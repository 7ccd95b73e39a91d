//! Helpers shared by jwtkit-core's integration tests.
#![allow(dead_code, unreachable_pub)]

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

pub fn b64(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

pub fn unb64(text: &str) -> Vec<u8> {
    URL_SAFE_NO_PAD
        .decode(text)
        .expect("test data is base64url")
}

/// An unsigned token with this header and payload JSON text (signature "sig").
pub fn token(header: &str, payload: &str) -> String {
    format!("{}.{}.c2ln", b64(header), b64(payload))
}

pub fn at(secs: i64) -> jwtkit_core::UnixTime {
    jwtkit_core::UnixTime::from_secs(secs).expect("in range")
}
