//! An access token's credentials: `Authorization: Bearer` (RFC 6750 §2.1) or `DPoP` (RFC
//! 9449 §7.1), with the same `token68` syntax.

use warp::http::header::{AUTHORIZATION, HeaderMap};

use super::auth::AuthRejection;
use crate::dpop::DPOP_SCHEME;
use crate::error::HeaderFault;

/// The scheme of an access token's credentials.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Scheme {
    /// `Bearer` (RFC 6750).
    Bearer,
    /// `DPoP` (RFC 9449 §7.1).
    Dpop,
}

/// The token of `Authorization: Bearer <token>` (RFC 6750 §2.1) or `Authorization: DPoP
/// <token>` (RFC 9449 §7.1: the same `token68` syntax), and its scheme.
pub(super) fn credentials(headers: &HeaderMap) -> Result<(Scheme, &str), AuthRejection> {
    let mut values = headers.get_all(AUTHORIZATION).iter();
    let value = match (values.next(), values.next()) {
        (None, _) => return Err(AuthRejection::MissingCredentials),
        (Some(_), Some(_)) => {
            return Err(AuthRejection::InvalidRequest(HeaderFault::Repeated));
        }
        (Some(value), None) => value,
    };
    let value = value
        .to_str()
        .map_err(|_| AuthRejection::InvalidRequest(HeaderFault::NotVisibleAscii))?;
    let (scheme, rest) = value.split_once(' ').unwrap_or((value, ""));
    let scheme = if scheme.eq_ignore_ascii_case("Bearer") {
        Scheme::Bearer
    } else if scheme.eq_ignore_ascii_case(DPOP_SCHEME) {
        Scheme::Dpop
    } else {
        // Another scheme (Basic, ...) is "no bearer credentials", not a malformed request.
        return Err(AuthRejection::MissingCredentials);
    };
    let token = rest.trim_start_matches(' ');
    if token.is_empty() {
        return Err(AuthRejection::InvalidRequest(HeaderFault::Empty));
    }
    if !is_b64token(token) {
        return Err(AuthRejection::InvalidRequest(HeaderFault::NotB64Token));
    }
    Ok((scheme, token))
}

/// `b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="`
fn is_b64token(token: &str) -> bool {
    let body = token.trim_end_matches('=');
    // Branch-free over the whole token (it is on every protected request), so it vectorises.
    let invalid = body.bytes().fold(0u8, |invalid, b| {
        let ok = (b.wrapping_sub(b'A') < 26)
            | ((b | 0x20).wrapping_sub(b'a') < 26)
            | (b.wrapping_sub(b'0') < 10)
            | (b == b'-')
            | (b == b'.')
            | (b == b'_')
            | (b == b'~')
            | (b == b'+')
            | (b == b'/');
        invalid | u8::from(!ok)
    });
    !body.is_empty() && invalid == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use warp::http::HeaderValue;

    fn token_of(values: &[&[u8]]) -> Result<String, String> {
        let mut headers = HeaderMap::new();
        for v in values {
            headers.append(AUTHORIZATION, HeaderValue::from_bytes(v).unwrap());
        }
        credentials(&headers)
            .map(|(_, token)| token.to_owned())
            .map_err(|e| e.to_error().code().to_owned())
    }

    #[test]
    fn parses_rfc_6750_credentials() {
        assert_eq!(token_of(&[b"Bearer abc.def.ghi"]), Ok("abc.def.ghi".into()));
        assert_eq!(token_of(&[b"bearer  abc"]), Ok("abc".into()));
        assert_eq!(token_of(&[b"BEARER abc=="]), Ok("abc==".into()));
        assert_eq!(token_of(&[]), Err("ERR_BEARER_TOKEN_MISSING".into()));
        assert_eq!(
            token_of(&[b"Basic dXNlcjpwYXNz"]),
            Err("ERR_BEARER_TOKEN_MISSING".into())
        );
        assert_eq!(
            token_of(&[b"Bearer"]),
            Err("ERR_AUTHORIZATION_HEADER_INVALID".into())
        );
        assert_eq!(
            token_of(&[b"Bearer "]),
            Err("ERR_AUTHORIZATION_HEADER_INVALID".into())
        );
        assert_eq!(
            token_of(&[b"Bearer a b"]),
            Err("ERR_AUTHORIZATION_HEADER_INVALID".into())
        );
        assert_eq!(
            token_of(&[b"Bearer a,b"]),
            Err("ERR_AUTHORIZATION_HEADER_INVALID".into())
        );
        assert_eq!(
            token_of(&[b"Bearer ==="]),
            Err("ERR_AUTHORIZATION_HEADER_INVALID".into())
        );
        assert_eq!(
            token_of(&[b"Bearer \xff"]),
            Err("ERR_AUTHORIZATION_HEADER_INVALID".into())
        );
        assert_eq!(
            token_of(&[b"Bearer a", b"Bearer b"]),
            Err("ERR_AUTHORIZATION_HEADER_INVALID".into())
        );
    }
}
