//! TypeScript declarations of the shapes the exports take and return.

use wasm_bindgen::prelude::*;

#[wasm_bindgen(typescript_custom_section)]
const TYPES: &str = r#"
/** The JOSE header of a token (RFC 7515 §4). */
export interface JwtHeader {
  alg: string;
  typ?: string;
  cty?: string;
  kid?: string;
  [parameter: string]: unknown;
}

/** The claims of a token (RFC 7519 §4). NumericDates are seconds since the epoch. */
export interface JwtClaims {
  iss?: string;
  sub?: string;
  aud?: string | string[];
  exp?: number;
  nbf?: number;
  iat?: number;
  jti?: string;
  /** The session the token belongs to (OpenID Connect). */
  sid?: string;
  [claim: string]: unknown;
}

/** What `decodeUnverified` returns: NOT verified. */
export interface DecodedToken {
  header: JwtHeader;
  claims: JwtClaims;
}

/** Options of the expiry checks. */
export interface ExpiryOptions {
  /** Clock-skew allowance, a whole number of seconds from 0 to 600. Default 0. */
  leewaySeconds?: number;
  /** The time to judge at: a Date, or seconds since the epoch. Default: the real clock. */
  now?: Date | number;
  /** Server clock minus client clock, in seconds. Default 0. */
  clockOffsetSeconds?: number;
}

/** Returns a fresh token (or nothing) when a session's token has expired. */
export type OnExpired = (session: TokenSession) => string | null | undefined | Promise<string | null | undefined>;

/** Options of `new TokenSession(token, options)`. */
export interface TokenSessionOptions {
  /** Server clock minus client clock, in seconds. Default 0; never re-estimated. */
  clockOffsetSeconds?: number;
  /** Clock-skew allowance, a whole number of seconds from 0 to 600. Default 0. */
  leewaySeconds?: number;
  /** Called by `fetch` when the token has expired; may return a fresh token. */
  onExpired?: OnExpired;
}

/** Options of `TokenSession.fromAuthResponse(json, options)`. */
export interface AuthResponseOptions {
  /** The response's `Date` header (or a Date, or seconds since the epoch). */
  serverDate?: Date | string | number | null;
  /** Clock-skew allowance, a whole number of seconds from 0 to 600. Default 0. */
  leewaySeconds?: number;
  /** When the response was received. Default: the real clock. */
  now?: Date | number;
  /** Called by `fetch` when the token has expired; may return a fresh token. */
  onExpired?: OnExpired;
}

/** The body of `POST /api/v3/auth`, or an object with a `token`. */
export type AuthResponse = { data: { token: string; [member: string]: unknown } } | { token: string };

/** Every error jwtkit throws: an `Error` with a stable `code`. */
export interface JwtError extends Error {
  name: "JwtError";
  code: string;
  /** For errors from `TokenSession.fetch`: the HTTP status and the response. */
  status?: number;
  response?: Response;
}
"#;
