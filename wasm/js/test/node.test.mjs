// The `nodejs` build, required by name exactly as a Node.js user would.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { EXP, token, rawToken, serve } from '../helpers.mjs';

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
  const root = path.dirname(require.resolve('jwtkit/package.json'));
  for (const file of pkg.files) {
    const entry = path.join(root, file);
    const size = statSync(entry).isDirectory() ? readdirSync(entry, { recursive: true }).length : statSync(entry).size;
    assert.ok(size > 0, file);
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

test('every token the server refuses for its form alone is refused with the same code', () => {
  const table = JSON.parse(readFileSync(new URL('../../../core/tests/data/form_verdicts.json', import.meta.url), 'utf8'));
  assert.ok(table.refused_by_decoding.length >= 40);
  for (const { why, token: bad, code } of table.refused_by_decoding) {
    assert.equal(codeOf(() => jwtkit.decodeUnverified(bad)), code, why);
    assert.equal(codeOf(() => jwtkit.isExpired(bad)), code, why);
  }
  for (const { why, token: bad, code } of table.refused_by_expiry_checks) {
    assert.equal(codeOf(() => jwtkit.isExpired(bad)), code, why);
  }
});

test('isExpired and secondsUntilExpiry use the server rule', () => {
  assert.equal(jwtkit.isExpired(good, { now: EXP - 1 }), false);
  assert.equal(jwtkit.isExpired(good, { now: EXP }), true);
  assert.equal(jwtkit.isExpired(good, { now: EXP + 29, leewaySeconds: 30 }), false);
  assert.equal(jwtkit.isExpired(good, { now: new Date((EXP - 10) * 1000), clockOffsetSeconds: 10 }), true);
  assert.equal(jwtkit.secondsUntilExpiry(good, { now: EXP - 42 }), 42);
  // Every jwtkit server refuses a token without exp: it is not "unexpired".
  assert.equal(codeOf(() => jwtkit.secondsUntilExpiry(token({ alg: 'HS256' }, {}), { now: EXP })), 'ERR_JWT_CLAIM_MISSING');
  assert.equal(codeOf(() => jwtkit.isExpired(token({ alg: 'HS256' }, {}), { now: EXP })), 'ERR_JWT_CLAIM_MISSING');
  assert.equal(codeOf(() => jwtkit.isExpired(good, { leewaySeconds: 601 })), 'ERR_INVALID_ARGUMENT');
});

test('TokenSession refuses to send an expired token and maps a 401', async (t) => {
  let requests = 0;
  const { origin } = await serve(t, (req, res) => {
    requests += 1;
    const ok = req.headers.authorization === `Bearer ${live}`;
    res.writeHead(ok ? 200 : 401, { 'content-type': 'application/json' });
    res.end(JSON.stringify(ok ? { data: { code: 200 } } : { error: 'invalid_token', code: 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED', message: 'signature verification failed' }));
  });
  const url = `${origin}/api/v3/secret`;
  const now = Date.now() / 1000;
  const live = token({ alg: 'HS256' }, { sub: 'ann', iat: now, exp: now + 600 });

  // No page here: an absolute URL's origin must be allowed, or nothing is sent.
  const allowedOrigins = [new URL(url).origin];
  const unlisted = jwtkit.TokenSession.fromAuthResponse({ data: { token: live } });
  await assert.rejects(unlisted.fetch(url), (e) => e.code === 'ERR_ORIGIN_NOT_ALLOWED');
  assert.equal(requests, 0, 'nothing was sent');

  const session = jwtkit.TokenSession.fromAuthResponse({ data: { token: live } }, { allowedOrigins });
  assert.ok(Math.abs(session.clockOffsetSeconds) < 5);
  assert.equal(session.clockSource, 'iat');
  const response = await session.fetch(url);
  assert.equal(response.status, 200);

  const other = new jwtkit.TokenSession(token({ alg: 'HS256' }, { exp: now + 600 }), { allowedOrigins });
  await assert.rejects(other.fetch(url), (e) => e.code === 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED' && e.status === 401);

  const before = requests;
  const expired = new jwtkit.TokenSession(token({ alg: 'HS256' }, { exp: now - 1 }), { allowedOrigins });
  await assert.rejects(expired.fetch(url), (e) => e.code === 'ERR_JWT_EXPIRED');
  assert.equal(requests, before, 'nothing was sent');
  assert.throws(() => expired.authorizationHeader(), (e) => e.code === 'ERR_JWT_EXPIRED');

  const renewing = new jwtkit.TokenSession(token({ alg: 'HS256' }, { exp: now - 1 }), { allowedOrigins, onExpired: async () => live });
  assert.equal((await renewing.fetch(url)).status, 200);
});

test('TokenSession refreshes ahead of expiry over real HTTP, once for many callers', async (t) => {
  let refreshes = 0;
  const now = () => Math.floor(Date.now() / 1000);
  let current = token({ alg: 'HS256' }, { sub: 'ann', sid: 's', iat: now() - 50, exp: now() + 10 });
  const { origin } = await serve(t, async (req, res, body) => {
    res.setHeader('content-type', 'application/json');
    res.setHeader('date', new Date().toUTCString());
    if (req.url === '/api/v3/auth/refresh') {
      refreshes += 1;
      assert.equal(JSON.parse(body).refresh_token, `jwtr_${refreshes - 1}`);
      current = token({ alg: 'HS256' }, { sub: 'ann', sid: 's', iat: now(), exp: now() + 60 });
      await new Promise((resolve) => setTimeout(resolve, 30));
      res.end(JSON.stringify({ data: { token: current, refresh_token: `jwtr_${refreshes}` } }));
      return;
    }
    const ok = req.headers.authorization === `Bearer ${current}`;
    res.statusCode = ok ? 200 : 401;
    res.end(JSON.stringify(ok ? { data: {} } : { code: 'ERR_JWT_EXPIRED', message: 'expired' }));
  });
  assert.throws(
    () => jwtkit.TokenSession.fromAuthResponse({ data: { token: current, refresh_token: 'jwtr_0' } }, { refreshUrl: `${origin}/api/v3/auth/refresh` }),
    (e) => e.code === 'ERR_ORIGIN_NOT_ALLOWED',
    'the refresh token goes to allowed origins only',
  );
  const session = jwtkit.TokenSession.fromAuthResponse(
    { data: { token: current, refresh_token: 'jwtr_0' } },
    { serverDate: new Date().toUTCString(), allowedOrigins: [origin], refreshUrl: `${origin}/api/v3/auth/refresh` },
  );
  const events = [];
  session.addEventListener('refreshed', (e) => events.push(e));
  assert.equal(session.secondsUntilRefresh(), 0, 'due: 10 s left of 60, the margin is 12');
  const responses = await Promise.all(Array.from({ length: 10 }, () => session.fetch(`${origin}/api/v3/secret`)));
  assert.deepEqual(responses.map((r) => r.status), Array(10).fill(200));
  assert.equal(refreshes, 1);
  assert.deepEqual(events, [{ type: 'refreshed', source: 'this-tab' }]);
  assert.equal(session.clockSource, 'date');
  assert.ok(session.secondsUntilRefresh() > 40);
  assert.equal(await session.getAccessToken(), current);
  assert.throws(() => session.addEventListener('changed', () => {}), (e) => e.code === 'ERR_INVALID_ARGUMENT');
});

test('a failed assertion inside a test server fails its test instead of hanging it', async () => {
  // The test context as far as serve() uses it: its end hooks, run here by hand (node:test
  // fails a test whose end hook throws).
  const hooks = [];
  const t = { after: (hook) => hooks.push(hook) };
  const { origin } = await serve(t, () => {
    assert.equal('sent', 'expected');
  });
  const response = await fetch(`${origin}/`, { signal: AbortSignal.timeout(10_000) });
  assert.equal(response.status, 500, 'answered at once, not left waiting');
  assert.match(await response.text(), /^the test server failed: Expected values to be strictly equal/);
  assert.throws(() => hooks.forEach((hook) => hook()), (e) => e.code === 'ERR_ASSERTION' && e.actual === 'sent');
});
