//! Duplicate detection among the member names of one object.

use std::borrow::Cow;
use std::collections::BTreeSet;

use super::unescape::decode;

/// Objects with more members than this detect duplicates with a set instead of a scan.
const LINEAR_NAMES: usize = 16;

/// The member names of one object: the first few on the stack as written, then (or as soon
/// as one has escapes) decoded in a set.
pub(super) struct Names<'a> {
    few: [&'a str; LINEAR_NAMES],
    len: usize,
    many: Option<BTreeSet<Cow<'a, str>>>,
}

impl<'a> Names<'a> {
    pub(super) fn new() -> Self {
        Self {
            few: [""; LINEAR_NAMES],
            len: 0,
            many: None,
        }
    }

    /// Adds the name written as `raw` (`escaped` when it has escapes); `false` when it was
    /// already there.
    pub(super) fn insert(&mut self, raw: &'a str, escaped: bool) -> bool {
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

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn finds_duplicates_written_alike_or_escaped() {
        let mut names = Names::new();
        assert!(names.insert("a", false));
        assert!(names.insert("ab", false));
        assert!(!names.insert("a", false));
        assert!(!names.insert(r"\u0061", true), "escapes compare decoded");
        let mut many = Names::new();
        let written: Vec<String> = (0..40).map(|i| format!("m{i}")).collect();
        for name in &written {
            assert!(many.insert(name, false));
        }
        assert!(!many.insert("m39", false), "found in the set");
        assert!(!many.insert(r"m\u0033", true), "m3, escaped");
    }
}
