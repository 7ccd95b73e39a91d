// The `nodejs` build, required by name exactly as a Node.js user would.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { EXP, token, rawToken } from '../helpers.mjs';

const require = createRequire(import.meta.url);
const jwtkit = require('jwtkit');

const good = token({ alg: 'HS256', typ: 'at+jwt' }, { sub: 'ann', iat: EXP - 180, exp: EXP });

function codeOf(fn) {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof Error, 'a real Error');
    assert.equal(error.name, 'JwtError');
    return error.code;
  }
  assert.fail('did not throw');
}

test('the package is named jwtkit and ships what it declares', () => {
  const pkg = JSON.parse(readFileSync(require.resolve('jwtkit/package.json'), 'utf8'));
  assert.equal(pkg.name, 'jwtkit');
  for (const file of pkg.files) {
    assert.ok(readFileSync(new URL(file, `file://${require.resolve('jwtkit/package.json')}`)).length > 0, file);
  }
  const types = readFileSync(require.resolve('jwtkit/jwtkit.d.ts'), 'utf8');
  assert.doesNotMatch(types, /\bany\b/, 'no `any` in the public declarations');
});

test('decodeUnverified returns plain header and claims', () => {
  const { header, claims } = jwtkit.decodeUnverified(good);
  assert.deepEqual(header, { alg: 'HS256', typ: 'at+jwt' });
  assert.deepEqual(claims, { sub: 'ann', iat: EXP - 180, exp: EXP });
  assert.equal(Object.getPrototypeOf(claims), Object.prototype);
});

test('malformed input of any kind throws an Error with a code', () => {
  const cases = [
    ['abc', 'ERR_JWT_MALFORMED'],
    ['a.b.c.d.e', 'ERR_JWE_UNSUPPORTED'],
    [good.replace('.c2ln', '.c2ln='), 'ERR_JWT_INVALID_CHARACTER'],
    [rawToken('{"alg":"HS256","alg":"none"}', '{}'), 'ERR_JWT_DUPLICATE_MEMBER'],
    [rawToken('{"alg":"HS256"}', '{"exp":"1800000000"}'), 'ERR_JWT_CLAIM_INVALID'],
    [rawToken('{"alg":"HS256","crit":["x"]}', '{}'), 'ERR_JWS_CRIT_UNSUPPORTED'],
    ['x'.repeat(9000), 'ERR_JWT_TOO_LARGE'],
    [42, 'ERR_INVALID_ARGUMENT'],
    [null, 'ERR_INVALID_ARGUMENT'],
    [{ toString: () => good }, 'ERR_INVALID_ARGUMENT'],
  ];
  for (const [input, code] of cases) {
    assert.equal(codeOf(() => jwtkit.decodeUnverified(input)), code, String(input).slice(0, 40));
    assert.equal(codeOf(() => jwtkit.isExpired(input)), code);
  }
});

test('isExpired and secondsUntilExpiry use the server rule', () => {
  assert.equal(jwtkit.isExpired(good, { now: EXP - 1 }), false);
  assert.equal(jwtkit.isExpired(good, { now: EXP }), true);
  assert.equal(jwtkit.isExpired(good, { now: EXP + 29, leewaySeconds: 30 }), false);
  assert.equal(jwtkit.isExpired(good, { now: new Date((EXP - 10) * 1000), clockOffsetSeconds: 10 }), true);
  assert.equal(jwtkit.secondsUntilExpiry(good, { now: EXP - 42 }), 42);
  assert.equal(jwtkit.secondsUntilExpiry(token({ alg: 'HS256' }, {}), { now: EXP }), Infinity);
  assert.equal(codeOf(() => jwtkit.isExpired(good, { leewaySeconds: 601 })), 'ERR_INVALID_ARGUMENT');
});

test('TokenSession refuses to send an expired token and maps a 401', async (t) => {
  let requests = 0;
  const server = http.createServer((req, res) => {
    requests += 1;
    const ok = req.headers.authorization === `Bearer ${live}`;
    res.writeHead(ok ? 200 : 401, { 'content-type': 'application/json' });
    res.end(JSON.stringify(ok ? { data: { code: 200 } } : { error: 'invalid_token', code: 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED', message: 'signature verification failed' }));
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => server.close());
  const url = `http://127.0.0.1:${server.address().port}/api/v3/secret`;
  const now = Date.now() / 1000;
  const live = token({ alg: 'HS256' }, { sub: 'ann', iat: now, exp: now + 600 });

  const session = jwtkit.TokenSession.fromAuthResponse({ data: { token: live } });
  assert.ok(Math.abs(session.clockOffsetSeconds) < 5);
  const response = await session.fetch(url);
  assert.equal(response.status, 200);

  const other = new jwtkit.TokenSession(token({ alg: 'HS256' }, { exp: now + 600 }));
  await assert.rejects(other.fetch(url), (e) => e.code === 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED' && e.status === 401);

  const before = requests;
  const expired = new jwtkit.TokenSession(token({ alg: 'HS256' }, { exp: now - 1 }));
  await assert.rejects(expired.fetch(url), (e) => e.code === 'ERR_JWT_EXPIRED');
  assert.equal(requests, before, 'nothing was sent');
  assert.throws(() => expired.authorizationHeader(), (e) => e.code === 'ERR_JWT_EXPIRED');

  const renewing = new jwtkit.TokenSession(token({ alg: 'HS256' }, { exp: now - 1 }), { onExpired: async () => live });
  assert.equal((await renewing.fetch(url)).status, 200);
});
