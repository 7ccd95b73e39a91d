//! Reading tokens and key files.

use std::io::Read as _;
use std::path::Path;

use jwtkit_core::{Algorithm, Key, KeySet};

use super::Failure;

/// The most standard input read for a token.
const MAX_STDIN_BYTES: u64 = 1 << 20;

/// The token exactly as given: the argument, or standard input when it is `-`, without the
/// one line ending that ends a line of input. Nothing else is trimmed: the core judges the
/// same bytes the server would (a token with a space in it is refused, not repaired).
pub(super) fn token(arg: &str) -> Result<String, Failure> {
    if arg != "-" {
        return Ok(arg.to_owned());
    }
    let mut text = String::new();
    std::io::stdin()
        .take(MAX_STDIN_BYTES + 1)
        .read_to_string(&mut text)
        .map_err(|e| Failure::usage(format!("cannot read the token from standard input: {e}")))?;
    if text.len() as u64 > MAX_STDIN_BYTES {
        return Err(Failure::usage("standard input is over 1 MiB"));
    }
    Ok(strip_line_ending(&text).to_owned())
}

/// `text` without one trailing `\n` or `\r\n`.
fn strip_line_ending(text: &str) -> &str {
    text.strip_suffix('\n')
        .map_or(text, |line| line.strip_suffix('\r').unwrap_or(line))
}

/// A JWK or JWK Set file. Keys without `alg` take `default_alg`.
pub(super) fn keys(path: &Path, default_alg: Option<Algorithm>) -> Result<KeySet, Failure> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Failure::usage(format!("cannot read {}: {e}", path.display())))?;
    KeySet::from_json(&text, default_alg)
        .map_err(|e| Failure::usage(format!("{}: {e} ({})", path.display(), e.code())))
}

/// The signing key of a key file: by `kid`, or the first that can sign.
pub(super) fn signing_key(path: &Path, kid: Option<&str>) -> Result<Key, Failure> {
    keys(path, None)?
        .signing_key(kid)
        .cloned()
        .map_err(|e| Failure::usage(format!("{}: {e} ({})", path.display(), e.code())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_line_ending_is_stripped() {
        assert_eq!(strip_line_ending("a.b.c\n"), "a.b.c");
        assert_eq!(strip_line_ending("a.b.c\r\n"), "a.b.c");
        assert_eq!(strip_line_ending("a.b.c"), "a.b.c");
        assert_eq!(strip_line_ending(" a.b.c\n\n"), " a.b.c\n");
        assert_eq!(strip_line_ending("a.b.c\r"), "a.b.c\r");
        assert_eq!(strip_line_ending("\n"), "");
    }
}
