// The browser-package job in Node.js: decode a token and check its expiry, with the built
// `nodejs` package, beside jwt-decode and the plain Buffer + JSON.parse floor, in one run.
// Usage: node bench/decode.mjs  (after `cargo xtask package`; prints ops/s and ratios)
import { createRequire } from 'node:module';
import { jwtDecode } from 'jwt-decode';

const require = createRequire(import.meta.url);
const jwtkit = require('../../pkg/nodejs/jwtkit.js');

const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
const now = Math.floor(Date.now() / 1000);
// Distinct tokens (distinct jti), so that nothing can be remembered from one call to the next
// of the same contender; each contender walks the same pool.
const POOL = 1024;
const tokens = Array.from({ length: POOL }, (_, i) => `${b64({ alg: 'HS256', typ: 'at+jwt', kid: 'k1' })}.${b64({
  iss: 'jwtkit', sub: 'billing-service', aud: 'jwtkit-api', exp: now + 180, iat: now, jti: `Ki8rEmTx1G4yqH0s3nz${String(i).padStart(4, '0')}`,
})}.${'s'.repeat(43)}`);
let next = 0;
const token = () => tokens[(next = (next + 1) & (POOL - 1))];

// Each contender decodes a token (header and claims, as objects) and checks its expiry.
const contenders = {
  floor: () => {
    const [h, p] = token().split('.');
    JSON.parse(Buffer.from(h, 'base64url').toString());
    const claims = JSON.parse(Buffer.from(p, 'base64url').toString());
    return claims.exp <= Date.now() / 1000;
  },
  'jwt-decode': () => {
    const t = token();
    jwtDecode(t, { header: true });
    const claims = jwtDecode(t);
    return claims.exp <= Date.now() / 1000;
  },
  jwtkit: () => {
    const t = token();
    jwtkit.decodeUnverified(t);
    return jwtkit.isExpired(t);
  },
};

function measure(fn, ms = 1500) {
  for (let i = 0; i < 20_000; i++) fn();
  let runs = 0;
  const start = process.hrtime.bigint();
  const end = start + BigInt(ms) * 1_000_000n;
  let t = start;
  while (t < end) {
    for (let i = 0; i < 1000; i++) fn();
    runs += 1000;
    t = process.hrtime.bigint();
  }
  return runs / (Number(t - start) / 1e9);
}

const results = Object.fromEntries(Object.entries(contenders).map(([name, fn]) => [name, measure(fn)]));
console.log(`tokens: ${POOL} distinct, ${tokens[0].length} characters; Node ${process.version}`);
for (const [name, ops] of Object.entries(results)) {
  console.log(`${name.padEnd(12)} ${Math.round(ops).toString().padStart(10)} ops/s  ${(1e6 / ops).toFixed(2).padStart(7)} µs/op`);
}
console.log(`jwtkit vs jwt-decode: ${(results.jwtkit / results['jwt-decode']).toFixed(2)}× the throughput`);
console.log(`jwtkit / floor time: ${(results.floor / results.jwtkit).toFixed(2)}×`);
