// The benchmark's peer (`peers/oidc-provider.mjs`: node-oidc-provider configured as jwtkit's
// provider is) works as `cargo xtask bench-http` uses it, so that its figures are of a
// working provider: a public client's code flow with PKCE through the interaction it
// completes at once, an ID token signed with jwtkit's EdDSA key and validated by
// oauth4webapi, userinfo, a rotating refresh token, and introspection by the confidential
// client.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import * as oauth from 'oauth4webapi';

const bin = process.env.JWTKIT_BIN;
const insecure = { [oauth.allowInsecureRequests]: true };
const here = path.dirname(fileURLToPath(import.meta.url));
const redirectUri = 'http://127.0.0.1/callback';

async function startPeer(keyFile, secret) {
  const child = spawn(process.execPath, [path.join(here, '../peers/oidc-provider.mjs'), keyFile, redirectUri, secret], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs = [];
  createInterface({ input: child.stderr }).on('line', (line) => logs.push(line));
  const line = await new Promise((resolve, reject) => {
    child.on('exit', (code) => reject(new Error(`the peer exited with ${code}: ${logs.join('\n')}`)));
    createInterface({ input: child.stdout }).once('line', resolve);
  });
  return { url: JSON.parse(line).url, stop: () => child.kill('SIGTERM') };
}

test('the benchmark peer signs a person in as jwtkit does', async (t) => {
  assert.ok(bin, 'JWTKIT_BIN names the jwtkit binary (cargo xtask test sets it)');
  const dir = mkdtempSync(path.join(tmpdir(), 'jwtkit-peer-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const keyFile = path.join(dir, 'eddsa.json');
  writeFileSync(keyFile, execFileSync(bin, ['keygen', '--alg', 'EdDSA']));
  const peer = await startPeer(keyFile, 'a secret of the test');
  t.after(() => peer.stop());

  const issuer = new URL(peer.url);
  const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { algorithm: 'oidc', ...insecure }));
  assert.deepEqual(as.id_token_signing_alg_values_supported, ['EdDSA']);
  const client = { client_id: 'bench', id_token_signed_response_alg: 'EdDSA' };
  const verifier = oauth.generateRandomCodeVerifier();
  const nonce = oauth.generateRandomNonce();
  const authorize = new URL(as.authorization_endpoint);
  for (const [name, value] of Object.entries({
    client_id: 'bench', redirect_uri: redirectUri, response_type: 'code', scope: 'openid profile email',
    code_challenge: await oauth.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', nonce, login_hint: 'bench-7',
  })) authorize.searchParams.set(name, value);

  // The browser: the interaction completes at once; its cookies carry it to the code.
  const cookies = new Map();
  let next = authorize.href;
  let callback;
  for (let step = 0; step < 5 && !callback; step += 1) {
    const response = await fetch(next, { redirect: 'manual', headers: { cookie: [...cookies].map(([n, v]) => `${n}=${v}`).join('; ') } });
    for (const set of response.headers.getSetCookie()) {
      const [pair] = set.split(';');
      const at = pair.indexOf('=');
      cookies.set(pair.slice(0, at), pair.slice(at + 1));
    }
    const location = new URL(response.headers.get('location'), next);
    if (location.href.startsWith(redirectUri)) callback = location;
    else next = location.href;
  }
  assert.ok(callback, 'the code flow reached the client');

  const params = oauth.validateAuthResponse(as, client, callback);
  const response = await oauth.authorizationCodeGrantRequest(as, client, oauth.None(), params, redirectUri, verifier, insecure);
  const tokens = await oauth.processAuthorizationCodeResponse(as, client, response, { expectedNonce: nonce, requireIdToken: true });
  assert.equal(oauth.getValidatedIdTokenClaims(tokens).sub, 'bench-7', 'the account its login_hint named');

  const info = await oauth.processUserInfoResponse(as, client, 'bench-7', await oauth.userInfoRequest(as, client, tokens.access_token, insecure));
  assert.equal(info.preferred_username, 'bench-7');
  const refreshed = await oauth.processRefreshTokenResponse(as, client, await oauth.refreshTokenGrantRequest(as, client, oauth.None(), tokens.refresh_token, insecure));
  assert.notEqual(refreshed.refresh_token, tokens.refresh_token, 'the refresh token rotates');

  const introspector = { client_id: 'introspector' };
  const introspected = await oauth.processIntrospectionResponse(as, introspector,
    await oauth.introspectionRequest(as, introspector, oauth.ClientSecretBasic('a secret of the test'), refreshed.access_token, insecure));
  assert.equal(introspected.active, true);
  assert.equal(introspected.client_id, 'bench');
});
