//! Request bodies: read with a size limit (with or without `Content-Length`), typed by
//! `Content-Type`, and their members read strictly.

use bytes::{Buf, Bytes};
use futures_util::{Stream, StreamExt};
use serde_json::{Map, Value};
use warp::{Filter, Rejection};

use super::reject;
use crate::error::{BodyFault, Problem};

/// The largest request body any route accepts.
pub const MAX_BODY_BYTES: usize = 4 * 1024;

/// The body and its media type (lower case, without parameters), refusing more than
/// [`MAX_BODY_BYTES`].
pub(crate) fn body() -> impl Filter<Extract = (Option<String>, Bytes), Error = Rejection> + Clone {
    let limit = MAX_BODY_BYTES;
    warp::header::optional::<String>("content-type")
        .map(|ct: Option<String>| {
            ct.and_then(|ct| {
                ct.split(';')
                    .next()
                    .map(|mime| mime.trim().to_ascii_lowercase())
            })
        })
        .and(warp::header::optional::<u64>("content-length"))
        .and_then(move |mime, length: Option<u64>| async move {
            match length {
                Some(length) if length > limit as u64 => {
                    Err(reject(Problem::PayloadTooLarge { limit }))
                }
                _ => Ok(mime),
            }
        })
        .and(warp::body::stream())
        .and_then(move |mime, stream| async move {
            read_limited(stream, limit).await.map(|body| (mime, body))
        })
        .untuple_one()
}

async fn read_limited<S, B>(stream: S, limit: usize) -> Result<Bytes, Rejection>
where
    S: Stream<Item = Result<B, warp::Error>>,
    B: Buf,
{
    let mut stream = std::pin::pin!(stream);
    let mut body = Vec::new();
    while let Some(chunk) = stream.next().await {
        let mut chunk = chunk.map_err(|_| reject(Problem::BodyUnreadable))?;
        if body.len() + chunk.remaining() > limit {
            return Err(reject(Problem::PayloadTooLarge { limit }));
        }
        while chunk.has_remaining() {
            let part = chunk.chunk();
            body.extend_from_slice(part);
            let n = part.len();
            chunk.advance(n);
        }
    }
    Ok(Bytes::from(body))
}

/// A JSON object body (`expected` names what the route takes, for the 415).
pub(crate) fn json_object(
    mime: Option<&str>,
    body: &[u8],
) -> Result<Map<String, Value>, Rejection> {
    if mime != Some("application/json") {
        return Err(reject(Problem::UnsupportedMediaType {
            expected: "application/json",
        }));
    }
    let value: Value = serde_json::from_slice(body).map_err(|_| {
        reject(Problem::InvalidRequestBody {
            fault: BodyFault::NotJson,
        })
    })?;
    match value {
        Value::Object(object) => Ok(object),
        _ => Err(reject(Problem::InvalidRequestBody {
            fault: BodyFault::NotAnObject,
        })),
    }
}

/// The string member `name`, if present; a present non-string is refused.
pub(crate) fn string_member<'a>(
    object: &'a Map<String, Value>,
    name: &'static str,
) -> Result<Option<&'a str>, Rejection> {
    match object.get(name) {
        None => Ok(None),
        Some(Value::String(text)) => Ok(Some(text)),
        Some(_) => Err(reject(Problem::InvalidRequestBody {
            fault: BodyFault::NotAString(name),
        })),
    }
}

/// The string member `name`, which must be present.
pub(crate) fn required_member<'a>(
    object: &'a Map<String, Value>,
    name: &'static str,
) -> Result<&'a str, Rejection> {
    string_member(object, name)?.ok_or_else(|| {
        reject(Problem::InvalidRequestBody {
            fault: BodyFault::MemberMissing(name),
        })
    })
}

/// The parameters of an `application/x-www-form-urlencoded` body (the OAuth endpoints').
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Form(Vec<(String, String)>);

impl Form {
    /// Reads a form body; a repeated name is refused (RFC 6749 §3.2: parameters must not be
    /// included more than once).
    pub(crate) fn read(mime: Option<&str>, body: &[u8]) -> Result<Self, Problem> {
        let fault = |fault| Problem::InvalidRequestBody { fault };
        if mime != Some("application/x-www-form-urlencoded") {
            return Err(fault(BodyFault::NotFormEncoded));
        }
        let pairs = form_pairs(body).ok_or(fault(BodyFault::NotForm))?;
        for (i, (name, _)) in pairs.iter().enumerate() {
            if pairs[..i].iter().any(|(other, _)| other == name) {
                return Err(fault(BodyFault::Repeated));
            }
        }
        Ok(Self(pairs))
    }

    /// The parameter `name`; an empty value counts as absent (RFC 6749 §3.1).
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, value)| n == name && !value.is_empty())
            .map(|(_, value)| value.as_str())
    }

    /// The parameter `name`, which must be present.
    pub(crate) fn required(&self, name: &'static str) -> Result<&str, Problem> {
        self.get(name).ok_or(Problem::InvalidRequestBody {
            fault: BodyFault::ParameterMissing(name),
        })
    }
}

/// Decodes `a=b&c=d` (percent-encoding, `+` for space); `None` for invalid UTF-8 or escapes.
pub(crate) fn form_pairs(body: &[u8]) -> Option<Vec<(String, String)>> {
    let text = std::str::from_utf8(body).ok()?;
    text.split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            Some((percent_decode(name)?, percent_decode(value)?))
        })
        .collect()
}

/// Decodes percent-encoding and `+` for space; `None` for invalid UTF-8 or escapes.
pub(crate) fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'+' => out.push(b' '),
            b'%' => {
                // Two hex digits exactly (`from_str_radix` alone would take "+f").
                let hex = text.get(i + 1..i + 3)?;
                if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return None;
                }
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_bodies_decode_strictly() {
        let pairs = form_pairs(b"token=a%2Bb+c&token_type_hint=refresh_token").unwrap();
        assert_eq!(
            pairs,
            vec![
                ("token".into(), "a+b c".into()),
                ("token_type_hint".into(), "refresh_token".into())
            ]
        );
        assert_eq!(form_pairs(b"a=%zz"), None);
        assert_eq!(form_pairs(b"a=%e9"), None, "not UTF-8");
        assert_eq!(form_pairs(b"a=%4"), None);
        assert_eq!(form_pairs(b"a=%+f"), None, "a sign is not a hex digit");
        assert_eq!(form_pairs(b""), Some(vec![]));
    }
}
