//! RFC 6749 §3.3 scopes: space-separated scope tokens of printable ASCII without `"` and `\`.

/// A `scope` parameter that is not one (RFC 6749 §5.2 `invalid_scope`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct InvalidScope;

/// The scope tokens of a `scope` parameter, without repeats; `Ok(None)` when it is absent or
/// empty (RFC 6749 §3.1: an empty parameter is an absent one).
pub(crate) fn parse(scope: Option<&str>) -> Result<Option<Vec<String>>, InvalidScope> {
    let Some(scope) = scope.filter(|s| !s.is_empty()) else {
        return Ok(None);
    };
    let mut tokens: Vec<String> = Vec::new();
    for token in scope.split(' ') {
        let valid = !token.is_empty()
            && token
                .bytes()
                .all(|b| b == 0x21 || (0x23..=0x5b).contains(&b) || (0x5d..=0x7e).contains(&b));
        if !valid {
            return Err(InvalidScope);
        }
        if !tokens.iter().any(|t| t == token) {
            tokens.push(token.to_owned());
        }
    }
    Ok(Some(tokens))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_are_rfc_6749_scope_tokens() {
        assert_eq!(parse(None), Ok(None));
        assert_eq!(parse(Some("")), Ok(None), "empty is absent (RFC 6749 §3.1)");
        assert_eq!(
            parse(Some("admin read admin")),
            Ok(Some(vec!["admin".into(), "read".into()]))
        );
        for bad in ["a  b", "\"a\"", "a\\b", " a", "é"] {
            assert_eq!(parse(Some(bad)), Err(InvalidScope), "{bad}");
        }
    }
}
