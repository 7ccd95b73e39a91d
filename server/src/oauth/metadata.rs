//! Authorization server metadata (RFC 8414): the issuer, where the endpoints are (under the
//! public URL), and what they take.

use crate::dpop::PROOF_ALGORITHMS;
use serde_json::{Value, json};

use super::{CLIENT_AUTH_METHODS, GRANT_TYPES, REFRESH_TOKEN_DELIVERIES};
use crate::clients::SCOPES;
use crate::config::Config;
use jwtkit_core::Algorithm;

/// The claims the provider's ID tokens and userinfo carry.
const CLAIMS: [&str; 12] = [
    "iss",
    "sub",
    "aud",
    "exp",
    "iat",
    "auth_time",
    "nonce",
    "sid",
    "name",
    "preferred_username",
    "email",
    "email_verified",
];

/// Where the endpoints are, as paths under the public URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Endpoints {
    /// The token endpoint.
    pub token: &'static str,
    /// The JWK Set.
    pub jwks: &'static str,
    /// RFC 7009 revocation.
    pub revocation: &'static str,
    /// RFC 7662 introspection.
    pub introspection: &'static str,
    /// The authorization endpoint.
    pub authorization: &'static str,
    /// OpenID Connect userinfo.
    pub userinfo: &'static str,
    /// RP-initiated logout.
    pub end_session: &'static str,
}

/// The metadata document of a server configured by `config`, signing with keys of
/// `algorithms`.
pub(crate) fn document(config: &Config, endpoints: &Endpoints, algorithms: &[Algorithm]) -> Value {
    let url = |path: &str| format!("{}{path}", config.public_url);
    let mut algorithms: Vec<&str> = algorithms.iter().map(|alg| alg.as_str()).collect();
    algorithms.sort_unstable();
    algorithms.dedup();
    let mut scopes: Vec<&str> = config
        .api_keys
        .iter()
        .flat_map(|key| key.roles().iter().map(String::as_str))
        .chain(SCOPES)
        .collect();
    scopes.sort_unstable();
    scopes.dedup();
    let mut revocation_auth_methods = CLIENT_AUTH_METHODS.to_vec();
    revocation_auth_methods.push("none");
    // Public clients (the authorization code grant) authenticate with none.
    let token_auth_methods = revocation_auth_methods.clone();
    json!({
        "issuer": config.issuer,
        "token_endpoint": url(endpoints.token),
        "jwks_uri": url(endpoints.jwks),
        "revocation_endpoint": url(endpoints.revocation),
        "introspection_endpoint": url(endpoints.introspection),
        "authorization_endpoint": url(endpoints.authorization),
        "userinfo_endpoint": url(endpoints.userinfo),
        "end_session_endpoint": url(endpoints.end_session),
        "grant_types_supported": GRANT_TYPES,
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "code_challenge_methods_supported": ["S256"],
        "authorization_response_iss_parameter_supported": true,
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": algorithms,
        "prompt_values_supported": ["none", "login", "consent"],
        "claims_supported": CLAIMS,
        "scopes_supported": scopes,
        "token_endpoint_auth_methods_supported": token_auth_methods,
        // Possession of a token is enough to revoke it; credentials, when given, are checked.
        "revocation_endpoint_auth_methods_supported": revocation_auth_methods,
        "introspection_endpoint_auth_methods_supported": CLIENT_AUTH_METHODS,
        // The algorithms of the access tokens (RFC 9068), whose keys `jwks_uri` holds.
        "access_token_signing_alg_values_supported": algorithms,
        // jwtkit's: a person's refresh token may ride an `HttpOnly` cookie (same-site pages).
        "refresh_token_delivery_values_supported": REFRESH_TOKEN_DELIVERIES,
        // RFC 9449 §5.1: the token endpoint binds tokens to the key of a DPoP proof.
        "dpop_signing_alg_values_supported": jwtkit_core::dpop::algorithm_names(&PROOF_ALGORITHMS),
    })
}
