//! What the command line saw that explains a refusal, printed below it: the `kid` and `alg`
//! on both sides of a key that does not match, the `iss` or `aud` beside the expected one,
//! the times of a time claim in RFC 3339 beside the epoch seconds of the message, and hints
//! for what is not a token at all (white space around it, a `Bearer ` prefix, JSON quotes,
//! `null`, a refresh token).

use jwtkit_core::{Error, KeySet, ParseOptions, UnixTime, dangerous};
use jwtkit_server::time::rfc3339;

/// What a verification expected of the claims (the flags given).
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Expected<'a> {
    /// The `iss` required.
    pub(super) iss: Option<&'a str>,
    /// The audience required in `aud`.
    pub(super) aud: Option<&'a str>,
}

/// Lines that show what was seen, for `error` refusing `token` (verified against the keys
/// with the expectations, as of `now`, when given). Empty when the message says it all.
pub(super) fn what_was_seen(
    error: &Error,
    token: &str,
    verified: Option<(&KeySet, Expected<'_>)>,
    now: Option<UnixTime>,
) -> Vec<String> {
    let mut seen = Vec::new();
    if let Some(hint) = not_a_token(token) {
        seen.push(hint);
    }
    match (error.code(), verified) {
        (
            "ERR_JWKS_NO_MATCHING_KEY"
            | "ERR_JWKS_MULTIPLE_MATCHING_KEYS"
            | "ERR_JWS_KEY_ALG_MISMATCH",
            Some((keys, _)),
        ) => seen.extend(kids(token, keys)),
        ("ERR_JWT_ISSUER_MISMATCH", Some((_, expected))) => seen.push(format!(
            "the token has \"iss\" {}, expected {:?}",
            claim(token, "iss"),
            expected.iss.unwrap_or_default()
        )),
        ("ERR_JWT_AUDIENCE_MISMATCH", Some((_, expected))) => seen.push(format!(
            "the token has \"aud\" {}, expected {:?}",
            claim(token, "aud"),
            expected.aud.unwrap_or_default()
        )),
        (code @ ("ERR_JWT_EXPIRED" | "ERR_JWT_NOT_YET_VALID" | "ERR_JWT_ISSUED_IN_FUTURE"), _) => {
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

/// A hint for what is not a token as given: white space around it, a `Bearer ` prefix, JSON
/// quotes, `null` (what `jq -r` prints for a missing member), a refresh token, nothing.
/// jwtkit judges a token exactly as given, as the server would.
fn not_a_token(token: &str) -> Option<String> {
    let hint = |text: &str| Some(format!("hint: {text}"));
    if token.is_empty() {
        return hint("the token is empty (a variable that was never set?)");
    }
    if token == "null" {
        return hint(
            "the token is `null`: what `jq -r` prints for a member that is not there (did the \
             request that should have returned the token fail?)",
        );
    }
    if token.len() > 1 && token.starts_with('"') && token.ends_with('"') {
        return hint("the token is in JSON quotes: give it without them (`jq -r`, not `jq`)");
    }
    if token.starts_with("jwtr_") {
        return hint(
            "this is a refresh token (jwtr_...), which only the server reads: give the access \
             token",
        );
    }
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

/// The claim `name` of the token as JSON, or "none".
fn claim(token: &str, name: &str) -> String {
    dangerous::decode_unverified(token, &ParseOptions::default())
        .ok()
        .and_then(|decoded| {
            decoded
                .claims()
                .members()
                .get(name)
                .map(ToString::to_string)
        })
        .unwrap_or_else(|| "none".to_owned())
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
    fn what_is_not_a_token_is_named() {
        let hint = |token: &str| not_a_token(token).unwrap_or_default();
        assert!(hint("a.b.c\n").contains("line break"));
        assert!(hint(" a.b.c").contains("white space"));
        assert!(hint("Bearer a.b.c").contains("\"Bearer \""));
        assert!(hint("\"a.b.c\"").contains("JSON quotes"));
        assert!(hint("null").contains("`jq -r`"));
        assert!(hint("jwtr_abc").contains("refresh token"));
        assert!(hint("").contains("empty"));
        assert_eq!(not_a_token("a.b.c"), None);
    }
}
