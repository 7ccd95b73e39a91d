// The browser half of signing a person in with an OpenID provider (any provider): discovery,
// PKCE, the one-time values of the round trip, the redirects, the token request, and the ID
// token's signature through WebCrypto. What the ID token's registered claims mean (`iss`,
// `aud`, `exp`, `iat`) is judged by the Rust rules with the strict parser; this file checks the
// values only the sign-in knows (`nonce`, `azp`, `at_hash`) and moves requests.
//
// Nothing but the one-time values (`state`, `nonce`, the PKCE verifier, which provider and
// client) is ever written to web storage, in sessionStorage, for the round trip only: it is
// removed when the answer comes back, whatever the answer. A DPoP key (`dpop.js`) is a
// CryptoKey in IndexedDB that no script can read out.

import {
  b64url, currentKey, dpopChoice, dpopKey, forgetDpopKey, makeCurrent, newDpopKey, sendWithProof, withKey,
} from './dpop.js';
import { askTabs, DEFAULT_CHANNEL } from './driver.js';

/// The sessionStorage key of the round trip's one-time values.
const PENDING = 'jwtkit-oidc-sign-in';
/// jwtkit's CSRF header (`jwtkit_core::protocol::CSRF_HEADER`, checked by a test), on a
/// request that relies on the provider's refresh-token cookie.
const CSRF_HEADER = 'x-jwtkit-csrf';

/// WebCrypto's parameters for each JWS algorithm a browser verifies (EdDSA where it has
/// Ed25519), and the digest of `at_hash` (OpenID Connect Core §3.1.3.6: the hash of the
/// algorithm's; SHA-512 for EdDSA with Ed25519).
const ALGORITHMS = {
  RS256: { key: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }, verify: { name: 'RSASSA-PKCS1-v1_5' }, kty: 'RSA', digest: 'SHA-256' },
  RS384: { key: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-384' }, verify: { name: 'RSASSA-PKCS1-v1_5' }, kty: 'RSA', digest: 'SHA-384' },
  RS512: { key: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-512' }, verify: { name: 'RSASSA-PKCS1-v1_5' }, kty: 'RSA', digest: 'SHA-512' },
  PS256: { key: { name: 'RSA-PSS', hash: 'SHA-256' }, verify: { name: 'RSA-PSS', saltLength: 32 }, kty: 'RSA', digest: 'SHA-256' },
  PS384: { key: { name: 'RSA-PSS', hash: 'SHA-384' }, verify: { name: 'RSA-PSS', saltLength: 48 }, kty: 'RSA', digest: 'SHA-384' },
  PS512: { key: { name: 'RSA-PSS', hash: 'SHA-512' }, verify: { name: 'RSA-PSS', saltLength: 64 }, kty: 'RSA', digest: 'SHA-512' },
  ES256: { key: { name: 'ECDSA', namedCurve: 'P-256' }, verify: { name: 'ECDSA', hash: 'SHA-256' }, kty: 'EC', crv: 'P-256', digest: 'SHA-256' },
  ES384: { key: { name: 'ECDSA', namedCurve: 'P-384' }, verify: { name: 'ECDSA', hash: 'SHA-384' }, kty: 'EC', crv: 'P-384', digest: 'SHA-384' },
  EdDSA: { key: { name: 'Ed25519' }, verify: { name: 'Ed25519' }, kty: 'OKP', crv: 'Ed25519', digest: 'SHA-512' },
};

const encoder = new TextEncoder();

/// The least leeway an ID token's `exp` and `iat` are judged with.
const ID_TOKEN_LEEWAY_SECONDS = 60;

const unb64url = (text) => Uint8Array.from(atob(text.replaceAll('-', '+').replaceAll('_', '/')), (c) => c.charCodeAt(0));

/// `n` bytes from the platform's CSPRNG, as base64url.
const random = (n) => b64url(crypto.getRandomValues(new Uint8Array(n)));

const subtle = () => {
  if (!globalThis.crypto?.subtle) throw new Error('WebCrypto (crypto.subtle) is not available: a secure context (https or localhost) is required');
  return globalThis.crypto.subtle;
};

/// Reads `options` of signIn, handleRedirect and signOut: the provider, the client and the
/// redirect URI, each a non-empty string.
function required(options, names, errors) {
  const o = options ?? {};
  const values = {};
  for (const name of names) {
    const value = o[name];
    if (typeof value !== 'string' || value === '') throw errors.error('invalid', `${name} must be a non-empty string`);
    values[name] = value;
  }
  return values;
}

/// `fetch` (the given one, or the global one); its own failures become ERR_FETCH_FAILED.
async function send(options, errors, input, init) {
  const call = options?.fetch ?? globalThis.fetch;
  try {
    return await call.call(globalThis, input, init);
  } catch (cause) {
    throw errors.error('fetch', String(cause?.message ?? cause), cause);
  }
}

/// An absolute https URL (plain http for a loopback address only): where codes, verifiers and
/// refresh tokens may go (OpenID Connect Discovery 1.0 §3).
function isEndpoint(value) {
  if (typeof value !== 'string') return false;
  try {
    const url = new URL(value);
    return url.protocol === 'https:'
      || (url.protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname));
  } catch {
    return false;
  }
}

/// The provider's metadata (OpenID Connect Discovery 1.0 §4), whose `issuer` must be the one
/// given exactly (§4.3: otherwise another provider's endpoints would be believed).
export async function discover(issuer, options, errors) {
  const url = `${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;
  const response = await send(options, errors, url, { headers: { accept: 'application/json' } });
  const metadata = response.ok ? await response.json().catch(() => null) : null;
  if (typeof metadata !== 'object' || metadata === null) {
    throw errors.error('discovery', `${url} answered ${response.status} without a metadata document`);
  }
  if (metadata.issuer !== issuer) {
    throw errors.error('issuer', `the metadata at ${url} names the issuer ${JSON.stringify(metadata.issuer)}, not ${JSON.stringify(issuer)}`);
  }
  for (const name of ['authorization_endpoint', 'token_endpoint', 'jwks_uri']) {
    if (!isEndpoint(metadata[name])) throw errors.error('discovery', `the metadata's ${name} is no https URL`);
  }
  for (const name of ['end_session_endpoint', 'revocation_endpoint']) {
    if (metadata[name] !== undefined && !isEndpoint(metadata[name])) throw errors.error('discovery', `the metadata's ${name} is no https URL`);
  }
  return metadata;
}

/// Whether a person's refresh token rides the provider's HttpOnly cookie instead of this
/// page's memory: when asked (refreshTokenDelivery "cookie"), or by default ("auto") when the
/// provider offers it (jwtkit's refresh_token_delivery_values_supported) at this page's origin.
function rideCookie(options, metadata, errors) {
  const asked = options.refreshTokenDelivery ?? 'auto';
  if (!['auto', 'cookie', 'body'].includes(asked)) throw errors.error('invalid', 'refreshTokenDelivery must be "auto", "cookie" or "body"');
  const offered = Array.isArray(metadata.refresh_token_delivery_values_supported) && metadata.refresh_token_delivery_values_supported.includes('cookie');
  if (asked === 'cookie' && !offered) throw errors.error('discovery', 'the provider offers no refresh_token_delivery=cookie');
  return asked === 'cookie' || (asked === 'auto' && offered && new URL(metadata.token_endpoint).origin === globalThis.location?.origin);
}

/// A cookie session's name among the tabs: one per provider and client in a browser.
const cookieKey = (issuer, clientId) => `${issuer} ${clientId} cookie`;

/// The DPoP key of this provider and client (a key per provider: a thumbprint seen by two
/// would tell them it is one browser), or null: by default with jwtkit's provider (its
/// refresh_token_delivery) when it announces DPoP.
const dpopOf = (options, metadata, clientId, errors) => {
  const offered = metadata.dpop_signing_alg_values_supported;
  const jwtkit = Array.isArray(metadata.refresh_token_delivery_values_supported) && Array.isArray(offered);
  return dpopChoice(options.dpop, jwtkit, `${metadata.issuer} ${clientId}`, offered, errors);
};

/// Starts a sign-in: the one-time values into sessionStorage, then the top-level redirect to
/// the provider's authorization endpoint (PKCE S256, state, nonce).
export async function signIn(options, errors) {
  const { issuer, clientId, redirectUri } = required(options, ['issuer', 'clientId', 'redirectUri'], errors);
  // Compared with the address the answer arrives at: an absolute URL.
  if (!URL.canParse(redirectUri)) throw errors.error('invalid', 'redirectUri must be an absolute URL');
  const scope = options.scope ?? 'openid';
  if (typeof scope !== 'string' || !scope.split(' ').includes('openid')) throw errors.error('invalid', 'scope must be a string that includes openid');
  const metadata = await discover(issuer, options, errors);
  const methods = metadata.code_challenge_methods_supported;
  if (Array.isArray(methods) && !methods.includes('S256')) throw errors.error('discovery', 'the provider does not support PKCE with S256');
  const verifier = random(32);
  const challenge = b64url(await subtle().digest('SHA-256', encoder.encode(verifier)));
  const pending = {
    issuer, clientId, redirectUri, state: random(16), nonce: random(16), verifier, cookie: rideCookie(options, metadata, errors),
    dpop: dpopOf(options, metadata, clientId, errors),
  };
  // A new sign-in, a new key: its thumbprint travels with the round trip.
  if (pending.dpop) pending.dpop = await newDpopKey(pending.dpop, errors);
  const url = new URL(metadata.authorization_endpoint);
  const params = {
    client_id: clientId, redirect_uri: redirectUri, response_type: 'code', scope,
    state: pending.state, nonce: pending.nonce, code_challenge: challenge, code_challenge_method: 'S256',
  };
  if (options.prompt !== undefined) params.prompt = options.prompt;
  if (options.loginHint !== undefined) params.login_hint = options.loginHint;
  for (const [name, value] of Object.entries(params)) {
    if (typeof value !== 'string') throw errors.error('invalid', `${name} must be a string`);
    url.searchParams.set(name, value);
  }
  sessionStorage.setItem(PENDING, JSON.stringify(pending));
  globalThis.location.assign(url.href);
}

/// Back from the provider: the callback's `state` and `iss` checked, the code redeemed, the ID
/// token's signature verified; `null` when the address is no callback. The one-time values
/// are removed first, and the code is removed from the address bar, whatever follows.
export async function completeSignIn(options, errors, rules) {
  const here = new URL(options?.url ?? globalThis.location.href);
  const params = here.searchParams;
  if (!params.has('code') && !params.has('error')) return null;
  let pending = null;
  try {
    pending = JSON.parse(sessionStorage.getItem(PENDING) ?? 'null');
  } catch {
    // Not this package's: no sign-in is waiting.
  }
  sessionStorage.removeItem(PENDING);
  if (options?.url === undefined) {
    const clean = new URL(here);
    for (const name of ['code', 'state', 'iss', 'error', 'error_description', 'error_uri', 'session_state']) clean.searchParams.delete(name);
    globalThis.history?.replaceState(globalThis.history.state, '', clean.href);
  }
  // A sign-in that fails leaves no key behind.
  return redeem(here, params, pending, options, errors, rules).catch((error) => {
    forgetDpopKey(pending?.dpop);
    throw error;
  });
}

/// The rest of completeSignIn: the answer checked, the code redeemed, the ID token verified.
async function redeem(here, params, pending, options, errors, rules) {
  if (!pending || params.get('state') !== pending.state) {
    throw errors.error('state', pending ? 'the answer carries another sign-in\'s state' : 'no sign-in of this tab is waiting for an answer');
  }
  // The answer came to the redirect URI this sign-in named (a redirect URI per provider is
  // how a client tells providers apart: RFC 9700 §4.4.2.2).
  const expected = new URL(pending.redirectUri);
  if (here.origin !== expected.origin || here.pathname !== expected.pathname) {
    throw errors.error('state', `the answer arrived at ${here.origin}${here.pathname}, not at the sign-in's redirect URI`);
  }
  const metadata = await discover(pending.issuer, options, errors);
  // RFC 9207: the answer names its issuer; one that names another is a mix-up attack.
  const iss = params.get('iss');
  if (iss === null && metadata.authorization_response_iss_parameter_supported === true) {
    throw errors.error('issMissing', 'the provider announces the iss parameter, and the answer has none');
  }
  if (iss !== null && iss !== metadata.issuer) {
    throw errors.error('issuer', `the answer comes from ${JSON.stringify(iss)}, not from ${JSON.stringify(metadata.issuer)}`);
  }
  if (params.has('error')) {
    const error = errors.error('denied', `the provider refused the sign-in: ${params.get('error')}${params.has('error_description') ? `: ${params.get('error_description')}` : ''}`);
    error.error = params.get('error');
    throw error;
  }
  const body = new URLSearchParams({
    grant_type: 'authorization_code', code: params.get('code'), redirect_uri: pending.redirectUri,
    client_id: pending.clientId, code_verifier: pending.verifier,
  });
  if (pending.cookie) body.set('refresh_token_delivery', 'cookie');
  const { tokens, date } = await tokenRequest(metadata.token_endpoint, body, options, errors, pending.cookie, pending.dpop);
  if (typeof tokens.id_token !== 'string') throw errors.error('token', 'the token response has no id_token');
  const claims = await checkIdToken(tokens.id_token, tokens.access_token, pending, metadata, date, options, errors, rules);
  // The sign-in's name among the tabs of its session.
  const key = pending.cookie ? cookieKey(metadata.issuer, pending.clientId) : [claims.iss, claims.sub, claims.sid ?? claims.iat].join(' ');
  // A session in the provider's cookie is what a reload resumes with: its key too.
  if (pending.cookie) await makeCurrent(pending.dpop, errors);
  return oidcSession(rules, options, { tokens, date }, metadata, pending.clientId, pending.cookie, pending.dpop, key, tokens.id_token, claims);
}

/// The session of a sign-in's tokens: it refreshes at the token endpoint as this client (the
/// refresh token in memory, or in the provider's cookie) and signs out at the provider.
function oidcSession(rules, options, answer, metadata, clientId, cookie, dpop, key, idToken, claims) {
  // When the access token expires, by this tab's clock, for the tabs it hands the session to
  // (a JWT's own exp counts for them; an opaque token's lifetime does not travel otherwise).
  const expiresAt = Date.now() / 1000 + (answer.tokens.expires_in ?? 0);
  const oidc = { metadata, clientId, idToken, claims, key, expiresAt, cookie };
  const protocol = { refreshPath: metadata.token_endpoint, endingCodes: {}, csrfHeader: CSRF_HEADER, oidc, dpop };
  return rules.session({ ...answer, protocol }, options);
}

/// A request to the token endpoint (a public client: no secret), with a proof of the `dpop`
/// key when given; the answer's tokens and its `Date`, or ERR_OIDC_TOKEN_REQUEST_FAILED with
/// the provider's `error`.
export async function tokenRequest(endpoint, body, options, errors, cookie, dpop) {
  // A redirect would carry the code, the verifier or the refresh token elsewhere.
  const init = { method: 'POST', body, headers: new Headers({ accept: 'application/json' }), redirect: 'error' };
  // The provider's refresh-token cookie is set, or sent, on a request with credentials; a
  // request relying on it carries the CSRF header.
  if (cookie) {
    init.credentials = 'include';
    init.headers.set(CSRF_HEADER, '1');
  }
  const post = (input, i) => send(options, errors, input, i);
  const response = dpop ? await sendWithProof(post, await dpopKey(dpop, errors), endpoint, init, null, errors) : await post(endpoint, init);
  const tokens = await response.json().catch(() => null);
  if (!response.ok || typeof tokens?.access_token !== 'string') {
    const detail = typeof tokens?.error === 'string'
      ? `${tokens.error}${typeof tokens.error_description === 'string' ? `: ${tokens.error_description}` : ''}`
      : `the token endpoint answered ${response.status} without tokens`;
    const error = errors.error('token', `the token request failed: ${detail}`);
    if (typeof tokens?.error === 'string') error.error = tokens.error;
    error.status = response.status;
    throw error;
  }
  // A provider that ignored the proof issued a token a thief could use: refused.
  const type = dpop ? 'DPoP' : 'Bearer';
  if (typeof tokens.token_type !== 'string' || tokens.token_type.toLowerCase() !== type.toLowerCase()) {
    throw errors.error('token', `the token_type is ${JSON.stringify(tokens.token_type)}, not ${type}`);
  }
  return { tokens, date: response.headers.get('date') };
}

/// The ID token of this sign-in (OpenID Connect Core §3.1.3.7): its signature by a key of the
/// provider's JWK Set, verified by WebCrypto; its registered claims judged by the Rust rules;
/// `nonce`, `azp` and `at_hash` here. Its claims.
async function checkIdToken(idToken, accessToken, pending, metadata, date, options, errors, rules) {
  // A minute's leeway at least: the provider's Date is rarely readable across origins, and the
  // browser's clock is then believed.
  const leeway = Math.max(options?.leewaySeconds ?? 0, ID_TOKEN_LEEWAY_SECONDS);
  const { header, claims } = rules.checkIdToken(idToken, metadata.issuer, pending.clientId, date ?? null, leeway);
  const algorithm = Object.hasOwn(ALGORITHMS, header.alg) ? ALGORITHMS[header.alg] : undefined;
  if (!algorithm) throw errors.error('signature', `the ID token's alg ${JSON.stringify(header.alg)} is not one this package verifies`);
  const announced = metadata.id_token_signing_alg_values_supported;
  if (Array.isArray(announced) && !announced.includes(header.alg)) {
    throw errors.error('signature', `the ID token's alg ${header.alg} is not one the provider announces`);
  }
  if (typeof claims.sub !== 'string' || claims.sub === '') throw errors.error('idToken', 'the ID token names no subject (sub)');
  const response = await send(options, errors, metadata.jwks_uri, { headers: { accept: 'application/json' }, redirect: 'error' });
  const set = response.ok ? await response.json().catch(() => null) : null;
  if (!Array.isArray(set?.keys)) throw errors.error('discovery', `${metadata.jwks_uri} answered ${response.status} without a JWK Set`);
  const candidates = set.keys.filter((jwk) => jwk?.kty === algorithm.kty
    && (algorithm.crv === undefined || jwk.crv === algorithm.crv)
    && (jwk.use === undefined || jwk.use === 'sig')
    && (jwk.alg === undefined || jwk.alg === header.alg)
    && (header.kid === undefined || jwk.kid === header.kid));
  if (candidates.length === 0) {
    throw errors.error('signature', `the provider's JWK Set has no ${header.alg} key${header.kid === undefined ? '' : ` with kid ${JSON.stringify(header.kid)}`}`);
  }
  const [encodedHeader, encodedClaims, signature] = idToken.split('.');
  const signed = encoder.encode(`${encodedHeader}.${encodedClaims}`);
  let verified = false;
  for (const jwk of candidates) {
    const { kty, crv, n, e, x, y } = jwk;
    try {
      const key = await subtle().importKey('jwk', { kty, crv, n, e, x, y }, algorithm.key, false, ['verify']);
      if (await subtle().verify(algorithm.verify, key, unb64url(signature), signed)) {
        verified = true;
        break;
      }
    } catch {
      // A key the browser cannot import (EdDSA in an older browser, a malformed one): the
      // next candidate, else no verified signature.
    }
  }
  if (!verified) throw errors.error('signature', 'the ID token\'s signature does not verify with the provider\'s keys');
  if (claims.nonce !== pending.nonce) throw errors.error('idToken', 'the ID token answers another sign-in (nonce)');
  const audiences = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
  if ((claims.azp !== undefined || audiences.length > 1) && claims.azp !== pending.clientId) {
    throw errors.error('idToken', `the ID token's azp is ${JSON.stringify(claims.azp)}, not this client`);
  }
  if (claims.at_hash !== undefined) {
    const digest = new Uint8Array(await subtle().digest(algorithm.digest, encoder.encode(accessToken)));
    if (claims.at_hash !== b64url(digest.slice(0, digest.length / 2))) {
      throw errors.error('idToken', 'the ID token\'s at_hash does not match the access token');
    }
  }
  return claims;
}

/// A new tab or a reload: another open tab's session of this provider and client (its
/// tokens, its protocol, its clock offset), else a silent sign-in at the provider.
export async function resumeSignIn(options, errors, rules) {
  const { issuer, clientId } = required(options, ['issuer', 'clientId', 'redirectUri'], errors);
  const hello = { type: 'hello-signed-in', issuer, clientId };
  // A session in the provider's cookie is taken from a tab only if it is the cookie's (its
  // key the current one), not an older one a tab still holds.
  const bound = options.dpop === false ? undefined : await currentKey(`${issuer} ${clientId}`, errors);
  const current = await askTabs(options.channelName ?? DEFAULT_CHANNEL, hello, (data) => (
    data?.type === 'current-signed-in' && typeof data.tokens?.access_token === 'string'
      && !(data.protocol?.oidc?.cookie && data.protocol.dpop && data.protocol.dpop.jkt !== bound) ? data : null));
  if (current) return rules.session(current, options);
  // The provider's cookie, when the session rides one: a refresh, and no page left.
  const metadata = await discover(issuer, options, errors);
  if (rideCookie(options, metadata, errors)) {
    const body = new URLSearchParams({ grant_type: 'refresh_token', client_id: clientId, refresh_token_delivery: 'cookie' });
    const dpop = await withKey(dpopOf(options, metadata, clientId, errors), errors);
    const answer = await tokenRequest(metadata.token_endpoint, body, options, errors, true, dpop).catch((error) => {
      // No cookie, or its session has ended: a sign-in, silent if the provider can.
      if (error.status === 400 || error.status === 401) return null;
      throw error;
    });
    if (answer) return oidcSession(rules, options, answer, metadata, clientId, true, dpop, cookieKey(metadata.issuer, clientId));
  }
  const silent = { prompt: 'none' };
  for (const name of ['issuer', 'clientId', 'redirectUri', 'scope', 'refreshTokenDelivery', 'dpop', 'fetch']) {
    if (options[name] !== undefined) silent[name] = options[name];
  }
  await signIn(silent, errors);
  return null;
}


/// RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0): a sign-in's session ended
/// here and in the other tabs, then the top-level redirect to the provider's
/// end_session_endpoint with the ID token (when the session has one) as the hint.
export async function endSession(driver, options, errors) {
  const { oidc } = driver;
  if (!oidc) throw errors.error('invalid', 'signOut ends a session from a sign-in; use logout for others');
  await driver.logout();
  const endpoint = oidc.metadata.end_session_endpoint;
  if (typeof endpoint !== 'string') throw errors.error('discovery', 'the provider has no end_session_endpoint');
  const url = new URL(endpoint);
  // A session resumed from the provider's cookie has no ID token: the provider asks.
  if (oidc.idToken) url.searchParams.set('id_token_hint', oidc.idToken);
  url.searchParams.set('client_id', oidc.clientId);
  const o = options ?? {};
  if (o.postLogoutRedirectUri !== undefined) {
    if (typeof o.postLogoutRedirectUri !== 'string') throw errors.error('invalid', 'postLogoutRedirectUri must be a string');
    url.searchParams.set('post_logout_redirect_uri', o.postLogoutRedirectUri);
  }
  if (o.state !== undefined) url.searchParams.set('state', String(o.state));
  globalThis.location.assign(url.href);
}
