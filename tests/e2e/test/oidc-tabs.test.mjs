// Two tabs of a person's session at jwtkit's provider, in headless Chromium, on a short
// access-token lifetime: both call the provider's API all along while the session rotates
// (the refresh token in the provider's HttpOnly cookie), and every promise is counted at the
// server — no 401, exactly one refresh request per rotation, none refused, no reuse detected.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { callAllAlong, startApp, startProvider } from '../oidc-app.mjs';

const BIN = process.env.JWTKIT_BIN;
const CHROMIUM = process.env.JWTKIT_CHROMIUM ?? '/usr/bin/chromium';
const PKG = process.env.JWTKIT_WEB_PKG ?? path.resolve('../../target/web/pkg');
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const TTL = 4;
const ROTATIONS = 4;
const TOKEN = '/oauth2/token';
const USERINFO = '/oauth2/userinfo';

let browser;
let app;

before(async () => {
  assert.ok(BIN, 'JWTKIT_BIN names the jwtkit binary (cargo xtask test sets it)');
  app = await startApp(PKG);
  browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
});

after(async () => {
  await browser?.close();
  await app?.close();
});

test('two tabs of a sign-in at jwtkit rotate on a short lifetime: no 401, one refresh per rotation, no reuse', async (t) => {
  const server = await startProvider(t, app, BIN, `${TTL}s`);
  const { user } = server.development;
  const options = { issuer: server.url, clientId: 'spa', redirectUri: `${app.url}/callback`, refreshTokenDelivery: 'cookie' };
  const context = await browser.newContext();
  t.after(() => context.close());
  const errors = [];
  context.on('weberror', (e) => errors.push(String(e.error())));

  const a = await context.newPage();
  await a.goto(`${app.url}/`);
  await a.waitForFunction(() => window.outcome);
  await a.evaluate((o) => { window.TokenSession.signIn(o); }, options);
  await a.waitForURL((url) => url.pathname === '/oauth2/authorize');
  await a.getByLabel('Username').fill(user.username);
  await a.getByLabel('Password').fill(user.password);
  await a.getByRole('button', { name: 'Sign in' }).click();
  await a.waitForURL((url) => url.href.startsWith(`${app.url}/callback`));
  assert.equal((await a.waitForFunction(() => window.outcome).then(() => a.evaluate(() => window.outcome))).ok, true);

  // The second tab takes the first one's session (nothing sent to the provider).
  const b = await context.newPage();
  await b.goto(`${app.url}/`);
  await b.waitForFunction(() => window.outcome);
  const tokenRequests = server.requestsTo(TOKEN);
  await b.evaluate(async (o) => { window.session = await window.TokenSession.resumeSignIn({ ...o, allowedOrigins: [o.issuer] }); }, options);
  assert.equal(server.requestsTo(TOKEN), tokenRequests, 'taken from the open tab');
  assert.equal(await b.evaluate(() => window.session.token), await a.evaluate(() => window.session.token));

  for (const page of [a, b]) await page.evaluate(callAllAlong, `${server.url}${USERINFO}`);
  // Until both tabs have sent the access tokens of ROTATIONS rotations.
  await a.waitForFunction((n) => window.calls.tokens.length > n, ROTATIONS, { timeout: (ROTATIONS + 3) * TTL * 1000 });
  for (const page of [a, b]) await page.evaluate(() => { window.halt = true; });
  for (const page of [a, b]) await page.waitForFunction(() => window.calls.done);

  const calls = await Promise.all([a, b].map((page) => page.evaluate(() => window.calls)));
  const rotations = new Set(calls.flatMap((c) => c.tokens)).size - 1;
  assert.ok(rotations >= ROTATIONS, `${rotations} rotations`);
  for (const c of calls) assert.deepEqual(Object.keys(c.statuses), ['200'], `every call answered 200: ${JSON.stringify(c.statuses)}`);
  assert.equal(server.responses(USERINFO, 401), 0, 'no 401 at the server');
  // The code's exchange, then one refresh per rotation, none refused (the CORS preflights of
  // the cookie's refreshes aside).
  const posts = server.logs.filter((line) => line.includes(`method=POST path="${TOKEN}"`));
  assert.equal(posts.length, rotations + 1, 'one token request per rotation');
  assert.ok(posts.every((line) => line.includes(' status=200 ')), 'none refused');
  assert.ok(!server.logs.some((line) => line.includes('reused')), 'no reuse detected');
  assert.deepEqual(await a.evaluate(() => [localStorage.length, sessionStorage.length]), [0, 0]);
  assert.deepEqual(errors, [], 'no uncaught error in the pages');
});
