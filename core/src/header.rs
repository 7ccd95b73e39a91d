//! The JOSE header of a compact JWS (RFC 7515 §4), read strictly.

use std::sync::OnceLock;

use serde_json::{Map, Value};

use crate::alg::Algorithm;
use crate::error::{MalformedError, Segment};
use crate::json::{self, Raw, Text};

/// Header parameters that carry or point at a key. A verifier that trusted them would let
/// the token choose its own key (RFC 8725 §3.10), so their presence is refused.
const KEY_CARRYING: [&str; 4] = ["jwk", "jku", "x5u", "x5c"];

/// The JOSE header of a token, after the strict checks of [`crate::parse`].
#[derive(Clone)]
pub struct Header {
    alg: Text,
    typ: Option<Text>,
    cty: Option<Text>,
    kid: Option<Text>,
    json: String,
    /// The JSON map view, built on first use.
    members: OnceLock<Map<String, Value>>,
}

impl Header {
    /// Reads `json` (UTF-8 without a byte order mark) strictly: first the JSON rules of
    /// [`crate::json`], then the header rules in a fixed order. `embedded_jwk` allows a `jwk`
    /// member (a DPoP proof's); the other key-carrying members are refused all the same.
    pub(crate) fn parse(json: String, embedded_jwk: bool) -> Result<Self, MalformedError> {
        let mut alg = None;
        let (mut typ, mut cty, mut kid) = (None, None, None);
        let (mut crit, mut b64) = (false, false);
        let mut key_carrying = [false; KEY_CARRYING.len()];
        json::scan_object(&json, |name, value| match name {
            "alg" => alg = Some(value),
            "typ" => typ = Some(value),
            "cty" => cty = Some(value),
            "kid" => kid = Some(value),
            "crit" => crit = true,
            "b64" => b64 = true,
            _ => {
                if let Some(i) = KEY_CARRYING.iter().position(|k| *k == name)
                    && !(embedded_jwk && name == "jwk")
                {
                    key_carrying[i] = true;
                }
            }
        })
        .map_err(|fault| fault.in_segment(Segment::Header))?;

        let alg = match alg {
            None => return Err(MalformedError::AlgorithmMissing),
            Some(value) => string(value, "alg")?,
        };
        if crit {
            return Err(MalformedError::CriticalHeaderUnsupported);
        }
        if b64 {
            return Err(MalformedError::UnencodedPayloadUnsupported);
        }
        if let Some(i) = key_carrying.iter().position(|present| *present) {
            let name = KEY_CARRYING[i];
            return Err(MalformedError::EmbeddedKeyUnsupported { name });
        }
        let typ = typ.map(|v| string(v, "typ")).transpose()?;
        let cty = cty.map(|v| string(v, "cty")).transpose()?;
        let kid = kid.map(|v| string(v, "kid")).transpose()?;
        if cty
            .as_ref()
            .is_some_and(|cty| media_type_eq(cty.get(&json), "JWT"))
        {
            return Err(MalformedError::NestedJwtUnsupported);
        }
        Ok(Self {
            alg,
            typ,
            cty,
            kid,
            json,
            members: OnceLock::new(),
        })
    }

    /// The `alg` parameter exactly as the token states it (it may name no supported algorithm).
    pub fn alg(&self) -> &str {
        self.alg.get(&self.json)
    }

    /// The `alg` parameter as a supported [`Algorithm`], or `None` (e.g. for `none`).
    pub fn algorithm(&self) -> Option<Algorithm> {
        self.alg().parse().ok()
    }

    /// The `typ` parameter: the media type of the whole token (RFC 7515 §4.1.9).
    pub fn typ(&self) -> Option<&str> {
        self.typ.as_ref().map(|t| t.get(&self.json))
    }

    /// The `cty` parameter: the media type of the payload (RFC 7515 §4.1.10).
    pub fn cty(&self) -> Option<&str> {
        self.cty.as_ref().map(|t| t.get(&self.json))
    }

    /// The `kid` parameter: a hint naming one of the verifier's configured keys.
    pub fn kid(&self) -> Option<&str> {
        self.kid.as_ref().map(|t| t.get(&self.json))
    }

    /// The header's JSON text exactly as decoded (valid and duplicate-free).
    pub fn json(&self) -> &str {
        &self.json
    }

    /// Every header parameter, as JSON (built on first use).
    pub fn members(&self) -> &Map<String, Value> {
        self.members.get_or_init(|| json::to_map(&self.json))
    }
}

impl PartialEq for Header {
    /// Headers are equal when their JSON texts are.
    fn eq(&self, other: &Self) -> bool {
        self.json == other.json
    }
}

impl core::fmt::Debug for Header {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Header")
            .field("alg", &self.alg())
            .field("typ", &self.typ())
            .field("cty", &self.cty())
            .field("kid", &self.kid())
            .field("json", &self.json)
            .finish()
    }
}

/// A header parameter that must be a string.
fn string(value: Raw<'_>, name: &'static str) -> Result<Text, MalformedError> {
    value
        .text()
        .ok_or(MalformedError::HeaderParameterInvalid { name })
}

/// Compares two `typ`/`cty` media types as RFC 7515 §4.1.9 asks: case-insensitively, with an
/// omitted `application/` prefix (so `application/at+jwt` equals `at+jwt`).
pub fn media_type_eq(a: &str, b: &str) -> bool {
    fn short(t: &str) -> &str {
        match t.get(..12) {
            Some(prefix) if prefix.eq_ignore_ascii_case("application/") => match t.get(12..) {
                Some(rest) if !rest.contains('/') => rest,
                _ => t,
            },
            _ => t,
        }
    }
    short(a).eq_ignore_ascii_case(short(b))
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn header(json: &str) -> Result<Header, &'static str> {
        Header::parse(json.to_owned(), false).map_err(|e| e.code())
    }

    #[test]
    fn reads_parameters() {
        let h = header(r#"{"alg":"HS256","typ":"at+jwt","kid":"k1","x":1}"#).unwrap();
        assert_eq!(h.alg(), "HS256");
        assert_eq!(h.algorithm(), Some(Algorithm::HS256));
        assert_eq!(h.typ(), Some("at+jwt"));
        assert_eq!(h.kid(), Some("k1"));
        assert_eq!(h.members().len(), 4);
        assert_eq!(h.members()["x"], 1);
        assert_eq!(
            h.json(),
            r#"{"alg":"HS256","typ":"at+jwt","kid":"k1","x":1}"#
        );
        assert_eq!(header(r#"{"alg":"none"}"#).unwrap().algorithm(), None);
    }

    #[test]
    fn rejects_each_rule_with_its_code() {
        assert_eq!(header(r#"{"typ":"JWT"}"#), Err("ERR_JWS_ALG_MISSING"));
        assert_eq!(header(r#"{"alg":null}"#), Err("ERR_JWS_HEADER_INVALID"));
        assert_eq!(
            header(r#"{"alg":["HS256"]}"#),
            Err("ERR_JWS_HEADER_INVALID")
        );
        assert_eq!(
            header(r#"{"alg":"HS256","kid":7}"#),
            Err("ERR_JWS_HEADER_INVALID")
        );
        assert_eq!(
            header(r#"{"alg":"HS256","typ":true}"#),
            Err("ERR_JWS_HEADER_INVALID")
        );
        assert_eq!(
            header(r#"{"alg":"HS256","crit":["exp"]}"#),
            Err("ERR_JWS_CRIT_UNSUPPORTED")
        );
        assert_eq!(
            header(r#"{"alg":"HS256","crit":[]}"#),
            Err("ERR_JWS_CRIT_UNSUPPORTED")
        );
        assert_eq!(
            header(r#"{"alg":"HS256","b64":false}"#),
            Err("ERR_JWS_B64_UNSUPPORTED")
        );
        assert_eq!(
            header(r#"{"alg":"HS256","cty":"JWT"}"#),
            Err("ERR_JWT_NESTED_UNSUPPORTED")
        );
        assert_eq!(
            header(r#"{"alg":"HS256","cty":"application/jwt"}"#),
            Err("ERR_JWT_NESTED_UNSUPPORTED")
        );
        for name in ["jwk", "jku", "x5u", "x5c"] {
            let json = format!(r#"{{"alg":"RS256","{name}":"x"}}"#);
            assert_eq!(
                header(&json),
                Err("ERR_JWS_EMBEDDED_KEY_UNSUPPORTED"),
                "{name}"
            );
        }
    }

    #[test]
    fn media_types_compare_as_rfc_7515_says() {
        assert!(media_type_eq("at+jwt", "application/at+jwt"));
        assert!(media_type_eq("AT+JWT", "at+jwt"));
        assert!(media_type_eq("Application/JWT", "jwt"));
        assert!(!media_type_eq("jwt", "at+jwt"));
        assert!(!media_type_eq("application/", "jwt"));
        assert!(!media_type_eq("application/x/jwt", "x/jwt"));
    }
}
