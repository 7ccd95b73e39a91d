// The `nodejs` build, required by name exactly as a Node.js user would.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createPublicKey, verify } from 'node:crypto';
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

test('every run-time export is declared in jwtkit.d.ts', () => {
  const types = readFileSync(require.resolve('jwtkit/jwtkit.d.ts'), 'utf8');
  const declared = new Set([...types.matchAll(/^export (?:declare )?(?:class|function|const|enum|interface|type) (\w+)/gm)].map((m) => m[1]));
  const exported = Object.keys(jwtkit).filter((name) => !name.startsWith('__'));
  assert.ok(exported.length >= 5, exported.join());
  assert.deepEqual(exported.filter((name) => !declared.has(name)), [], 'exported at run time, absent from the .d.ts');
});

test('an unknown option is refused naming the closest one, and undefined options are none', () => {
  const message = (fn) => {
    try {
      fn();
    } catch (error) {
      assert.equal(error.code, 'ERR_INVALID_ARGUMENT');
      return error.message;
    }
    assert.fail('did not throw');
  };
  assert.match(message(() => jwtkit.isExpired(good, { leeway: 30 })), /unknown option "leeway" \(did you mean "leewaySeconds"\?\)/);
  assert.match(message(() => jwtkit.secondsUntilExpiry(good, { clockOffsetSecs: 1 })), /did you mean "clockOffsetSeconds"/);
  assert.match(message(() => new jwtkit.TokenSession(good, { refreshURL: '/x' })), /unknown option "refreshURL" \(did you mean "refreshUrl"\?\)/);
  assert.match(message(() => jwtkit.TokenSession.fromAuthResponse({ token: good }, { serverdate: null })), /did you mean "serverDate"/);
  assert.match(message(() => jwtkit.TokenSession.fromAuthResponse({ token: good }, { colour: 'red' })), /unknown option "colour"; the options of AuthResponseOptions are /);
  // Fixed as suggested, or left undefined, the options are taken.
  assert.equal(jwtkit.isExpired(good, { leewaySeconds: 30, now: EXP }), false);
  assert.equal(jwtkit.isExpired(good, { leeway: undefined, now: EXP }), true);
});

test('a time in milliseconds is refused with the hint, and its fix is taken', () => {
  const ms = EXP * 1000;
  assert.throws(() => jwtkit.isExpired(good, { now: ms }), (e) => e.code === 'ERR_INVALID_ARGUMENT' && /looks like milliseconds \(Date\.now\(\)\): give seconds \(Date\.now\(\) \/ 1000\) or a Date/.test(e.message));
  assert.equal(jwtkit.isExpired(good, { now: ms / 1000 }), true);
  assert.equal(jwtkit.isExpired(good, { now: new Date(ms - 1000) }), false);
});

test('in Node.js a session with the default paths says to give absolute URLs, and works with them', async (t) => {
  const now = () => Math.floor(Date.now() / 1000);
  const fresh = () => token({ alg: 'HS256' }, { sub: 'ann', sid: 's', iat: now(), exp: now() + 60 });
  const stale = token({ alg: 'HS256' }, { sub: 'ann', sid: 's', iat: now() - 50, exp: now() + 5 });
  const pathRefused = (e) => e.code === 'ERR_INVALID_ARGUMENT'
    && /is a path, and outside a page \(Node\.js\) there is no origin/.test(e.message) && /allowedOrigins/.test(e.message);
  await assert.rejects(new jwtkit.TokenSession(fresh()).fetch('/api/v3/secret'), pathRefused);
  await assert.rejects(new jwtkit.TokenSession(fresh()).fetch('/api/v3/secret?key=hunter2'),
    (e) => pathRefused(e) && !e.message.includes('hunter2'), 'a query is never repeated');
  // A refresh due: it fails for the same reason, and says so in its event.
  const relative = jwtkit.TokenSession.fromAuthResponse({ data: { token: stale, refresh_token: 'jwtr_0' } }, { serverDate: new Date() });
  const failures = [];
  relative.addEventListener('refreshfailed', (e) => failures.push(e.error));
  await relative.getAccessToken();
  assert.equal(failures.length, 1);
  assert.ok(pathRefused(failures[0]), failures[0].message);
  assert.match(failures[0].message, /"\/api\/v3\/auth\/refresh"/);
  // The README's Node.js example: absolute URLs, their origin allowed.
  const seen = [];
  const { origin } = await serve(t, async (req, res) => {
    seen.push(req.url);
    res.setHeader('content-type', 'application/json');
    if (req.url === '/api/v3/auth/refresh') {
      res.end(JSON.stringify({ data: { token: fresh(), refresh_token: 'jwtr_1' } }));
    } else {
      res.statusCode = 200;
      res.end('{}');
    }
  });
  const session = jwtkit.TokenSession.fromAuthResponse({ data: { token: stale, refresh_token: 'jwtr_0' } }, {
    serverDate: new Date(),
    allowedOrigins: [origin],
    refreshUrl: `${origin}/api/v3/auth/refresh`,
    logoutUrl: `${origin}/api/v3/auth/logout`,
  });
  assert.equal((await session.fetch(`${origin}/api/v3/secret`)).status, 200);
  await session.logout();
  assert.deepEqual(seen, ['/api/v3/auth/refresh', '/api/v3/secret', '/api/v3/auth/logout']);
});

test('a refusal given as an auth response is thrown as the server\'s own error', () => {
  const refusal = { error: 'invalid_client', code: 'ERR_API_KEY_INVALID', message: 'the API key is not valid' };
  assert.throws(() => jwtkit.TokenSession.fromAuthResponse(refusal), (e) => e.code === 'ERR_API_KEY_INVALID' && e.message === 'the API key is not valid');
  assert.throws(() => jwtkit.TokenSession.fromAuthResponse({ data: {} }), (e) => e.code === 'ERR_INVALID_ARGUMENT');
});

/// A DPoP proof, checked here with node:crypto (not the package's code): its header and
/// claims, once its signature verifies with its own `jwk`; that key's RFC 7638 thumbprint.
function checkedProof(proof) {
  const [header64, claims64, signature] = proof.split('.');
  const header = JSON.parse(Buffer.from(header64, 'base64url'));
  const claims = JSON.parse(Buffer.from(claims64, 'base64url'));
  assert.deepEqual([header.typ, header.alg, header.jwk.kty, header.jwk.crv], ['dpop+jwt', 'ES256', 'EC', 'P-256']);
  assert.equal(header.jwk.d, undefined, 'no private member');
  const key = createPublicKey({ key: header.jwk, format: 'jwk' });
  const verified = verify('sha256', Buffer.from(`${header64}.${claims64}`), { key, dsaEncoding: 'ieee-p1363' }, Buffer.from(signature, 'base64url'));
  assert.ok(verified, 'the proof\'s signature verifies with its jwk');
  const { crv, kty, x, y } = header.jwk;
  const jkt = createHash('sha256').update(JSON.stringify({ crv, kty, x, y })).digest('base64url');
  return { header, claims, jkt };
}

test('authenticate proves a key on every request: nonces followed, htu without the query, ath, and the same key throughout', async (t) => {
  const access = token({ alg: 'ES256', typ: 'at+jwt' }, { sub: 'ann', sid: 's1', iat: EXP - 180, exp: EXP });
  const seen = [];
  const { origin } = await serve(t, (req, res) => {
    const proof = checkedProof(req.headers.dpop);
    seen.push({ method: req.method, path: req.url, authorization: req.headers.authorization, ...proof });
    // The first proof comes without the nonce: asked for once, then used.
    if (proof.claims.nonce !== 'n-1') {
      res.writeHead(401, { 'content-type': 'application/json', 'dpop-nonce': 'n-1', 'www-authenticate': 'DPoP error="use_dpop_nonce"' });
      return res.end(JSON.stringify({ code: 'ERR_DPOP_NONCE_REQUIRED', message: 'the nonce' }));
    }
    // A refusal for another reason, with a nonce: answered as it is, not sent again.
    if (req.url === '/api/v3/admin') {
      res.writeHead(401, { 'content-type': 'application/json', 'dpop-nonce': 'n-2', 'www-authenticate': 'DPoP error="invalid_token"' });
      return res.end(JSON.stringify({ code: 'ERR_JWT_EXPIRED', message: 'expired' }));
    }
    res.writeHead(200, { 'content-type': 'application/json', 'dpop-nonce': 'n-1' });
    const data = { token: access, token_type: 'DPoP', refresh_token: 'r-2' };
    res.end(JSON.stringify(req.url === '/api/v3/secret?page=2' ? { ok: true } : { data }));
  });
  const session = await jwtkit.TokenSession.authenticate({ 'api-key': 'k' }, {
    authUrl: `${origin}/api/v3/auth`, refreshUrl: `${origin}/api/v3/auth/refresh`, allowedOrigins: [origin], now: EXP - 100,
  }).catch((e) => e);
  // `now` is no option of authenticate: refused by name before anything is sent.
  assert.equal(session.code, 'ERR_INVALID_ARGUMENT');
  assert.equal(seen.length, 0);

  const bound = await jwtkit.TokenSession.authenticate({ 'api-key': 'k' }, {
    authUrl: `${origin}/api/v3/auth`, refreshUrl: `${origin}/api/v3/auth/refresh`, allowedOrigins: [origin],
  });
  const response = await bound.fetch(`${origin}/api/v3/secret?page=2#top`);
  assert.deepEqual(await response.json(), { ok: true });
  await bound.refresh();
  const jkt = await bound.dpopThumbprint();
  assert.equal(codeOf(() => bound.authorizationHeader()), 'ERR_INVALID_ARGUMENT', 'a bound token never goes alone');
  const refused = await bound.fetch(`${origin}/api/v3/admin`, { method: 'POST' }).catch((e) => e.code);
  assert.equal(refused, 'ERR_JWT_EXPIRED');
  assert.deepEqual(seen.map((s) => [s.method, s.path, s.claims.nonce ?? null]), [
    ['POST', '/api/v3/auth', null], ['POST', '/api/v3/auth', 'n-1'],
    ['GET', '/api/v3/secret?page=2', 'n-1'], ['POST', '/api/v3/auth/refresh', 'n-1'],
    ['POST', '/api/v3/admin', 'n-1'],
  ]);
  assert.ok(seen.every((s) => s.jkt === jkt), 'one key throughout');
  assert.equal(new Set(seen.map((s) => s.claims.jti)).size, seen.length, 'a new jti each time');
  const call = seen[2];
  assert.deepEqual([call.claims.htm, call.claims.htu], ['GET', `${origin}/api/v3/secret`]);
  assert.equal(call.authorization, `DPoP ${access}`);
  assert.equal(call.claims.ath, createHash('sha256').update(access).digest('base64url'));
  assert.equal(seen[0].claims.ath, undefined, 'no token, no ath');
  // A new session, a new key.
  const again = await jwtkit.TokenSession.authenticate({ 'api-key': 'k' }, {
    authUrl: `${origin}/api/v3/auth`, allowedOrigins: [origin],
  });
  assert.notEqual(await again.dpopThumbprint(), jkt);
  // On the server's clock as the session knows it (here from the fresh token's iat).
  assert.ok(Math.abs(call.claims.iat - (Date.now() / 1000 + bound.clockOffsetSeconds)) < 5);
  assert.equal(bound.clockSource, 'iat');
});

test('with dpop false, authenticate sends no proof and the session is a bearer one', async (t) => {
  const access = token({ alg: 'HS256' }, { sub: 'ann', iat: EXP - 180, exp: EXP });
  const headers = [];
  const { origin } = await serve(t, (req, res) => {
    headers.push([req.headers.dpop, req.headers.authorization]);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ data: { token: access, token_type: 'Bearer', refresh_token: 'r' } }));
  });
  const session = await jwtkit.TokenSession.authenticate({ 'api-key': 'k' }, {
    authUrl: `${origin}/api/v3/auth`, allowedOrigins: [origin], dpop: false,
  });
  await session.fetch(`${origin}/api/v3/secret`);
  assert.deepEqual(headers, [[undefined, undefined], [undefined, `Bearer ${access}`]]);
  assert.equal(await session.dpopThumbprint(), null);
  const refused = await jwtkit.TokenSession.authenticate({ 'api-key': 'k' }, { authUrl: `${origin}/api/v3/auth`, allowedOrigins: [origin], dpop: 'yes' })
    .catch((e) => e.code);
  assert.equal(refused, 'ERR_INVALID_ARGUMENT');
});
