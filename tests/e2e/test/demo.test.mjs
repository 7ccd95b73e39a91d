// The demo page, driven in headless Chromium against the real jwtkit server: the inspector,
// the live flow through TokenSession.fetch (the refusal before sending of a session without
// refresh), and a cookie session in two tabs across rotations, logout and a replayed
// refresh token, which waits out the grace window first.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { startServer } from '../server.mjs';

const BIN = process.env.JWTKIT_BIN;
const SHOTS = process.env.JWTKIT_SCREENSHOTS ?? path.resolve('screenshots');
const CHROMIUM = process.env.JWTKIT_CHROMIUM ?? '/usr/bin/chromium';
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const TTL = 4;

let server;
let browser;

before(async () => {
  assert.ok(BIN, 'JWTKIT_BIN names a jwtkit built with the demo page (cargo xtask test sets it)');
  mkdirSync(SHOTS, { recursive: true });
  // A bare `jwtkit serve`: the page is the one built into the binary.
  server = await startServer({ bin: BIN, args: ['--token-ttl', `${TTL}s`] });
  assert.equal(server.demoPage, `${server.url}/`, 'the binary carries the demo page');
  browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

async function openPage(t, context = browser) {
  const page = await context.newPage({ viewport: { width: 1100, height: 1300 } });
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

test('the live flow without refresh: token, secret, admin refused, refusal before sending, renewal', async (t) => {
  const page = await openPage(t);
  await page.fill('#api-key', server.devKey);
  await page.selectOption('#mode', 'none');
  await page.click('#get-token');
  await page.waitForSelector('#decoded:not([hidden])');
  assert.equal(JSON.parse(await text(page, '#claims-json')).sub, 'dev');
  assert.match(await text(page, '#session'), /Signed in as dev.*Token #1 valid until/);
  assert.match(await text(page, '#countdown'), /No refresh token/);

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
  assert.match(await text(page, '#session'), /Not signed in/);
  await page.keyboard.press('Tab');
  await page.screenshot({ path: path.join(SHOTS, '6-wrong-key.png'), fullPage: true });
});

const REFRESH = '/api/v3/auth/refresh';
const ROTATIONS = 5;

// The generations a page's timeline lists (their jti).
const generations = (page) => page.$$eval('#timeline li[data-jti]', (items) => items.map((li) => li.dataset.jti));
const counts = (page) => page.$eval('#calls', (line) => ({ ...line.dataset }));

test('two tabs share one cookie session across rotations; logout and a replayed refresh token end both', async (t) => {
  // One browser profile: the tabs share the origin's cookie, Web Locks and BroadcastChannel.
  const context = await browser.newContext({ viewport: { width: 1100, height: 1300 } });
  t.after(() => context.close());
  const a = await openPage(t, context);
  // The server's counts so far (earlier tests signed in too; the page, opening without a
  // cookie, asked once to resume a session).
  const before = { refreshed: server.responses(REFRESH, 200), refreshes: server.requestsTo(REFRESH) };
  await a.fill('#api-key', server.devKey);
  await a.click('#get-token');
  await a.waitForSelector('#timeline li[data-jti]');
  assert.match(await text(a, '#countdown'), /Next refresh in .*HttpOnly cookie/);
  const cookies = await context.cookies();
  assert.deepEqual(cookies.map((c) => [c.name, c.httpOnly, c.secure, c.sameSite]), [['__Host-jwtkit-refresh', true, true, 'Strict']]);
  assert.equal(await a.evaluate(() => document.cookie), '', 'the refresh token is out of the reach of JavaScript');
  assert.equal(await a.evaluate(() => localStorage.length + sessionStorage.length), 0, 'nothing stored');

  // The second tab takes the first one's token: no refresh of its own.
  const refreshesBefore = server.requestsTo(REFRESH);
  const b = await openPage(t, context);
  await b.waitForSelector('#timeline li[data-source=resumed]');
  assert.match(await text(b, '#timeline'), /taken from an open tab/);
  assert.equal(server.requestsTo(REFRESH), refreshesBefore);
  assert.deepEqual(await generations(b), await generations(a));

  for (const page of [a, b]) await page.check('#continuous');
  await a.waitForFunction((n) => document.querySelectorAll('#timeline li[data-jti]').length > n, ROTATIONS, { timeout: (ROTATIONS + 3) * TTL * 1000 });
  await a.screenshot({ path: path.join(SHOTS, '7-two-tabs-a.png'), fullPage: true });
  await b.screenshot({ path: path.join(SHOTS, '8-two-tabs-b.png'), fullPage: true });

  // The calls stop; the counts are taken just after a rotation (none under way).
  for (const page of [a, b]) await page.uncheck('#continuous');
  const settled = (least) => Number(/in ([\d.]+) s/.exec(document.querySelector('#countdown').textContent)?.[1]) > least;
  // Tab a in front (a background tab's timers and animation frames may be held back), its
  // countdown read every 100 ms rather than at animation frames.
  await a.bringToFront();
  await a.waitForFunction(settled, TTL / 3, { timeout: 4 * TTL * 1000, polling: 100 }).catch(async (error) => {
    // Say what the page and the server were doing, so that a failure can be understood.
    const state = await a.evaluate(() => [...document.querySelectorAll('#session, #countdown, #timeline li:last-child')].map((e) => e.textContent).join(' | '));
    throw new Error(`${error.message}\npage: ${state}\nserver: ${server.logs.filter((l) => /WARN|ERROR| status=[45]\d\d /.test(l)).join('\n')}`);
  });
  const seen = new Set([...await generations(a), ...await generations(b)]);
  assert.ok(seen.size > ROTATIONS, `${seen.size} generations`);
  assert.equal(server.responses(REFRESH, 200) - before.refreshed, seen.size, 'exactly one refresh request per generation');
  assert.equal(server.requestsTo(REFRESH) - before.refreshes, seen.size, 'and no refused one');
  assert.ok(!server.logs.some((line) => line.includes('reused')), 'no reuse detected');
  assert.equal(server.responses('/api/v3/secret', 401), 0, `no 401 at the server: ${server.logs.filter((l) => / status=401 |WARN|ERROR/.test(l)).join('\n')}`);
  for (const page of [a, b]) {
    const made = await counts(page);
    assert.equal(made.unauthorized, '0', 'no 401 at the page');
    assert.equal(made.unsent, '0', 'no request refused before sending');
    assert.ok(Number(made.ok) > 10, `calls made: ${JSON.stringify(made)}`);
  }

  // Logout in one tab logs out the other.
  await a.click('#logout');
  await b.waitForSelector('#timeline li.end[data-reason=other-tab]');
  await a.waitForSelector('#timeline li.end[data-reason=local]');
  assert.match(await text(b, '#session'), /Signed out/);
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.deepEqual(await context.cookies(), [], 'the cookie is gone');

  // A new session; the second tab joins it on reload. After a rotation, the first refresh
  // token is an old one: replayed, the server takes it for stolen and ends the session.
  await a.click('#get-token');
  // (The timeline starts afresh with the new session: no end in it.)
  await a.waitForFunction(() => !document.querySelector('#timeline li.end')
    && document.querySelectorAll('#timeline li[data-jti]').length >= 2, null, { timeout: 3 * TTL * 1000 });
  await b.reload();
  await b.waitForSelector('body[data-ready=true]');
  await b.waitForSelector('#timeline li[data-source=resumed]');
  await a.click('#replay');
  await a.waitForSelector('#timeline li[data-code=ERR_REFRESH_TOKEN_REUSED]');
  assert.match(await text(a, '#result-status'), /first refresh token, again\) → 401/);
  await a.waitForSelector('#timeline li.end[data-reason=revoked]');
  await b.waitForSelector('#timeline li.end');
  assert.match(await text(a, '#session'), /Signed out: the server ended the session/);
  assert.match(await text(b, '#session'), /Signed out/);
  assert.equal(await a.locator('#replay').isDisabled(), true);
  assert.equal(await a.locator('#logout').isDisabled(), true);
  await a.screenshot({ path: path.join(SHOTS, '9-replay-detected.png'), fullPage: true });
});

test('the replay waits out the grace window, counting down, then shows reuse detection', async (t) => {
  const context = await browser.newContext({ viewport: { width: 1100, height: 1300 } });
  t.after(() => context.close());
  const page = await openPage(t, context);
  await page.fill('#api-key', server.devKey);
  await page.click('#get-token');
  await page.waitForSelector('#timeline li[data-jti]');
  // At once: the first token was rotated moments ago, within the server's grace window.
  await page.click('#replay');
  await page.waitForSelector('#replay-wait:not([hidden])');
  assert.match(await text(page, '#replay-wait'), /^Replaying in \d+ s: within 10 s of a rotation the server answers the previous token as a tab that raced another/);
  assert.equal(await page.locator('#replay').isDisabled(), true, 'one replay at a time');
  await page.screenshot({ path: path.join(SHOTS, '10-replay-waiting.png'), fullPage: true });
  await page.waitForSelector('#timeline li[data-code=ERR_REFRESH_TOKEN_REUSED]', { timeout: 20_000 });
  assert.equal(await page.locator('#timeline li.note', { hasText: 'replay answered' }).count(), 0, 'sent only once the window had passed');
  await page.waitForSelector('#timeline li.end[data-reason=revoked]');
  assert.equal(await page.locator('#replay-wait').isHidden(), true);
  assert.match(await text(page, '#session'), /Signed out: the server ended the session/);
});
