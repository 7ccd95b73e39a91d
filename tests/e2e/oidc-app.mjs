// What the OpenID client tests share, in any browser: a single-page app on an origin of its own
// (its page, a module that handles the redirect when the address carries an answer and keeps
// the outcome in `window.outcome`, and the package's web build), and node-oidc-provider (an
// OpenID Certified provider) as a real process with that app as its public client `bench`.
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { startServer } from './server.mjs';

const PAGE = '<!doctype html><meta charset=utf-8><title>App</title><script type=module src=/app.js></script><p>app';
const MODULE = `
import init, { TokenSession, decodeUnverified } from '/pkg/jwtkit.js';
await init();
Object.assign(window, { TokenSession, decodeUnverified });
const config = await (await fetch('/config')).json();
try {
  const session = await TokenSession.handleRedirect(config.redirect);
  window.session = session;
  window.outcome = session
    ? { ok: true, claims: session.idTokenClaims, delivery: session.refreshDelivery, token: session.token }
    : { ok: true, none: true };
} catch (error) {
  window.outcome = { ok: false, code: error.code, message: error.message, error: error.error };
}
`;

/// The app, serving the package's web build from `pkg`; `configure` sets what its callback
/// page passes to handleRedirect.
export async function startApp(pkg) {
  assert.ok(readFileSync(path.join(pkg, 'jwtkit.js')), `the package's web build is at ${pkg} (cargo xtask package)`);
  let config = {};
  let url;
  const server = createServer((request, response) => {
    const { pathname } = new URL(request.url, url);
    if (pathname === '/app.js') return response.writeHead(200, { 'content-type': 'text/javascript' }).end(MODULE);
    if (pathname === '/config') return response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(config));
    if (pathname.startsWith('/pkg/')) {
      const file = path.join(pkg, path.normalize(pathname.slice('/pkg/'.length)).replace(/^(\.\.[/\\])+/, ''));
      const type = file.endsWith('.wasm') ? 'application/wasm' : 'text/javascript';
      try {
        return response.writeHead(200, { 'content-type': type }).end(readFileSync(file));
      } catch {
        return response.writeHead(404).end();
      }
    }
    return response.writeHead(200, { 'content-type': 'text/html' }).end(PAGE);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${server.address().port}`;
  return {
    url,
    configure: (value) => { config = value; },
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

/// node-oidc-provider as a real process (stopped by its PID when `t` ends), with the app at
/// `appUrl` as its public client `bench` (and, with `dpopResource`, JWT access tokens for that
/// resource and DPoP nonces); its issuer URL.
export async function startPeer(t, appUrl, { dpopResource } = {}) {
  const dir = mkdtempSync(path.join(tmpdir(), 'jwtkit-oidc-peer-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const { privateKey } = generateKeyPairSync('ed25519');
  const jwk = { ...privateKey.export({ format: 'jwk' }), alg: 'EdDSA', kid: 'peer-1', use: 'sig' };
  writeFileSync(path.join(dir, 'key.json'), JSON.stringify(jwk));
  const script = path.join(import.meta.dirname, 'peers/oidc-provider.mjs');
  const args = [script, path.join(dir, 'key.json'), `${appUrl}/callback`, 'a secret of the test only', ...(dpopResource ? [dpopResource] : [])];
  const peer = spawn('node', args, {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  t.after(() => peer.kill('SIGTERM'));
  const { url } = await new Promise((resolve, reject) => {
    peer.on('exit', (code) => reject(new Error(`the peer exited with ${code}`)));
    createInterface({ input: peer.stdout }).once('line', (line) => resolve(JSON.parse(line)));
  });
  return url;
}

/// Calls `url` with the page's `window.session` every 150 ms until `window.halt`, counting
/// the statuses and the access tokens sent in `window.calls` (runs in the page: pass it to
/// page.evaluate, or as `(${callAllAlong})(arguments[0])` to WebDriver).
export function callAllAlong(url) {
  window.calls = { statuses: {}, tokens: [] };
  (async () => {
    while (!window.halt) {
      const token = await window.session.getAccessToken();
      if (!window.calls.tokens.includes(token)) window.calls.tokens.push(token);
      const response = await window.session.fetch(url);
      window.calls.statuses[response.status] = (window.calls.statuses[response.status] ?? 0) + 1;
      await new Promise((resolve) => setTimeout(resolve, 150));
    }
    window.calls.done = true;
  })();
}

/// `jwtkit serve` (the binary `bin`, stopped when `t` ends) as the provider of the app, with
/// the app as its first-party client `spa` and its origin allowed, access tokens living `ttl`;
/// the app's callback configured for it.
export async function startProvider(t, app, bin, ttl) {
  const registration = JSON.stringify({
    client_id: 'spa', redirect_uris: [`${app.url}/callback`], post_logout_redirect_uris: [`${app.url}/`], first_party: true,
  });
  const server = await startServer({ bin, args: ['--client', registration, '--cors-origin', app.url, '--token-ttl', ttl] });
  t.after(() => server.stop());
  app.configure({ redirect: { allowedOrigins: [server.url] } });
  return server;
}
