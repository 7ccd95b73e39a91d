// A standard OAuth 2.0 client library (oauth4webapi) against the real `jwtkit serve`:
// discovery, client credentials (HTTP Basic and client_secret_post; no refresh token), the
// refresh of an /api/v3/auth session, introspection
// and revocation, and the invalid_client refusal as the library reads it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as oauth from 'oauth4webapi';
import { startServer } from '../server.mjs';

const bin = process.env.JWTKIT_BIN;
// The server runs on loopback over plain HTTP, which the library refuses unless told.
const insecure = { [oauth.allowInsecureRequests]: true };

test('oauth4webapi: discovery, client credentials, refresh, introspection, revocation', async (t) => {
  assert.ok(bin, 'JWTKIT_BIN names the jwtkit binary (cargo xtask test sets it)');
  const server = await startServer({ bin });
  t.after(() => server.stop());
  const issuer = new URL(server.url);
  const as = await oauth.processDiscoveryResponse(
    issuer,
    await oauth.discoveryRequest(issuer, { algorithm: 'oauth2', ...insecure }),
  );
  assert.equal(as.issuer, server.url);
  assert.equal(as.token_endpoint, `${server.url}/oauth2/token`);

  const client = { client_id: 'dev-admin' };
  const basic = oauth.ClientSecretBasic(server.adminKey);
  const granted = await oauth.processClientCredentialsResponse(
    as,
    client,
    await oauth.clientCredentialsGrantRequest(as, client, basic, new URLSearchParams({ scope: 'user' }), insecure),
  );
  assert.equal(granted.token_type, 'bearer');
  assert.equal(granted.scope, 'user');
  assert.equal(granted.expires_in, 180);
  assert.equal(granted.refresh_token, undefined, 'no refresh token for client credentials (RFC 6749 §4.4.3)');
  const secret = await fetch(`${server.url}/api/v3/secret`, {
    headers: { authorization: `Bearer ${granted.access_token}` },
  });
  assert.equal(secret.status, 200);

  const post = oauth.ClientSecretPost(server.adminKey);
  const both = await oauth.processClientCredentialsResponse(
    as,
    client,
    await oauth.clientCredentialsGrantRequest(as, client, post, new URLSearchParams(), insecure),
  );
  assert.equal(both.scope, 'user admin');

  // A session the key started at /api/v3/auth refreshes at the token endpoint too, with
  // the key's client authentication.
  const auth = await fetch(`${server.url}/api/v3/auth`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ 'api-key': server.adminKey }),
  });
  const started = (await auth.json()).data;
  const refreshed = await oauth.processRefreshTokenResponse(
    as,
    client,
    await oauth.refreshTokenGrantRequest(as, client, basic, started.refresh_token, insecure),
  );
  assert.notEqual(refreshed.refresh_token, started.refresh_token);

  const introspect = async (token) =>
    oauth.processIntrospectionResponse(
      as,
      client,
      await oauth.introspectionRequest(as, client, basic, token, insecure),
    );
  const active = await introspect(refreshed.access_token);
  assert.equal(active.active, true);
  assert.equal(active.client_id, 'dev-admin');
  assert.equal(active.scope, 'user admin');

  await oauth.processRevocationResponse(
    await oauth.revocationRequest(as, client, basic, refreshed.access_token, insecure),
  );
  assert.equal((await introspect(refreshed.access_token)).active, false);

  // A wrong secret: 401 with the Basic challenge, which the library surfaces as such.
  const wrong = oauth.ClientSecretBasic('jwtk_wrong');
  const refused = await oauth.clientCredentialsGrantRequest(as, client, wrong, new URLSearchParams(), insecure);
  await assert.rejects(
    oauth.processClientCredentialsResponse(as, client, refused),
    (error) => {
      assert.ok(error instanceof oauth.WWWAuthenticateChallengeError, String(error));
      assert.equal(error.status, 401);
      assert.equal(error.cause[0].scheme, 'basic');
      return true;
    },
  );
  // A scope the client does not have: RFC 6749's invalid_scope in the body.
  const dev = { client_id: 'dev' };
  const narrow = await oauth.clientCredentialsGrantRequest(
    as, dev, oauth.ClientSecretBasic(server.devKey), new URLSearchParams({ scope: 'admin' }), insecure,
  );
  await assert.rejects(oauth.processClientCredentialsResponse(as, dev, narrow), (error) => {
    assert.ok(error instanceof oauth.ResponseBodyError, String(error));
    assert.equal(error.error, 'invalid_scope');
    assert.equal(error.status, 400);
    return true;
  });
});
