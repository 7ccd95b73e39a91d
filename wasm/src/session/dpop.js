// DPoP (RFC 9449) for a session: the key its tokens are bound to, and a proof of that key for
// each request that carries them. The key pair is WebCrypto's, its private half
// non-extractable, kept as a CryptoKey in IndexedDB: a reload and the other tabs of the origin
// find the same key, and no script — not even one injected into the page — can read the
// private key out; it can only have it sign while it runs in the page. Every new session
// gets a new key (one planted in storage is never taken up), and its end forgets it; the keys
// left behind (a tab closed on its session, a sign-in abandoned) are forgotten a day later.
// Without IndexedDB, Node.js keeps the key as long as the process.

const DB = 'jwtkit-dpop';
const STORE = 'keys';
/// How long a key no session names is kept: longer than any sign-in's round trip through a
/// provider's login page (whose key is named, or held by its tab, once the tab is back).
const UNNAMED_KEY_MS = 24 * 60 * 60 * 1000;
/// WebCrypto's parameters for generating a key, and for signing with it.
const PARAMS = {
  ES256: [{ name: 'ECDSA', namedCurve: 'P-256' }, { name: 'ECDSA', hash: 'SHA-256' }],
  EdDSA: [{ name: 'Ed25519' }, { name: 'Ed25519' }],
};
/// This document's keys by thumbprint, loaded once.
const keys = new Map();
/// The last `DPoP-Nonce` of each origin (RFC 9449 §8, §9).
const nonces = new Map();
const encoder = new TextEncoder();

export const b64url = (bytes) => {
  let text = '';
  for (const byte of new Uint8Array(bytes)) text += String.fromCharCode(byte);
  return btoa(text).replaceAll('+', '-').replaceAll('/', '_').replace(/=+$/, '');
};

const part = (value) => b64url(encoder.encode(JSON.stringify(value)));

/// The session's key (`{ name, alg }`), or null: `dpop` is the option (true, false, or
/// undefined for `byDefault`), `offered` the server's dpop_signing_alg_values_supported when
/// it announces them. ES256, which every browser has, unless the server takes only EdDSA.
export function dpopChoice(dpop, byDefault, name, offered, errors) {
  if (dpop !== undefined && typeof dpop !== 'boolean') throw errors.error('invalid', 'dpop must be true or false');
  if (!(dpop ?? byDefault)) return null;
  const alg = !Array.isArray(offered) || offered.includes('ES256') ? 'ES256'
    : ['EdDSA', 'Ed25519'].find((name) => offered.includes(name)) && 'EdDSA';
  if (!alg) throw errors.error('dpop', `the server takes DPoP proofs of ${offered.join(', ')} only, and this package signs ES256 or EdDSA`);
  return { name, alg };
}

/// A new key for a new session (`authenticate`, a sign-in): never one found in storage,
/// which a script injected earlier could have put there. Kept in IndexedDB under its
/// thumbprint (named the current one of `choice.name` once its session is there:
/// [`makeCurrent`]); `choice` with its `jkt`. The keys left behind are forgotten meanwhile
/// ([`sweep`]).
export async function newDpopKey(choice, errors) {
  const key = await guarded(errors, async () => {
    const { alg } = choice;
    const pair = await crypto.subtle.generateKey(PARAMS[alg][0], false, ['sign']);
    const made = await described({ alg, ...pair });
    await withStore(async (store) => {
      await sweep(store, Date.now());
      store.put({ alg, privateKey: pair.privateKey, publicKey: pair.publicKey, created: Date.now() }, `jkt:${made.jkt}`);
    });
    return made;
  });
  keys.set(key.jkt, Promise.resolve(key));
  return { ...choice, jkt: key.jkt };
}

/// The thumbprint of the current key of `name` (the cookie's session's), or undefined.
/// (None where no key can be kept.)
export const currentKey = (name, errors) => guarded(errors, () => withStore((store) => store.get(`name:${name}`)))
  .catch(() => undefined);

/// The key of a session's `choice` (with its `jkt`).
export async function dpopKey(choice, errors) {
  const { jkt } = choice;
  if (!keys.has(jkt)) {
    const key = guarded(errors, async () => {
      const pair = await withStore((store) => store.get(`jkt:${jkt}`));
      if (!pair) throw new Error('the session\'s key is gone (the browser\'s data for this site was cleared): authenticate again');
      return described(pair);
    });
    keys.set(jkt, key);
    key.catch(() => keys.delete(jkt));
  }
  return keys.get(jkt);
}

/// Names the key of a session that began in the refresh-token cookie the current one of its
/// name: what a reload resumes with (the cookie holds one session; its key is this one).
export const makeCurrent = (choice, errors) => choice
  && guarded(errors, () => withStore((store) => store.put(choice.jkt, `name:${choice.name}`)));

/// `choice` with the current key of its name (the cookie's session resumed), or null when
/// there is none: a session that was never bound, or whose key is lost, proves nothing.
export const withKey = async (choice, errors) => {
  const jkt = choice && await currentKey(choice.name, errors);
  return jkt ? { ...choice, jkt } : null;
};

/// The thumbprint of the key `choice`, or null without one.
export const dpopThumbprint = async (choice, errors) => (choice ? (await dpopKey(choice, errors)).jkt : null);

/// Forgets a session's key when the session ends (and its name, if it is still the current).
export async function forgetDpopKey(choice) {
  if (!choice?.jkt) return;
  keys.delete(choice.jkt);
  await withStore(async (store) => {
    store.delete(`jkt:${choice.jkt}`);
    if (await store.get(`name:${choice.name}`) === choice.jkt) store.delete(`name:${choice.name}`);
  }).catch(() => {});
}

/// Forgets the keys no session asks for again: those of sessions that ended with their tab (a
/// session whose refresh token is not in the cookie lives in its tab, which holds its key in
/// memory) and of sign-ins abandoned at the provider — every key that is not the current one
/// of a name and is older than [`UNNAMED_KEY_MS`] (a key written before keys were dated, too).
async function sweep(store, now) {
  const entries = (await store.entries()).map(([name, value]) => [String(name), value]);
  const named = new Set(entries.filter(([name]) => name.startsWith('name:')).map(([, jkt]) => `jkt:${jkt}`));
  for (const [name, key] of entries) {
    if (name.startsWith('jkt:') && !named.has(name) && !(now - (key?.created ?? 0) < UNNAMED_KEY_MS)) store.delete(name);
  }
}

/// `work()`, its failures as ERR_DPOP_KEY_UNAVAILABLE.
async function guarded(errors, work) {
  if (!globalThis.crypto?.subtle) throw errors.error('dpop', 'WebCrypto (crypto.subtle) is not available: a secure context (https or localhost) is required');
  try {
    return await work();
  } catch (cause) {
    throw errors.error('dpop', `no DPoP key: ${cause?.message ?? cause}`);
  }
}

/// A key pair as proofs use it: its public JWK (RFC 7638's required members, in
/// lexicographic order, which are what the thumbprint hashes) and thumbprint.
async function described({ alg, privateKey, publicKey }) {
  const { crv, kty, x, y } = await crypto.subtle.exportKey('jwk', publicKey);
  const jwk = kty === 'EC' ? { crv, kty, x, y } : { crv, kty, x };
  const jkt = b64url(await crypto.subtle.digest('SHA-256', encoder.encode(JSON.stringify(jwk))));
  return { alg, privateKey, jwk, jkt };
}

const done = (request) => new Promise((resolve, reject) => {
  request.onsuccess = () => resolve(request.result);
  request.onerror = () => reject(request.error);
});

/// Node.js keeps its keys as long as the process lives.
const memory = new Map();

/// Runs `work(store)` in one read-write transaction of the keys' object store (`get` and
/// `entries`, every `[name, value]`, answer a promise; `put` and `delete` are queued),
/// resolving with its result once committed. In Node.js, a Map; a browser without IndexedDB
/// keeps no key (a tab's own would end the session at the next tab's refresh).
async function withStore(work) {
  if (typeof indexedDB === 'undefined') {
    if (!globalThis.process?.versions?.node) throw new Error('this browser offers no IndexedDB to keep it in');
    return work({
      get: async (k) => memory.get(k), entries: async () => [...memory], put: (v, k) => memory.set(k, v), delete: (k) => memory.delete(k),
    });
  }
  const open = indexedDB.open(DB, 1);
  open.onupgradeneeded = () => open.result.createObjectStore(STORE);
  const db = await done(open);
  try {
    const transaction = db.transaction(STORE, 'readwrite');
    const committed = new Promise((resolve, reject) => {
      transaction.oncomplete = resolve;
      transaction.onerror = () => reject(transaction.error);
      transaction.onabort = () => reject(transaction.error ?? new Error('IndexedDB aborted the transaction'));
    });
    // Awaited below, unless `work` fails first (then its failure is the one told).
    committed.catch(() => {});
    const store = transaction.objectStore(STORE);
    const entries = async () => {
      const [names, values] = await Promise.all([done(store.getAllKeys()), done(store.getAll())]);
      return names.map((name, i) => [name, values[i]]);
    };
    const result = await work({
      get: (k) => done(store.get(k)), entries, put: (v, k) => store.put(v, k), delete: (k) => store.delete(k),
    });
    await committed;
    return result;
  } finally {
    db.close();
  }
}

/// A DPoP proof of `key` for `method` at `url` (its query and fragment left out), with `ath`
/// for `token` when given, the origin's last nonce, and `iat` on the server's clock (`offset`
/// seconds ahead of this one).
async function proof(key, method, url, token, offset) {
  const header = { typ: 'dpop+jwt', alg: key.alg, jwk: key.jwk };
  const claims = {
    jti: b64url(crypto.getRandomValues(new Uint8Array(16))), htm: method, htu: url.origin + url.pathname,
    iat: Math.floor(Date.now() / 1000 + offset),
  };
  if (token) claims.ath = b64url(await crypto.subtle.digest('SHA-256', encoder.encode(token)));
  if (nonces.has(url.origin)) claims.nonce = nonces.get(url.origin);
  const input = `${part(header)}.${part(claims)}`;
  return `${input}.${b64url(await crypto.subtle.sign(PARAMS[key.alg][1], key.privateKey, encoder.encode(input)))}`;
}

/// `send(input, init)` with a proof of `key` in `init.headers` (a Headers) and, when `token` is
/// given, `Authorization: DPoP <token>`; sent once more when the answer refuses it for want of
/// the nonce it names (a streamed body, which cannot be sent twice, excepted).
export async function sendWithProof(send, key, input, init, token, errors, offset = 0) {
  let url;
  try {
    url = new URL(typeof input === 'string' ? input : (input.url ?? input.href), globalThis.location?.href);
  } catch {
    throw errors.error('invalid', 'a DPoP proof names its request\'s absolute URL: outside a page (Node.js) give absolute URLs, or dpop: false');
  }
  const method = String(init.method ?? input.method ?? 'GET').toUpperCase();
  if (token) init.headers.set('Authorization', `DPoP ${token}`);
  for (let retried = false; ; retried = true) {
    const sent = nonces.get(url.origin);
    init.headers.set('DPoP', await proof(key, method, url, token, offset));
    const response = await send(!retried && input instanceof Request ? input.clone() : input, init);
    // The answering origin's nonce (after a redirect, another's).
    const origin = response.url ? new URL(response.url).origin : url.origin;
    const nonce = response.headers.get('dpop-nonce');
    if (nonce) nonces.set(origin, nonce);
    const again = !retried && nonce && nonce !== sent && origin === url.origin && !isStream(init.body)
      && await asksForNonce(response);
    if (!again) return response;
  }
}

const isStream = (body) => typeof ReadableStream === 'function' && body instanceof ReadableStream;

/// Whether a refusal asks for the server's nonce (RFC 9449 §8: `use_dpop_nonce`, in a
/// resource server's challenge, or an authorization server's 400 body).
async function asksForNonce(response) {
  if (response.status === 401) return /\buse_dpop_nonce\b/.test(response.headers.get('www-authenticate') ?? '');
  return response.status === 400 && (await response.clone().json().catch(() => null))?.error === 'use_dpop_nonce';
}
