//! HS256 verification in a loop, for instruction counts under callgrind: `jwtkit` (the strict
//! verifier), `floor` (what the criterion benchmark's floor does: a pre-keyed HMAC-SHA256,
//! base64url decoding, one serde parse of the claims) or `parse` (jwtkit's strict decode
//! of header and claims, no signature, no policy).
//!
//! ```text
//! cargo build --release -p jwtkit-core --features aws-lc --example hs256_instructions
//! valgrind --tool=callgrind --callgrind-out-file=target/cg.jwtkit \
//!     target/release/examples/hs256_instructions jwtkit 20000
//! callgrind_annotate --inclusive=yes target/cg.jwtkit | head -40
//! ```
//!
//! Run each with two counts (e.g. 10 000 and 20 000): the difference in total instructions
//! over the difference in iterations is the cost of one, set-up excluded.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::hint::black_box;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use jwtkit_core::{Algorithm, Key, KeySet, ParseOptions, Signer, UnixTime, Validation, Verifier};
use serde::Deserialize;
use sha2::Sha256;

const NOW: i64 = 1_700_000_000;

/// The benchmark's claims.
#[derive(Deserialize)]
#[allow(dead_code)]
struct Claims {
    iss: String,
    sub: String,
    aud: String,
    exp: i64,
    iat: i64,
    jti: String,
}

fn main() {
    let mut args = std::env::args().skip(1);
    let mode = args.next().unwrap_or_else(|| "jwtkit".to_owned());
    let count: u32 = args.next().and_then(|n| n.parse().ok()).unwrap_or(10_000);
    let secret = [0x5au8; 32];
    let key = Key::from_hmac_secret(Algorithm::HS256, &secret, Some("k1")).unwrap();
    let claims = serde_json::json!({
        "iss": "jwtkit", "sub": "billing-service", "aud": "jwtkit-api",
        "exp": NOW + 180, "iat": NOW, "jti": "Ki8rEmTx1G4yqH0s3nzV7w",
    });
    let token = Signer::new(key.clone()).sign(&claims).unwrap();
    let policy = Validation::builder()
        .expect_issuer("jwtkit")
        .expect_audience("jwtkit-api")
        .ignore_type()
        .require_claim("sub")
        .build()
        .unwrap();
    let verifier = Verifier::new(KeySet::from(key), policy);
    let now = UnixTime::from_secs(NOW).unwrap();
    let mac = Hmac::<Sha256>::new_from_slice(&secret).unwrap();
    let options = ParseOptions::default();
    for _ in 0..count {
        let token = black_box(token.as_str());
        match mode.as_str() {
            "floor" => {
                let (input, sig) = token.rsplit_once('.').unwrap();
                let (_, payload) = input.split_once('.').unwrap();
                let sig = URL_SAFE_NO_PAD.decode(sig).unwrap();
                let mut m = mac.clone();
                m.update(input.as_bytes());
                m.verify_slice(&sig).unwrap();
                let claims: Claims =
                    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
                black_box(claims);
            }
            "parse" => {
                black_box(jwtkit_core::dangerous::decode_unverified(token, &options).unwrap());
            }
            _ => {
                black_box(verifier.verify(token, now).unwrap());
            }
        }
    }
}
