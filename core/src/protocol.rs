//! The session protocol the jwtkit server speaks and the browser package follows, declared
//! once for both: where sessions are refreshed and ended, and how the refresh-token cookie
//! and its CSRF defence are named.

/// `POST` here with an API key for an access token (and a refresh token: a session).
pub const AUTH_PATH: &str = "/api/v3/auth";
/// `POST` here with a refresh token (or its cookie) for the next access and refresh tokens.
pub const REFRESH_PATH: &str = "/api/v3/auth/refresh";
/// `POST` here to end a session.
pub const LOGOUT_PATH: &str = "/api/v3/auth/logout";
/// The `HttpOnly` cookie that carries a browser's refresh token: `__Host-` makes browsers
/// accept it only over a secure connection, for this host and path `/`.
pub const REFRESH_COOKIE: &str = "__Host-jwtkit-refresh";
/// The start of the `HttpOnly` cookie that carries the refresh token of a person's session at
/// an OpenID client, asked for with `refresh_token_delivery=cookie` at the token endpoint; the
/// client's ID follows (`__Host-jwtkit-refresh.{client_id}`), so that two clients on one site
/// keep their own.
pub const CLIENT_REFRESH_COOKIE_PREFIX: &str = "__Host-jwtkit-refresh.";
/// The header a page sends, with the value `1`, on requests that rely on the cookie: a
/// custom header needs a CORS preflight cross-origin, which only allowed origins pass.
pub const CSRF_HEADER: &str = "x-jwtkit-csrf";

/// The refusals of a refresh that end a session for good, with the reason a page is told
/// (`loggedout`); any other refusal is for now only (the page may try again).
pub const SESSION_ENDING_REFUSALS: [(&str, &str); 6] = [
    ("ERR_REFRESH_TOKEN_REUSED", "reused"),
    ("ERR_REFRESH_TOKEN_WRONG_CLIENT", "revoked"),
    ("ERR_REFRESH_TOKEN_KEY_MISMATCH", "revoked"),
    ("ERR_REFRESH_TOKEN_REVOKED", "revoked"),
    ("ERR_REFRESH_TOKEN_EXPIRED", "expired"),
    ("ERR_REFRESH_TOKEN_INVALID", "revoked"),
];
