//! Strict JSON objects (RFC 8259): no duplicate member names, bounded nesting, finite numbers.
//!
//! serde_json keeps the last of duplicate members; two parsers that disagree on which one
//! wins read two different tokens from the same bytes. jwtkit rejects duplicates outright
//! (RFC 7515 §5.2 permits it, RFC 8725 §3.12 recommends strictness).
//!
//! One pass over the text validates all of it and hands the top-level members to the caller
//! as borrowed [`Raw`] values: no tree is built, nothing is copied unless a name or string
//! has escapes. Callers read the few members they need from the raw values afterwards.

use std::borrow::Cow;
use std::collections::BTreeSet;

use crate::error::{MalformedError, Segment};

mod number;

pub(crate) use number::Decimal;

/// Maximum nesting depth of the header and the claims (the object itself is depth 1).
pub const MAX_DEPTH: usize = 16;

/// Objects with more members than this detect duplicates with a set instead of a scan.
const LINEAR_NAMES: usize = 16;

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

/// A value inside validated JSON text, borrowed from it (a plain pair, cheap to return).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Raw<'a> {
    pub(crate) kind: Kind,
    pub(crate) text: &'a str,
    /// A string with escapes (known from the scan, so nobody searches for them again).
    escaped: bool,
}

impl<'a> Raw<'a> {
    #[cfg(test)]
    fn new(kind: Kind, text: &'a str) -> Self {
        let escaped = kind == Kind::String && text.contains('\\');
        Self {
            kind,
            text,
            escaped,
        }
    }

    const fn plain(kind: Kind, text: &'a str) -> Self {
        Self {
            kind,
            text,
            escaped: false,
        }
    }

    /// The decoded string, when this is a string.
    pub(crate) fn as_str(self) -> Option<Cow<'a, str>> {
        (self.kind == Kind::String).then(|| decode(self.text, self.escaped))
    }

    /// The string as a [`Text`] of `json`, the validated text this value was read from.
    pub(crate) fn text(self, json: &str) -> Option<Text> {
        if self.kind != Kind::String {
            return None;
        }
        let raw = self.text;
        Some(if self.escaped {
            Text::Decoded(unescape(raw).into())
        } else {
            // `raw` borrows from `json`: its offset is the difference of the addresses.
            let start = (raw.as_ptr() as usize).wrapping_sub(json.as_ptr() as usize);
            Text::Span(start..start + raw.len())
        })
    }

    /// Each element of an array, in order; `None` when this is not an array.
    pub(crate) fn items(self) -> Option<Vec<Raw<'a>>> {
        if self.kind != Kind::Array {
            return None;
        }
        let mut parser = Parser::new(self.text);
        parser.pos = 1;
        let mut items = Vec::new();
        parser.skip_ws();
        if parser.peek() == Some(b']') {
            return Some(items);
        }
        loop {
            // Already validated: neither depth nor syntax can fail here.
            items.push(parser.value(1).ok()?);
            parser.skip_ws();
            match parser.next() {
                Some(b',') => parser.skip_ws(),
                _ => return Some(items),
            }
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
            Self::Span(range) => json.get(range.clone()).unwrap_or_default(),
            Self::Decoded(text) => text,
        }
    }
}

/// Validates `text` as one strict JSON object, calling `member` with each top-level member's
/// name (escapes decoded) and value, in order. `member` is only told; the verdict on the
/// whole text comes first, so callers apply their own rules after this returns `Ok`.
pub(crate) fn scan_object<'a>(
    text: &'a str,
    mut member: impl FnMut(&str, Raw<'a>),
) -> Result<(), Fault> {
    let mut parser = Parser::new(text);
    parser.skip_ws();
    if parser.peek() == Some(b'{') {
        parser.pos += 1;
        parser.object_body(1, &mut member)?;
    } else {
        parser.value(1)?;
        parser.skip_ws();
        return Err(if parser.pos == text.len() {
            Fault::NotAnObject
        } else {
            Fault::Invalid
        });
    }
    parser.skip_ws();
    if parser.pos == text.len() {
        Ok(())
    } else {
        Err(Fault::Invalid)
    }
}

/// Whether `text` (already validated) has a top-level member called `name`.
pub(crate) fn has_member(text: &str, name: &str) -> bool {
    let mut found = false;
    let _ = scan_object(text, |n, _| found |= n == name);
    found
}

/// The JSON map view of object text that passed [`scan_object`].
pub(crate) fn to_map(text: &str) -> serde_json::Map<String, serde_json::Value> {
    // scan_object accepts a subset of what serde_json accepts, and no duplicates, so the map
    // has exactly the members the scan saw.
    serde_json::from_str(text).unwrap_or_default()
}

/// The member names of one object, for duplicate detection: the first few on the stack as
/// written, then (or as soon as one has escapes) decoded in a set.
struct Names<'a> {
    few: [&'a str; LINEAR_NAMES],
    len: usize,
    many: Option<BTreeSet<Cow<'a, str>>>,
}

impl<'a> Names<'a> {
    fn new() -> Self {
        Self {
            few: [""; LINEAR_NAMES],
            len: 0,
            many: None,
        }
    }

    /// Adds the name written as `raw` (`escaped` when it has escapes); `false` when it was
    /// already there.
    fn insert(&mut self, raw: &'a str, escaped: bool) -> bool {
        if self.many.is_none() {
            if self.len < LINEAR_NAMES && !escaped {
                // Cheap checks first: most names differ in length or first byte.
                let first = raw.as_bytes().first();
                if self.few[..self.len]
                    .iter()
                    .any(|n| n.len() == raw.len() && n.as_bytes().first() == first && *n == raw)
                {
                    return false;
                }
                self.few[self.len] = raw;
                self.len += 1;
                return true;
            }
            // Inserted one by one: `collect` would sort first, more code for no gain here.
            let mut set = BTreeSet::new();
            for name in &self.few[..self.len] {
                set.insert(Cow::Borrowed(*name));
            }
            self.many = Some(set);
        }
        self.many
            .as_mut()
            .is_some_and(|set| set.insert(decode(raw, escaped)))
    }
}

struct Parser<'a> {
    text: &'a str,
    pos: usize,
}

impl<'a> Parser<'a> {
    fn new(text: &'a str) -> Self {
        Self { text, pos: 0 }
    }

    /// The text from `start` to the cursor (always on character boundaries here; `get`
    /// keeps the panic machinery out of the wasm build).
    fn slice(&self, start: usize) -> &'a str {
        self.text.get(start..self.pos).unwrap_or_default()
    }

    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.pos).copied()
    }

    fn next(&mut self) -> Option<u8> {
        let b = self.peek()?;
        self.pos += 1;
        Some(b)
    }

    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    fn expect(&mut self, byte: u8) -> Result<(), Fault> {
        if self.next() == Some(byte) {
            Ok(())
        } else {
            Err(Fault::Invalid)
        }
    }

    fn literal(&mut self, word: &str) -> Result<&'a str, Fault> {
        if self.text.as_bytes()[self.pos..].starts_with(word.as_bytes()) {
            self.pos += word.len();
            Ok(self.slice(self.pos - word.len()))
        } else {
            Err(Fault::Invalid)
        }
    }

    /// One value starting at the cursor (after whitespace), at nesting `depth`.
    fn value(&mut self, depth: usize) -> Result<Raw<'a>, Fault> {
        self.skip_ws();
        let start = self.pos;
        match self.peek().ok_or(Fault::Invalid)? {
            b'{' => {
                if depth > MAX_DEPTH {
                    return Err(Fault::TooDeep);
                }
                self.pos += 1;
                self.object_body(depth, &mut |_, _| {})?;
                Ok(Raw::plain(Kind::Object, self.slice(start)))
            }
            b'[' => {
                if depth > MAX_DEPTH {
                    return Err(Fault::TooDeep);
                }
                self.pos += 1;
                self.array_body(depth)?;
                Ok(Raw::plain(Kind::Array, self.slice(start)))
            }
            b'"' => self.string().map(|(text, escaped)| Raw {
                kind: Kind::String,
                text,
                escaped,
            }),
            b't' => self.literal("true").map(|w| Raw::plain(Kind::True, w)),
            b'f' => self.literal("false").map(|w| Raw::plain(Kind::False, w)),
            b'n' => self.literal("null").map(|w| Raw::plain(Kind::Null, w)),
            b'-' | b'0'..=b'9' => self.number().map(|n| Raw::plain(Kind::Number, n)),
            _ => Err(Fault::Invalid),
        }
    }

    /// The members of an object whose `{` was consumed, through its `}`.
    fn object_body(
        &mut self,
        depth: usize,
        member: &mut impl FnMut(&str, Raw<'a>),
    ) -> Result<(), Fault> {
        self.skip_ws();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            return Ok(());
        }
        let mut names = Names::new();
        loop {
            self.skip_ws();
            let (name, escaped) = self.string()?;
            if !names.insert(name, escaped) {
                return Err(Fault::Duplicate);
            }
            self.skip_ws();
            self.expect(b':')?;
            let value = self.value(depth + 1)?;
            member(&decode(name, escaped), value);
            self.skip_ws();
            match self.next() {
                Some(b',') => {}
                Some(b'}') => return Ok(()),
                _ => return Err(Fault::Invalid),
            }
        }
    }

    /// The elements of an array whose `[` was consumed, through its `]`.
    fn array_body(&mut self, depth: usize) -> Result<(), Fault> {
        self.skip_ws();
        if self.peek() == Some(b']') {
            self.pos += 1;
            return Ok(());
        }
        loop {
            self.value(depth + 1)?;
            self.skip_ws();
            match self.next() {
                Some(b',') => {}
                Some(b']') => return Ok(()),
                _ => return Err(Fault::Invalid),
            }
        }
    }

    /// A string at the cursor; returns its raw text between the quotes and whether it has
    /// escapes.
    fn string(&mut self) -> Result<(&'a str, bool), Fault> {
        self.expect(b'"')?;
        let start = self.pos;
        let bytes = self.text.as_bytes();
        let mut escaped = false;
        loop {
            // Jump to the next byte that ends the run of plain characters.
            let rest = bytes.get(self.pos..).unwrap_or_default();
            let at = rest
                .iter()
                .position(|&b| b == b'"' || b == b'\\' || b < 0x20)
                .ok_or(Fault::Invalid)?;
            self.pos += at + 1;
            match rest[at] {
                b'"' => {
                    let text = self.text.get(start..self.pos - 1).unwrap_or_default();
                    return Ok((text, escaped));
                }
                b'\\' => {
                    escaped = true;
                    self.escape()?;
                }
                _ => return Err(Fault::Invalid),
            }
        }
    }

    /// One escape after its backslash. A `\u` high surrogate must be followed by a `\u` low
    /// surrogate; lone surrogates are not Unicode text.
    fn escape(&mut self) -> Result<(), Fault> {
        match self.next() {
            Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => Ok(()),
            Some(b'u') => match self.hex4()? {
                0xD800..=0xDBFF => {
                    self.literal("\\u")?;
                    match self.hex4()? {
                        0xDC00..=0xDFFF => Ok(()),
                        _ => Err(Fault::Invalid),
                    }
                }
                0xDC00..=0xDFFF => Err(Fault::Invalid),
                _ => Ok(()),
            },
            _ => Err(Fault::Invalid),
        }
    }

    fn hex4(&mut self) -> Result<u32, Fault> {
        let digits = self
            .text
            .get(self.pos..self.pos + 4)
            .ok_or(Fault::Invalid)?;
        if !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(Fault::Invalid);
        }
        self.pos += 4;
        u32::from_str_radix(digits, 16).map_err(|_| Fault::Invalid)
    }

    /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`, finite as an `f64`.
    fn number(&mut self) -> Result<&'a str, Fault> {
        let start = self.pos;
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        match self.next() {
            Some(b'0') => {}
            Some(b'1'..=b'9') => self.digits(),
            _ => return Err(Fault::Invalid),
        }
        let integer_len = self.pos - start;
        let mut plain = true;
        if self.peek() == Some(b'.') {
            self.pos += 1;
            self.required_digits()?;
            plain = false;
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.pos += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.pos += 1;
            }
            self.required_digits()?;
            plain = false;
        }
        let text = self.text.get(start..self.pos).unwrap_or_default();
        // Integers of up to 19 characters are finite; anything else is checked.
        let finite = (plain && integer_len <= 19) || Decimal::read(text).is_finite();
        if !finite {
            return Err(Fault::Invalid);
        }
        Ok(text)
    }

    fn digits(&mut self) {
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.pos += 1;
        }
    }

    fn required_digits(&mut self) -> Result<(), Fault> {
        let start = self.pos;
        self.digits();
        if self.pos == start {
            Err(Fault::Invalid)
        } else {
            Ok(())
        }
    }
}

/// A validated string's raw text, decoded when it has escapes.
fn decode(raw: &str, escaped: bool) -> Cow<'_, str> {
    if escaped {
        unescape(raw)
    } else {
        Cow::Borrowed(raw)
    }
}

/// Decodes the escapes of a validated string's raw text.
fn unescape(raw: &str) -> Cow<'_, str> {
    if !raw.contains('\\') {
        return Cow::Borrowed(raw);
    }
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let code = match chars.next() {
            Some('u') => {
                let unit = hex4(&mut chars);
                if (0xD800..0xDC00).contains(&unit) {
                    // Validated: a `\u` low surrogate follows.
                    chars.nth(1);
                    let low = hex4(&mut chars);
                    0x10000 + ((unit - 0xD800) << 10) + low.wrapping_sub(0xDC00)
                } else {
                    unit
                }
            }
            Some('b') => 0x08,
            Some('f') => 0x0c,
            Some('n') => 0x0a,
            Some('r') => 0x0d,
            Some('t') => 0x09,
            Some(other) => u32::from(other),
            None => 0xFFFD,
        };
        out.push(char::from_u32(code).unwrap_or(char::REPLACEMENT_CHARACTER));
    }
    Cow::Owned(out)
}

/// Four hex digits (validated) as a UTF-16 code unit.
fn hex4(chars: &mut std::str::Chars<'_>) -> u32 {
    (0..4).fold(0, |unit, _| {
        unit << 4 | chars.next().and_then(|c| c.to_digit(16)).unwrap_or(0)
    })
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

    fn members(text: &str) -> Vec<(String, Raw<'_>)> {
        let mut out = Vec::new();
        scan_object(text, |name, value| out.push((name.into(), value))).unwrap();
        out
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
                ("s".into(), Raw::new(Kind::String, r#"a\"b"#)),
                ("n".into(), Raw::new(Kind::Number, "-1.5e3")),
                ("t".into(), Raw::new(Kind::True, "true")),
                ("z".into(), Raw::new(Kind::Null, "null")),
                ("a".into(), Raw::new(Kind::Array, r#"[1,"x"]"#)),
                ("o".into(), Raw::new(Kind::Object, r#"{"k":[]}"#)),
            ]
        );
        assert_eq!(
            Raw::new(Kind::String, r#"a\"b"#).as_str().as_deref(),
            Some("a\"b")
        );
        assert_eq!(
            Raw::new(Kind::Array, r#"[ 1 , "x" ]"#).items(),
            Some(vec![
                Raw::new(Kind::Number, "1"),
                Raw::new(Kind::String, "x")
            ])
        );
        assert_eq!(Raw::new(Kind::Array, "[ ]").items(), Some(vec![]));
        assert_eq!(Raw::new(Kind::Null, "null").items(), None);
    }

    #[test]
    fn decodes_escapes() {
        let decoded = |raw| unescape(raw).into_owned();
        assert_eq!(decoded(r"\u0061\/\\\n\t\b\f\r"), "a/\\\n\t\u{8}\u{c}\r");
        assert_eq!(decoded(r"x\ud83d\ude00y"), "x\u{1F600}y");
        assert_eq!(decoded("plain é"), "plain é");
        assert_eq!(members(r#"{"\u00e9":1}"#)[0].0, "é");
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
    }
}
