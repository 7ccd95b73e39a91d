//! The JOSE header of a compact JWS (RFC 7515 §4), read strictly.

use serde_json::{Map, Value};

use crate::alg::Algorithm;
use crate::error::MalformedError;
use crate::json;

/// Header parameters that carry or point at a key. A verifier that trusted them would let
/// the token choose its own key (RFC 8725 §3.10), so their presence is refused.
const KEY_CARRYING: [&str; 4] = ["jwk", "jku", "x5u", "x5c"];

/// The JOSE header of a token, after the strict checks of [`crate::parse`].
#[derive(Debug, Clone, PartialEq)]
pub struct Header {
    alg: String,
    typ: Option<String>,
    cty: Option<String>,
    kid: Option<String>,
    members: Map<String, Value>,
}

impl Header {
    pub(crate) fn from_object(members: Map<String, Value>) -> Result<Self, MalformedError> {
        let alg = match members.get("alg") {
            None => return Err(MalformedError::AlgorithmMissing),
            Some(Value::String(alg)) => alg.clone(),
            Some(_) => return Err(MalformedError::HeaderParameterInvalid { name: "alg" }),
        };
        if members.contains_key("crit") {
            return Err(MalformedError::CriticalHeaderUnsupported);
        }
        if members.contains_key("b64") {
            return Err(MalformedError::UnencodedPayloadUnsupported);
        }
        if let Some(name) = KEY_CARRYING
            .into_iter()
            .find(|name| members.contains_key(*name))
        {
            return Err(MalformedError::EmbeddedKeyUnsupported { name });
        }
        let typ = optional_string(&members, "typ")?;
        let cty = optional_string(&members, "cty")?;
        let kid = optional_string(&members, "kid")?;
        if cty.as_deref().is_some_and(|cty| media_type_eq(cty, "JWT")) {
            return Err(MalformedError::NestedJwtUnsupported);
        }
        Ok(Self {
            alg,
            typ,
            cty,
            kid,
            members,
        })
    }

    /// The `alg` parameter exactly as the token states it (it may name no supported algorithm).
    pub fn alg(&self) -> &str {
        &self.alg
    }

    /// The `alg` parameter as a supported [`Algorithm`], or `None` (e.g. for `none`).
    pub fn algorithm(&self) -> Option<Algorithm> {
        self.alg.parse().ok()
    }

    /// The `typ` parameter: the media type of the whole token (RFC 7515 §4.1.9).
    pub fn typ(&self) -> Option<&str> {
        self.typ.as_deref()
    }

    /// The `cty` parameter: the media type of the payload (RFC 7515 §4.1.10).
    pub fn cty(&self) -> Option<&str> {
        self.cty.as_deref()
    }

    /// The `kid` parameter: a hint naming one of the verifier's configured keys.
    pub fn kid(&self) -> Option<&str> {
        self.kid.as_deref()
    }

    /// Every header parameter, as JSON.
    pub fn members(&self) -> &Map<String, Value> {
        &self.members
    }
}

fn optional_string(
    members: &Map<String, Value>,
    name: &'static str,
) -> Result<Option<String>, MalformedError> {
    json::optional_string(members, name, |name| {
        MalformedError::HeaderParameterInvalid { name }
    })
}

/// Compares two `typ`/`cty` media types as RFC 7515 §4.1.9 asks: case-insensitively, with an
/// omitted `application/` prefix (so `application/at+jwt` equals `at+jwt`).
pub fn media_type_eq(a: &str, b: &str) -> bool {
    fn short(t: &str) -> &str {
        match t.get(..12) {
            Some(prefix)
                if prefix.eq_ignore_ascii_case("application/") && !t[12..].contains('/') =>
            {
                &t[12..]
            }
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
        let map = serde_json::from_str(json).unwrap();
        Header::from_object(map).map_err(|e| e.code())
    }

    #[test]
    fn reads_parameters() {
        let h = header(r#"{"alg":"HS256","typ":"at+jwt","kid":"k1","x":1}"#).unwrap();
        assert_eq!(h.alg(), "HS256");
        assert_eq!(h.algorithm(), Some(Algorithm::HS256));
        assert_eq!(h.typ(), Some("at+jwt"));
        assert_eq!(h.kid(), Some("k1"));
        assert_eq!(h.members().len(), 4);
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
