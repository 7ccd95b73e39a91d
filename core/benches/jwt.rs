//! jwtkit beside the floor and beside jsonwebtoken, in the same run.
//!
//! The floor is the least work any verifier must do: a pre-keyed HMAC-SHA256 state, base64url
//! decoding of the segments, and one serde parse of the claims. Ratios to it are what
//! `docs/benchmarks.md` reports; absolute times vary with the machine.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::hint::black_box;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use criterion::{Criterion, criterion_group, criterion_main};
use hmac::{Hmac, KeyInit, Mac};
use jwtkit_core::{
    Algorithm, Key, KeySet, ParseOptions, Signer, UnixTime, Validation, Verifier, dangerous,
};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

const NOW: i64 = 1_700_000_000;

#[derive(Serialize, Deserialize)]
struct Claims {
    iss: String,
    sub: String,
    aud: String,
    exp: i64,
    iat: i64,
    jti: String,
}

fn claims() -> Claims {
    Claims {
        iss: "jwtkit".into(),
        sub: "billing-service".into(),
        aud: "jwtkit-api".into(),
        exp: NOW + 180,
        iat: NOW,
        jti: "Ki8rEmTx1G4yqH0s3nzV7w".into(),
    }
}

fn policy() -> Validation {
    Validation::builder()
        .expect_issuer("jwtkit")
        .expect_audience("jwtkit-api")
        .ignore_type()
        .require_claim("sub")
        .build()
        .unwrap()
}

fn peer_validation(alg: jsonwebtoken::Algorithm) -> jsonwebtoken::Validation {
    let mut validation = jsonwebtoken::Validation::new(alg);
    validation.leeway = 0;
    validation.set_issuer(&["jwtkit"]);
    validation.set_audience(&["jwtkit-api"]);
    validation.set_required_spec_claims(&["exp", "sub", "iss", "aud"]);
    // Fixed time is not configurable in jsonwebtoken; the token's exp is far enough ahead
    // for the real clock of any run before 2030.
    validation
}

/// Claims with an `exp` valid against the real clock (for jsonwebtoken, which reads it).
fn live_claims() -> Claims {
    Claims {
        exp: 1_900_000_000,
        ..claims()
    }
}

fn hs256(c: &mut Criterion) {
    let secret = [0x5au8; 32];
    let key = Key::from_hmac_secret(Algorithm::HS256, &secret, Some("k1")).unwrap();
    let token = Signer::new(key.clone()).sign(&live_claims()).unwrap();
    let verifier = Verifier::new(KeySet::from(key.clone()), policy());
    let now = UnixTime::from_secs(NOW).unwrap();
    let mac = Hmac::<Sha256>::new_from_slice(&secret).unwrap();

    let mut group = c.benchmark_group("HS256 verify");
    group.bench_function("floor", |b| {
        b.iter(|| {
            let token = black_box(token.as_str());
            let (input, sig) = token.rsplit_once('.').unwrap();
            let (_, payload) = input.split_once('.').unwrap();
            let sig = URL_SAFE_NO_PAD.decode(sig).unwrap();
            let mut m = mac.clone();
            m.update(input.as_bytes());
            m.verify_slice(&sig).unwrap();
            let claims: Claims =
                serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
            black_box(claims)
        })
    });
    group.bench_function("jwtkit", |b| {
        b.iter(|| black_box(verifier.verify(black_box(&token), now).unwrap()))
    });
    let peer_key = jsonwebtoken::DecodingKey::from_secret(&secret).unwrap();
    let peer = peer_validation(jsonwebtoken::Algorithm::HS256);
    group.bench_function("jsonwebtoken", |b| {
        b.iter(|| {
            black_box(jsonwebtoken::decode::<Claims>(black_box(&token), &peer_key, &peer).unwrap())
        })
    });
    group.finish();

    let mut group = c.benchmark_group("HS256 sign");
    let signer = Signer::new(key);
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","kid":"k1"}"#);
    group.bench_function("floor", |b| {
        b.iter(|| {
            let payload = serde_json::to_vec(black_box(&claims())).unwrap();
            let mut token = format!("{header}.{}", URL_SAFE_NO_PAD.encode(payload));
            let mut m = mac.clone();
            m.update(token.as_bytes());
            let sig = m.finalize().into_bytes();
            token.push('.');
            URL_SAFE_NO_PAD.encode_string(sig, &mut token);
            black_box(token)
        })
    });
    group.bench_function("jwtkit", |b| {
        b.iter(|| black_box(signer.sign(black_box(&claims())).unwrap()))
    });
    let peer_key = jsonwebtoken::EncodingKey::from_secret(&secret).unwrap();
    let peer_header = jsonwebtoken::Header {
        kid: Some("k1".into()),
        ..jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256)
    };
    group.bench_function("jsonwebtoken", |b| {
        b.iter(|| {
            black_box(jsonwebtoken::encode(&peer_header, black_box(&claims()), &peer_key).unwrap())
        })
    });
    group.finish();

    c.bench_function("decode_unverified", |b| {
        b.iter(|| {
            black_box(
                dangerous::decode_unverified(black_box(&token), &ParseOptions::default()).unwrap(),
            )
        })
    });
}

fn asymmetric(c: &mut Criterion) {
    let now = UnixTime::from_secs(NOW).unwrap();
    for alg in [Algorithm::EdDSA, Algorithm::ES256] {
        let key = Key::generate(alg).unwrap();
        let jwk = key.to_private_jwk();
        let unb64 = |v: &Option<String>| URL_SAFE_NO_PAD.decode(v.as_deref().unwrap()).unwrap();
        let (peer_alg, peer_encoding, peer_decoding) = match alg {
            Algorithm::EdDSA => {
                // PKCS#8 v1 for Ed25519: a fixed prefix and the 32-byte seed.
                let der = [hex("302e020100300506032b657004220420"), unb64(&jwk.d)].concat();
                (
                    jsonwebtoken::Algorithm::EdDSA,
                    jsonwebtoken::EncodingKey::from_ed_der(&der),
                    jsonwebtoken::DecodingKey::from_ed_components(jwk.x.as_deref().unwrap())
                        .unwrap(),
                )
            }
            _ => {
                // PKCS#8 for P-256: fixed prefix, the scalar, and the public point.
                let der = [
                    hex("308187020100301306072a8648ce3d020106082a8648ce3d030107046d306b0201010420"),
                    unb64(&jwk.d),
                    hex("a14403420004"),
                    unb64(&jwk.x),
                    unb64(&jwk.y),
                ]
                .concat();
                (
                    jsonwebtoken::Algorithm::ES256,
                    jsonwebtoken::EncodingKey::from_ec_der(&der),
                    jsonwebtoken::DecodingKey::from_ec_components(
                        jwk.x.as_deref().unwrap(),
                        jwk.y.as_deref().unwrap(),
                    )
                    .unwrap(),
                )
            }
        };
        let token = Signer::new(key.clone()).sign(&live_claims()).unwrap();
        let verifier = Verifier::new(KeySet::from(key.clone()), policy());
        let peer = peer_validation(peer_alg);
        let mut group = c.benchmark_group(format!("{alg} verify"));
        group.bench_function("jwtkit", |b| {
            b.iter(|| black_box(verifier.verify(black_box(&token), now).unwrap()))
        });
        group.bench_function("jsonwebtoken", |b| {
            b.iter(|| {
                black_box(
                    jsonwebtoken::decode::<Claims>(black_box(&token), &peer_decoding, &peer)
                        .unwrap(),
                )
            })
        });
        group.finish();
        let mut group = c.benchmark_group(format!("{alg} sign"));
        let signer = Signer::new(key);
        let header = jsonwebtoken::Header::new(peer_alg);
        group.bench_function("jwtkit", |b| {
            b.iter(|| black_box(signer.sign(black_box(&claims())).unwrap()))
        });
        group.bench_function("jsonwebtoken", |b| {
            b.iter(|| {
                black_box(
                    jsonwebtoken::encode(&header, black_box(&claims()), &peer_encoding).unwrap(),
                )
            })
        });
        group.finish();
    }
}

fn hex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
        .collect()
}

criterion_group!(benches, hs256, asymmetric);
criterion_main!(benches);
