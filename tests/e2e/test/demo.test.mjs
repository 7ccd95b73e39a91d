// The demo page, driven in headless Chromium against the real jwtkit server: the inspector,
// and the live flow through TokenSession.fetch, including the refusal before sending.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { startServer } from '../server.mjs';

const BIN = process.env.JWTKIT_BIN;
const WEB_DIR = process.env.JWTKIT_WEB_DIR;
const SHOTS = process.env.JWTKIT_SCREENSHOTS ?? path.resolve('screenshots');
const CHROMIUM = process.env.JWTKIT_CHROMIUM ?? '/usr/bin/chromium';
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const TTL = 4;

let server;
let browser;

before(async () => {
  assert.ok(BIN && WEB_DIR, 'JWTKIT_BIN and JWTKIT_WEB_DIR are set (cargo xtask test sets them)');
  mkdirSync(SHOTS, { recursive: true });
  server = await startServer({ bin: BIN, webDir: WEB_DIR, args: ['--token-ttl', `${TTL}s`] });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

async function openPage(t) {
  const page = await browser.newPage({ viewport: { width: 1100, height: 1300 } });
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('requestfailed', (r) => errors.push(`request failed: ${r.url()}`));
  page.on('request', (r) => {
    if (!r.url().startsWith(server.url)) errors.push(`external request: ${r.url()}`);
  });
  t.after(async () => {
    assert.deepEqual(errors, [], 'no page errors and no request leaves the server');
    await page.close();
  });
  await page.goto(`${server.url}/`);
  await page.waitForSelector('body[data-ready=true]', { timeout: 30_000 });
  return page;
}

const b64 = (value) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
const text = (page, selector) => page.locator(selector).innerText();

test('the inspector decodes a pasted token and explains its claims', async (t) => {
  const page = await openPage(t);
  const token = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64({ sub: '1234567890', name: 'John Doe', iat: 1516239022, exp: 4102444800 })}.c2ln`;
  await page.fill('#token', token);
  await page.waitForSelector('#decoded:not([hidden])');
  const claims = JSON.parse(await text(page, '#claims-json'));
  assert.deepEqual(claims, { sub: '1234567890', name: 'John Doe', iat: 1516239022, exp: 4102444800 });
  assert.equal(JSON.parse(await text(page, '#header-json')).alg, 'HS256');
  assert.match(await text(page, 'tr[data-claim=sub]'), /Subject.*1234567890/s);
  assert.match(await text(page, 'tr[data-claim=exp]'), /2100.*\(in /s);
  assert.match(await text(page, 'tr[data-claim=iat]'), /2018.*ago\)/s);
  assert.match(await text(page, '#expiry'), /^Expires in \d+d/);
  assert.equal(await page.locator('#encoded .seg-header').innerText(), token.split('.')[0]);
  assert.match(await text(page, '.warning'), /Decoding is not verification/);
  await page.screenshot({ path: path.join(SHOTS, '1-inspector.png'), fullPage: true });

  for (const [bad, code] of [
    ['not.a-token', 'ERR_JWT_MALFORMED'],
    [`${b64('{"alg":"HS256","alg":"none"}')}.${b64({})}.c2ln`, 'ERR_JWT_DUPLICATE_MEMBER'],
    [`${b64({ alg: 'HS256' })}.${b64({ exp: '4102444800' })}.c2ln`, 'ERR_JWT_CLAIM_INVALID'],
  ]) {
    await page.fill('#token', bad);
    await page.waitForSelector('#decode-error:not([hidden])');
    assert.match(await text(page, '#decode-error'), new RegExp(`^${code} `));
    assert.equal(await page.locator('#decoded').isHidden(), true);
  }
  await page.screenshot({ path: path.join(SHOTS, '2-malformed.png'), fullPage: true });
});

test('the countdown runs on the package clock and rewrites only the times', async (t) => {
  const page = await openPage(t);
  const exp = 4102444800;
  await page.fill('#token', `${b64({ alg: 'HS256' })}.${b64({ sub: 'ann', iat: exp - 3600, exp })}.c2ln`);
  await page.waitForSelector('#decoded:not([hidden])');
  // Mark a row: a table rebuilt every second would lose the mark.
  await page.evaluate(() => { document.querySelector('tr[data-claim=sub]').dataset.mark = 'kept'; });
  // The page's only clock is the package's: set it 2m 5s before exp (for this page only).
  await page.evaluate(async (at) => {
    const jwtkit = await import('/pkg/jwtkit.js');
    jwtkit.setClock(() => at * 1000);
  }, exp - 125);
  await page.waitForFunction(() => document.querySelector('#expiry').textContent === 'Expires in 2m 5s.', null, { timeout: 5_000 });
  assert.match(await text(page, 'tr[data-claim=exp]'), /\(in 2m 5s\)/);
  assert.match(await text(page, 'tr[data-claim=iat]'), /\(57m 55s ago\)/);
  assert.equal(await page.locator('tr[data-claim=sub]').getAttribute('data-mark'), 'kept', 'the table is not rebuilt');
});

test('the live flow: token, secret, admin refused, refusal before sending, renewal', async (t) => {
  const page = await openPage(t);
  await page.fill('#api-key', server.devKey);
  await page.click('#get-token');
  await page.waitForSelector('#decoded:not([hidden])');
  assert.equal(JSON.parse(await text(page, '#claims-json')).sub, 'dev');
  assert.match(await text(page, '#session'), /Token valid until/);

  await page.click('#call-secret');
  await page.waitForFunction(() => document.querySelector('#result-status').textContent.startsWith('GET /api/v3/secret'));
  assert.match(await text(page, '#result-status'), /→ 200/);
  assert.equal(JSON.parse(await text(page, '#result-body')).data.sub, 'dev');

  await page.click('#call-admin');
  await page.waitForFunction(() => document.querySelector('#result-status').textContent.startsWith('GET /api/v3/admin'));
  assert.match(await text(page, '#result-status'), /→ 403/);
  assert.match(await text(page, 'dd[data-header=www-authenticate]'), /error="insufficient_scope"/);
  assert.equal(JSON.parse(await text(page, '#result-body')).code, 'ERR_INSUFFICIENT_SCOPE');
  await page.screenshot({ path: path.join(SHOTS, '3-admin-forbidden.png'), fullPage: true });

  // Wait for the short-lived token to expire, as the page's countdown shows it.
  await page.waitForFunction(() => document.querySelector('#expiry').textContent.startsWith('Expired'), null, { timeout: (TTL + 5) * 1000 });
  const sentBefore = server.requestsTo('/api/v3/secret');
  await page.click('#call-secret');
  await page.waitForSelector('#refused:not([hidden])');
  assert.match(await text(page, '#result-status'), /not sent/);
  assert.equal(JSON.parse(await text(page, '#result-body')).code, 'ERR_JWT_EXPIRED');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'renew', 'focus moves to the renewal button');
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.equal(server.requestsTo('/api/v3/secret'), sentBefore, 'the expired token never reached the server');
  await page.screenshot({ path: path.join(SHOTS, '4-refused-before-sending.png'), fullPage: true });

  const oldToken = await page.inputValue('#token');
  await page.click('#renew');
  await page.waitForFunction((old) => document.querySelector('#token').value !== old, oldToken);
  await page.click('#call-secret');
  await page.waitForFunction(() => document.querySelector('#result-status').textContent.startsWith('GET /api/v3/secret → 200'));
  assert.equal(server.requestsTo('/api/v3/secret'), sentBefore + 1);
  await page.screenshot({ path: path.join(SHOTS, '5-renewed.png'), fullPage: true });
});

test('an admin key reaches the admin endpoint; a wrong key is refused', async (t) => {
  const page = await openPage(t);
  await page.fill('#api-key', server.adminKey);
  await page.click('#get-token');
  await page.waitForSelector('#decoded:not([hidden])');
  await page.click('#call-admin');
  await page.waitForFunction(() => document.querySelector('#result-status').textContent.startsWith('GET /api/v3/admin → 200'));
  await page.fill('#api-key', 'jwtk_wrong');
  await page.click('#get-token');
  await page.waitForFunction(() => document.querySelector('#result-status').textContent.startsWith('POST /api/v3/auth → 401'));
  assert.equal(JSON.parse(await text(page, '#result-body')).code, 'ERR_API_KEY_INVALID');
  assert.match(await text(page, '#session'), /No token yet/);
  await page.keyboard.press('Tab');
  await page.screenshot({ path: path.join(SHOTS, '6-wrong-key.png'), fullPage: true });
});
