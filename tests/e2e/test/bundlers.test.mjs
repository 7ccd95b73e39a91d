// The npm package as frontends consume it: a small app (bundlers/) importing `jwtkit` from
// wasm/pkg/bundler, built by Vite and by webpack 5 — each bundler bringing the package's
// WebAssembly module and its own JavaScript modules along — then opened in headless Chromium:
// decoding, expiry and a coded refusal work in the bundled page.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

const CHROMIUM = process.env.JWTKIT_CHROMIUM ?? '/usr/bin/chromium';
const PKG = path.resolve(process.env.JWTKIT_BUNDLER_PKG ?? '../../wasm/pkg/bundler');
const APP = path.resolve('bundlers');
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.wasm': 'application/wasm' };

const b64 = (value) => Buffer.from(JSON.stringify(value)).toString('base64url');
const EXP = 2_000_000_000;
const TOKEN = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64({ sub: 'ada', iat: EXP - 600, exp: EXP })}.${randomBytes(32).toString('base64url')}`;

let browser;
let work;

before(async () => {
  assert.ok(existsSync(path.join(PKG, 'jwtkit.js')), `the package's bundler build is at ${PKG} (cargo xtask package)`);
  work = mkdtempSync(path.join(tmpdir(), 'jwtkit-bundlers-'));
  browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
});

after(async () => {
  await browser?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

/// Serves `dir` on a loopback port; its URL and how to stop it.
async function serve(dir) {
  const server = createServer((request, response) => {
    const name = new URL(request.url, 'http://x').pathname.replace(/^\/+/, '') || 'index.html';
    const file = path.join(dir, path.normalize(name).replace(/^(\.\.[/\\])+/, ''));
    let body;
    try {
      body = readFileSync(file);
    } catch {
      return response.writeHead(404).end();
    }
    return response.writeHead(200, { 'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream' }).end(body);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${server.address().port}`, close: () => new Promise((resolve) => server.close(resolve)) };
}

/// The bundled app at `dir`, opened in Chromium: what its page found.
async function run(t, dir) {
  const site = await serve(dir);
  t.after(site.close);
  const context = await browser.newContext();
  t.after(() => context.close());
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(`${site.url}/index.html?token=${TOKEN}`);
  await page.waitForFunction(() => window.result !== undefined, null, { timeout: 15_000 }).catch(() => {});
  assert.deepEqual(errors, [], 'no uncaught error in the page');
  return page.evaluate(() => window.result);
}

const EXPECTED = {
  alg: 'HS256', sub: 'ada', expiredBefore: false, expiredAfter: true, left: 10, refusal: 'ERR_JWT_MALFORMED', signIn: 'function',
};

/// The bundlers read the package's location (and where to write) from the environment.
function environment(out) {
  process.env.JWTKIT_BUNDLER_PKG = PKG;
  process.env.JWTKIT_BUNDLE_OUT = out;
}

test('an app built by Vite decodes, judges expiry and refuses with a code', async (t) => {
  const out = path.join(work, 'vite');
  environment(out);
  const { build } = await import('vite');
  await build({ configFile: path.join(APP, 'vite.config.mjs') });
  assert.deepEqual(await run(t, out), EXPECTED);
});

test('an app built by webpack 5 decodes, judges expiry and refuses with a code', async (t) => {
  const out = path.join(work, 'webpack');
  environment(out);
  const { default: webpack } = await import('webpack');
  const { default: config } = await import(path.join(APP, 'webpack.config.mjs'));
  const stats = await new Promise((resolve, reject) => {
    webpack(config, (error, result) => (error ? reject(error) : resolve(result)));
  });
  assert.equal(stats.hasErrors(), false, stats.toString({ all: false, errors: true }));
  // webpack bundles the script; the page is the app's, loading that bundle.
  writeFileSync(path.join(out, 'index.html'), readFileSync(path.join(APP, 'index.html'), 'utf8'));
  assert.deepEqual(await run(t, out), EXPECTED);
});
