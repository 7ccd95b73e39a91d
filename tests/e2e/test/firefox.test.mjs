// The demo page's cookie session in two tabs of headless Firefox (firefox-esr through
// geckodriver), against the real jwtkit serve: the same promises as in Chromium — one
// rotation serves both tabs, no 401, one refresh request per generation, logout in one tab
// ends the other. And a person signing in to the demo page through the package's OpenID client
// (the ID token's EdDSA signature verified by Firefox's WebCrypto).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from '../server.mjs';
import { startFirefox } from '../webdriver.mjs';

const BIN = process.env.JWTKIT_BIN;
const TTL = 4;
const ROTATIONS = 5;
const REFRESH = '/api/v3/auth/refresh';

let server;
let firefox;

before(async () => {
  assert.ok(BIN, 'JWTKIT_BIN names a jwtkit built with the demo page (cargo xtask test sets it)');
  server = await startServer({ bin: BIN, args: ['--token-ttl', `${TTL}s`] });
  firefox = await startFirefox();
});

after(async () => {
  await firefox?.stop();
  await server?.stop();
});

const ready = "return document.body.dataset.ready === 'true'";
const generations = "return [...document.querySelectorAll('#timeline li[data-jti]')].map((li) => li.dataset.jti)";
const counts = "return { ...document.querySelector('#calls').dataset }";

test('two Firefox tabs share one cookie session across rotations; logout ends both', async () => {
  const a = await firefox.tab();
  await firefox.go(`${server.url}/`);
  await firefox.waitFor(ready);
  const before = { refreshed: server.responses(REFRESH, 200), refreshes: server.requestsTo(REFRESH) };
  await firefox.js("document.querySelector('#api-key').value = arguments[0]; document.querySelector('#get-token').click();", server.devKey);
  await firefox.waitFor("return document.querySelector('#timeline li[data-jti]') !== null");
  assert.equal(await firefox.js('return document.cookie'), '', 'the refresh token is out of the reach of JavaScript');

  const b = await firefox.newTab();
  await firefox.switchTo(b);
  await firefox.go(`${server.url}/`);
  await firefox.waitFor(ready);
  await firefox.waitFor("return document.querySelector('#timeline li[data-source=resumed]') !== null");
  assert.match(await firefox.js("return document.querySelector('#timeline').textContent"), /taken from an open tab/);
  await firefox.js("document.querySelector('#continuous').click()");
  await firefox.switchTo(a);
  await firefox.js("document.querySelector('#continuous').click()");
  await firefox.waitFor(`return document.querySelectorAll('#timeline li[data-jti]').length > ${ROTATIONS}`, (ROTATIONS + 3) * TTL * 1000);

  // The calls stop; the counts are taken just after a rotation (none under way).
  await firefox.js("document.querySelector('#continuous').click()");
  await firefox.switchTo(b);
  await firefox.js("document.querySelector('#continuous').click()");
  await firefox.switchTo(a);
  await firefox.waitFor(`return Number(/in ([\\d.]+) s/.exec(document.querySelector('#countdown').textContent)?.[1]) > ${TTL / 3}`, 2 * TTL * 1000);
  const seenA = await firefox.js(generations);
  await firefox.switchTo(b);
  const seen = new Set([...seenA, ...await firefox.js(generations)]);
  assert.ok(seen.size > ROTATIONS, `${seen.size} generations`);
  assert.equal(server.responses(REFRESH, 200) - before.refreshed, seen.size, 'exactly one refresh request per generation');
  assert.equal(server.requestsTo(REFRESH) - before.refreshes, seen.size, 'and no refused one');
  assert.ok(!server.logs.some((line) => line.includes('reused')), 'no reuse detected');
  assert.equal(server.responses('/api/v3/secret', 401), 0, 'no 401 at the server');
  for (const tab of [a, b]) {
    await firefox.switchTo(tab);
    const made = await firefox.js(counts);
    assert.equal(made.unauthorized, '0', 'no 401 at the page');
    assert.equal(made.unsent, '0', 'no request refused before sending');
    assert.ok(Number(made.ok) > 0, `calls made: ${JSON.stringify(made)}`);
  }

  // Logout in one tab logs out the other.
  await firefox.switchTo(a);
  await firefox.js("document.querySelector('#logout').click()");
  await firefox.waitFor("return document.querySelector('#timeline li.end[data-reason=local]') !== null");
  await firefox.switchTo(b);
  await firefox.waitFor("return document.querySelector('#timeline li.end[data-reason=other-tab]') !== null");
  assert.match(await firefox.js("return document.querySelector('#session').textContent"), /Signed out: logged out in another tab/);
});

test('a person signs in to the demo page through the package\'s OpenID client in Firefox', async () => {
  const { user } = server.development;
  await firefox.tab();
  await firefox.go(`${server.url}/`);
  await firefox.waitFor(ready);
  await firefox.js("document.querySelector('#person-sign-in').click()");
  await firefox.waitFor("return location.pathname === '/oauth2/authorize' && document.querySelector('#username') !== null");
  await firefox.js(
    "document.querySelector('#username').value = arguments[0]; document.querySelector('#password').value = arguments[1]; document.querySelector('form').submit();",
    user.username, user.password,
  );
  await firefox.waitFor(ready);
  await firefox.waitFor("return document.querySelector('#person-status').textContent.startsWith('Signed in as demo')");
  assert.equal(await firefox.js('return location.search'), '', 'the code left the address bar');
  assert.deepEqual(await firefox.js('return [localStorage.length, sessionStorage.length]'), [0, 0], 'nothing in web storage');
  // The ID token's EdDSA signature was verified by Firefox's WebCrypto: its claims are shown.
  assert.match(await firefox.js("return document.querySelector('#person-result-body').textContent"), /"nonce"/);
  await firefox.js("document.querySelector('#person-refresh').click()");
  await firefox.waitFor("return document.querySelector('#person-result-title').textContent.startsWith('Refreshed')");
  await firefox.js("document.querySelector('#person-sign-out').click()");
  await firefox.waitFor("return document.querySelector('#person-status').textContent === 'Signed out at the provider.'");
});
