//! Reading tokens and key files.

use std::io::Read as _;
use std::path::Path;

use jwtkit_core::{Algorithm, KeySet};

use super::Failure;

/// The token from the argument, or from standard input when it is `-`; surrounding
/// whitespace (a trailing newline) is removed.
pub(super) fn token(arg: &str) -> Result<String, Failure> {
    let text = if arg == "-" {
        let mut text = String::new();
        std::io::stdin()
            .take(1 << 20)
            .read_to_string(&mut text)
            .map_err(|e| {
                Failure::usage(format!("cannot read the token from standard input: {e}"))
            })?;
        text
    } else {
        arg.to_owned()
    };
    let token = text.trim();
    if token.is_empty() {
        return Err(Failure::usage("the token is empty"));
    }
    Ok(token.to_owned())
}

/// A JWK or JWK Set file. Keys without `alg` take `default_alg`.
pub(super) fn keys(path: &Path, default_alg: Option<Algorithm>) -> Result<KeySet, Failure> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Failure::usage(format!("cannot read {}: {e}", path.display())))?;
    KeySet::from_json(&text, default_alg)
        .map_err(|e| Failure::usage(format!("{}: {e} ({})", path.display(), e.code())))
}
