// DPoP (RFC 9449) for a session: the key its tokens are bound to, and a proof of that key for
// each request that carries them. The key pair is WebCrypto's, its private half
// non-extractable, kept as a CryptoKey in IndexedDB: a reload and the other tabs of the origin
// find the same key, and no script — not even one injected into the page — can read the
// private key out; it can only have it sign while it runs in the page. Without IndexedDB
// (Node.js) the key lives as long as the process.

const DB = 'jwtkit-dpop';
const STORE = 'keys';
/// WebCrypto's parameters for generating a key, and for signing with it.
const PARAMS = {
  ES256: [{ name: 'ECDSA', namedCurve: 'P-256' }, { name: 'ECDSA', hash: 'SHA-256' }],
  EdDSA: [{ name: 'Ed25519' }, { name: 'Ed25519' }],
};
/// This document's keys by name, loaded once.
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

/// The key `{ name, alg }` of this origin: the one kept in IndexedDB, else a new one put there.
export function dpopKey(choice, errors) {
  let key = keys.get(choice.name);
  if (!key) {
    key = load(choice, errors);
    keys.set(choice.name, key);
    key.catch(() => keys.delete(choice.name));
  }
  return key;
}

/// The thumbprint of the key `choice` (`{ name, alg }`), or null without one.
export const dpopThumbprint = async (choice, errors) => (choice ? (await dpopKey(choice, errors)).jkt : null);

async function load({ name, alg }, errors) {
  const subtle = globalThis.crypto?.subtle;
  if (!subtle) throw errors.error('dpop', 'WebCrypto (crypto.subtle) is not available: a secure context (https or localhost) is required');
  let pair;
  try {
    pair = await stored(name, async () => ({ alg, ...await subtle.generateKey(PARAMS[alg][0], false, ['sign']) }));
  } catch (cause) {
    throw errors.error('dpop', `no ${alg} key could be generated and kept: ${cause?.message ?? cause}`);
  }
  const { crv, kty, x, y } = await subtle.exportKey('jwk', pair.publicKey);
  // RFC 7638: the required members, in lexicographic order, are what the thumbprint hashes.
  const jwk = kty === 'EC' ? { crv, kty, x, y } : { crv, kty, x };
  const jkt = b64url(await subtle.digest('SHA-256', encoder.encode(JSON.stringify(jwk))));
  return { alg: pair.alg, privateKey: pair.privateKey, jwk, jkt };
}

const done = (request) => new Promise((resolve, reject) => {
  request.onsuccess = () => resolve(request.result);
  request.onerror = () => reject(request.error);
});

/// The key pair stored under `name`, else `make()`'s, stored: in one transaction, so that of
/// two tabs making one at once, both keep the first stored.
async function stored(name, make) {
  if (typeof indexedDB === 'undefined') return make();
  const open = indexedDB.open(DB, 1);
  open.onupgradeneeded = () => open.result.createObjectStore(STORE);
  const db = await done(open);
  try {
    const existing = await done(db.transaction(STORE).objectStore(STORE).get(name));
    if (existing) return existing;
    const made = await make();
    const transaction = db.transaction(STORE, 'readwrite');
    const store = transaction.objectStore(STORE);
    const first = await done(store.get(name));
    if (first) return first;
    store.put(made, name);
    await new Promise((resolve, reject) => {
      transaction.oncomplete = resolve;
      transaction.onerror = () => reject(transaction.error);
    });
    return made;
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
/// given, `Authorization: DPoP <token>`; sent once more when the answer refuses it with a new
/// nonce to use.
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
    const nonce = response.headers.get('dpop-nonce');
    if (nonce) nonces.set(url.origin, nonce);
    if (retried || !nonce || nonce === sent || (response.status !== 400 && response.status !== 401)) return response;
  }
}
