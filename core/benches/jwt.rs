//! jwtkit beside the floor and beside jsonwebtoken, in the same run.
//!
//! The floor is the least work any verifier must do. For HS256: a pre-keyed HMAC-SHA256
//! state, base64url decoding of the segments, and one serde parse of the claims. For the
//! asymmetric algorithms: the bare aws-lc-rs primitive over the same signing input (a parsed
//! public key, or a key pair), nothing else. Ratios to it are what `docs/benchmarks.md`
//! reports; absolute times vary with the machine. jwtkit is measured on the backend it was
//! built with (`cargo bench -p jwtkit-core --features aws-lc` for the server's), and
//! jsonwebtoken on its `aws_lc_rs` backend.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::hint::black_box;

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use criterion::{Criterion, criterion_group, criterion_main};
use hmac::{Hmac, KeyInit, Mac};
use jwtkit_core::{
    Algorithm, Key, KeySet, ParseOptions, Signer, UnixTime, Validation, Verifier, dangerous,
};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

#[path = "../tests/common/reference.rs"]
mod reference;

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

/// Signs a signing input with the bare primitive.
type FloorSign = Box<dyn Fn(&[u8]) -> Vec<u8>>;

/// One asymmetric algorithm's contenders: the bare aws-lc-rs primitive over the same
/// signing input (the floor), and jsonwebtoken (its `aws_lc_rs` backend), with keys made
/// from the jwtkit key's JWK.
struct Peers {
    alg: jsonwebtoken::Algorithm,
    encoding: jsonwebtoken::EncodingKey,
    decoding: jsonwebtoken::DecodingKey,
    floor_public: signature::ParsedPublicKey,
    floor_sign: FloorSign,
}

fn peers(alg: Algorithm, jwk: &jwtkit_core::Jwk) -> Peers {
    let unb64 = |v: &Option<String>| URL_SAFE_NO_PAD.decode(v.as_deref().unwrap()).unwrap();
    let rng = SystemRandom::new();
    let peer = reference::reference(alg, jwk);
    let (floor_public, floor_sign): (_, FloorSign) = match alg {
        Algorithm::EdDSA => {
            let (seed, x) = (unb64(&jwk.d), unb64(&jwk.x));
            let pair = signature::Ed25519KeyPair::from_seed_and_public_key(&seed, &x).unwrap();
            (
                signature::ParsedPublicKey::new(&signature::ED25519, &x).unwrap(),
                Box::new(move |input| pair.sign(input).as_ref().to_vec()),
            )
        }
        Algorithm::ES256 | Algorithm::ES384 => {
            let (d, x, y) = (unb64(&jwk.d), unb64(&jwk.x), unb64(&jwk.y));
            let sec1 = [vec![4], x, y].concat();
            let (verification, signing) = if alg == Algorithm::ES256 {
                (
                    &signature::ECDSA_P256_SHA256_FIXED,
                    &signature::ECDSA_P256_SHA256_FIXED_SIGNING,
                )
            } else {
                (
                    &signature::ECDSA_P384_SHA384_FIXED,
                    &signature::ECDSA_P384_SHA384_FIXED_SIGNING,
                )
            };
            let pair = signature::EcdsaKeyPair::from_private_key_and_public_key(signing, &d, &sec1)
                .unwrap();
            (
                signature::ParsedPublicKey::new(verification, &sec1).unwrap(),
                Box::new(move |input| pair.sign(&rng, input).unwrap().as_ref().to_vec()),
            )
        }
        _ => {
            let (n, e) = (unb64(&jwk.n), unb64(&jwk.e));
            let (verification, encoding): (_, &'static dyn signature::RsaEncoding) =
                if alg == Algorithm::RS256 {
                    (
                        &signature::RSA_PKCS1_2048_8192_SHA256,
                        &signature::RSA_PKCS1_SHA256,
                    )
                } else {
                    (
                        &signature::RSA_PSS_2048_8192_SHA256,
                        &signature::RSA_PSS_SHA256,
                    )
                };
            let pair = signature::RsaKeyPair::from_der(&peer.der).unwrap();
            (
                signature::RsaPublicKeyComponents { n: &n, e: &e }
                    .to_parsed_public_key(verification)
                    .unwrap(),
                Box::new(move |input| {
                    let mut out = vec![0; pair.public_modulus_len()];
                    pair.sign(encoding, &rng, input, &mut out).unwrap();
                    out
                }),
            )
        }
    };
    Peers {
        alg: peer.alg,
        encoding: peer.encoding,
        decoding: peer.decoding,
        floor_public,
        floor_sign,
    }
}

fn asymmetric(c: &mut Criterion) {
    let now = UnixTime::from_secs(NOW).unwrap();
    for alg in [
        Algorithm::EdDSA,
        Algorithm::ES256,
        Algorithm::ES384,
        Algorithm::RS256,
        Algorithm::PS256,
    ] {
        let key = Key::generate(alg).unwrap();
        let peers = peers(alg, &key.to_private_jwk());
        let token = Signer::new(key.clone()).sign(&live_claims()).unwrap();
        let (input, sig) = token.rsplit_once('.').unwrap();
        let sig = URL_SAFE_NO_PAD.decode(sig).unwrap();
        let verifier = Verifier::new(KeySet::from(key.clone()), policy());
        let peer = peer_validation(peers.alg);
        let mut group = c.benchmark_group(format!("{alg} verify"));
        group.bench_function("floor", |b| {
            b.iter(|| {
                peers
                    .floor_public
                    .verify_sig(black_box(input.as_bytes()), black_box(&sig))
                    .unwrap()
            })
        });
        group.bench_function("jwtkit", |b| {
            b.iter(|| black_box(verifier.verify(black_box(&token), now).unwrap()))
        });
        group.bench_function("jsonwebtoken", |b| {
            b.iter(|| {
                black_box(
                    jsonwebtoken::decode::<Claims>(black_box(&token), &peers.decoding, &peer)
                        .unwrap(),
                )
            })
        });
        group.finish();
        let mut group = c.benchmark_group(format!("{alg} sign"));
        let signer = Signer::new(key);
        let header = jsonwebtoken::Header::new(peers.alg);
        group.bench_function("floor", |b| {
            b.iter(|| black_box((peers.floor_sign)(black_box(input.as_bytes()))))
        });
        group.bench_function("jwtkit", |b| {
            b.iter(|| black_box(signer.sign(black_box(&claims())).unwrap()))
        });
        group.bench_function("jsonwebtoken", |b| {
            b.iter(|| {
                black_box(
                    jsonwebtoken::encode(&header, black_box(&claims()), &peers.encoding).unwrap(),
                )
            })
        });
        group.finish();
    }
}

/// A DPoP proof's whole check (`verify_proof`: the strict parse, the header key found among
/// the keys the policy imported before — a client proves with one key — the signature, `htm`,
/// `htu`, `iat`, `ath`) beside the floor: the bare aws-lc-rs verification of its signature
/// with a parsed key. Both go through [`PROOFS`] proofs of their own in turn, as a server
/// does: the same signature checked again and again lets the processor learn the branches of
/// ECDSA's variable-time arithmetic (the floor, so measured too, is then about 8 % faster
/// for ES256). The server adds the replay record's write and the HTTP around it (`cargo xtask
/// bench-http dpop`).
fn dpop(c: &mut Criterion) {
    /// Distinct proofs verified in turn.
    const PROOFS: usize = 1024;
    let now = UnixTime::from_secs(NOW).unwrap();
    let token = "an access token the proof is bound to";
    let request = jwtkit_core::dpop::ProofRequest {
        method: "GET",
        uri: "https://api.example/api/v3/secret",
        access_token: Some(token),
        nonce: None,
    };
    let policy = jwtkit_core::dpop::ProofPolicy::new([Algorithm::ES256, Algorithm::EdDSA], 60, 5);
    for alg in [Algorithm::EdDSA, Algorithm::ES256] {
        let key = Key::generate(alg).unwrap();
        let peers = peers(alg, &key.to_private_jwk());
        let proofs: Vec<String> = (0..PROOFS)
            .map(|i| {
                jwtkit_core::dpop::sign_proof(&key, &request, now, &format!("jti-{i}")).unwrap()
            })
            .collect();
        let signed: Vec<(&str, Vec<u8>)> = proofs
            .iter()
            .map(|proof| {
                let (input, sig) = proof.rsplit_once('.').unwrap();
                (input, URL_SAFE_NO_PAD.decode(sig).unwrap())
            })
            .collect();
        let mut group = c.benchmark_group(format!("DPoP proof {alg}"));
        let mut turn = (0..PROOFS).cycle();
        group.bench_function("floor", |b| {
            b.iter(|| {
                let (input, sig) = &signed[turn.next().unwrap_or(0)];
                peers
                    .floor_public
                    .verify_sig(black_box(input.as_bytes()), black_box(sig))
                    .unwrap()
            })
        });
        group.bench_function("floor, one proof again and again", |b| {
            let (input, sig) = &signed[0];
            b.iter(|| {
                peers
                    .floor_public
                    .verify_sig(black_box(input.as_bytes()), black_box(sig))
                    .unwrap()
            })
        });
        group.bench_function("jwtkit", |b| {
            b.iter(|| {
                let proof = &proofs[turn.next().unwrap_or(0)];
                black_box(
                    jwtkit_core::dpop::verify_proof(black_box(proof), &policy, &request, now)
                        .unwrap(),
                )
            })
        });
        group.finish();
    }
}

criterion_group!(benches, hs256, asymmetric, dpop);
criterion_main!(benches);
