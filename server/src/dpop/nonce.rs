//! Server nonces for DPoP proofs (RFC 9449 §8, §9): a nonce names a time window and is
//! authenticated by the instances' shared secret, so every instance accepts every other's
//! without a store, and a proof made before a window began cannot carry its nonce (a key
//! stolen for a moment — by a script on the page — cannot sign proofs for later).

use hmac::{Hmac, KeyInit, Mac};
use jwtkit_core::UnixTime;
use sha2::{Digest, Sha256};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// The nonces of one server: a new one every `interval_seconds`; a proof may carry the
/// current one or the one before (a client's nonce may be a moment old).
#[derive(Clone)]
pub struct Nonces {
    secret: [u8; 32],
    interval_seconds: u64,
}

impl std::fmt::Debug for Nonces {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Nonces")
            .field("interval_seconds", &self.interval_seconds)
            .finish_non_exhaustive()
    }
}

impl Nonces {
    /// Nonces authenticated by a key derived from `shared` (material every instance has,
    /// e.g. the signing key; never used for anything else in this form), changing every
    /// `interval_seconds` (at least 1).
    pub fn new(shared: &[u8], interval_seconds: u64) -> Self {
        let mut hasher = Sha256::new();
        hasher.update(b"jwtkit DPoP nonce key\0");
        hasher.update(shared);
        Self {
            secret: hasher.finalize().into(),
            interval_seconds: interval_seconds.max(1),
        }
    }

    /// The nonce to hand out at `now`.
    pub fn current(&self, now: UnixTime) -> String {
        self.of_window(self.window(now))
    }

    /// Whether `nonce` is the current one at `now`, or the one before.
    pub fn accepts(&self, nonce: &str, now: UnixTime) -> bool {
        let window = self.window(now);
        [Some(window), window.checked_sub(1)]
            .into_iter()
            .flatten()
            .any(|w| constant_time_eq(nonce.as_bytes(), self.of_window(w).as_bytes()))
    }

    fn window(&self, now: UnixTime) -> u64 {
        u64::try_from(now.as_secs()).unwrap_or(0) / self.interval_seconds
    }

    fn of_window(&self, window: u64) -> String {
        #[allow(clippy::expect_used)]
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&self.secret)
            .expect("invariant: HMAC takes a key of any length");
        mac.update(&window.to_be_bytes());
        let tag = mac.finalize().into_bytes();
        format!("{window}.{}", URL_SAFE_NO_PAD.encode(&tag[..16]))
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |diff, (x, y)| diff | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: i64) -> UnixTime {
        UnixTime::from_secs(secs).unwrap()
    }

    #[test]
    fn a_nonce_lasts_its_window_and_the_next() {
        let nonces = Nonces::new(b"shared", 60);
        let nonce = nonces.current(at(6_000));
        assert!(nonces.accepts(&nonce, at(6_000)));
        assert!(nonces.accepts(&nonce, at(6_119)), "the window after");
        assert!(!nonces.accepts(&nonce, at(6_120)), "two windows later");
        assert!(!nonces.accepts(&nonce, at(5_999)), "not before its window");
        assert_eq!(nonces.current(at(6_059)), nonce);
        assert_ne!(nonces.current(at(6_060)), nonce);
    }

    #[test]
    fn only_the_shared_secret_makes_nonces() {
        let ours = Nonces::new(b"shared", 60);
        let another_instance = Nonces::new(b"shared", 60);
        let theirs = Nonces::new(b"other", 60);
        let nonce = ours.current(at(6_000));
        assert!(another_instance.accepts(&nonce, at(6_000)));
        assert!(!theirs.accepts(&nonce, at(6_000)));
        // A window's number with another tag, or a later window's number, is refused.
        let (window, _) = nonce.split_once('.').unwrap();
        assert!(!ours.accepts(&format!("{window}.AAAAAAAAAAAAAAAAAAAAAA"), at(6_000)));
        assert!(!ours.accepts("", at(6_000)));
    }
}
