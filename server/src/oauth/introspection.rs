//! What RFC 7662 introspection tells a client about a token.

use jwtkit_core::Claims;
use serde_json::{Map, Value, json};

use crate::apikeys::ApiKey;

/// The role that lets a client introspect tokens issued to other clients (a resource
/// server's credentials).
pub(crate) const INTROSPECT_ROLE: &str = "introspect";

/// The claims an introspection answer passes on from an active token (RFC 7662 §2.2).
const INTROSPECTED_CLAIMS: [&str; 12] = [
    "scope",
    "client_id",
    "sub",
    "aud",
    "iss",
    "exp",
    "iat",
    "nbf",
    "jti",
    "sid",
    "roles",
    "cnf",
];

/// The answer to `client` about a token whose verified `claims` are given (`None`: not an
/// access token this server accepts now — forged, expired, revoked, a refresh token).
/// Active only for a token issued to `client`, or to any client when `client` holds
/// [`INTROSPECT_ROLE`] (RFC 7662 §4: a client learns nothing of others' tokens).
pub(crate) fn answer(claims: Option<&Claims>, client: &ApiKey) -> Value {
    let Some(claims) = claims else {
        return json!({"active": false});
    };
    let issued_to_client = claims.get("client_id").and_then(Value::as_str) == Some(client.name());
    if !issued_to_client && !client.roles().iter().any(|r| r == INTROSPECT_ROLE) {
        return json!({"active": false});
    }
    let mut answer = Map::new();
    answer.insert("active".into(), true.into());
    let bound = crate::dpop::bound_key(claims).is_some();
    // RFC 9449 §6.2: a bound token is a DPoP token, its key's thumbprint in `cnf`.
    answer.insert(
        "token_type".into(),
        if bound { "DPoP" } else { "Bearer" }.into(),
    );
    for name in INTROSPECTED_CLAIMS {
        if let Some(value) = claims.get(name) {
            answer.insert(name.into(), value.clone());
        }
    }
    Value::Object(answer)
}
