//! Strict JSON objects: no duplicate member names, bounded nesting.
//!
//! serde_json keeps the last of duplicate members; two parsers that disagree on which one
//! wins read two different tokens from the same bytes. jwtkit rejects duplicates outright
//! (RFC 7515 §5.2 permits it, RFC 8725 §3.12 recommends strictness).

use core::cell::Cell;
use core::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

use crate::error::{MalformedError, Segment};

/// Maximum nesting depth of the header and the claims (the object itself is depth 1).
pub const MAX_DEPTH: usize = 16;

/// Why a text is not a strict JSON object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fault {
    Invalid,
    NotAnObject,
    Duplicate,
    TooDeep,
}

impl Fault {
    /// The token error for this fault in `segment`.
    pub(crate) fn in_segment(self, segment: Segment) -> MalformedError {
        match self {
            Self::Invalid => MalformedError::InvalidJson { segment },
            Self::NotAnObject => MalformedError::NotAnObject { segment },
            Self::Duplicate => MalformedError::DuplicateMember { segment },
            Self::TooDeep => MalformedError::NestingTooDeep {
                segment,
                max: MAX_DEPTH,
            },
        }
    }
}

/// Parses `text` as a JSON object, strictly.
pub(crate) fn parse_object(text: &str) -> Result<Map<String, Value>, Fault> {
    let fault = Cell::new(None);
    let mut de = serde_json::Deserializer::from_str(text);
    let value = StrictValue {
        depth: 1,
        fault: &fault,
    }
    .deserialize(&mut de)
    .and_then(|v| de.end().map(|()| v));
    match (value, fault.get()) {
        (Ok(Value::Object(map)), _) => Ok(map),
        (Ok(_), _) => Err(Fault::NotAnObject),
        (Err(_), Some(fault)) => Err(fault),
        (Err(_), None) => Err(Fault::Invalid),
    }
}

/// The string member `name`, `None` when absent, `invalid(name)` when not a string.
pub(crate) fn optional_string<E>(
    members: &Map<String, Value>,
    name: &'static str,
    invalid: impl Fn(&'static str) -> E,
) -> Result<Option<String>, E> {
    match members.get(name) {
        None => Ok(None),
        Some(Value::String(value)) => Ok(Some(value.clone())),
        Some(_) => Err(invalid(name)),
    }
}

struct StrictValue<'a> {
    depth: usize,
    fault: &'a Cell<Option<Fault>>,
}

impl StrictValue<'_> {
    fn fail<E: de::Error>(&self, fault: Fault) -> E {
        self.fault.set(Some(fault));
        E::custom(match fault {
            Fault::Duplicate => "duplicate member",
            _ => "nesting too deep",
        })
    }

    fn nested(&self) -> StrictValue<'_> {
        StrictValue {
            depth: self.depth + 1,
            fault: self.fault,
        }
    }
}

impl<'de> DeserializeSeed<'de> for StrictValue<'_> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for StrictValue<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        serde_json::Number::from_f64(v)
            .map(Value::Number)
            .ok_or_else(|| E::custom("non-finite number"))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        if self.depth > MAX_DEPTH {
            return Err(self.fail(Fault::TooDeep));
        }
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(self.nested())? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Value, A::Error> {
        if self.depth > MAX_DEPTH {
            return Err(self.fail(Fault::TooDeep));
        }
        let mut map = Map::new();
        while let Some(key) = access.next_key::<String>()? {
            if map.contains_key(&key) {
                return Err(self.fail(Fault::Duplicate));
            }
            let value = access.next_value_seed(self.nested())?;
            map.insert(key, value);
        }
        Ok(Value::Object(map))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn parse(text: &str) -> Result<Map<String, Value>, &'static str> {
        parse_object(text).map_err(|f| f.in_segment(Segment::Payload).code())
    }

    #[test]
    fn accepts_objects() {
        let map = parse(r#" {"a": [1, 2.5, "x", null, true, {"b": {}}]} "#).unwrap();
        assert_eq!(map.len(), 1);
    }

    #[test]
    fn rejects_duplicates_at_any_depth() {
        assert_eq!(parse(r#"{"a":1,"a":2}"#), Err("ERR_JWT_DUPLICATE_MEMBER"));
        assert_eq!(
            parse(r#"{"a":{"b":1,"b":1}}"#),
            Err("ERR_JWT_DUPLICATE_MEMBER")
        );
        // Escapes are decoded before comparison: "\u0061" is "a".
        assert_eq!(
            parse(r#"{"a":1,"\u0061":2}"#),
            Err("ERR_JWT_DUPLICATE_MEMBER")
        );
    }

    #[test]
    fn rejects_non_objects_and_bad_json() {
        assert_eq!(parse("[]"), Err("ERR_JWT_NOT_AN_OBJECT"));
        assert_eq!(parse("\"x\""), Err("ERR_JWT_NOT_AN_OBJECT"));
        assert_eq!(parse("{} x"), Err("ERR_JWT_INVALID_JSON"));
        assert_eq!(parse(r#"{"a":NaN}"#), Err("ERR_JWT_INVALID_JSON"));
        assert_eq!(parse(r#"{"a":1e400}"#), Err("ERR_JWT_INVALID_JSON"));
        assert_eq!(parse(r#"{"a":"\ud800"}"#), Err("ERR_JWT_INVALID_JSON"));
        assert_eq!(parse(r#"{"a":1,}"#), Err("ERR_JWT_INVALID_JSON"));
        assert_eq!(parse(""), Err("ERR_JWT_INVALID_JSON"));
    }

    #[test]
    fn bounds_nesting() {
        let ok = format!(
            "{}{}",
            "{\"a\":".repeat(MAX_DEPTH) + "1",
            "}".repeat(MAX_DEPTH)
        );
        assert!(parse(&ok).is_ok());
        let deep = format!(
            "{}{}",
            "{\"a\":".repeat(MAX_DEPTH + 1) + "1",
            "}".repeat(MAX_DEPTH + 1)
        );
        assert_eq!(parse(&deep), Err("ERR_JWT_NESTING_TOO_DEEP"));
        let arrays = format!("{{\"a\":{}{}}}", "[".repeat(10_000), "]".repeat(10_000));
        assert_eq!(parse(&arrays), Err("ERR_JWT_NESTING_TOO_DEEP"));
    }
}
