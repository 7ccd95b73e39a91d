// A person signs in through the provider's real pages in headless Chromium: the sign-in form
// with the keyboard (a wrong password announced, then the right one), the redirect to the
// client with code, state and iss; a third-party client (a real server on loopback) gets the
// consent page without the form again (the sign-in at the provider); logout with its
// confirmation; and prompt=none after it. No page loads a script, and each is captured on a
// narrow screen.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { createServer } from 'node:http';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { startServer } from '../server.mjs';

const BIN = process.env.JWTKIT_BIN;
const SHOTS = process.env.JWTKIT_SCREENSHOTS ?? path.resolve('screenshots');
const CHROMIUM = process.env.JWTKIT_CHROMIUM ?? '/usr/bin/chromium';
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];
let server;
let browser;
// A third-party client: a real HTTP server of the test's own on loopback, which records the
// callbacks it receives.
let partner;
let PARTNER;
const partnerCalls = [];

before(async () => {
  assert.ok(BIN, 'JWTKIT_BIN names the jwtkit binary (cargo xtask test sets it)');
  mkdirSync(SHOTS, { recursive: true });
  partner = createServer((request, response) => {
    partnerCalls.push(request.url);
    response.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>Partner</title><p>partner app');
  });
  await new Promise((resolve) => partner.listen(0, '127.0.0.1', resolve));
  PARTNER = `http://127.0.0.1:${partner.address().port}/partner/callback`;
  const registration = JSON.stringify({
    client_id: 'partner', client_name: 'Partner App', redirect_uris: [PARTNER], scopes: ['openid', 'email'],
  });
  server = await startServer({ bin: BIN, args: ['--client', registration] });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
});

after(async () => {
  await browser?.close();
  await server?.stop();
  await new Promise((resolve) => partner?.close(resolve));
});

function authorizeUrl(clientId, redirectUri, extra = {}) {
  const verifier = randomBytes(32).toString('base64url');
  const url = new URL(`${server.url}/oauth2/authorize`);
  const params = {
    client_id: clientId, redirect_uri: redirectUri, response_type: 'code', scope: 'openid email',
    state: randomBytes(8).toString('hex'), code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256', ...extra,
  };
  for (const [name, value] of Object.entries(params)) url.searchParams.set(name, value);
  return url;
}

test('a person signs in, consents to a third party, and signs out, in Chromium', async (t) => {
  const { user, client } = server.development;
  const context = await browser.newContext({ viewport: { width: 375, height: 720 } });
  t.after(() => context.close());
  const page = await context.newPage();
  const scripts = [];
  page.on('request', (r) => { if (r.resourceType() === 'script') scripts.push(r.url()); });

  // The sign-in page, by keyboard: a wrong password first.
  const first = authorizeUrl(client.client_id, client.redirect_uri);
  await page.goto(first.href);
  assert.equal(await page.title(), 'Sign in · jwtkit');
  await page.screenshot({ path: path.join(SHOTS, 'signin-narrow.png'), fullPage: true });
  await page.getByLabel('Username').fill(user.username);
  await page.getByLabel('Password').fill('not the password');
  await page.keyboard.press('Enter');
  await page.waitForSelector('[role=alert]');
  assert.equal(await page.locator('[role=alert]').innerText(), 'The username or password is not right.');
  assert.equal(await page.getByLabel('Username').getAttribute('aria-invalid'), 'true');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'password', 'the password field has the focus');
  await page.screenshot({ path: path.join(SHOTS, 'signin-error-narrow.png'), fullPage: true });
  await page.getByLabel('Password').fill(user.password);
  await page.keyboard.press('Enter');
  await page.waitForURL((url) => url.href.startsWith(`${client.redirect_uri}?code=`));
  const back = new URL(page.url());
  assert.equal(back.searchParams.get('state'), first.searchParams.get('state'));
  assert.equal(back.searchParams.get('iss'), server.url);

  // A third-party client: no form this time (signed in at the provider), a consent page.
  await page.goto(authorizeUrl('partner', PARTNER).href);
  assert.equal(await page.title(), 'Allow access · jwtkit');
  assert.match(await page.locator('h1').innerText(), /Allow Partner App\?/);
  await page.screenshot({ path: path.join(SHOTS, 'consent-narrow.png'), fullPage: true });
  await page.getByRole('button', { name: 'Allow' }).click();
  await page.waitForURL((url) => url.href.startsWith(`${PARTNER}?code=`));
  assert.equal(new URL(page.url()).searchParams.get('iss'), server.url);

  // Logout asks first (no ID token names this browser's sign-in), then signs out.
  await page.goto(`${server.url}/oauth2/logout?client_id=${client.client_id}`);
  assert.equal(await page.title(), 'Sign out · jwtkit');
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.waitForSelector('text=You are signed out');
  // Signed out: prompt=none answers login_required.
  await page.goto(authorizeUrl('partner', PARTNER, { prompt: 'none' }).href);
  await page.waitForURL((url) => url.href.startsWith(`${PARTNER}?`));
  assert.equal(new URL(page.url()).searchParams.get('error'), 'login_required');

  assert.deepEqual(scripts.filter((url) => url.startsWith(`${server.url}/oauth2/`)), [], 'the provider pages load no script');
  assert.equal(partnerCalls.filter((url) => url.startsWith('/partner/callback?')).length, 2, 'two callbacks: the code, then login_required');
});

test('the demo page signs a person in, calls userinfo, refreshes and signs out', async (t) => {
  const { user } = server.development;
  assert.equal(server.demoPage, `${server.url}/`, 'the binary carries the demo page');
  const context = await browser.newContext({ viewport: { width: 1100, height: 1300 } });
  t.after(() => context.close());
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('request', (r) => {
    if (!r.url().startsWith(server.url)) errors.push(`external request: ${r.url()}`);
  });
  await page.goto(`${server.url}/`);
  await page.waitForSelector('body[data-ready=true]');
  await page.click('#person-sign-in');
  await page.waitForURL((url) => url.pathname === '/oauth2/authorize');
  await page.getByLabel('Username').fill(user.username);
  await page.getByLabel('Password').fill(user.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForSelector('body[data-ready=true]');
  await page.waitForFunction(() => document.getElementById('person-status').textContent.startsWith('Signed in as demo'));
  assert.equal(new URL(page.url()).search, '', 'the code left the address bar');
  assert.equal(await page.evaluate(() => sessionStorage.length), 0, 'nothing left in web storage');
  assert.match(await page.locator('#person-result-body').innerText(), /"nonce"/);

  await page.click('#person-userinfo');
  await page.waitForFunction(() => document.getElementById('person-result-title').textContent === 'GET /oauth2/userinfo → 200');
  assert.match(await page.locator('#person-result-body').innerText(), /"email": "demo@example.org"/);
  await page.click('#person-refresh');
  await page.waitForFunction(() => document.getElementById('person-result-title').textContent.startsWith('Refreshed'));
  await page.screenshot({ path: path.join(SHOTS, 'demo-person-signed-in.png'), fullPage: true });

  await page.click('#person-sign-out');
  await page.waitForSelector('body[data-ready=true]');
  await page.waitForFunction(() => document.getElementById('person-status').textContent === 'Signed out at the provider.');
  assert.equal(new URL(page.url()).search, '');
  assert.deepEqual(errors, []);
});
