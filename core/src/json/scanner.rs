//! The one-pass validating scanner: strict JSON (RFC 8259) with duplicate detection and
//! bounded nesting, reporting the top-level members of an object as [`Raw`] values.

use super::names::Names;
use super::number::Decimal;
use super::unescape::decode;
use super::{Fault, Kind, MAX_DEPTH, Raw};

/// A cursor over JSON text that validates as it reads.
pub(super) struct Scanner<'a> {
    text: &'a str,
    pos: usize,
    /// Where `text` starts in the text first scanned (for [`Raw`]'s offsets).
    base: usize,
}

impl<'a> Scanner<'a> {
    pub(super) fn new(text: &'a str) -> Self {
        Self {
            text,
            pos: 0,
            base: 0,
        }
    }

    /// Validates the whole text as one object, telling `member` each top-level member.
    pub(super) fn object(mut self, mut member: impl FnMut(&str, Raw<'a>)) -> Result<(), Fault> {
        self.skip_ws();
        if self.peek() == Some(b'{') {
            self.pos += 1;
            self.object_body(1, &mut member)?;
        } else {
            self.value(1)?;
            self.skip_ws();
            return Err(if self.pos == self.text.len() {
                Fault::NotAnObject
            } else {
                Fault::Invalid
            });
        }
        self.skip_ws();
        if self.pos == self.text.len() {
            Ok(())
        } else {
            Err(Fault::Invalid)
        }
    }

    /// The elements of a validated array, in order (`None` only for text the scanner never
    /// passed as an array).
    pub(super) fn items(array: Raw<'a>) -> Option<Vec<Raw<'a>>> {
        let mut scanner = Self {
            text: array.text,
            pos: 1,
            base: array.start,
        };
        let mut items = Vec::new();
        scanner.skip_ws();
        if scanner.peek() == Some(b']') {
            return Some(items);
        }
        loop {
            items.push(scanner.value(1).ok()?);
            scanner.skip_ws();
            match scanner.next() {
                Some(b',') => scanner.skip_ws(),
                _ => return Some(items),
            }
        }
    }

    /// A value of `kind` from `start` to the cursor.
    fn raw(&self, kind: Kind, start: usize) -> Raw<'a> {
        Raw {
            kind,
            text: self.slice(start),
            start: self.base + start,
            escaped: false,
        }
    }

    /// The text from `start` to the cursor.
    fn slice(&self, start: usize) -> &'a str {
        self.span(start, self.pos)
    }

    /// The text from `start` to `end`, both just after ASCII bytes the scanner read.
    fn span(&self, start: usize, end: usize) -> &'a str {
        #[allow(clippy::expect_used)]
        self.text
            .get(start..end)
            .expect("invariant: the scanner stops only after ASCII bytes, which end characters")
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

    fn literal(&mut self, word: &str) -> Result<(), Fault> {
        if self.text.as_bytes()[self.pos..].starts_with(word.as_bytes()) {
            self.pos += word.len();
            Ok(())
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
                Ok(self.raw(Kind::Object, start))
            }
            b'[' => {
                if depth > MAX_DEPTH {
                    return Err(Fault::TooDeep);
                }
                self.pos += 1;
                self.array_body(depth)?;
                Ok(self.raw(Kind::Array, start))
            }
            b'"' => self.string().map(|(text, escaped)| Raw {
                kind: Kind::String,
                text,
                start: self.base + start + 1,
                escaped,
            }),
            b't' => self.literal("true").map(|()| self.raw(Kind::True, start)),
            b'f' => self.literal("false").map(|()| self.raw(Kind::False, start)),
            b'n' => self.literal("null").map(|()| self.raw(Kind::Null, start)),
            b'-' | b'0'..=b'9' => self.number().map(|()| self.raw(Kind::Number, start)),
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
            let rest = bytes.get(self.pos..).ok_or(Fault::Invalid)?;
            let at = rest
                .iter()
                .position(|&b| b == b'"' || b == b'\\' || b < 0x20)
                .ok_or(Fault::Invalid)?;
            self.pos += at + 1;
            match rest[at] {
                b'"' => return Ok((self.span(start, self.pos - 1), escaped)),
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
    fn number(&mut self) -> Result<(), Fault> {
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
        // Integers of up to 19 characters are finite; anything else is checked.
        let finite = (plain && integer_len <= 19) || Decimal::read(self.slice(start)).is_finite();
        if finite { Ok(()) } else { Err(Fault::Invalid) }
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
