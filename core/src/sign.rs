//! Signing: the header is written by jwtkit (`alg`, `typ`, `kid`), the claims are checked by
//! the same parser that will read them, so jwtkit never issues a token it would refuse.

use serde::Serialize;
use serde_json::{Map, Value};

use crate::b64;
use crate::claims::Claims;
use crate::error::{Error, KeyError, MalformedError};
use crate::keys::Key;

/// Signs JWTs with one key, writing `alg` and `kid` (and `typ` when set) in the header.
#[derive(Debug, Clone)]
pub struct Signer {
    key: Key,
    typ: Option<String>,
}

impl Signer {
    /// A signer using `key` (which must hold a private key or secret).
    pub fn new(key: Key) -> Self {
        Self { key, typ: None }
    }

    /// Writes this `typ` header parameter, e.g. `at+jwt` for access tokens (RFC 9068 §2.1).
    #[must_use]
    pub fn typ(mut self, typ: impl Into<String>) -> Self {
        self.typ = Some(typ.into());
        self
    }

    /// The signing key.
    pub fn key(&self) -> &Key {
        &self.key
    }

    /// Signs `claims` (any `serde` type that serializes to a JSON object) into a compact JWT.
    pub fn sign<C: Serialize + ?Sized>(&self, claims: &C) -> Result<String, Error> {
        let invalid = || {
            Error::Malformed(MalformedError::NotAnObject {
                segment: crate::Segment::Payload,
            })
        };
        let Value::Object(map) = serde_json::to_value(claims).map_err(|_| invalid())? else {
            return Err(invalid());
        };
        // Refuse registered claims of the wrong type now, rather than issue a token that
        // every strict verifier refuses later.
        let payload = serde_json::to_vec(&map).map_err(|_| invalid())?;
        Claims::from_object(map)?;

        let mut header = Map::new();
        header.insert("alg".into(), self.key.algorithm().as_str().into());
        if let Some(typ) = &self.typ {
            header.insert("typ".into(), typ.as_str().into());
        }
        header.insert("kid".into(), self.key.kid().into());
        let header = serde_json::to_vec(&header).map_err(|_| invalid())?;

        let mut token = String::with_capacity((header.len() + payload.len()) * 4 / 3 + 100);
        b64::encode_into(&header, &mut token);
        token.push('.');
        b64::encode_into(&payload, &mut token);
        let signature = self
            .key
            .sign(token.as_bytes())
            .map_err(|e: KeyError| Error::Key(e))?;
        token.push('.');
        b64::encode_into(&signature, &mut token);
        Ok(token)
    }
}
