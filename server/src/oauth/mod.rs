//! The OAuth 2.0 authorization server, as a domain: which client a request's credentials
//! name ([`client`]), what a grant issues ([`grant`]), what introspection may tell whom
//! ([`introspection`]), the RFC 8414 metadata ([`metadata`]) and RFC 6749's scope syntax
//! ([`scope`]). No HTTP here: the warp routes
//! read forms and headers into these calls and write their answers and refusals (RFC 6749
//! §5.1, §5.2; RFC 7662) back. The authorization endpoint moves in beside them.

pub(crate) mod client;
pub(crate) mod grant;
pub(crate) mod introspection;
pub(crate) mod metadata;
pub(crate) mod scope;

pub(crate) use client::{CLIENT_AUTH_METHODS, Credentials};
pub(crate) use grant::{GRANT_TYPES, REFRESH_TOKEN_DELIVERIES, REFRESH_TOKEN_DELIVERY};
