// DPoP from the browser package, in headless Chromium and Firefox: `TokenSession.authenticate`
// binds a session to a key WebCrypto generated non-extractable and kept in IndexedDB; every
// request and refresh carries a proof of it (following the server's nonces: jwtkit runs with
// `--dpop-nonce-interval` here); the private key cannot be exported; a second tab and a reload
// prove the same key (the refresh of a bound session would end it otherwise); the token alone
// is refused. Then node-oidc-provider with DPoP issues bound tokens that `jwtkit serve
// --trust-issuer` takes with the browser's proofs.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { startApp, startPeer } from '../oidc-app.mjs';
import { startServer } from '../server.mjs';
import { startFirefox } from '../webdriver.mjs';

const BIN = process.env.JWTKIT_BIN;
const CHROMIUM = process.env.JWTKIT_CHROMIUM ?? '/usr/bin/chromium';
const PKG = process.env.JWTKIT_WEB_PKG ?? path.resolve('../../target/web/pkg');
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

let app;

before(async () => {
  assert.ok(BIN, 'JWTKIT_BIN names the jwtkit binary (cargo xtask test sets it)');
  app = await startApp(PKG);
});

after(() => app?.close());

/// Tab steps, each the body of an async function run in the page with `args`; what it
/// returns comes back. `o` is the session's options (the API on another origin).
const SIGN_IN = `
  const [credentials, o] = args;
  window.session = await TokenSession.authenticate(credentials, o);
  const secret = await session.fetch(o.allowedOrigins[0] + '/api/v3/secret');
  const jkt = await session.dpopThumbprint();
  const bound = decodeUnverified(session.token).claims.cnf?.jkt;
  await session.refresh();
  const again = await session.fetch(o.allowedOrigins[0] + '/api/v3/secret');
  return { statuses: [secret.status, again.status], jkt, bound, rebound: decodeUnverified(session.token).claims.cnf?.jkt, token: session.token };
`;

/// What IndexedDB keeps: the key pairs by thumbprint (each private key non-extractable, and
/// exporting it fails) and the name of the current one.
const KEYS = `
  const db = await new Promise((resolve, reject) => {
    const open = indexedDB.open('jwtkit-dpop');
    open.onsuccess = () => resolve(open.result);
    open.onerror = () => reject(open.error);
  });
  const entries = await new Promise((resolve) => {
    const transaction = db.transaction('keys');
    const keys = transaction.objectStore('keys').getAllKeys();
    const values = transaction.objectStore('keys').getAll();
    transaction.oncomplete = () => resolve(keys.result.map((key, i) => [key, values.result[i]]));
  });
  db.close();
  const pairs = entries.filter(([key]) => key.startsWith('jkt:'));
  const exports = [];
  for (const [, pair] of pairs) {
    exports.push(await crypto.subtle.exportKey('jwk', pair.privateKey).then(() => 'exported', (e) => e.name));
  }
  return {
    jkts: pairs.map(([key]) => key.slice(4)), current: entries.find(([key]) => key.startsWith('name:'))?.[1] ?? null,
    extractable: pairs.map(([, pair]) => pair.privateKey?.extractable), exports,
  };
`;

/// A script on the page plants a key pair it generated as the current one of the channel.
const PLANT = `
  const pair = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign']);
  const { crv, kty, x, y } = await crypto.subtle.exportKey('jwk', pair.publicKey);
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(JSON.stringify({ crv, kty, x, y })));
  const jkt = btoa(String.fromCharCode(...new Uint8Array(digest))).replaceAll('+', '-').replaceAll('/', '_').replace(/=+$/, '');
  const db = await new Promise((resolve) => { const open = indexedDB.open('jwtkit-dpop'); open.onsuccess = () => resolve(open.result); });
  await new Promise((resolve) => {
    const transaction = db.transaction('keys', 'readwrite');
    transaction.objectStore('keys').put({ alg: 'ES256', ...pair }, 'jkt:' + jkt);
    transaction.objectStore('keys').put(jkt, 'name:jwtkit-session');
    transaction.oncomplete = resolve;
  });
  db.close();
  return jkt;
`;

/// Keys sessions left behind, none of them named: two days old, undated (written before keys
/// were dated), and an hour old (a sign-in still at the provider's login page).
const LEFT_BEHIND = `
  const db = await new Promise((resolve) => { const open = indexedDB.open('jwtkit-dpop'); open.onsuccess = () => resolve(open.result); });
  await new Promise((resolve) => {
    const transaction = db.transaction('keys', 'readwrite');
    const keys = transaction.objectStore('keys');
    keys.put({ alg: 'ES256', created: Date.now() - 2 * 86400000 }, 'jkt:two-days-old');
    keys.put({ alg: 'ES256' }, 'jkt:undated');
    keys.put({ alg: 'ES256', created: Date.now() - 3600000 }, 'jkt:an-hour-old');
    transaction.oncomplete = resolve;
  });
  db.close();
`;

/// A tab opening (or reloaded): the session resumed, its key's thumbprint, and a call.
const RESUME = `
  const [o] = args;
  window.session = await TokenSession.resume(o);
  const secret = await session.fetch(o.allowedOrigins[0] + '/api/v3/secret');
  return { status: secret.status, source: session.clockSource, jkt: await session.dpopThumbprint(), bound: decodeUnverified(session.token).claims.cnf?.jkt };
`;

/// The same scenario in any browser: `browser.open()` a tab at the app, `browser.run(tab,
/// body, ...args)`, `browser.reload(tab)`, `browser.close(tab)`.
async function scenario(t, browser) {
  const server = await startServer({ bin: BIN, args: ['--cors-origin', app.url, '--dpop-nonce-interval', '60s'] });
  t.after(() => server.stop());
  const api = server.url;
  const o = { authUrl: `${api}/api/v3/auth`, refreshUrl: `${api}/api/v3/auth/refresh`, logoutUrl: `${api}/api/v3/auth/logout`, allowedOrigins: [api] };
  const { authUrl: _, ...resume } = o;

  const a = await browser.open();
  const signedIn = await browser.run(a, SIGN_IN, { 'api-key': server.devKey, refresh_token_delivery: 'cookie' }, o);
  assert.deepEqual(signedIn.statuses, [200, 200]);
  assert.match(signedIn.jkt, /^[A-Za-z0-9_-]{43}$/);
  assert.equal(signedIn.bound, signedIn.jkt, 'the access token is bound to the key (cnf.jkt)');
  assert.equal(signedIn.rebound, signedIn.jkt, 'and so is the refreshed one');
  // The server asked for its nonce, and the package followed.
  const posts = server.logs.filter((line) => line.includes('method=POST path="/api/v3/auth"'));
  assert.deepEqual(posts.map((line) => / status=(\d+) /.exec(line)[1]), ['401', '200'], 'a nonce was asked for (ERR_DPOP_NONCE_REQUIRED), and given');

  const keys = await browser.run(a, KEYS);
  assert.deepEqual([keys.jkts, keys.current], [[signedIn.jkt], signedIn.jkt], 'the session\'s key, the current one');
  assert.deepEqual(keys.extractable, [false], 'non-extractable');
  assert.deepEqual(keys.exports, ['InvalidAccessError'], 'the private key cannot be exported');

  // The token alone, stolen: refused as Bearer, and under DPoP without a proof of the key.
  const secret = `${api}/api/v3/secret`;
  for (const [authorization, code] of [[`Bearer ${signedIn.token}`, 'ERR_DPOP_TOKEN_AS_BEARER'], [`DPoP ${signedIn.token}`, 'ERR_DPOP_PROOF_MISSING']]) {
    const response = await fetch(secret, { headers: { authorization } });
    assert.equal(response.status, 401);
    assert.equal((await response.json()).code, code);
  }

  // A second tab takes the session and proves the same key.
  const b = await browser.open();
  const second = await browser.run(b, RESUME, resume);
  assert.deepEqual([second.status, second.source, second.jkt, second.bound], [200, 'tab', signedIn.jkt, signedIn.jkt]);
  await browser.close(b);

  // A reload with no other tab: the cookie's refresh proves the key kept in IndexedDB (with
  // another key the server would end the session: ERR_REFRESH_TOKEN_KEY_MISMATCH).
  await browser.reload(a);
  const reloaded = await browser.run(a, RESUME, resume);
  assert.deepEqual([reloaded.status, reloaded.source, reloaded.jkt, reloaded.bound], [200, 'date', signedIn.jkt, signedIn.jkt]);
  assert.ok(!server.logs.some((line) => line.includes('ERR_REFRESH_TOKEN_KEY_MISMATCH')));

  // Logout forgets the key.
  await browser.run(a, 'await session.logout();');
  assert.deepEqual((await browser.run(a, KEYS)).jkts, []);

  // A key planted by a script as the current one is not taken up by a new session.
  const planted = await browser.run(a, PLANT);
  const next = await browser.run(a, SIGN_IN, { 'api-key': server.devKey }, o);
  assert.deepEqual(next.statuses, [200, 200]);
  assert.notEqual(next.jkt, planted);
  assert.equal(next.bound, next.jkt);

  // One cookie, one session: a session kept in a tab's memory leaves the cookie's key alone;
  // a newer cookie session replaces the older one, whose tab then ends it here without
  // sending (its refresh would end the newer one), and the newer lives on through a reload.
  const cookieSession = await browser.run(a, SIGN_IN, { 'api-key': server.devKey, refresh_token_delivery: 'cookie' }, o);
  const c = await browser.open();
  await browser.run(c, SIGN_IN, { 'api-key': server.devKey }, o);
  assert.equal((await browser.run(c, KEYS)).current, cookieSession.jkt, 'a body session is no cookie\'s');
  const newer = await browser.run(c, SIGN_IN, { 'api-key': server.devKey, refresh_token_delivery: 'cookie' }, o);
  assert.equal((await browser.run(c, KEYS)).current, newer.jkt);
  const refreshes = server.requestsTo('/api/v3/auth/refresh');
  assert.equal(await browser.run(a, 'return session.refresh().then(() => "refreshed", (e) => e.code);'), 'ERR_SESSION_ENDED');
  assert.equal(server.requestsTo('/api/v3/auth/refresh'), refreshes, 'nothing sent');
  await browser.reload(c);
  const resumed = await browser.run(c, RESUME, resume);
  assert.deepEqual([resumed.status, resumed.jkt, resumed.bound], [200, newer.jkt, newer.jkt]);
  assert.ok(!server.logs.some((line) => line.includes('ERR_REFRESH_TOKEN_KEY_MISMATCH')), 'no session ended by a wrong key');

  // Keys left behind (a tab closed on a session it kept in memory, a sign-in abandoned at the
  // provider) are forgotten a day later, when a new key is made; the current one of a name and
  // younger ones stay (the sessions of open tabs hold theirs loaded).
  await browser.run(c, LEFT_BEHIND);
  const kept = (await browser.run(c, KEYS)).jkts.filter((jkt) => jkt !== 'two-days-old' && jkt !== 'undated');
  assert.ok(kept.includes('an-hour-old') && kept.includes(newer.jkt));
  const fresh = await browser.run(c, SIGN_IN, { 'api-key': server.devKey }, o);
  assert.deepEqual((await browser.run(c, KEYS)).jkts.sort(), [...kept, fresh.jkt].sort());
}

test('in Chromium, a session of authenticate proves a non-extractable key kept across tabs and reloads', async (t) => {
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
  t.after(() => browser.close());
  const context = await browser.newContext();
  await scenario(t, chromiumTabs(context));
});

test('in Firefox, a session of authenticate proves a non-extractable key kept across tabs and reloads', async (t) => {
  const firefox = await startFirefox();
  t.after(() => firefox.stop());
  await scenario(t, {
    open: async () => {
      const handle = await firefox.newTab();
      await firefox.switchTo(handle);
      await home(firefox);
      return handle;
    },
    run: async (tab, body, ...args) => {
      await firefox.switchTo(tab);
      await firefox.js(`window.ran = undefined; (async (args) => { ${body} })(arguments[0])
        .then((value) => { window.ran = { value }; }, (e) => { window.ran = { error: e.code ?? String(e) }; });`, args);
      const ran = await firefox.waitFor('return window.ran');
      assert.equal(ran.error, undefined, `the page refused: ${ran.error}`);
      return ran.value;
    },
    reload: async (tab) => {
      await firefox.switchTo(tab);
      await home(firefox);
    },
    close: async (tab) => {
      await firefox.switchTo(tab);
      await firefox.close();
    },
  });
});

/// The app's page in Firefox's current tab, its module run.
async function home(firefox) {
  await firefox.go(`${app.url}/`);
  await firefox.waitFor('return window.outcome');
}

/// Playwright's pages as the scenario's tabs.
function chromiumTabs(context) {
  return {
    open: async () => {
      const page = await context.newPage();
      await page.goto(`${app.url}/`);
      await page.waitForFunction(() => window.outcome);
      return page;
    },
    run: (page, body, ...args) => page.evaluate(`(async (args) => { ${body} })(${JSON.stringify(args)})`),
    reload: async (page) => {
      await page.reload();
      await page.waitForFunction(() => window.outcome);
    },
    close: (page) => page.close(),
  };
}

test('node-oidc-provider issues DPoP-bound tokens to the browser, and jwtkit --trust-issuer takes them with its proofs', async (t) => {
  const issuer = await startPeer(t, app.url, { dpopResource: 'https://api.example' });
  const resource = await startServer({ bin: BIN, args: ['--trust-issuer', issuer, '--audience', 'api', '--cors-origin', app.url] });
  t.after(() => resource.stop());
  app.configure({ redirect: { allowedOrigins: [issuer, resource.url] } });
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
  t.after(() => browser.close());
  const page = await (await browser.newContext()).newPage();
  await page.goto(`${app.url}/`);
  await page.waitForFunction(() => window.outcome);
  // Not jwtkit's provider: DPoP asked for with the option.
  await page.evaluate((o) => { window.TokenSession.signIn(o); }, { issuer, clientId: 'bench', redirectUri: `${app.url}/callback`, loginHint: 'ada', dpop: true });
  await page.waitForURL((url) => url.href.startsWith(`${app.url}/callback`));
  const outcome = await page.waitForFunction(() => window.outcome).then(() => page.evaluate(() => window.outcome));
  assert.equal(outcome.ok, true, JSON.stringify(outcome));
  const called = await page.evaluate(async (url) => {
      const first = await window.session.fetch(url);
    await window.session.refresh();
    const second = await window.session.fetch(url);
    return {
      statuses: [first.status, second.status], jkt: await window.session.dpopThumbprint(),
      bound: decodeUnverified(window.session.token).claims.cnf?.jkt, token: window.session.token,
    };
  }, `${resource.url}/api/v3/secret`);
  assert.deepEqual(called.statuses, [200, 200]);
  assert.equal(called.bound, called.jkt, 'the provider bound the token to the browser\'s key');
  const stolen = await fetch(`${resource.url}/api/v3/secret`, { headers: { authorization: `Bearer ${called.token}` } });
  assert.equal((await stolen.json()).code, 'ERR_DPOP_TOKEN_AS_BEARER');
});
