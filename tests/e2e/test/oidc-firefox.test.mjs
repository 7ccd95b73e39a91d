// The package as the OpenID client of a single-page app in headless Firefox (firefox-esr
// through geckodriver), against node-oidc-provider (an OpenID Certified provider, a real
// process): the sign-in (the ID token's EdDSA signature verified by Firefox's WebCrypto), an
// API call with the access token, rotations shared by two tabs (no reuse: the provider would
// end the grant), a closing tab taking nothing away, a reload with no tab left signing in
// silently, and sign-out ending every tab and the provider's session. Nothing in web storage.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { startApp, startPeer } from '../oidc-app.mjs';
import { startFirefox } from '../webdriver.mjs';

const PKG = process.env.JWTKIT_WEB_PKG ?? path.resolve('../../target/web/pkg');

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
