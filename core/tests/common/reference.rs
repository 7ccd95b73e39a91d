//! jsonwebtoken, the reference implementation, with keys made from a jwtkit key's private
//! JWK (shared by the differential tests and the benchmarks).
#![allow(dead_code, unreachable_pub, clippy::panic)]

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jwtkit_core::{Algorithm, Jwk};

/// One key as jsonwebtoken holds it.
pub struct Reference {
    pub alg: jsonwebtoken::Algorithm,
    pub encoding: jsonwebtoken::EncodingKey,
    pub decoding: jsonwebtoken::DecodingKey,
    /// The private key's DER: PKCS#8 (EdDSA, ECDSA) or PKCS#1 (RSA); empty for HMAC.
    pub der: Vec<u8>,
}

fn bytes(member: &Option<String>) -> Vec<u8> {
    URL_SAFE_NO_PAD
        .decode(member.as_deref().expect("a private JWK member"))
        .expect("base64url")
}

pub fn hex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).expect("hex"))
        .collect()
}

/// jsonwebtoken's name of `alg`.
pub fn algorithm(alg: Algorithm) -> jsonwebtoken::Algorithm {
    use jsonwebtoken::Algorithm as J;
    match alg {
        Algorithm::HS256 => J::HS256,
        Algorithm::HS384 => J::HS384,
        Algorithm::HS512 => J::HS512,
        Algorithm::EdDSA => J::EdDSA,
        Algorithm::ES256 => J::ES256,
        Algorithm::ES384 => J::ES384,
        Algorithm::RS256 => J::RS256,
        Algorithm::PS256 => J::PS256,
        other => panic!("{other} has no jsonwebtoken name"),
    }
}

/// The key of `jwk` (private, for `alg`) as jsonwebtoken's encoding and decoding keys.
pub fn reference(alg: Algorithm, jwk: &Jwk) -> Reference {
    let peer = algorithm(alg);
    match alg {
        Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512 => {
            let secret = bytes(&jwk.k);
            Reference {
                alg: peer,
                encoding: jsonwebtoken::EncodingKey::from_secret(&secret).expect("an HMAC key"),
                decoding: jsonwebtoken::DecodingKey::from_secret(&secret).expect("an HMAC key"),
                der: Vec::new(),
            }
        }
        Algorithm::EdDSA => {
            // PKCS#8 v1 for Ed25519: a fixed prefix and the 32-byte seed.
            let der = [hex("302e020100300506032b657004220420"), bytes(&jwk.d)].concat();
            Reference {
                alg: peer,
                encoding: jsonwebtoken::EncodingKey::from_ed_der(&der),
                decoding: jsonwebtoken::DecodingKey::from_ed_components(
                    jwk.x.as_deref().expect("x"),
                )
                .expect("an Ed25519 public key"),
                der,
            }
        }
        Algorithm::ES256 | Algorithm::ES384 => {
            let (prefix, middle) = if alg == Algorithm::ES256 {
                (
                    "308187020100301306072a8648ce3d020106082a8648ce3d030107046d306b0201010420",
                    "a14403420004",
                )
            } else {
                (
                    "3081b6020100301006072a8648ce3d020106052b8104002204819e30819b0201010430",
                    "a16403620004",
                )
            };
            // PKCS#8 for the curve: fixed prefix, the scalar, and the public point.
            let der = [
                hex(prefix),
                bytes(&jwk.d),
                hex(middle),
                bytes(&jwk.x),
                bytes(&jwk.y),
            ]
            .concat();
            Reference {
                alg: peer,
                encoding: jsonwebtoken::EncodingKey::from_ec_der(&der),
                decoding: jsonwebtoken::DecodingKey::from_ec_components(
                    jwk.x.as_deref().expect("x"),
                    jwk.y.as_deref().expect("y"),
                )
                .expect("an EC public key"),
                der,
            }
        }
        _ => {
            use rsa::pkcs1::EncodeRsaPrivateKey as _;
            let uint = |v: &Option<String>| rsa::BoxedUint::from_be_slice_vartime(&bytes(v));
            let private = rsa::PrivateKey::from_components(
                uint(&jwk.n),
                uint(&jwk.e),
                uint(&jwk.d),
                vec![uint(&jwk.p), uint(&jwk.q)],
            )
            .expect("an RSA private key");
            let der = private.to_pkcs1_der().expect("PKCS#1").as_bytes().to_vec();
            Reference {
                alg: peer,
                encoding: jsonwebtoken::EncodingKey::from_rsa_der(&der),
                decoding: jsonwebtoken::DecodingKey::from_rsa_raw_components(
                    &bytes(&jwk.n),
                    &bytes(&jwk.e),
                ),
                der,
            }
        }
    }
}
