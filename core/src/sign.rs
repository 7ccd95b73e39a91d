//! Signing: the header is written by jwtkit (`alg`, `typ`, `kid`), the claims are checked by
//! the same parser that will read them, so jwtkit never issues a token it would refuse.

use serde::Serialize;

use crate::b64;
use crate::claims::Claims;
use crate::error::{Error, KeyError, MalformedError, Segment};
use crate::keys::Key;

/// Signs JWTs with one key, writing `alg` and `kid` (and `typ` when set) in the header.
#[derive(Debug, Clone)]
pub struct Signer {
    key: Key,
    typ: Option<String>,
    /// `BASE64URL(header)`, the same for every token this signer makes.
    encoded_header: String,
}

impl Signer {
    /// A signer using `key` (which must hold a private key or secret).
    pub fn new(key: Key) -> Self {
        let encoded_header = encode_header(&key, None);
        Self {
            key,
            typ: None,
            encoded_header,
        }
    }

    /// Writes this `typ` header parameter, e.g. `at+jwt` for access tokens (RFC 9068 §2.1).
    #[must_use]
    pub fn typ(mut self, typ: impl Into<String>) -> Self {
        let typ = typ.into();
        self.encoded_header = encode_header(&self.key, Some(&typ));
        self.typ = Some(typ);
        self
    }

    /// The signing key.
    pub fn key(&self) -> &Key {
        &self.key
    }

    /// Signs `claims` (any `serde` type that serializes to a JSON object) into a compact JWT.
    pub fn sign<C: Serialize + ?Sized>(&self, claims: &C) -> Result<String, Error> {
        // serde_json writes UTF-8 text; a value it cannot write (a map with non-string keys, a
        // failing `Serialize`) is no JSON object either.
        let payload = serde_json::to_string(claims).map_err(|_| {
            Error::Malformed(MalformedError::NotAnObject {
                segment: Segment::Payload,
            })
        })?;
        // Refuse what the strict parser would refuse (not an object, duplicate members from
        // `#[serde(flatten)]`, registered claims of the wrong type) now, rather than issue a
        // token that every strict verifier refuses later.
        let claims = Claims::parse(payload)?;
        let payload = claims.json();

        let mut token = String::with_capacity(
            self.encoded_header.len() + payload.len().div_ceil(3) * 4 + 2 + 700,
        );
        token.push_str(&self.encoded_header);
        token.push('.');
        b64::encode_into(payload.as_bytes(), &mut token);
        let signature = self
            .key
            .sign(token.as_bytes())
            .map_err(|e: KeyError| Error::Key(e))?;
        token.push('.');
        b64::encode_into(&signature, &mut token);
        Ok(token)
    }
}

/// `BASE64URL({"alg":…,"typ":…,"kid":…})`.
fn encode_header(key: &Key, typ: Option<&str>) -> String {
    let mut header = serde_json::Map::new();
    header.insert("alg".into(), key.algorithm().as_str().into());
    if let Some(typ) = typ {
        header.insert("typ".into(), typ.into());
    }
    header.insert("kid".into(), key.kid().into());
    b64::encode(serde_json::Value::Object(header).to_string().as_bytes())
}
