// A standard OpenID Connect relying party (oauth4webapi) signs a person in through the real
// `jwtkit serve` provider: discovery, PKCE, the authorization request, the real sign-in page
// (its CSRF field and cookies, as a browser sends them), the redirect validated with the
// RFC 9207 `iss` parameter, the code exchanged for an ID token the library validates
// (issuer, audience, expiry, nonce) and whose signature is checked here with WebCrypto
// against the JWK Set, userinfo for the same subject, and the refresh token's rotation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as oauth from 'oauth4webapi';
import { startServer } from '../server.mjs';

const bin = process.env.JWTKIT_BIN;
const insecure = { [oauth.allowInsecureRequests]: true };

/** A browser's cookie jar for one origin. */
class Jar {
  cookies = new Map();
  keep(response) {
    for (const set of response.headers.getSetCookie()) {
      const [pair] = set.split(';');
      const at = pair.indexOf('=');
      this.cookies.set(pair.slice(0, at), pair.slice(at + 1));
    }
  }
  header() {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  }
}

/** The text an HTML attribute value stands for. */
function unescapeHtml(text) {
  const named = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
  return text.replace(/&(#x[0-9a-f]+|#[0-9]+|[a-z]+);/gi, (whole, ref) => {
    if (ref[0] !== '#') return named[ref.toLowerCase()] ?? whole;
    return String.fromCodePoint(ref[1] === 'x' || ref[1] === 'X' ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10));
  });
}

async function verifySignature(jwksUri, token) {
  const [header, payload, signature] = token.split('.');
  const { kid, alg } = JSON.parse(Buffer.from(header, 'base64url'));
  assert.equal(alg, 'EdDSA');
  const { keys } = await (await fetch(jwksUri)).json();
  const jwk = keys.find((k) => k.kid === kid);
  assert.ok(jwk, 'the ID token names a key of the JWK Set');
  const key = await crypto.subtle.importKey('jwk', jwk, { name: 'Ed25519' }, false, ['verify']);
  return crypto.subtle.verify('Ed25519', key, Buffer.from(signature, 'base64url'), new TextEncoder().encode(`${header}.${payload}`));
}

/// The development person signs in at `server` for the demo client through the real login
/// page (the browser's part: the page, then the form posted with the cookie it set):
/// { as, client, redirectUri, callback, state, nonce, verifier }.
async function signIn(server) {
  const { user, client: registered } = server.development;
  const issuer = new URL(server.url);
  const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { algorithm: 'oidc', ...insecure }));
  assert.equal(as.authorization_response_iss_parameter_supported, true);
  const client = { client_id: registered.client_id, id_token_signed_response_alg: 'EdDSA' };
  const redirectUri = registered.redirect_uri;

  const verifier = oauth.generateRandomCodeVerifier();
  const state = oauth.generateRandomState();
  const nonce = oauth.generateRandomNonce();
  const authorize = new URL(as.authorization_endpoint);
  for (const [name, value] of Object.entries({
    client_id: client.client_id,
    redirect_uri: redirectUri,
    response_type: 'code',
    scope: 'openid profile email',
    state,
    nonce,
    code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
  })) {
    authorize.searchParams.set(name, value);
  }

  const jar = new Jar();
  const page = await fetch(authorize, { redirect: 'manual' });
  assert.equal(page.status, 200);
  jar.keep(page);
  const html = await page.text();
  const form = new URLSearchParams();
  for (const [, name, value] of html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) {
    form.set(name, unescapeHtml(value));
  }
  form.set('username', user.username);
  form.set('password', user.password);
  const posted = await fetch(as.authorization_endpoint, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: jar.header() },
    body: form,
  });
  assert.equal(posted.status, 303, await posted.text());
  const callback = new URL(posted.headers.get('location'));
  assert.equal(callback.origin + callback.pathname, redirectUri);
  return { as, client, redirectUri, callback, state, nonce, verifier };
}

test('oauth4webapi signs a person in with the code flow and PKCE', async (t) => {
  assert.ok(bin, 'JWTKIT_BIN names the jwtkit binary (cargo xtask test sets it)');
  const server = await startServer({ bin });
  t.after(() => server.stop());
  const { user } = server.development;
  const { as, client, redirectUri, callback, state, nonce, verifier } = await signIn(server);

  // The relying party's part.
  const params = oauth.validateAuthResponse(as, client, callback, state);
  const response = await oauth.authorizationCodeGrantRequest(as, client, oauth.None(), params, redirectUri, verifier, insecure);
  const tokens = await oauth.processAuthorizationCodeResponse(as, client, response, { expectedNonce: nonce, requireIdToken: true });
  const claims = oauth.getValidatedIdTokenClaims(tokens);
  assert.equal(claims.iss, server.url);
  assert.equal(claims.aud, client.client_id);
  assert.ok(claims.sub.startsWith('u_'));
  assert.equal(typeof claims.auth_time, 'number');
  assert.ok(await verifySignature(as.jwks_uri, tokens.id_token), 'the ID token is signed by a key of the JWK Set');

  const info = await oauth.processUserInfoResponse(as, client, claims.sub, await oauth.userInfoRequest(as, client, tokens.access_token, insecure));
  assert.equal(info.preferred_username, user.username);
  assert.equal(info.email_verified, true);

  // The person's refresh token rotates (a public client: no secret, its client_id).
  assert.ok(tokens.refresh_token.startsWith('jwtr_'));
  const refreshed = await oauth.processRefreshTokenResponse(
    as,
    client,
    await oauth.refreshTokenGrantRequest(as, client, oauth.None(), tokens.refresh_token, insecure),
  );
  assert.notEqual(refreshed.refresh_token, tokens.refresh_token);
  assert.equal(refreshed.scope, 'openid profile email');

  // A code is redeemed once: the library sees invalid_grant.
  const again = await oauth.authorizationCodeGrantRequest(as, client, oauth.None(), params, redirectUri, verifier, insecure);
  await assert.rejects(
    oauth.processAuthorizationCodeResponse(as, client, again, { expectedNonce: nonce }),
    (error) => error.error === 'invalid_grant',
  );
  // A state another request made is refused by the library before any exchange.
  assert.throws(() => oauth.validateAuthResponse(as, client, callback, oauth.generateRandomState()));
});

test("oauth4webapi's DPoP: bound tokens from the code flow, userinfo, the API and refreshes with its proofs", async (t) => {
  assert.ok(bin, 'JWTKIT_BIN names the jwtkit binary (cargo xtask test sets it)');
  const server = await startServer({ bin });
  t.after(() => server.stop());
  const { as, client, redirectUri, callback, state, nonce, verifier } = await signIn(server);
  assert.deepEqual(as.dpop_signing_alg_values_supported, ['ES256', 'EdDSA', 'Ed25519', 'ES384', 'PS256', 'RS256']);

  // The client's key pair, never extractable; oauth4webapi makes every proof.
  const keyPair = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign', 'verify']);
  const DPoP = oauth.DPoP(client, keyPair);
  const params = oauth.validateAuthResponse(as, client, callback, state);
  const response = await oauth.authorizationCodeGrantRequest(as, client, oauth.None(), params, redirectUri, verifier, { DPoP, ...insecure });
  const tokens = await oauth.processAuthorizationCodeResponse(as, client, response, { expectedNonce: nonce, requireIdToken: true });
  assert.equal(tokens.token_type, 'dpop');
  const [, payload] = tokens.access_token.split('.');
  const { cnf } = JSON.parse(Buffer.from(payload, 'base64url'));
  assert.equal(cnf.jkt, await DPoP.calculateThumbprint());

  // Userinfo and the API take the token with a proof, never without one.
  const claims = oauth.getValidatedIdTokenClaims(tokens);
  const info = await oauth.processUserInfoResponse(as, client, claims.sub, await oauth.userInfoRequest(as, client, tokens.access_token, { DPoP, ...insecure }));
  assert.equal(info.preferred_username, server.development.user.username);
  const secret = await oauth.protectedResourceRequest(tokens.access_token, 'GET', new URL('/api/v3/secret', server.url), undefined, undefined, { DPoP, ...insecure });
  assert.equal(secret.status, 200, await secret.clone().text());
  const bearer = await fetch(new URL('/api/v3/secret', server.url), { headers: { authorization: `Bearer ${tokens.access_token}` } });
  assert.equal(bearer.status, 401);
  assert.equal((await bearer.json()).code, 'ERR_DPOP_TOKEN_AS_BEARER');
  // Another key's proofs (a thief who copied the token) are refused.
  const thief = oauth.DPoP(client, await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign', 'verify']));
  // oauth4webapi reads the refusal's DPoP challenge as RFC 9449 §7.1 writes it.
  const refusal = await oauth
    .protectedResourceRequest(tokens.access_token, 'GET', new URL('/api/v3/secret', server.url), undefined, undefined, { DPoP: thief, ...insecure })
    .then(() => assert.fail("a thief's proof was accepted"), (error) => error);
  assert.equal(refusal.code, 'OAUTH_WWW_AUTHENTICATE_CHALLENGE');
  const [challenge] = refusal.cause;
  assert.equal(challenge.scheme, 'dpop');
  assert.equal(challenge.parameters.error, 'invalid_token');
  assert.equal(challenge.parameters.algs, 'ES256 EdDSA Ed25519 ES384 PS256 RS256');
  assert.equal((await refusal.response.json()).code, 'ERR_DPOP_KEY_MISMATCH');

  // The refresh token is bound: it refreshes with the key's proof, and a thief's ends it.
  const refreshed = await oauth.processRefreshTokenResponse(
    as,
    client,
    await oauth.refreshTokenGrantRequest(as, client, oauth.None(), tokens.refresh_token, { DPoP, ...insecure }),
  );
  assert.equal(refreshed.token_type, 'dpop');
  const thiefs = await oauth.refreshTokenGrantRequest(as, client, oauth.None(), refreshed.refresh_token, { DPoP: thief, ...insecure });
  await assert.rejects(
    oauth.processRefreshTokenResponse(as, client, thiefs),
    (error) => error.error === 'invalid_grant' && error.cause.code === 'ERR_REFRESH_TOKEN_KEY_MISMATCH',
  );
  const after = await oauth.refreshTokenGrantRequest(as, client, oauth.None(), refreshed.refresh_token, { DPoP, ...insecure });
  await assert.rejects(oauth.processRefreshTokenResponse(as, client, after), (error) => error.cause.code === 'ERR_REFRESH_TOKEN_REVOKED');

  // A confidential client's client_credentials grant, bound too.
  const admin = { client_id: 'dev-admin' };
  // An Ed25519 key: oauth4webapi names its proofs' algorithm `Ed25519` (RFC 9864).
  const adminDPoP = oauth.DPoP(admin, await crypto.subtle.generateKey({ name: 'Ed25519' }, false, ['sign', 'verify']));
  const granted = await oauth.processClientCredentialsResponse(
    as,
    admin,
    await oauth.clientCredentialsGrantRequest(as, admin, oauth.ClientSecretBasic(server.adminKey), new URLSearchParams(), { DPoP: adminDPoP, ...insecure }),
  );
  assert.equal(granted.token_type, 'dpop');
  const admins = await oauth.protectedResourceRequest(granted.access_token, 'GET', new URL('/api/v3/admin', server.url), undefined, undefined, { DPoP: adminDPoP, ...insecure });
  assert.equal(admins.status, 200, await admins.clone().text());
});

test("oauth4webapi follows jwtkit's DPoP nonces (use_dpop_nonce, then the DPoP-Nonce it was given)", async (t) => {
  assert.ok(bin, 'JWTKIT_BIN names the jwtkit binary (cargo xtask test sets it)');
  const server = await startServer({ bin, args: ['--dpop-nonce-interval', '60s'] });
  t.after(() => server.stop());
  const issuer = new URL(server.url);
  const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { algorithm: 'oauth2', ...insecure }));
  const admin = { client_id: 'dev-admin' };
  const DPoP = oauth.DPoP(admin, await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign', 'verify']));
  const grant = async () => oauth.processClientCredentialsResponse(
    as,
    admin,
    await oauth.clientCredentialsGrantRequest(as, admin, oauth.ClientSecretBasic(server.adminKey), new URLSearchParams(), { DPoP, ...insecure }),
  );
  // The first request has no nonce: the library recognises the refusal and keeps the nonce.
  const first = await grant().then(() => assert.fail('a proof without the nonce was accepted'), (error) => error);
  assert.ok(oauth.isDPoPNonceError(first), String(first));
  const granted = await grant();
  assert.equal(granted.token_type, 'dpop');
  // The same server's API: the nonce it holds is the right one at once.
  const secret = await oauth.protectedResourceRequest(granted.access_token, 'GET', new URL('/api/v3/secret', server.url), undefined, undefined, { DPoP, ...insecure });
  assert.equal(secret.status, 200, await secret.clone().text());
});
