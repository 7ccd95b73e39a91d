//! The JWT claims set (RFC 7519 §4): typed registered claims plus every member as JSON.

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::error::MalformedError;
use crate::json;
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
#[derive(Debug, Clone, PartialEq)]
pub struct Claims {
    iss: Option<String>,
    sub: Option<String>,
    aud: Option<Audience>,
    exp: Option<UnixTime>,
    nbf: Option<UnixTime>,
    iat: Option<UnixTime>,
    jti: Option<String>,
    members: Map<String, Value>,
}

impl Claims {
    pub(crate) fn from_object(members: Map<String, Value>) -> Result<Self, MalformedError> {
        Ok(Self {
            iss: string(&members, "iss")?,
            sub: string(&members, "sub")?,
            aud: audience(&members)?,
            exp: numeric_date(&members, "exp")?,
            nbf: numeric_date(&members, "nbf")?,
            iat: numeric_date(&members, "iat")?,
            jti: string(&members, "jti")?,
            members,
        })
    }

    /// `iss`: who issued the token.
    pub fn iss(&self) -> Option<&str> {
        self.iss.as_deref()
    }

    /// `sub`: whom the token is about.
    pub fn sub(&self) -> Option<&str> {
        self.sub.as_deref()
    }

    /// `aud`: for whom the token is intended.
    pub fn aud(&self) -> Option<&Audience> {
        self.aud.as_ref()
    }

    /// `exp`: the expiration time.
    pub fn exp(&self) -> Option<UnixTime> {
        self.exp
    }

    /// `nbf`: the time before which the token must not be accepted.
    pub fn nbf(&self) -> Option<UnixTime> {
        self.nbf
    }

    /// `iat`: the time at which the token was issued.
    pub fn iat(&self) -> Option<UnixTime> {
        self.iat
    }

    /// `jti`: the token's unique identifier.
    pub fn jti(&self) -> Option<&str> {
        self.jti.as_deref()
    }

    /// Any claim, registered or not, as JSON.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.members.get(name)
    }

    /// Every claim, as a JSON map (the map view).
    pub fn members(&self) -> &Map<String, Value> {
        &self.members
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
        T::deserialize(MapRef(&self.members))
    }
}

/// Deserializes a borrowed map without cloning it into a `Value` first.
struct MapRef<'a>(&'a Map<String, Value>);

impl<'de> serde::Deserializer<'de> for MapRef<'de> {
    type Error = serde_json::Error;

    fn deserialize_any<V: serde::de::Visitor<'de>>(
        self,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        serde::Deserializer::deserialize_any(
            serde::de::value::MapDeserializer::new(self.0.iter().map(|(k, v)| (k.as_str(), v))),
            visitor,
        )
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf option unit unit_struct newtype_struct seq tuple
        tuple_struct map struct enum identifier ignored_any
    }
}

fn string(
    members: &Map<String, Value>,
    name: &'static str,
) -> Result<Option<String>, MalformedError> {
    json::optional_string(members, name, |name| MalformedError::ClaimInvalid { name })
}

fn audience(members: &Map<String, Value>) -> Result<Option<Audience>, MalformedError> {
    let invalid = MalformedError::ClaimInvalid { name: "aud" };
    match members.get("aud") {
        None => Ok(None),
        Some(Value::String(one)) => Ok(Some(Audience::One(one.clone()))),
        Some(Value::Array(items)) if !items.is_empty() => items
            .iter()
            .map(|item| item.as_str().map(str::to_owned).ok_or(invalid.clone()))
            .collect::<Result<_, _>>()
            .map(|many| Some(Audience::Many(many))),
        Some(_) => Err(invalid),
    }
}

fn numeric_date(
    members: &Map<String, Value>,
    name: &'static str,
) -> Result<Option<UnixTime>, MalformedError> {
    match members.get(name) {
        None => Ok(None),
        Some(Value::Number(n)) => {
            let secs = match (n.as_u64(), n.as_f64()) {
                (Some(whole), _) => UnixTime::from_secs(i64::try_from(whole).unwrap_or(i64::MAX)),
                (None, Some(float)) => UnixTime::from_secs_f64(float),
                (None, None) => None,
            };
            secs.map(Some).ok_or(MalformedError::ClaimInvalid { name })
        }
        Some(_) => Err(MalformedError::ClaimInvalid { name }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn claims(json: &str) -> Result<Claims, MalformedError> {
        Claims::from_object(serde_json::from_str(json).unwrap())
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
            r#"{"iss":"i","sub":"s","aud":["a","b"],"exp":10,"nbf":1.5,"iat":0,"jti":"j","x":[1]}"#,
        )
        .unwrap();
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
