// The browser-package job in headless Chromium: decode a token and check its expiry, with the
// built `web` package, beside jwt-decode and the plain atob + JSON.parse floor, in one page.
// Usage: node bench/browser.mjs  (after `cargo xtask package` and `npm ci`; prints µs/op and
// ratios). Chromium: JWTKIT_CHROMIUM or /usr/bin/chromium.
import http from 'node:http';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { chromium } from 'playwright-core';

const here = (p) => fileURLToPath(new URL(p, import.meta.url));
const PKG = here('../../pkg/web');
const FILES = {
  '/jwt-decode.js': here('../node_modules/jwt-decode/build/esm/index.js'),
};
// /pkg/...: the web build, its snippets (the session driver the glue imports) included.
const file = (url) => {
  if (FILES[url]) return FILES[url];
  if (!url.startsWith('/pkg/')) return null;
  const inside = path.join(PKG, path.normalize(url.slice('/pkg/'.length)));
  return inside.startsWith(PKG + path.sep) ? inside : null;
};
const CHROMIUM = process.env.JWTKIT_CHROMIUM ?? '/usr/bin/chromium';
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

const PAGE = `<!doctype html><meta charset="utf-8"><title>jwtkit benchmark</title>
<script type="module">
  import init, { decodeUnverified, isExpired } from '/pkg/jwtkit.js';
  import { jwtDecode } from '/jwt-decode.js';
  await init();
  const b64 = (o) => btoa(JSON.stringify(o)).replace(/\\+/g, '-').replace(/\\//g, '_').replace(/=+$/, '');
  const now = Math.floor(Date.now() / 1000);
  const POOL = 1024;
  const tokens = Array.from({ length: POOL }, (_, i) => b64({ alg: 'HS256', typ: 'at+jwt', kid: 'k1' }) + '.' + b64({
    iss: 'jwtkit', sub: 'billing-service', aud: 'jwtkit-api', exp: now + 180, iat: now,
    jti: 'Ki8rEmTx1G4yqH0s3nz' + String(i).padStart(4, '0') }) + '.' + 's'.repeat(43));
  let next = 0;
  const token = () => tokens[(next = (next + 1) & (POOL - 1))];
  const segment = (s) => JSON.parse(atob(s.replace(/-/g, '+').replace(/_/g, '/')));
  const contenders = {
    floor: () => {
      const [h, p] = token().split('.');
      segment(h);
      return segment(p).exp <= Date.now() / 1000;
    },
    'jwt-decode': () => {
      const t = token();
      jwtDecode(t, { header: true });
      return jwtDecode(t).exp <= Date.now() / 1000;
    },
    jwtkit: () => {
      const t = token();
      decodeUnverified(t);
      return isExpired(t);
    },
  };
  const measure = (fn, ms) => {
    for (let i = 0; i < 20000; i++) fn();
    let runs = 0;
    const start = performance.now();
    let t = start;
    while (t - start < ms) {
      for (let i = 0; i < 1000; i++) fn();
      runs += 1000;
      t = performance.now();
    }
    return ((t - start) * 1000) / runs;
  };
  window.__results = { length: tokens[0].length,
    ...Object.fromEntries(Object.entries(contenders).map(([name, fn]) => [name, measure(fn, 1500)])) };
</script>`;

const server = http.createServer(async (req, res) => {
  if (req.url === '/') {
    res.writeHead(200, { 'content-type': 'text/html' });
    return res.end(PAGE);
  }
  const found = file(req.url ?? '');
  const body = found && await readFile(found).catch(() => null);
  if (!body) {
    res.writeHead(404);
    return res.end();
  }
  res.writeHead(200, { 'content-type': found.endsWith('.wasm') ? 'application/wasm' : 'text/javascript' });
  res.end(body);
});
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
try {
  const page = await browser.newPage();
  await page.goto(`http://127.0.0.1:${server.address().port}/`);
  const results = await page.waitForFunction(() => window.__results, null, { timeout: 60_000 }).then((h) => h.jsonValue());
  console.log(`tokens: 1024 distinct, ${results.length} characters; ${browser.version()}`);
  for (const name of ['floor', 'jwt-decode', 'jwtkit']) {
    console.log(`${name.padEnd(12)} ${results[name].toFixed(2).padStart(7)} µs/op`);
  }
  console.log(`jwtkit vs jwt-decode: ${(results['jwt-decode'] / results.jwtkit).toFixed(2)}× the throughput`);
  console.log(`jwtkit / floor time: ${(results.jwtkit / results.floor).toFixed(2)}×`);
} finally {
  await browser.close();
  server.close();
}
