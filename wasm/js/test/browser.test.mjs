// The `web` build loaded in a page in headless Chromium, as a frontend loads it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { serve } from '../helpers.mjs';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { chromium } from 'playwright-core';

const pkgDir = fileURLToPath(new URL('../../pkg/web/', import.meta.url));
const VERDICTS = fileURLToPath(new URL('../../../core/tests/data/form_verdicts.json', import.meta.url));
const CHROMIUM = process.env.JWTKIT_CHROMIUM ?? '/usr/bin/chromium';
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

const PAGE = `<!doctype html><meta charset="utf-8"><title>jwtkit package test</title>
<script type="module">
  import init, { decodeUnverified, isExpired, secondsUntilExpiry, TokenSession } from '/pkg/jwtkit.js';
  const results = {};
  try {
    await init();
    const b64 = (o) => btoa(JSON.stringify(o)).replace(/\\+/g, '-').replace(/\\//g, '_').replace(/=+$/, '');
    const token = b64({ alg: 'HS256' }) + '.' + b64({ sub: 'ann', exp: 1800000000 }) + '.c2ln';
    results.sub = decodeUnverified(token).claims.sub;
    results.expiredAtExp = isExpired(token, { now: 1800000000 });
    results.left = secondsUntilExpiry(token, { now: new Date(1799999990000) });
    try { decodeUnverified('a.b'); } catch (e) { results.error = [e instanceof Error, e.code]; }
    const session = new TokenSession(token, { clockOffsetSeconds: 0 });
    results.expiresAt = session.expiresAt.toISOString();
    // The table of tokens the server refuses for their form: refused here with its codes.
    const table = await (await fetch('/verdicts.json')).json();
    const codeOf = (fn) => { try { fn(); return 'accepted'; } catch (e) { return e.code; } };
    results.verdicts = [...table.refused_by_decoding, ...table.refused_by_expiry_checks]
      .filter(({ token: t, code }) => codeOf(() => isExpired(t)) !== code)
      .map(({ why }) => why);
    results.cases = table.refused_by_decoding.length + table.refused_by_expiry_checks.length;
    try { await session.fetch('https://elsewhere.example/x'); } catch (e) { results.elsewhere = e.code; }
  } catch (e) {
    results.failure = String(e && e.stack || e);
  }
  window.__results = results;
</script>`;

test('the web build loads and works in headless Chromium', async (t) => {
  const { origin } = await serve(t, async (req, res) => {
    if (req.url === '/') {
      res.writeHead(200, { 'content-type': 'text/html' });
      return res.end(PAGE);
    }
    if (req.url === '/verdicts.json') {
      res.writeHead(200, { 'content-type': 'application/json' });
      return res.end(await readFile(VERDICTS));
    }
    // The package's files, snippets included; nothing outside it.
    const file = path.join(pkgDir, path.normalize(decodeURIComponent(req.url ?? '').replace(/^\/pkg\//, '')));
    const name = path.basename(file);
    if (!req.url?.startsWith('/pkg/') || !file.startsWith(pkgDir)) {
      res.writeHead(404);
      return res.end();
    }
    try {
      const body = await readFile(file);
      const type = name.endsWith('.wasm') ? 'application/wasm' : 'text/javascript';
      res.writeHead(200, { 'content-type': type });
      res.end(body);
    } catch {
      res.writeHead(404);
      res.end();
    }
  });
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
  t.after(() => browser.close());
  const page = await browser.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(`${origin}/`);
  await page.waitForFunction(() => window.__results !== undefined, null, { timeout: 30_000 });
  const results = await page.evaluate(() => window.__results);
  assert.deepEqual(errors, []);
  assert.equal(results.failure, undefined, results.failure);
  assert.deepEqual(results, {
    sub: 'ann',
    expiredAtExp: true,
    left: 10,
    error: [true, 'ERR_JWT_MALFORMED'],
    expiresAt: '2027-01-15T08:00:00.000Z',
    verdicts: [],
    cases: results.cases,
    elsewhere: 'ERR_ORIGIN_NOT_ALLOWED',
  });
  assert.ok(results.cases >= 41);
});
