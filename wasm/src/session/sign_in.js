// The browser half of signing a person in with an OpenID provider (any provider): discovery,
// PKCE, the one-time values of the round trip, the redirects, the token request, and the ID
// token's signature through WebCrypto. What the ID token's registered claims mean (`iss`,
// `aud`, `exp`, `iat`) is judged by the Rust rules with the strict parser; this file checks the
// values only the sign-in knows (`nonce`, `azp`, `at_hash`) and moves requests.
//
// Nothing but the one-time values (`state`, `nonce`, the PKCE verifier, which provider and
// client) is ever written to web storage, in sessionStorage, for the round trip only: it is
// removed when the answer comes back, whatever the answer.

/// The sessionStorage key of the round trip's one-time values.
const PENDING = 'jwtkit-oidc-sign-in';

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

const b64url = (bytes) => {
  let text = '';
  for (const byte of new Uint8Array(bytes)) text += String.fromCharCode(byte);
  return btoa(text).replaceAll('+', '-').replaceAll('/', '_').replace(/=+$/, '');
};

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

/// The provider's metadata (OpenID Connect Discovery 1.0 §4), whose `issuer` must be the one
/// given exactly (§4.3: otherwise another provider's endpoints would be believed).
export async function discover(issuer, options, errors) {
  const url = `${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;
  const response = await send(options, errors, url, { headers: { accept: 'application/json' } });
  const metadata = response.ok ? await response.json().catch(() => null) : null;
  if (typeof metadata !== 'object' || metadata === null) {
    throw errors.oidc('discovery', `${url} answered ${response.status} without a metadata document`);
  }
  if (metadata.issuer !== issuer) {
    throw errors.oidc('issuer', `the metadata at ${url} names the issuer ${JSON.stringify(metadata.issuer)}, not ${JSON.stringify(issuer)}`);
  }
  for (const name of ['authorization_endpoint', 'token_endpoint', 'jwks_uri']) {
    if (typeof metadata[name] !== 'string') throw errors.oidc('discovery', `the metadata has no ${name}`);
  }
  return metadata;
}

/// Starts a sign-in: the one-time values into sessionStorage, then the top-level redirect to
/// the provider's authorization endpoint (PKCE S256, state, nonce).
export async function signIn(options, errors) {
  const { issuer, clientId, redirectUri } = required(options, ['issuer', 'clientId', 'redirectUri'], errors);
  const scope = options.scope ?? 'openid';
  if (typeof scope !== 'string' || !scope.split(' ').includes('openid')) throw errors.error('invalid', 'scope must be a string that includes openid');
  const metadata = await discover(issuer, options, errors);
  const methods = metadata.code_challenge_methods_supported;
  if (Array.isArray(methods) && !methods.includes('S256')) throw errors.oidc('discovery', 'the provider does not support PKCE with S256');
  const verifier = random(32);
  const challenge = b64url(await subtle().digest('SHA-256', encoder.encode(verifier)));
  const pending = { issuer, clientId, redirectUri, state: random(16), nonce: random(16), verifier };
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
  const pending = JSON.parse(sessionStorage.getItem(PENDING) ?? 'null');
  sessionStorage.removeItem(PENDING);
  if (options?.url === undefined) {
    const clean = new URL(here);
    for (const name of ['code', 'state', 'iss', 'error', 'error_description', 'error_uri', 'session_state']) clean.searchParams.delete(name);
    globalThis.history?.replaceState(globalThis.history.state, '', clean.href);
  }
  if (!pending || params.get('state') !== pending.state) {
    throw errors.oidc('state', pending ? 'the answer carries another sign-in\'s state' : 'no sign-in of this tab is waiting for an answer');
  }
  const metadata = await discover(pending.issuer, options, errors);
  // RFC 9207: the answer names its issuer; one that names another is a mix-up attack.
  const iss = params.get('iss');
  if (iss === null && metadata.authorization_response_iss_parameter_supported === true) {
    throw errors.oidc('issMissing', 'the provider announces the iss parameter, and the answer has none');
  }
  if (iss !== null && iss !== metadata.issuer) {
    throw errors.oidc('issuer', `the answer comes from ${JSON.stringify(iss)}, not from ${JSON.stringify(metadata.issuer)}`);
  }
  if (params.has('error')) {
    const error = errors.oidc('denied', `${params.get('error')}${params.has('error_description') ? `: ${params.get('error_description')}` : ''}`);
    error.error = params.get('error');
    throw error;
  }
  const body = new URLSearchParams({
    grant_type: 'authorization_code', code: params.get('code'), redirect_uri: pending.redirectUri,
    client_id: pending.clientId, code_verifier: pending.verifier,
  });
  const { tokens, date } = await tokenRequest(metadata.token_endpoint, body, options, errors);
  if (typeof tokens.id_token !== 'string') throw errors.oidc('token', 'the token response has no id_token');
  const claims = await checkIdToken(tokens.id_token, tokens.access_token, pending, metadata, date, options, errors, rules);
  // How the session refreshes (at the token endpoint, as this client) and signs out.
  const oidc = { metadata, clientId: pending.clientId, idToken: tokens.id_token, claims };
  const protocol = { refreshPath: metadata.token_endpoint, endingCodes: {}, oidc };
  return rules.session({ tokens, date, protocol }, options);
}

/// A request to the token endpoint (a public client: no secret); the answer's tokens and its
/// `Date`, or ERR_OIDC_TOKEN_REQUEST_FAILED with the provider's `error`.
export async function tokenRequest(endpoint, body, options, errors) {
  const response = await send(options, errors, endpoint, {
    method: 'POST', body, headers: { accept: 'application/json' },
  });
  const tokens = await response.json().catch(() => null);
  if (!response.ok || typeof tokens?.access_token !== 'string') {
    const detail = typeof tokens?.error === 'string'
      ? `${tokens.error}${typeof tokens.error_description === 'string' ? `: ${tokens.error_description}` : ''}`
      : `the token endpoint answered ${response.status} without tokens`;
    const error = errors.oidc('token', detail);
    if (typeof tokens?.error === 'string') error.error = tokens.error;
    error.status = response.status;
    throw error;
  }
  if (typeof tokens.token_type !== 'string' || tokens.token_type.toLowerCase() !== 'bearer') {
    throw errors.oidc('token', `the token_type is ${JSON.stringify(tokens.token_type)}, not Bearer`);
  }
  return { tokens, date: response.headers.get('date') };
}

/// The ID token of this sign-in (OpenID Connect Core §3.1.3.7): its signature by a key of the
/// provider's JWK Set, verified by WebCrypto; its registered claims judged by the Rust rules;
/// `nonce`, `azp` and `at_hash` here. Its claims.
async function checkIdToken(idToken, accessToken, pending, metadata, date, options, errors, rules) {
  const { header, claims } = rules.decode(idToken);
  const algorithm = ALGORITHMS[header.alg];
  if (!algorithm) throw errors.oidc('signature', `the ID token's alg ${JSON.stringify(header.alg)} is not one this package verifies`);
  const response = await send(options, errors, metadata.jwks_uri, { headers: { accept: 'application/json' } });
  const set = response.ok ? await response.json().catch(() => null) : null;
  if (!Array.isArray(set?.keys)) throw errors.oidc('discovery', `${metadata.jwks_uri} answered ${response.status} without a JWK Set`);
  const candidates = set.keys.filter((jwk) => jwk?.kty === algorithm.kty
    && (algorithm.crv === undefined || jwk.crv === algorithm.crv)
    && (jwk.use === undefined || jwk.use === 'sig')
    && (jwk.alg === undefined || jwk.alg === header.alg)
    && (header.kid === undefined || jwk.kid === header.kid));
  if (candidates.length === 0) {
    throw errors.oidc('signature', `the provider's JWK Set has no ${header.alg} key${header.kid === undefined ? '' : ` with kid ${JSON.stringify(header.kid)}`}`);
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
  if (!verified) throw errors.oidc('signature', 'the ID token\'s signature does not verify with the provider\'s keys');
  rules.checkIdToken(idToken, metadata.issuer, pending.clientId, date ?? null, options?.leewaySeconds ?? 0);
  if (claims.nonce !== pending.nonce) throw errors.oidc('idToken', 'the ID token answers another sign-in (nonce)');
  const audiences = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
  if ((claims.azp !== undefined || audiences.length > 1) && claims.azp !== pending.clientId) {
    throw errors.oidc('idToken', `the ID token's azp is ${JSON.stringify(claims.azp)}, not this client`);
  }
  if (claims.at_hash !== undefined) {
    const digest = new Uint8Array(await subtle().digest(algorithm.digest, encoder.encode(accessToken)));
    if (claims.at_hash !== b64url(digest.slice(0, digest.length / 2))) {
      throw errors.oidc('idToken', 'the ID token\'s at_hash does not match the access token');
    }
  }
  return claims;
}

/// RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0): once the session has `ended`
/// here, the top-level redirect to the provider's end_session_endpoint with the ID token as
/// the hint.
export async function endSession(driver, options, errors, ended) {
  await ended;
  const { oidc } = driver;
  const endpoint = oidc.metadata.end_session_endpoint;
  if (typeof endpoint !== 'string') throw errors.oidc('discovery', 'the provider has no end_session_endpoint');
  const url = new URL(endpoint);
  url.searchParams.set('id_token_hint', oidc.idToken);
  url.searchParams.set('client_id', oidc.clientId);
  const o = options ?? {};
  if (o.postLogoutRedirectUri !== undefined) {
    if (typeof o.postLogoutRedirectUri !== 'string') throw errors.error('invalid', 'postLogoutRedirectUri must be a string');
    url.searchParams.set('post_logout_redirect_uri', o.postLogoutRedirectUri);
  }
  if (o.state !== undefined) url.searchParams.set('state', String(o.state));
  globalThis.location.assign(url.href);
}
