//! What the command line saw that explains a refusal, printed below it: the `kid` and `alg`
//! on both sides of a key that does not match, whitespace around the token, and the times
//! of a time claim in RFC 3339 beside the epoch seconds of the message.

use jwtkit_core::{Error, KeySet, ParseOptions, UnixTime, dangerous};
use jwtkit_server::time::rfc3339;

/// Lines that show what was seen, for `error` refusing `token` (verified against `keys` as
/// of `now`, when given). Empty when the message says it all.
pub(super) fn what_was_seen(
    error: &Error,
    token: &str,
    keys: Option<&KeySet>,
    now: Option<UnixTime>,
) -> Vec<String> {
    let mut seen = Vec::new();
    if let Some(hint) = whitespace(token) {
        seen.push(hint);
    }
    match error.code() {
        "ERR_JWKS_NO_MATCHING_KEY"
        | "ERR_JWKS_MULTIPLE_MATCHING_KEYS"
        | "ERR_JWS_KEY_ALG_MISMATCH" => {
            if let Some(keys) = keys {
                seen.extend(kids(token, keys));
            }
        }
        code @ ("ERR_JWT_EXPIRED" | "ERR_JWT_NOT_YET_VALID" | "ERR_JWT_ISSUED_IN_FUTURE") => {
            let claim = match code {
                "ERR_JWT_EXPIRED" => "exp",
                "ERR_JWT_NOT_YET_VALID" => "nbf",
                _ => "iat",
            };
            if let (Some(time), Some(now)) = (claim_time(token, claim), now) {
                seen.push(format!(
                    "\"{claim}\" is {}, the time is {} (UTC)",
                    rfc3339(time),
                    rfc3339(now)
                ));
            }
        }
        _ => {}
    }
    seen
}

/// A hint for a token with whitespace around it or a `Bearer ` prefix: jwtkit judges a
/// token exactly as given, as the server would.
fn whitespace(token: &str) -> Option<String> {
    let what = if token.ends_with(['\n', '\r']) {
        "ends with a line break"
    } else if token.starts_with(char::is_whitespace) || token.ends_with(char::is_whitespace) {
        "begins or ends with white space"
    } else if token
        .get(..7)
        .is_some_and(|p| p.eq_ignore_ascii_case("bearer "))
    {
        return Some(
            "hint: the token begins with \"Bearer \": give the token alone, without the \
             Authorization header's scheme"
                .to_owned(),
        );
    } else {
        return None;
    };
    Some(format!(
        "hint: the token {what}: remove it (jwtkit judges a token exactly as given; \
         `echo -n` or `printf %s` write one without a line break)"
    ))
}

/// The token's `kid` and `alg`, and those of every key in the set.
fn kids(token: &str, keys: &KeySet) -> Vec<String> {
    let Ok(decoded) = dangerous::decode_unverified(token, &ParseOptions::default()) else {
        return Vec::new();
    };
    let header = decoded.header();
    let kid = header
        .kid()
        .map_or_else(|| "no \"kid\"".to_owned(), |kid| format!("\"kid\" {kid:?}"));
    let set: Vec<String> = keys
        .iter()
        .map(|key| format!("{:?} ({})", key.kid(), key.algorithm().as_str()))
        .collect();
    vec![
        format!("the token has {kid} and \"alg\" {:?}", header.alg()),
        format!("the key set has: {}", set.join(", ")),
    ]
}

/// The time claim `claim` of the token, if it has one.
fn claim_time(token: &str, claim: &str) -> Option<UnixTime> {
    let decoded = dangerous::decode_unverified(token, &ParseOptions::default()).ok()?;
    let claims = decoded.claims();
    match claim {
        "exp" => claims.exp(),
        "nbf" => claims.nbf(),
        _ => claims.iat(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whitespace_and_schemes_are_named() {
        assert!(whitespace("a.b.c\n").unwrap().contains("line break"));
        assert!(whitespace(" a.b.c").unwrap().contains("white space"));
        assert!(whitespace("Bearer a.b.c").unwrap().contains("\"Bearer \""));
        assert_eq!(whitespace("a.b.c"), None);
    }
}
