//! The JWT claims set (RFC 7519 §4): typed registered claims plus every member as JSON.

use std::sync::{Arc, OnceLock};

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::error::{MalformedError, Segment};
use crate::json::{self, Kind, Raw, Text};
use crate::time::UnixTime;

/// The `aud` claim: one audience or a non-empty list of them (RFC 7519 §4.1.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Audience {
    /// `"aud": "api"`.
    One(String),
    /// `"aud": ["api", "web"]` (never empty).
    Many(Vec<String>),
}

impl Audience {
    /// Whether `audience` is one of the token's audiences (exact, case-sensitive).
    pub fn contains(&self, audience: &str) -> bool {
        self.iter().any(|a| a == audience)
    }

    /// The audiences, in order.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        let slice = match self {
            Self::One(one) => core::slice::from_ref(one),
            Self::Many(many) => many.as_slice(),
        };
        slice.iter().map(String::as_str)
    }
}

/// A JWT claims set: the registered claims, type-checked, and every member as JSON.
///
/// A registered claim of the wrong type is an error when the token is parsed, never treated
/// as absent: `"exp": "1700000000"` or `"exp": null` makes the token malformed.
///
/// Immutable once parsed, so clones share it (a server hands the same verified claims to
/// every request that presents the token).
#[derive(Clone)]
pub struct Claims(Arc<Parsed>);

/// What a claims set holds.
struct Parsed {
    iss: Option<Text>,
    sub: Option<Text>,
    aud: Option<Audience>,
    exp: Option<UnixTime>,
    nbf: Option<UnixTime>,
    iat: Option<UnixTime>,
    jti: Option<Text>,
    sid: Option<Text>,
    json: String,
    /// The JSON map view, built on first use.
    members: OnceLock<Map<String, Value>>,
}

/// The registered claims as found by the scan, before their types are checked.
#[derive(Default)]
struct Found<'a> {
    iss: Option<Raw<'a>>,
    sub: Option<Raw<'a>>,
    aud: Option<Raw<'a>>,
    exp: Option<Raw<'a>>,
    nbf: Option<Raw<'a>>,
    iat: Option<Raw<'a>>,
    jti: Option<Raw<'a>>,
    sid: Option<Raw<'a>>,
}

impl Claims {
    /// Reads `json` (UTF-8 without a byte order mark) strictly: first the JSON rules of
    /// [`crate::json`], then the types of the registered claims.
    pub(crate) fn parse(json: String) -> Result<Self, MalformedError> {
        let mut found = Found::default();
        json::scan_object(&json, |name, value| {
            let slot = match name {
                "iss" => &mut found.iss,
                "sub" => &mut found.sub,
                "aud" => &mut found.aud,
                "exp" => &mut found.exp,
                "nbf" => &mut found.nbf,
                "iat" => &mut found.iat,
                "jti" => &mut found.jti,
                "sid" => &mut found.sid,
                _ => return,
            };
            *slot = Some(value);
        })
        .map_err(|fault| fault.in_segment(Segment::Payload))?;
        Ok(Self(Arc::new(Parsed {
            iss: string(found.iss, "iss")?,
            sub: string(found.sub, "sub")?,
            aud: audience(found.aud)?,
            exp: numeric_date(found.exp, "exp")?,
            nbf: numeric_date(found.nbf, "nbf")?,
            iat: numeric_date(found.iat, "iat")?,
            jti: string(found.jti, "jti")?,
            sid: string(found.sid, "sid")?,
            json,
            members: OnceLock::new(),
        })))
    }

    /// `iss`: who issued the token.
    pub fn iss(&self) -> Option<&str> {
        self.0.iss.as_ref().map(|t| t.get(&self.0.json))
    }

    /// `sub`: whom the token is about.
    pub fn sub(&self) -> Option<&str> {
        self.0.sub.as_ref().map(|t| t.get(&self.0.json))
    }

    /// `aud`: for whom the token is intended.
    pub fn aud(&self) -> Option<&Audience> {
        self.0.aud.as_ref()
    }

    /// `exp`: the expiration time.
    pub fn exp(&self) -> Option<UnixTime> {
        self.0.exp
    }

    /// `nbf`: the time before which the token must not be accepted.
    pub fn nbf(&self) -> Option<UnixTime> {
        self.0.nbf
    }

    /// `iat`: the time at which the token was issued.
    pub fn iat(&self) -> Option<UnixTime> {
        self.0.iat
    }

    /// `jti`: the token's unique identifier.
    pub fn jti(&self) -> Option<&str> {
        self.0.jti.as_ref().map(|t| t.get(&self.0.json))
    }

    /// `sid`: the session the token belongs to (OpenID Connect Front-Channel Logout §3, an
    /// IANA-registered JWT claim); a string when present.
    pub fn sid(&self) -> Option<&str> {
        self.0.sid.as_ref().map(|t| t.get(&self.0.json))
    }

    /// Whether the claims set has a member called `name` (of any value).
    pub fn contains(&self, name: &str) -> bool {
        match name {
            "iss" => self.0.iss.is_some(),
            "sub" => self.0.sub.is_some(),
            "aud" => self.0.aud.is_some(),
            "exp" => self.0.exp.is_some(),
            "nbf" => self.0.nbf.is_some(),
            "iat" => self.0.iat.is_some(),
            "jti" => self.0.jti.is_some(),
            "sid" => self.0.sid.is_some(),
            _ => match self.0.members.get() {
                Some(members) => members.contains_key(name),
                None => json::has_member(&self.0.json, name),
            },
        }
    }

    /// Any claim, registered or not, as JSON.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.members().get(name)
    }

    /// Every claim, as a JSON map (built on first use).
    pub fn members(&self) -> &Map<String, Value> {
        self.0.members.get_or_init(|| json::to_map(&self.0.json))
    }

    /// The claims set's JSON text exactly as decoded (valid and duplicate-free).
    pub fn json(&self) -> &str {
        &self.0.json
    }

    /// The whole claims set as your own `serde` type, e.g. a struct with `roles: Vec<String>`.
    ///
    /// ```
    /// # use jwtkit_core::{dangerous, ParseOptions};
    /// #[derive(serde::Deserialize)]
    /// struct App { roles: Vec<String> }
    /// // {"alg":"HS256"} . {"sub":"ann","roles":["admin"]} . (signature ignored here)
    /// let token = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbm4iLCJyb2xlcyI6WyJhZG1pbiJdfQ.c2ln";
    /// let decoded = dangerous::decode_unverified(token, &ParseOptions::default())?;
    /// let app: App = decoded.claims().deserialize().map_err(|_| "no roles")?;
    /// assert_eq!(app.roles, ["admin"]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn deserialize<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        // The text has no duplicate members, so serde_json reads what the scan read.
        serde_json::from_str(&self.0.json)
    }
}

impl PartialEq for Claims {
    /// Claims sets are equal when their JSON texts are.
    fn eq(&self, other: &Self) -> bool {
        self.0.json == other.0.json
    }
}

impl core::fmt::Debug for Claims {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Claims")
            .field("iss", &self.iss())
            .field("sub", &self.sub())
            .field("aud", &self.0.aud)
            .field("exp", &self.0.exp)
            .field("nbf", &self.0.nbf)
            .field("iat", &self.0.iat)
            .field("jti", &self.jti())
            .field("sid", &self.sid())
            .field("json", &self.0.json)
            .finish()
    }
}

fn string(value: Option<Raw<'_>>, name: &'static str) -> Result<Option<Text>, MalformedError> {
    value
        .map(|value| value.text().ok_or(MalformedError::ClaimInvalid { name }))
        .transpose()
}

fn audience(value: Option<Raw<'_>>) -> Result<Option<Audience>, MalformedError> {
    let invalid = || MalformedError::ClaimInvalid { name: "aud" };
    let Some(value) = value else {
        return Ok(None);
    };
    if let Some(one) = value.as_str() {
        return Ok(Some(Audience::One(one.into_owned())));
    }
    let items = value.items().ok_or_else(invalid)?;
    if items.is_empty() {
        return Err(invalid());
    }
    items
        .into_iter()
        .map(|item| item.as_str().map(|s| s.into_owned()).ok_or_else(invalid))
        .collect::<Result<_, _>>()
        .map(|many| Some(Audience::Many(many)))
}

/// A NumericDate (RFC 7519 §2): a JSON number of seconds within `0..=253402300799`.
fn numeric_date(
    value: Option<Raw<'_>>,
    name: &'static str,
) -> Result<Option<UnixTime>, MalformedError> {
    let Some(value) = value else {
        return Ok(None);
    };
    if value.kind != Kind::Number {
        return Err(MalformedError::ClaimInvalid { name });
    }
    let text = value.text;
    let secs = match text.parse::<u64>() {
        Ok(whole) => i64::try_from(whole).ok().and_then(UnixTime::from_secs),
        Err(_) => UnixTime::from_secs_f64(json::Decimal::read(text).to_f64()),
    };
    secs.map(Some).ok_or(MalformedError::ClaimInvalid { name })
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn claims(json: &str) -> Result<Claims, MalformedError> {
        Claims::parse(json.to_owned())
    }

    fn invalid(json: &str) -> &'static str {
        match claims(json) {
            Err(MalformedError::ClaimInvalid { name }) => name,
            other => panic!("{json}: {other:?}"),
        }
    }

    #[test]
    fn reads_registered_claims() {
        let c = claims(
            r#"{"iss":"i","sub":"s","aud":["a","b"],"exp":10,"nbf":1.5,"iat":0,"jti":"j","sid":"s1","x":[1]}"#,
        )
        .unwrap();
        assert_eq!(c.sid(), Some("s1"));
        assert_eq!(
            (c.iss(), c.sub(), c.jti()),
            (Some("i"), Some("s"), Some("j"))
        );
        assert!(c.aud().unwrap().contains("b") && !c.aud().unwrap().contains("B"));
        assert_eq!(c.exp().unwrap().as_secs(), 10);
        assert_eq!(c.nbf().unwrap().as_secs_f64(), 1.5);
        assert_eq!(c.iat(), Some(UnixTime::EPOCH));
        assert_eq!(c.get("x"), Some(&serde_json::json!([1])));
        assert_eq!(
            claims(r#"{"aud":"a"}"#).unwrap().aud(),
            Some(&Audience::One("a".into()))
        );
        assert_eq!(
            claims(r#"{"exp":253402300799}"#)
                .unwrap()
                .exp()
                .unwrap()
                .as_secs(),
            253_402_300_799
        );
    }

    #[test]
    fn wrong_types_are_errors_never_absent() {
        assert_eq!(invalid(r#"{"exp":"1700000000"}"#), "exp");
        assert_eq!(invalid(r#"{"nbf":"0"}"#), "nbf");
        assert_eq!(invalid(r#"{"iat":true}"#), "iat");
        assert_eq!(invalid(r#"{"exp":null}"#), "exp");
        assert_eq!(invalid(r#"{"exp":[1]}"#), "exp");
        assert_eq!(invalid(r#"{"exp":-1}"#), "exp");
        assert_eq!(invalid(r#"{"exp":253402300800}"#), "exp");
        assert_eq!(invalid(r#"{"exp":18446744073709551615}"#), "exp");
        assert_eq!(invalid(r#"{"exp":1e300}"#), "exp");
        assert_eq!(invalid(r#"{"iss":1}"#), "iss");
        assert_eq!(invalid(r#"{"sub":null}"#), "sub");
        assert_eq!(invalid(r#"{"jti":{}}"#), "jti");
        assert_eq!(invalid(r#"{"sid":7}"#), "sid");
        assert_eq!(invalid(r#"{"aud":[]}"#), "aud");
        assert_eq!(invalid(r#"{"aud":["a",1]}"#), "aud");
        assert_eq!(invalid(r#"{"aud":null}"#), "aud");
    }

    #[test]
    fn deserializes_custom_types() {
        #[derive(serde::Deserialize)]
        struct Custom {
            sub: String,
            roles: Vec<String>,
        }
        let c = claims(r#"{"sub":"ann","roles":["admin"]}"#).unwrap();
        let custom: Custom = c.deserialize().unwrap();
        assert_eq!(
            (custom.sub.as_str(), custom.roles.as_slice()),
            ("ann", &["admin".to_owned()][..])
        );
        assert!(c.deserialize::<Vec<u8>>().is_err());
    }
}
