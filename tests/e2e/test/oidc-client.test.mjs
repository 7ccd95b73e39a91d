// The package as the OpenID client of a single-page app on its own origin, in headless
// Chromium: TokenSession.signIn and handleRedirect against the real `jwtkit serve` provider
// (through its sign-in page) and against node-oidc-provider (an OpenID Certified provider, a
// real process): the ID token verified with WebCrypto, an API called with the access token,
// a refresh at the provider's token endpoint, sign-out at its end_session_endpoint. Then each
// refusal, against a provider of the test's own that answers as an attacker would (and, to
// show that the refusals are for their reason, also answers rightly once). Nothing is ever
// left in localStorage, nor in sessionStorage once the answer is back.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { createServer } from 'node:http';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { startApp, startPeer, startProvider } from '../oidc-app.mjs';

const BIN = process.env.JWTKIT_BIN;
const CHROMIUM = process.env.JWTKIT_CHROMIUM ?? '/usr/bin/chromium';
const PKG = process.env.JWTKIT_WEB_PKG ?? path.resolve('../../target/web/pkg');
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

let browser;
let app;
let APP;

before(async () => {
  assert.ok(BIN, 'JWTKIT_BIN names the jwtkit binary (cargo xtask test sets it)');
  app = await startApp(PKG);
  APP = app.url;
  browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
});

after(async () => {
  await browser?.close();
  await app?.close();
});

/// A page of the app, its outcome awaited once the module ran.
async function appPage(t) {
  const context = await browser.newContext();
  t.after(() => context.close());
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  t.after(() => assert.deepEqual(errors, [], 'no uncaught error in the page'));
  return page;
}

async function outcome(page) {
  await page.waitForFunction(() => window.outcome !== undefined, null, { timeout: 15_000 });
  return page.evaluate(() => window.outcome);
}

/// Starts the sign-in from the app's home page (leaving it for the provider).
async function signIn(page, options) {
  await page.goto(`${APP}/`);
  await outcome(page);
  await page.evaluate((o) => { window.TokenSession.signIn(o).catch((e) => { window.signInError = { code: e.code, message: e.message }; }); }, options);
}

async function storage(page) {
  return page.evaluate(() => ({ local: localStorage.length, session: sessionStorage.length }));
}

/// The sign-in `options` through jwtkit's sign-in page, as its development person.
async function signInAtJwtkit(page, server, options) {
  const { user } = server.development;
  await signIn(page, options);
  await page.waitForURL((url) => url.pathname === '/oauth2/authorize');
  await page.getByLabel('Username').fill(user.username);
  await page.getByLabel('Password').fill(user.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL((url) => url.href.startsWith(`${APP}/callback`));
  return outcome(page);
}

test('a person signs in to a single-page app with jwtkit as the provider', async (t) => {
  const server = await startProvider(t, app, BIN, '60s');
  const page = await appPage(t);
  const signedIn = await signInAtJwtkit(page, server, { issuer: server.url, clientId: 'spa', redirectUri: `${APP}/callback`, scope: 'openid profile email' });
  assert.equal(signedIn.ok, true, JSON.stringify(signedIn));
  assert.equal(signedIn.claims.iss, server.url);
  assert.equal(signedIn.claims.aud, 'spa');
  assert.equal(signedIn.delivery, 'oidc');
  assert.equal(new URL(page.url()).search, '', 'the code left the address bar');
  assert.deepEqual(await storage(page), { local: 0, session: 0 }, 'nothing in web storage');

  // The access token calls the provider's API; a refresh rotates at its token endpoint.
  const called = await page.evaluate(async (url) => {
    const response = await window.session.fetch(`${url}/oauth2/userinfo`);
    const before = window.session.token;
    await window.session.refresh();
    const again = await window.session.fetch(`${url}/oauth2/userinfo`);
    const jkt = await window.session.dpopThumbprint();
    const bound = [before, window.session.token].map((token) => window.decodeUnverified(token).claims.cnf?.jkt);
    return { status: response.status, body: await response.json(), rotated: window.session.token !== before, again: again.status, jkt, bound };
  }, server.url);
  // jwtkit's provider announces DPoP: by default the tokens are bound to the browser's key.
  assert.match(called.jkt, /^[A-Za-z0-9_-]{43}$/);
  assert.deepEqual(called.bound, [called.jkt, called.jkt]);
  assert.equal(called.status, 200);
  assert.equal(called.body.sub, signedIn.claims.sub);
  assert.equal(called.body.email, 'demo@example.org');
  assert.deepEqual([called.rotated, called.again], [true, 200]);

  // Sign-out: the session ends here, its refresh token is revoked, and the provider's own
  // session ends too, which comes back to the app.
  const { revocation_endpoint: revocation } = await (await fetch(`${server.url}/.well-known/openid-configuration`)).json();
  const revoked = page.waitForResponse((r) => r.url() === revocation && r.request().method() === 'POST');
  await page.evaluate(() => { window.session.signOut({ postLogoutRedirectUri: `${location.origin}/`, state: 'bye' }); });
  assert.equal((await revoked).status(), 200);
  await page.waitForURL((url) => url.href.startsWith(`${APP}/?state=bye`));
  // The provider's session is over: a silent sign-in answers login_required.
  await signIn(page, { issuer: server.url, clientId: 'spa', redirectUri: `${APP}/callback`, prompt: 'none' });
  await page.waitForURL((url) => url.href.startsWith(`${APP}/callback`));
  const silent = await outcome(page);
  assert.deepEqual([silent.code, silent.error], ['ERR_OIDC_AUTHORIZATION_ERROR', 'login_required']);
  assert.deepEqual(await storage(page), { local: 0, session: 0 });
});

test('with jwtkit as the provider on the same site, the refresh token rides its HttpOnly cookie: a reload refreshes from it', async (t) => {
  const server = await startProvider(t, app, BIN, '60s');
  const page = await appPage(t);
  // The app and the provider are on one site (127.0.0.1), two origins: the cookie is asked for.
  const options = { issuer: server.url, clientId: 'spa', redirectUri: `${APP}/callback`, refreshTokenDelivery: 'cookie' };
  const tokenAnswers = [];
  page.on('response', async (r) => {
    if (r.url() === `${server.url}/oauth2/token` && r.request().method() === 'POST') tokenAnswers.push(await r.json().catch(() => null));
  });
  const authorizations = [];
  page.on('request', (r) => { if (r.url().startsWith(`${server.url}/oauth2/authorize`)) authorizations.push(r.url()); });
  const signedIn = await signInAtJwtkit(page, server, options);
  assert.equal(signedIn.ok, true, JSON.stringify(signedIn));
  assert.equal(tokenAnswers.length, 1);
  assert.equal(tokenAnswers[0].refresh_token, undefined, 'no refresh token reaches the page');
  assert.equal(tokenAnswers[0].refresh_token_delivery, 'cookie');
  const cookieOf = async () => (await page.context().cookies(server.url)).find((c) => c.name === '__Host-jwtkit-refresh.spa');
  const first = await cookieOf();
  assert.deepEqual([first?.httpOnly, first?.secure, first?.sameSite], [true, true, 'Strict']);

  // A refresh rotates in the cookie.
  const rotated = await page.evaluate(async () => {
    const before = window.session.token;
    await window.session.refresh();
    return window.session.token !== before;
  });
  assert.equal(rotated, true);
  assert.notEqual((await cookieOf()).value, first.value);
  assert.equal(tokenAnswers.at(-1).refresh_token, undefined);

  // A reload: the session comes back from the cookie, without leaving the page.
  const signIns = authorizations.length;
  await page.goto(`${APP}/`);
  await outcome(page);
  const resumed = await page.evaluate(async (o) => {
    window.session = await window.TokenSession.resumeSignIn({ ...o, allowedOrigins: [o.issuer] });
    const response = await window.session.fetch(`${o.issuer}/oauth2/userinfo`);
    return { status: response.status, href: location.href };
  }, options);
  assert.deepEqual(resumed, { status: 200, href: `${APP}/` });
  assert.equal(authorizations.length, signIns, 'no request to the authorization endpoint');
  assert.deepEqual(await storage(page), { local: 0, session: 0 }, 'nothing in web storage');

  // Sign-out (no ID token after a reload: the provider asks), and the cookie is gone.
  await page.evaluate(() => { window.session.signOut({ postLogoutRedirectUri: `${location.origin}/` }); });
  await page.waitForURL((url) => url.pathname === '/oauth2/logout');
  await page.getByRole('button', { name: /sign out/i }).click();
  await page.waitForURL((url) => url.href.startsWith(`${APP}/`));
  assert.equal(await cookieOf(), undefined, 'the refresh cookie is cleared');
  await page.goto(`${APP}/`);
  await outcome(page);
  // No cookie, no tab: a silent sign-in, which the ended provider session refuses.
  await page.evaluate((o) => { window.TokenSession.resumeSignIn(o); }, options);
  await page.waitForURL((url) => url.href.startsWith(`${APP}/callback`));
  const silent = await outcome(page);
  assert.deepEqual([silent.code, silent.error], ['ERR_OIDC_AUTHORIZATION_ERROR', 'login_required']);
});

test('a person signs in with node-oidc-provider as the provider', async (t) => {
  const issuer = await startPeer(t, APP);
  app.configure({ redirect: { allowedOrigins: [issuer] } });
  const page = await appPage(t);
  await signIn(page, { issuer, clientId: 'bench', redirectUri: `${APP}/callback`, scope: 'openid profile email', loginHint: 'ada' });
  await page.waitForURL((url) => url.href.startsWith(`${APP}/callback`));
  const signedIn = await outcome(page);
  assert.equal(signedIn.ok, true, JSON.stringify(signedIn));
  assert.deepEqual([signedIn.claims.iss, signedIn.claims.sub, signedIn.claims.aud], [issuer, 'ada', 'bench']);
  assert.equal(signedIn.delivery, 'oidc');
  assert.deepEqual(await storage(page), { local: 0, session: 0 });
  const called = await page.evaluate(async (url) => {
    const response = await window.session.fetch(`${url}/me`);
    const before = window.session.token;
    await window.session.refresh();
    return { status: response.status, body: await response.json(), rotated: window.session.token !== before, left: window.session.secondsLeft() };
  }, issuer);
  assert.equal(called.status, 200);
  assert.equal(called.body.sub, 'ada');
  assert.equal(called.rotated, true, 'an opaque access token, renewed at the token endpoint');
  assert.ok(called.left > 500 && called.left <= 600, `expires_in judged on the provider's clock: ${called.left}`);
  // RP-initiated logout leaves for the provider's end_session_endpoint with the ID token.
  const [request] = await Promise.all([
    page.waitForRequest((r) => r.url().startsWith(`${issuer}/session/end`)),
    page.evaluate(() => { window.signedOut = window.session.signOut({ postLogoutRedirectUri: `${location.origin}/` }); }),
  ]);
  const end = new URL(request.url());
  assert.equal(end.searchParams.get('client_id'), 'bench');
  assert.equal(end.searchParams.get('id_token_hint').split('.').length, 3);
});

test('tabs share a sign-in\'s session: one rotation at a time, a closing tab takes nothing away, a reload signs in silently', async (t) => {
  const issuer = await startPeer(t, APP);
  app.configure({ redirect: { allowedOrigins: [issuer] } });
  const context = await browser.newContext();
  t.after(() => context.close());
  const toProvider = [];
  context.on('request', (r) => { if (r.url().startsWith(issuer)) toProvider.push(`${r.method()} ${new URL(r.url()).pathname}`); });
  const options = { issuer, clientId: 'bench', redirectUri: `${APP}/callback`, scope: 'openid profile', allowedOrigins: [issuer] };
  const open = async () => {
    const page = await context.newPage();
    await page.goto(`${APP}/`);
    await outcome(page);
    return page;
  };
  const a = await open();
  await a.evaluate((o) => {
    const { issuer, clientId, redirectUri, scope } = o;
    window.TokenSession.signIn({ issuer, clientId, redirectUri, scope, loginHint: 'ada' });
  }, options);
  await a.waitForURL((url) => url.href.startsWith(`${APP}/callback`));
  assert.equal((await outcome(a)).ok, true);

  // A second tab takes the first one's session: nothing is sent to the provider.
  const b = await open();
  toProvider.length = 0;
  const resumed = await b.evaluate(async (o) => {
    window.session = await window.TokenSession.resumeSignIn(o);
    return { token: window.session.token, claims: window.session.idTokenClaims, delivery: window.session.refreshDelivery };
  }, options);
  assert.equal(resumed.token, await a.evaluate(() => window.session.token));
  assert.deepEqual([resumed.claims.sub, resumed.delivery], ['ada', 'oidc']);
  assert.deepEqual(toProvider, [], 'taken from the open tab');

  // A rotation in one tab serves the other; then the other rotates with the next refresh
  // token (a reused one would end the session: invalid_grant).
  for (const [from, to] of [[a, b], [b, a], [a, b]]) {
    const token = await from.evaluate(async () => { await window.session.refresh(); return window.session.token; });
    await to.waitForFunction((t) => window.session.token === t, token);
  }
  assert.equal(toProvider.filter((r) => r === 'POST /token').length, 3, 'one refresh request per rotation');

  // The first tab closes; the second goes on rotating.
  await a.close();
  await b.evaluate(() => window.session.refresh());
  assert.equal(await b.evaluate(() => window.session.ended), false);

  // A tab whose page is reloaded with no other tab left: a silent sign-in at the provider.
  await b.evaluate(() => window.session.close());
  await b.close();
  const c = await open();
  await c.evaluate((o) => { window.TokenSession.resumeSignIn(o); }, options);
  await c.waitForURL((url) => url.href.startsWith(`${APP}/callback`));
  const silent = await outcome(c);
  assert.equal(silent.ok, true, JSON.stringify(silent));
  assert.equal(silent.claims.sub, 'ada');
  assert.deepEqual(await storage(c), { local: 0, session: 0 });

  // Sign-out in one tab ends the session in the others.
  const d = await open();
  await d.evaluate(async (o) => { window.session = await window.TokenSession.resumeSignIn(o); }, options);
  await c.evaluate(() => { window.session.signOut({ postLogoutRedirectUri: `${location.origin}/` }); });
  await d.waitForFunction(() => window.session.ended);
});

// A provider of the test's own, answering as `scenario` says: an attacker's, or a right one.
function hostileProvider() {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const other = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = { ...publicKey.export({ format: 'jwk' }), kid: 'k1', alg: 'ES256', use: 'sig' };
  let issuer;
  const state = { scenario: {}, requests: [], pkce: [] };
  const b64 = (value) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const jws = (header, claims, key) => {
    const input = `${b64(header)}.${b64(claims)}`;
    return `${input}.${sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' }).toString('base64url')}`;
  };
  const server = createServer((request, response) => {
    const url = new URL(request.url, issuer);
    const s = state.scenario;
    const cors = { 'access-control-allow-origin': APP, 'content-type': 'application/json' };
    state.requests.push(url.pathname);
    if (url.pathname === '/.well-known/openid-configuration') {
      return response.writeHead(200, cors).end(JSON.stringify({
        issuer: s.metadataIssuer ?? issuer,
        authorization_endpoint: `${issuer}/authorize`, token_endpoint: `${issuer}/token`, jwks_uri: `${issuer}/jwks`,
        end_session_endpoint: `${issuer}/logout`, authorization_response_iss_parameter_supported: true,
        response_types_supported: ['code'], code_challenge_methods_supported: ['S256'],
      }));
    }
    if (url.pathname === '/jwks') return response.writeHead(200, cors).end(JSON.stringify({ keys: [jwk] }));
    if (url.pathname === '/authorize') {
      state.nonce = url.searchParams.get('nonce');
      state.challenge = url.searchParams.get('code_challenge');
      const back = new URL(url.searchParams.get('redirect_uri'));
      back.searchParams.set('code', 'c0de');
      back.searchParams.set('state', s.state ?? url.searchParams.get('state'));
      if (s.iss !== null) back.searchParams.set('iss', s.iss ?? issuer);
      return response.writeHead(303, { location: back.href }).end();
    }
    if (url.pathname === '/token') {
      let body = '';
      request.on('data', (chunk) => { body += chunk; });
      request.on('end', () => {
        const form = new URLSearchParams(body);
        const verifier = form.get('code_verifier') ?? '';
        state.pkce.push(createHash('sha256').update(verifier).digest('base64url') === state.challenge);
        const now = Math.floor(Date.now() / 1000);
        const access = randomBytes(16).toString('hex');
        const atHash = createHash('sha256').update(access).digest().subarray(0, 16).toString('base64url');
        const claims = {
          iss: issuer, sub: 'mallory', aud: 'app', exp: now + 300, iat: now, nonce: state.nonce, at_hash: atHash,
          ...s.claims,
        };
        const idToken = jws({ alg: 'ES256', kid: 'k1', typ: 'JWT' }, claims, s.forged ? other.privateKey : privateKey);
        response.writeHead(200, cors).end(JSON.stringify({
          access_token: access, token_type: 'Bearer', expires_in: 300, id_token: idToken, refresh_token: 'r1',
        }));
      });
      return undefined;
    }
    return response.writeHead(404, cors).end('{}');
  });
  return {
    state,
    start: () => new Promise((resolve) => server.listen(0, '127.0.0.1', () => {
      issuer = `http://127.0.0.1:${server.address().port}`;
      resolve(issuer);
    })),
    stop: () => new Promise((resolve) => server.close(resolve)),
  };
}

test('every refusal of a sign-in, by its code; and the same provider answering rightly is accepted', async (t) => {
  const provider = hostileProvider();
  const issuer = await provider.start();
  t.after(() => provider.stop());
  app.configure({ redirect: {} });
  const now = Math.floor(Date.now() / 1000);
  const cases = [
    ['a right answer', {}, null],
    ['another sign-in\'s state', { state: 'not-this-one' }, 'ERR_OIDC_STATE_MISMATCH'],
    ['no iss though announced', { iss: null }, 'ERR_OIDC_ISS_MISSING'],
    ['another issuer in iss', { iss: 'https://evil.example' }, 'ERR_OIDC_ISSUER_MISMATCH'],
    ['an ID token of another nonce', { claims: { nonce: 'replayed' } }, 'ERR_ID_TOKEN_INVALID'],
    ['an ID token for another client', { claims: { aud: 'other-app' } }, 'ERR_ID_TOKEN_INVALID'],
    ['an ID token of another issuer', { claims: { iss: 'https://evil.example' } }, 'ERR_ID_TOKEN_INVALID'],
    ['an ID token signed by another key', { forged: true }, 'ERR_ID_TOKEN_SIGNATURE_INVALID'],
    ['an expired ID token', { claims: { exp: now - 3600, iat: now - 7200 } }, 'ERR_ID_TOKEN_INVALID'],
    ['an ID token whose at_hash is another token\'s', { claims: { at_hash: 'AAAAAAAAAAAAAAAAAAAAAA' } }, 'ERR_ID_TOKEN_INVALID'],
    ['another party in azp', { claims: { aud: ['app', 'other'], azp: 'other' } }, 'ERR_ID_TOKEN_INVALID'],
  ];
  // Refused before the code is sent: the answer's own checks.
  const early = ['ERR_OIDC_STATE_MISMATCH', 'ERR_OIDC_ISS_MISSING', 'ERR_OIDC_ISSUER_MISMATCH'];
  for (const [name, scenario, code] of cases) {
    provider.state.scenario = scenario;
    provider.state.requests.length = 0;
    const page = await appPage(t);
    await signIn(page, { issuer, clientId: 'app', redirectUri: `${APP}/callback` });
    await page.waitForURL((url) => url.href.startsWith(`${APP}/callback`));
    const answer = await outcome(page);
    if (code === null) {
      assert.equal(answer.ok, true, `${name}: ${JSON.stringify(answer)}`);
      assert.equal(answer.claims.sub, 'mallory');
    } else {
      assert.equal(answer.code, code, `${name}: ${JSON.stringify(answer)}`);
      assert.equal(provider.state.requests.includes('/token'), !early.includes(code), `${name}: the code was sent only past the answer's checks`);
    }
    assert.deepEqual(await storage(page), { local: 0, session: 0 }, `${name}: nothing left in web storage`);
    assert.equal(new URL(page.url()).search, '', `${name}: the answer left the address bar`);
  }

  assert.ok(provider.state.pkce.length > 0 && provider.state.pkce.every(Boolean), 'every code was redeemed with its PKCE verifier');

  // A redirect URI that is no absolute URL (the answer's address is compared with it).
  const relative = await appPage(t);
  await signIn(relative, { issuer, clientId: 'app', redirectUri: '/callback' });
  await relative.waitForFunction(() => window.signInError !== undefined);
  assert.equal((await relative.evaluate(() => window.signInError)).code, 'ERR_INVALID_ARGUMENT');

  // Metadata that names another issuer: refused before anything is sent to the provider.
  provider.state.scenario = { metadataIssuer: 'https://evil.example' };
  provider.state.requests.length = 0;
  const page = await appPage(t);
  await signIn(page, { issuer, clientId: 'app', redirectUri: `${APP}/callback` });
  await page.waitForFunction(() => window.signInError !== undefined);
  assert.equal((await page.evaluate(() => window.signInError)).code, 'ERR_OIDC_ISSUER_MISMATCH');
  assert.deepEqual(provider.state.requests, ['/.well-known/openid-configuration'], 'only the metadata was read');
  assert.deepEqual(await storage(page), { local: 0, session: 0 });
});
