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

/** Returns a fresh token (or nothing) when a session that cannot refresh has expired. */
export type OnExpired = (session: TokenSession) => string | null | undefined | Promise<string | null | undefined>;

/** Options every session takes. */
export interface SessionOptions {
  /** Clock-skew allowance, a whole number of seconds from 0 to 600. Default 0. */
  leewaySeconds?: number;
  /** Refresh this many seconds before `exp`. Default: 30, or a fifth of the lifetime if less. */
  refreshMarginSeconds?: number;
  /** Origins besides the page's own that may receive the token, e.g. "https://api.example.com". */
  allowedOrigins?: string[];
  /** Where to refresh. Default "/api/v3/auth/refresh". */
  refreshUrl?: string;
  /** Where to log out. Default "/api/v3/auth/logout". */
  logoutUrl?: string;
  /** The name of the Web Lock and BroadcastChannel tabs share. Default "jwtkit-session". */
  channelName?: string;
  /** How long a tab waits for another tab's refresh before refreshing itself. Default 10000. */
  lockTimeoutMs?: number;
  /** The fetch to send requests with. Default: the global fetch. */
  fetch?: (input: RequestInfo | URL, init?: RequestInit) => Promise<Response>;
  /** Called (once however many requests wait) when a session that cannot refresh has expired. */
  onExpired?: OnExpired;
}

/** Options of `new TokenSession(token, options)`: a token restored from elsewhere. */
export interface TokenSessionOptions extends SessionOptions {
  /** Server clock minus client clock, in seconds. Default 0; never re-estimated. */
  clockOffsetSeconds?: number;
}

/** Options of `TokenSession.fromAuthResponse(json, options)`. */
export interface AuthResponseOptions extends SessionOptions {
  /** The response's `Date` header (or a Date, or seconds since the epoch); believed only when
   * it fits the fresh token. */
  serverDate?: Date | string | number | null;
  /** When the response was received. Default: the real clock. */
  now?: Date | number;
}

/** Options of `TokenSession.resume(options)`. */
export interface ResumeOptions extends SessionOptions {
  /** Prove this origin's DPoP key (RFC 9449) on the refresh, as a session of `authenticate`
   * must: its key, non-extractable, kept in IndexedDB. Default true. */
  dpop?: boolean;
}

/** Options of `TokenSession.authenticate(credentials, options)`. */
export interface AuthenticateOptions extends ResumeOptions {
  /** Where to authenticate. Default "/api/v3/auth". */
  authUrl?: string;
}

/** Options of `TokenSession.signIn(options)`: the OpenID provider, and this client of it. */
export interface SignInOptions {
  /** The provider's issuer URL, exactly as its metadata names it, e.g. "https://auth.example". */
  issuer: string;
  /** This page's client_id at the provider (a public client: no secret). */
  clientId: string;
  /** Where the provider sends the answer: a registered redirect URI that calls handleRedirect. */
  redirectUri: string;
  /** Space-separated scopes, including openid. Default "openid". */
  scope?: string;
  /** "none" (a silent sign-in: ERR_OIDC_AUTHORIZATION_ERROR with error "login_required" when
   * the provider has no session), "login" or "consent". */
  prompt?: string;
  /** Who is expected to sign in (login_hint). */
  loginHint?: string;
  /** Where the refresh token lives: "cookie", the provider's HttpOnly cookie, out of every
   * script's reach (jwtkit's provider on the page's site: refresh_token_delivery); "body", this
   * page's memory; "auto" (default), the cookie when the provider offers it at the page's own
   * origin. */
  refreshTokenDelivery?: "auto" | "cookie" | "body";
  /** Bind the tokens to a non-extractable key of this browser (DPoP, RFC 9449), kept in
   * IndexedDB for the origin's tabs: a stolen token is useless without it. Default: true with a
   * jwtkit provider that announces DPoP, false with others (their APIs may take Bearer only). */
  dpop?: boolean;
  /** The fetch to send discovery with. Default: the global fetch. */
  fetch?: (input: RequestInfo | URL, init?: RequestInit) => Promise<Response>;
}

/** Options of `TokenSession.handleRedirect(options)`: the session's own, and where the answer is. */
export interface RedirectOptions extends SessionOptions {
  /** The address with the provider's answer. Default: the page's (then cleaned of the code). */
  url?: string;
}

/** Options of `TokenSession.resumeSignIn(options)`: the provider and client of `signIn`, and
 * the session's own options. */
export interface ResumeSignInOptions extends RedirectOptions {
  /** The provider's issuer URL, as given to signIn. */
  issuer: string;
  /** This page's client_id at the provider. */
  clientId: string;
  /** The redirect URI of the silent sign-in when no tab answers. */
  redirectUri: string;
  /** Space-separated scopes of that sign-in, including openid. Default "openid". */
  scope?: string;
  /** As given to signIn: with the provider's cookie, a reload refreshes from it (no page left). */
  refreshTokenDelivery?: "auto" | "cookie" | "body";
  /** As given to signIn. */
  dpop?: boolean;
}

/** Options of `session.signOut(options)`. */
export interface SignOutOptions {
  /** Where the provider sends the browser after logout: a registered post-logout URI. */
  postLogoutRedirectUri?: string;
  /** Given back on that redirect. */
  state?: string;
}

/** The body of `POST /api/v3/auth` (or of a refresh), or an object with a `token`. */
export type AuthResponse =
  | { data: { token: string; refresh_token?: string; refresh_token_delivery?: "cookie"; [member: string]: unknown } }
  | { token: string; refresh_token?: string; refresh_token_delivery?: "cookie" };

/** What a session's listeners hear. */
export type SessionEvent =
  | { type: "refreshed"; source: "this-tab" | "other-tab" }
  | { type: "loggedout"; reason: "local" | "other-tab" | "revoked" | "reused" | "expired" }
  | { type: "refreshfailed"; kind: "network" | "refused"; error: JwtError | Error };

export type SessionEventType = SessionEvent["type"];

/** Every error jwtkit throws: an `Error` with a stable `code`. */
export interface JwtError extends Error {
  name: "JwtError";
  code: string;
  /** For errors from `TokenSession.fetch`: the HTTP status and the response. */
  status?: number;
  response?: Response;
}
