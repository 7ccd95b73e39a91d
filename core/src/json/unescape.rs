//! Decoding the escapes of strings the scanner has validated.

use std::borrow::Cow;

/// A validated string's raw text, decoded when it has escapes.
pub(super) fn decode(raw: &str, escaped: bool) -> Cow<'_, str> {
    if escaped {
        unescape(raw)
    } else {
        Cow::Borrowed(raw)
    }
}

/// Decodes the escapes of a validated string's raw text.
pub(super) fn unescape(raw: &str) -> Cow<'_, str> {
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
        // Validated: every escape is complete, and a `\u` high surrogate is followed by a
        // `\u` low surrogate. The fallbacks below are for text the scanner never passes.
        let code = match chars.next() {
            Some('u') => {
                let unit = hex4(&mut chars);
                if (0xD800..0xDC00).contains(&unit) {
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

    #[test]
    fn decodes_escapes() {
        let decoded = |raw| unescape(raw).into_owned();
        assert_eq!(decoded(r"\u0061\/\\\n\t\b\f\r"), "a/\\\n\t\u{8}\u{c}\r");
        assert_eq!(decoded(r"x\ud83d\ude00y"), "x\u{1F600}y");
        assert_eq!(decoded("plain é"), "plain é");
        assert!(matches!(decode("plain", false), Cow::Borrowed("plain")));
    }
}
