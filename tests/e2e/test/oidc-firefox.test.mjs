// The package as the OpenID client of a single-page app in headless Firefox (firefox-esr
// through geckodriver). Against jwtkit's provider: two tabs on a short lifetime calling its
// API all along, counted at the server (no 401, one refresh per rotation, no reuse), the
// refresh token in the provider's HttpOnly cookie, a reload resuming from it. Against
// node-oidc-provider (an OpenID Certified provider, a real process): the sign-in (the ID token's EdDSA signature verified by Firefox's WebCrypto), an
// API call with the access token, rotations shared by two tabs (no reuse: the provider would
// end the grant), a closing tab taking nothing away, a reload with no tab left signing in
// silently, and sign-out ending every tab and the provider's session. Nothing in web storage.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { callAllAlong, startApp, startPeer, startProvider } from '../oidc-app.mjs';
import { startFirefox } from '../webdriver.mjs';

const BIN = process.env.JWTKIT_BIN;
const PKG = process.env.JWTKIT_WEB_PKG ?? path.resolve('../../target/web/pkg');
const TTL = 4;
const ROTATIONS = 4;

let app;
let firefox;

before(async () => {
  app = await startApp(PKG);
  firefox = await startFirefox();
});

after(async () => {
  await firefox?.stop();
  await app?.close();
});

/// Runs `body` (an async function body; `arguments` as given) in the current tab, and waits
/// for what it returns (a refusal returns its code).
async function run(body, ...args) {
  await firefox.js(`window.ran = undefined; (async (...args) => { ${body} })(...arguments)
    .then((value) => { window.ran = { value }; }, (e) => { window.ran = { error: e.code ?? String(e) }; });`, ...args);
  const ran = await firefox.waitFor('return window.ran');
  assert.equal(ran.error, undefined, `the page refused: ${ran.error}`);
  return ran.value;
}

/// The app's home page in the current tab, its module run.
async function home() {
  await firefox.go(`${app.url}/`);
  return firefox.waitFor('return window.outcome');
}

const storage = 'return [localStorage.length, sessionStorage.length]';

test('a person signs in with node-oidc-provider in Firefox; two tabs share the session; a reload signs in silently; sign-out ends every tab', async (t) => {
  const issuer = await startPeer(t, app.url);
  app.configure({ redirect: { allowedOrigins: [issuer] } });
  const options = { issuer, clientId: 'bench', redirectUri: `${app.url}/callback`, scope: 'openid profile', allowedOrigins: [issuer] };
  const { allowedOrigins: _, ...signIn } = options;

  const a = await firefox.tab();
  await home();
  await firefox.js('window.TokenSession.signIn(arguments[0])', { ...signIn, loginHint: 'ada' });
  await firefox.waitFor("return location.pathname === '/callback' && window.outcome");
  const signedIn = await firefox.js('return window.outcome');
  assert.equal(signedIn.ok, true, JSON.stringify(signedIn));
  assert.deepEqual([signedIn.claims.iss, signedIn.claims.sub, signedIn.claims.aud], [issuer, 'ada', 'bench']);
  assert.equal(await firefox.js('return location.search'), '', 'the code left the address bar');
  assert.deepEqual(await firefox.js(storage), [0, 0], 'nothing in web storage');
  const called = await run(`
    const response = await window.session.fetch(args[0] + '/me');
    return { status: response.status, sub: (await response.json()).sub };`, issuer);
  assert.deepEqual(called, { status: 200, sub: 'ada' });

  // A second tab takes the first one's session; rotations alternate between the tabs.
  const b = await firefox.newTab();
  await firefox.switchTo(b);
  await home();
  await run('window.session = await window.TokenSession.resumeSignIn(args[0]);', options);
  const tokenOf = (tab) => firefox.switchTo(tab).then(() => firefox.js('return window.session.token'));
  assert.equal(await tokenOf(b), await tokenOf(a));
  for (const [from, to] of [[a, b], [b, a], [a, b], [b, a]]) {
    await firefox.switchTo(from);
    const token = await run('await window.session.refresh(); return window.session.token;');
    await firefox.switchTo(to);
    await firefox.waitFor('return window.session.token === arguments[0]', 10_000, token);
  }

  // The first tab closes; the second goes on rotating (a reused refresh token would have
  // ended the grant at the provider: invalid_grant).
  await firefox.switchTo(a);
  await firefox.close();
  await firefox.switchTo(b);
  await run('await window.session.refresh();');
  assert.equal(await firefox.js('return window.session.ended'), false);

  // A reload with no other tab left: a silent sign-in at the provider.
  await firefox.js('window.session.close()');
  await home();
  await firefox.js('window.TokenSession.resumeSignIn(arguments[0])', options);
  await firefox.waitFor("return location.pathname === '/callback' && window.outcome");
  const silent = await firefox.js('return window.outcome');
  assert.equal(silent.ok, true, JSON.stringify(silent));
  assert.equal(silent.claims.sub, 'ada');
  assert.deepEqual(await firefox.js(storage), [0, 0]);

  // Sign-out in one tab ends the other, then the provider's session (after its confirmation).
  const c = b;
  const d = await firefox.newTab();
  await firefox.switchTo(d);
  await home();
  await run('window.session = await window.TokenSession.resumeSignIn(args[0]);', options);
  await firefox.switchTo(c);
  await firefox.js("window.session.signOut({ postLogoutRedirectUri: location.origin + '/' })");
  await firefox.waitFor("return location.pathname === '/session/end' && document.querySelector('button[name=logout][value=yes]')");
  await firefox.js("document.querySelector('button[name=logout][value=yes]').click()");
  await firefox.waitFor('return location.origin === arguments[0] && window.outcome', 30_000, app.url);
  await firefox.switchTo(d);
  await firefox.waitFor('return window.session.ended');
  await firefox.switchTo(c);
  await firefox.js('window.TokenSession.signIn(arguments[0])', { ...signIn, prompt: 'none' });
  await firefox.waitFor("return location.pathname === '/callback' && window.outcome");
  const after = await firefox.js('return window.outcome');
  assert.deepEqual([after.code, after.error], ['ERR_OIDC_AUTHORIZATION_ERROR', 'login_required']);
  assert.deepEqual(await firefox.js(storage), [0, 0]);
});

test('two Firefox tabs of a sign-in at jwtkit rotate on a short lifetime through its cookie: no 401, one refresh per rotation, no reuse', async (t) => {
  assert.ok(BIN, 'JWTKIT_BIN names the jwtkit binary (cargo xtask test sets it)');
  const server = await startProvider(t, app, BIN, `${TTL}s`);
  const { user } = server.development;
  const options = { issuer: server.url, clientId: 'spa', redirectUri: `${app.url}/callback`, refreshTokenDelivery: 'cookie' };

  const a = await firefox.newTab();
  await firefox.switchTo(a);
  await home();
  await firefox.js('window.TokenSession.signIn(arguments[0])', options);
  await firefox.waitFor("return location.pathname === '/oauth2/authorize' && document.querySelector('#username') !== null");
  await firefox.js(
    "document.querySelector('#username').value = arguments[0]; document.querySelector('#password').value = arguments[1]; document.querySelector('form').submit();",
    user.username, user.password,
  );
  await firefox.waitFor("return location.pathname === '/callback' && window.outcome");
  assert.equal((await firefox.js('return window.outcome')).ok, true);

  const b = await firefox.newTab();
  await firefox.switchTo(b);
  await home();
  const tokenPosts = () => server.logs.filter((line) => line.includes('method=POST path="/oauth2/token"'));
  const before = tokenPosts().length;
  await run('window.session = await window.TokenSession.resumeSignIn({ ...args[0], allowedOrigins: [args[0].issuer] });', options);
  assert.equal(tokenPosts().length, before, 'taken from the open tab');

  for (const tab of [a, b]) {
    await firefox.switchTo(tab);
    await firefox.js(`(${callAllAlong})(arguments[0]);`, `${server.url}/oauth2/userinfo`);
  }
  await firefox.waitFor('return window.calls.tokens.length > arguments[0]', (ROTATIONS + 3) * TTL * 1000, ROTATIONS);
  const seen = new Set();
  for (const tab of [a, b]) {
    await firefox.switchTo(tab);
    await firefox.js('window.halt = true');
  }
  for (const tab of [a, b]) {
    await firefox.switchTo(tab);
    const calls = await firefox.waitFor('return window.calls.done && window.calls');
    assert.deepEqual(Object.keys(calls.statuses), ['200'], `every call answered 200: ${JSON.stringify(calls.statuses)}`);
    for (const token of calls.tokens) seen.add(token);
  }
  const rotations = seen.size - 1;
  assert.ok(rotations >= ROTATIONS, `${rotations} rotations`);
  assert.equal(server.responses('/oauth2/userinfo', 401), 0, 'no 401 at the server');
  // The code's exchange, then one refresh per rotation, none refused.
  assert.equal(tokenPosts().length, rotations + 1, 'one token request per rotation');
  assert.ok(tokenPosts().every((line) => line.includes(' status=200 ')), 'none refused');
  assert.ok(!server.logs.some((line) => line.includes('reused')), 'no reuse detected');

  // A reload with no other tab: the session comes back from the cookie, the page stays.
  await firefox.switchTo(a);
  await firefox.close();
  await firefox.switchTo(b);
  await firefox.js('window.session.close()');
  await home();
  const resumed = await run(`
    window.session = await window.TokenSession.resumeSignIn({ ...args[0], allowedOrigins: [args[0].issuer] });
    return { status: (await window.session.fetch(args[0].issuer + '/oauth2/userinfo')).status, href: location.href };`, options);
  assert.deepEqual(resumed, { status: 200, href: `${app.url}/` });
  assert.deepEqual(await firefox.js(storage), [0, 0], 'nothing in web storage');
});
