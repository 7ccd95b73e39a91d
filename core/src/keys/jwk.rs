//! JSON Web Keys (RFC 7517, RFC 7518 §6, RFC 8037 §2) and thumbprints (RFC 7638).

use core::fmt;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::ecdsa::{P256Key, P384Key};
use super::eddsa::Ed25519Key;
use super::hmac::HmacKey;
use super::rsa::{RsaKey, RsaParts};
use super::{Key, Material};
use crate::alg::Algorithm;
use crate::b64;
use crate::error::KeyError;
use crate::json;

/// A JSON Web Key as it appears in JSON. Load it with [`Key::from_jwk`]; its `Debug` output
/// shows no key material.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Jwk {
    /// Key type: `oct`, `OKP`, `EC` or `RSA`.
    pub kty: String,
    /// Intended use; only `sig` is accepted.
    #[serde(rename = "use", skip_serializing_if = "Option::is_none")]
    pub use_: Option<String>,
    /// Permitted operations; must include `sign` or `verify` when present.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_ops: Option<Vec<String>>,
    /// The one algorithm the key is used with.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alg: Option<String>,
    /// Key ID.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kid: Option<String>,
    /// Curve (`OKP`, `EC`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub crv: Option<String>,
    /// Public x coordinate (`OKP`, `EC`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub x: Option<String>,
    /// Public y coordinate (`EC`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub y: Option<String>,
    /// Modulus (`RSA`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub n: Option<String>,
    /// Public exponent (`RSA`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub e: Option<String>,
    /// Private key (`OKP`, `EC`) or private exponent (`RSA`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub d: Option<String>,
    /// First prime factor (`RSA`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub p: Option<String>,
    /// Second prime factor (`RSA`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub q: Option<String>,
    /// First factor CRT exponent (`RSA`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dp: Option<String>,
    /// Second factor CRT exponent (`RSA`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dq: Option<String>,
    /// First CRT coefficient (`RSA`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub qi: Option<String>,
    /// Other primes (`RSA`); multi-prime keys are refused.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub oth: Option<serde_json::Value>,
    /// The shared secret (`oct`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub k: Option<String>,
}

impl fmt::Debug for Jwk {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Jwk")
            .field("kty", &self.kty)
            .field("alg", &self.alg)
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

/// A JWK Set (RFC 7517 §5).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct JwkSet {
    /// The keys.
    pub keys: Vec<Jwk>,
}

impl Jwk {
    /// Parses one JWK from JSON, strictly (no duplicate members).
    pub fn from_json(text: &str) -> Result<Self, KeyError> {
        from_strict_json(text)
    }

    /// The JWK as JSON.
    pub fn to_json(&self) -> String {
        to_json(self)
    }
}

impl JwkSet {
    /// Parses a JWK Set from JSON, strictly (no duplicate members).
    pub fn from_json(text: &str) -> Result<Self, KeyError> {
        from_strict_json(text)
    }

    /// The set as JSON.
    pub fn to_json(&self) -> String {
        to_json(self)
    }
}

/// JSON of a JWK or JWK Set: structs of strings and string lists, which always serialize.
fn to_json<T: Serialize>(value: &T) -> String {
    #[allow(clippy::expect_used)]
    serde_json::to_string(value)
        .expect("invariant: a struct of strings and string lists serializes to JSON")
}

fn from_strict_json<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, KeyError> {
    json::scan_object(text, |_, _| {}).map_err(|fault| KeyError::InvalidJwk {
        reason: match fault {
            json::Fault::Duplicate => "duplicate member name",
            json::Fault::TooDeep => "JSON nests too deeply",
            _ => "not a JSON object",
        },
    })?;
    // No duplicates, so serde_json reads the members the scan saw.
    serde_json::from_str(text).map_err(|_| KeyError::InvalidJwk {
        reason: "a member is missing or has the wrong type",
    })
}

fn member<'a>(value: &'a Option<String>, reason: &'static str) -> Result<&'a str, KeyError> {
    value.as_deref().ok_or(KeyError::InvalidJwk { reason })
}

fn bytes(value: &str, reason: &'static str) -> Result<zeroize::Zeroizing<Vec<u8>>, KeyError> {
    b64::decode(value.as_bytes())
        .map(zeroize::Zeroizing::new)
        .ok_or(KeyError::InvalidJwk { reason })
}

fn optional_bytes(
    value: &Option<String>,
    reason: &'static str,
) -> Result<Option<zeroize::Zeroizing<Vec<u8>>>, KeyError> {
    value.as_deref().map(|v| bytes(v, reason)).transpose()
}

impl Key {
    /// Loads a JWK, binding it to its `alg` member, or to `default_alg` when it has none.
    ///
    /// Refused: keys whose `use` is not `sig` or whose `key_ops` allow neither `sign` nor
    /// `verify`; key types or curves that do not fit the algorithm; HMAC secrets shorter than
    /// the hash output; RSA moduli under 2048 bits; points not on the curve; private parts
    /// that do not match the public ones.
    pub fn from_jwk(jwk: &Jwk, default_alg: Option<Algorithm>) -> Result<Self, KeyError> {
        let alg = match &jwk.alg {
            Some(name) => name.parse().map_err(|_| KeyError::AlgorithmUnsupported)?,
            None => default_alg.ok_or(KeyError::AlgorithmUnsupported)?,
        };
        if jwk.use_.as_deref().is_some_and(|u| u != "sig") {
            return Err(KeyError::UsageNotPermitted);
        }
        if let Some(ops) = &jwk.key_ops
            && !ops.iter().any(|op| op == "sign" || op == "verify")
        {
            return Err(KeyError::UsageNotPermitted);
        }
        let material = match (alg, jwk.kty.as_str(), jwk.crv.as_deref()) {
            (Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512, "oct", None) => {
                let k = bytes(
                    member(&jwk.k, "\"k\" is missing")?,
                    "\"k\" is not base64url",
                )?;
                Material::Hmac(HmacKey::new(alg, &k)?)
            }
            (Algorithm::EdDSA, "OKP", Some("Ed25519")) => {
                let x = bytes(
                    member(&jwk.x, "\"x\" is missing")?,
                    "\"x\" is not base64url",
                )?;
                let d = optional_bytes(&jwk.d, "\"d\" is not base64url")?;
                Material::Ed25519(Ed25519Key::from_parts(&x, d.as_deref().map(|d| &d[..]))?)
            }
            (Algorithm::ES256, "EC", Some("P-256")) => {
                let (x, y, d) = ec_members(jwk)?;
                Material::P256(P256Key::from_parts(&x, &y, d.as_deref().map(|d| &d[..]))?)
            }
            (Algorithm::ES384, "EC", Some("P-384")) => {
                let (x, y, d) = ec_members(jwk)?;
                Material::P384(P384Key::from_parts(&x, &y, d.as_deref().map(|d| &d[..]))?)
            }
            (Algorithm::RS256 | Algorithm::PS256, "RSA", None) => {
                if jwk.oth.is_some() {
                    return Err(KeyError::InvalidJwk {
                        reason: "multi-prime RSA keys are not supported",
                    });
                }
                let n = bytes(
                    member(&jwk.n, "\"n\" is missing")?,
                    "\"n\" is not base64url",
                )?;
                let e = bytes(
                    member(&jwk.e, "\"e\" is missing")?,
                    "\"e\" is not base64url",
                )?;
                let d = optional_bytes(&jwk.d, "\"d\" is not base64url")?;
                let p = optional_bytes(&jwk.p, "\"p\" is not base64url")?;
                let q = optional_bytes(&jwk.q, "\"q\" is not base64url")?;
                let primes = match (&p, &q) {
                    (Some(p), Some(q)) => Some((&p[..], &q[..])),
                    (None, None) => None,
                    _ => {
                        return Err(KeyError::InvalidJwk {
                            reason: "\"p\" and \"q\" must come together",
                        });
                    }
                };
                let parts = RsaParts {
                    n: &n,
                    e: &e,
                    d: d.as_deref().map(|d| &d[..]),
                    primes,
                };
                Material::Rsa(RsaKey::from_parts(alg, parts)?)
            }
            _ => return Err(KeyError::AlgorithmMismatch),
        };
        match &jwk.kid {
            Some(kid) => Self::with_kid(alg, kid, material),
            None => Self::with_thumbprint_kid(alg, material),
        }
    }

    /// Parses and loads one JWK from JSON; see [`Key::from_jwk`].
    pub fn from_jwk_json(text: &str, default_alg: Option<Algorithm>) -> Result<Self, KeyError> {
        Self::from_jwk(&Jwk::from_json(text)?, default_alg)
    }

    /// The public JWK (with `alg`, `kid` and `use: sig`), or `None` for a symmetric key,
    /// which has no public part. Never contains private or secret material.
    pub fn to_public_jwk(&self) -> Option<Jwk> {
        let mut jwk = self.public_members()?;
        jwk.alg = Some(self.alg.as_str().to_owned());
        jwk.kid = Some(self.kid.clone());
        jwk.use_ = Some("sig".to_owned());
        Some(jwk)
    }

    /// The complete JWK, **including the private key or shared secret**: for storing a key
    /// that was just generated. Handle the result as a secret.
    pub fn to_private_jwk(&self) -> Jwk {
        let mut jwk = self.public_members().unwrap_or_else(|| Jwk {
            kty: "oct".to_owned(),
            ..Jwk::default()
        });
        jwk.alg = Some(self.alg.as_str().to_owned());
        jwk.kid = Some(self.kid.clone());
        jwk.use_ = Some("sig".to_owned());
        match &self.material {
            Material::Hmac(k) => jwk.k = Some(b64::encode(k.secret())),
            Material::Ed25519(k) => jwk.d = k.private.as_ref().map(|p| b64::encode(p.as_bytes())),
            Material::P256(k) => jwk.d = k.private_scalar().map(|d| b64::encode(&d)),
            Material::P384(k) => jwk.d = k.private_scalar().map(|d| b64::encode(&d)),
            Material::Rsa(k) => {
                if let Some(parts) = k.private_parts() {
                    let [d, p, q, dp, dq, qi] =
                        [0, 1, 2, 3, 4, 5].map(|i| Some(b64::encode(&parts[i])));
                    (jwk.d, jwk.p, jwk.q, jwk.dp, jwk.dq, jwk.qi) = (d, p, q, dp, dq, qi);
                }
            }
        }
        jwk
    }

    /// The members that identify the key, for the public JWK and the thumbprint.
    fn public_members(&self) -> Option<Jwk> {
        let ec = |crv: &str, (x, y): (Vec<u8>, Vec<u8>)| Jwk {
            kty: "EC".to_owned(),
            crv: Some(crv.to_owned()),
            x: Some(b64::encode(&x)),
            y: Some(b64::encode(&y)),
            ..Jwk::default()
        };
        match &self.material {
            Material::Hmac(_) => None,
            Material::Ed25519(k) => Some(Jwk {
                kty: "OKP".to_owned(),
                crv: Some("Ed25519".to_owned()),
                x: Some(b64::encode(k.public.as_bytes())),
                ..Jwk::default()
            }),
            Material::P256(k) => Some(ec("P-256", k.coordinates())),
            Material::P384(k) => Some(ec("P-384", k.coordinates())),
            Material::Rsa(k) => {
                let (n, e) = k.public_parts();
                Some(Jwk {
                    kty: "RSA".to_owned(),
                    n: Some(b64::encode(&n)),
                    e: Some(b64::encode(&e)),
                    ..Jwk::default()
                })
            }
        }
    }

    /// The RFC 7638 JWK thumbprint (SHA-256, base64url) of this key.
    pub fn thumbprint(&self) -> String {
        // Required members only, in lexicographic order, no whitespace (RFC 7638 §3.2). All
        // values are base64url or fixed names, so no JSON escaping is needed.
        let ec = |crv: &str, (x, y): (Vec<u8>, Vec<u8>)| {
            let (x, y) = (b64::encode(&x), b64::encode(&y));
            format!(r#"{{"crv":"{crv}","kty":"EC","x":"{x}","y":"{y}"}}"#)
        };
        let canonical = match &self.material {
            Material::Hmac(k) => format!(r#"{{"k":"{}","kty":"oct"}}"#, b64::encode(k.secret())),
            Material::Ed25519(k) => format!(
                r#"{{"crv":"Ed25519","kty":"OKP","x":"{}"}}"#,
                b64::encode(k.public.as_bytes())
            ),
            Material::P256(k) => ec("P-256", k.coordinates()),
            Material::P384(k) => ec("P-384", k.coordinates()),
            Material::Rsa(k) => {
                let (n, e) = k.public_parts();
                format!(
                    r#"{{"e":"{}","kty":"RSA","n":"{}"}}"#,
                    b64::encode(&e),
                    b64::encode(&n)
                )
            }
        };
        let canonical = zeroize::Zeroizing::new(canonical);
        b64::encode(&Sha256::digest(canonical.as_bytes()))
    }
}

type EcMembers = (
    zeroize::Zeroizing<Vec<u8>>,
    zeroize::Zeroizing<Vec<u8>>,
    Option<zeroize::Zeroizing<Vec<u8>>>,
);

fn ec_members(jwk: &Jwk) -> Result<EcMembers, KeyError> {
    Ok((
        bytes(
            member(&jwk.x, "\"x\" is missing")?,
            "\"x\" is not base64url",
        )?,
        bytes(
            member(&jwk.y, "\"y\" is missing")?,
            "\"y\" is not base64url",
        )?,
        optional_bytes(&jwk.d, "\"d\" is not base64url")?,
    ))
}
