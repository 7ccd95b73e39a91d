//! Strict JSON objects (RFC 8259): no duplicate member names, bounded nesting, finite numbers.
//!
//! serde_json keeps the last of duplicate members; two parsers that disagree on which one
//! wins read two different tokens from the same bytes. jwtkit rejects duplicates outright
//! (RFC 7515 §5.2 permits it, RFC 8725 §3.12 recommends strictness).
//!
//! One pass over the text validates all of it and hands the top-level members to the caller
//! as borrowed [`Raw`] values: no tree is built, nothing is copied unless a name or string
//! has escapes. Callers read the few members they need from the raw values afterwards.
//!
//! - [`scanner`]: the one-pass validating scanner;
//! - [`names`]: duplicate detection among an object's member names;
//! - [`unescape`]: decoding the escapes of validated strings;
//! - [`number`]: deciding finiteness and reading numbers without a float parser.

use std::borrow::Cow;

use crate::error::{MalformedError, Segment};

mod names;
mod number;
mod scanner;
mod unescape;

pub(crate) use number::Decimal;
use scanner::Scanner;
use unescape::decode;

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

/// What a [`Raw`] value is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Null,
    True,
    False,
    /// Valid JSON, finite as an `f64`.
    Number,
    /// The text is between the quotes, escapes still encoded (and valid).
    String,
    /// The text includes the brackets.
    Array,
    /// The text includes the braces.
    Object,
}

/// A value inside validated JSON text, borrowed from it (cheap to return).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Raw<'a> {
    pub(crate) kind: Kind,
    pub(crate) text: &'a str,
    /// Where `text` starts in the scanned text (known to the scanner, carried along).
    start: usize,
    /// A string with escapes (known from the scan, so nobody searches for them again).
    escaped: bool,
}

impl<'a> Raw<'a> {
    /// The decoded string, when this is a string.
    pub(crate) fn as_str(self) -> Option<Cow<'a, str>> {
        (self.kind == Kind::String).then(|| decode(self.text, self.escaped))
    }

    /// The string as a [`Text`] of the scanned text, when this is a string.
    pub(crate) fn text(self) -> Option<Text> {
        if self.kind != Kind::String {
            return None;
        }
        Some(if self.escaped {
            Text::Decoded(unescape::unescape(self.text).into())
        } else {
            Text::Span(self.start..self.start + self.text.len())
        })
    }

    /// Each element of an array, in order; `None` when this is not an array.
    pub(crate) fn items(self) -> Option<Vec<Raw<'a>>> {
        if self.kind == Kind::Array {
            Scanner::items(self)
        } else {
            None
        }
    }
}

/// A string member of a validated JSON text, kept without copying: where it is in the text,
/// or its decoded value when it had escapes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Text {
    Span(core::ops::Range<usize>),
    Decoded(Box<str>),
}

impl Text {
    /// The string, given the JSON text it was read from.
    pub(crate) fn get<'t>(&'t self, json: &'t str) -> &'t str {
        match self {
            #[allow(clippy::expect_used)]
            Self::Span(range) => json
                .get(range.clone())
                .expect("invariant: a span is read from the text it is applied to"),
            Self::Decoded(text) => text,
        }
    }
}

/// Validates `text` as one strict JSON object, calling `member` with each top-level member's
/// name (escapes decoded) and value, in order. `member` is only told; the verdict on the
/// whole text comes first, so callers apply their own rules after this returns `Ok`.
pub(crate) fn scan_object<'a>(
    text: &'a str,
    member: impl FnMut(&str, Raw<'a>),
) -> Result<(), Fault> {
    Scanner::new(text).object(member)
}

/// Whether `text`, a valid JSON object, has a top-level member called `name` (`false` for
/// text that is not one).
pub(crate) fn has_member(text: &str, name: &str) -> bool {
    let mut found = false;
    scan_object(text, |n, _| found |= n == name).is_ok() && found
}

/// The JSON map view of object text that passed [`scan_object`].
pub(crate) fn to_map(text: &str) -> serde_json::Map<String, serde_json::Value> {
    // scan_object accepts a subset of what serde_json accepts, and no duplicates, so the map
    // has exactly the members the scan saw (tests/properties.rs compares the two parsers).
    #[allow(clippy::expect_used)]
    serde_json::from_str(text)
        .expect("invariant: serde_json reads every object the strict scanner accepts")
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn parse(text: &str) -> Result<usize, &'static str> {
        let mut count = 0;
        scan_object(text, |_, _| count += 1)
            .map(|()| count)
            .map_err(|f| f.in_segment(Segment::Payload).code())
    }

    fn members(text: &str) -> Vec<(String, Kind, &str)> {
        let mut out = Vec::new();
        scan_object(text, |name, value| {
            out.push((name.into(), value.kind, value.text))
        })
        .unwrap();
        out
    }

    fn raw(text: &str) -> Raw<'_> {
        let mut found = None;
        scan_object(text, |_, value| found = Some(value)).unwrap();
        found.unwrap()
    }

    #[test]
    fn accepts_objects() {
        assert_eq!(
            parse(r#" {"a": [1, 2.5, "x", null, true, {"b": {}}]} "#),
            Ok(1)
        );
        assert_eq!(parse("{}"), Ok(0));
        assert_eq!(parse("\t{ }\r\n"), Ok(0));
        assert_eq!(parse(r#"{"a":-0,"b":1E+2,"c":0.5e-3,"d":""}"#), Ok(4));
    }

    #[test]
    fn reports_top_level_members_raw() {
        let text = r#"{"s":"a\"b","n":-1.5e3,"t":true,"z":null,"a":[1,"x"],"o":{"k":[]}}"#;
        assert_eq!(
            members(text),
            vec![
                ("s".into(), Kind::String, r#"a\"b"#),
                ("n".into(), Kind::Number, "-1.5e3"),
                ("t".into(), Kind::True, "true"),
                ("z".into(), Kind::Null, "null"),
                ("a".into(), Kind::Array, r#"[1,"x"]"#),
                ("o".into(), Kind::Object, r#"{"k":[]}"#),
            ]
        );
        assert_eq!(raw(r#"{"s":"a\"b"}"#).as_str().as_deref(), Some("a\"b"));
        let items: Vec<_> = raw(r#"{"a": [ 1 , "x" ]}"#)
            .items()
            .unwrap()
            .into_iter()
            .map(|item| (item.kind, item.text))
            .collect();
        assert_eq!(items, vec![(Kind::Number, "1"), (Kind::String, "x")]);
        assert_eq!(raw(r#"{"a":[ ]}"#).items(), Some(vec![]));
        assert_eq!(raw(r#"{"a":null}"#).items(), None);
    }

    #[test]
    fn strings_carry_their_place_in_the_text() {
        // A span indexes the whole scanned text, for array items too.
        let text = r#"{"iss": "issuer", "aud": ["x", "yz"], "e": "a\u0062"}"#;
        let mut strings = Vec::new();
        scan_object(text, |_, value| {
            for value in value.items().unwrap_or_else(|| vec![value]) {
                strings.push(value.text().unwrap().get(text).to_owned());
            }
        })
        .unwrap();
        assert_eq!(strings, ["issuer", "x", "yz", "ab"]);
    }

    #[test]
    fn rejects_non_objects_and_bad_json() {
        assert_eq!(parse("[]"), Err("ERR_JWT_NOT_AN_OBJECT"));
        assert_eq!(parse("\"x\""), Err("ERR_JWT_NOT_AN_OBJECT"));
        assert_eq!(parse(" 1 "), Err("ERR_JWT_NOT_AN_OBJECT"));
        assert_eq!(parse("[] x"), Err("ERR_JWT_INVALID_JSON"));
        for bad in [
            "{} x",
            "{",
            "}",
            "",
            " ",
            r#"{"a":NaN}"#,
            r#"{"a":Infinity}"#,
            r#"{"a":1e400}"#,
            r#"{"a":-1e400}"#,
            r#"{"a":"\ud800"}"#,
            r#"{"a":"\udc00"}"#,
            r#"{"a":"\ud800\u0041"}"#,
            r#"{"a":"\x"}"#,
            r#"{"a":"\u00g0"}"#,
            "{\"a\":\"tab\there\"}",
            r#"{"a":1,}"#,
            r#"{"a":[1,]}"#,
            r#"{"a" 1}"#,
            r#"{a:1}"#,
            r#"{'a':1}"#,
            r#"{"a":01}"#,
            r#"{"a":1.}"#,
            r#"{"a":.5}"#,
            r#"{"a":+1}"#,
            r#"{"a":1e}"#,
            r#"{"a":tru}"#,
            r#"{"a":nul}"#,
            r#"{"a":"x}"#,
            "{\"a\":1}\u{0}",
        ] {
            assert_eq!(parse(bad), Err("ERR_JWT_INVALID_JSON"), "{bad}");
        }
        // Finite after all: underflow and long integers.
        assert_eq!(
            parse(r#"{"a":1e-400,"b":123456789012345678901234567890}"#),
            Ok(2)
        );
    }

    #[test]
    fn rejects_duplicates_at_any_depth() {
        assert_eq!(parse(r#"{"a":1,"a":2}"#), Err("ERR_JWT_DUPLICATE_MEMBER"));
        assert_eq!(
            parse(r#"{"a":{"b":1,"b":1}}"#),
            Err("ERR_JWT_DUPLICATE_MEMBER")
        );
        assert_eq!(
            parse(r#"{"a":[{"b":1,"b":1}]}"#),
            Err("ERR_JWT_DUPLICATE_MEMBER")
        );
        // Escapes are decoded before comparison: "\u0061" is "a".
        assert_eq!(
            parse(r#"{"a":1,"\u0061":2}"#),
            Err("ERR_JWT_DUPLICATE_MEMBER")
        );
        // The same in an object large enough to be checked with a set.
        let many: Vec<String> = (0..100).map(|i| format!("\"m{i}\":{i}")).collect();
        let text = format!("{{{}}}", many.join(","));
        assert_eq!(parse(&text), Ok(100));
        let text = format!("{{{},\"m\\u00357\":0}}", many.join(","));
        assert_eq!(parse(&text), Err("ERR_JWT_DUPLICATE_MEMBER"));
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
        // Faults are found in reading order: a duplicate name before its too-deep value,
        // depth before a later syntax error.
        let duplicate_then_deep = format!("{{\"a\":1,\"a\":{}", "[".repeat(100));
        assert_eq!(parse(&duplicate_then_deep), Err("ERR_JWT_DUPLICATE_MEMBER"));
        let unterminated = format!("{{\"a\":{}", "[".repeat(100));
        assert_eq!(parse(&unterminated), Err("ERR_JWT_NESTING_TOO_DEEP"));
    }

    #[test]
    fn finds_members_of_validated_text() {
        assert!(has_member(r#"{"a":{"b":1},"c":2}"#, "c"));
        assert!(!has_member(r#"{"a":{"b":1},"c":2}"#, "b"));
        assert!(
            has_member(r#"{"r\u006fles":[]}"#, "roles"),
            "names compare decoded"
        );
        assert!(!has_member(r#"{"c":2"#, "c"), "not an object: no members");
    }
}
