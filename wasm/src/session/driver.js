// The browser side of a TokenSession: requests, tabs and events. What a token means — whether
// it is good, when it is due, the server's clock, the error codes — is decided by the Rust
// rules (`SessionRules`) every driver is given; this file only moves tokens and messages.
//
// - refresh: once per tab at a time (one promise shared by every caller), and for a cookie
//   session once across the tabs of an origin (a Web Lock, then a BroadcastChannel message
//   with the new access token); without those APIs, once per tab;
// - fetch: the token only to the page's origin or an allowed one; a 401 for expiry is
//   refreshed and retried once, for idempotent methods;
// - events: refreshed, loggedout, refreshfailed;
// - DPoP: a session whose tokens are bound to a key of this browser (`protocol.dpop`) proves
//   it on every refresh, and on every request that carries a DPoP token (`dpop.js`).

import {
  currentKey, dpopChoice, dpopKey, forgetDpopKey, makeCurrent, newDpopKey, sendWithProof, withKey,
} from './dpop.js';

const EVENTS = ['refreshed', 'loggedout', 'refreshfailed'];
const IDEMPOTENT = ['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE'];
/// How long a tab that waited for the lock waits for the holder's token: the holder posts it
/// before letting go, but channels and locks do not keep each other's order.
const TOKEN_WAIT_MS = 500;
/// How long a tab opening waits for another tab to tell it the session's current token.
const HELLO_WAIT_MS = 150;
const DEFAULT_LOCK_TIMEOUT_MS = 10000;
export const DEFAULT_CHANNEL = 'jwtkit-session';
/// What a DPoP-bound token's `token_type` is (compared without case, RFC 9449 §5).
const isDpop = (type) => String(type).toLowerCase() === 'dpop';

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/// A relative path (not `//host`, which names an origin).
const isPath = (url) => url.startsWith('/') && !url.startsWith('//') && !url.startsWith('/\\');

/// The `allowedOrigins` option: each entry an origin exactly (`https://api.example`).
function allowedOrigins(options, errors) {
  const origins = options.allowedOrigins;
  const invalid = (problem) => errors.error('invalid', problem);
  if (origins === undefined || origins === null) return [];
  if (!Array.isArray(origins)) throw invalid('allowedOrigins must be an array of origins');
  const problem = 'allowedOrigins entries are origins, like https://api.example.com';
  return origins.map((entry) => {
    if (typeof entry !== 'string') throw invalid(problem);
    let origin;
    try {
      origin = new URL(entry).origin;
    } catch {
      throw invalid(problem);
    }
    if (origin === 'null' || origin !== entry.replace(/\/$/, '')) throw invalid(problem);
    return origin;
  });
}

/// A token or a cookie goes to the page's origin or an allowed one; others are refused
/// unsent.
function checkOrigin(input, allowed, errors) {
  const url = typeof input === 'string' ? input : (input?.url ?? input?.href);
  if (typeof url !== 'string') throw errors.error('invalid', 'fetch takes a URL, a string or a Request');
  const page = globalThis.location?.href;
  let origin;
  try {
    origin = new URL(url, page).origin;
  } catch {
    // A path with no page to resolve it against can only mean the page's own origin.
    if (page === undefined && isPath(url)) return;
    throw errors.error('invalid', 'fetch takes a valid URL');
  }
  if (origin === globalThis.location?.origin || allowed.includes(origin)) return;
  throw errors.error('origin', origin);
}

export class Driver {
  #rules;
  #errors;
  #protocol;
  #delivery;
  #refreshToken;
  #allowed;
  #refreshUrl;
  #logoutUrl;
  #channelName;
  #lockTimeoutMs;
  #fetch;
  #onExpired;
  #listeners = [];
  #channel = null;
  #inflight = null;
  /// A session from a sign-in: the provider's metadata, the client, the ID token.
  #oidc = null;

  /// `rules`: the Rust rules of this session's token; `errors`: the package's coded errors;
  /// `protocol`: the server's paths, CSRF header and session-ending codes; `delivery`:
  /// "body", "cookie" or "none"; `options`: the session's options (an object or undefined,
  /// read by the rules already for clocks and margins).
  constructor(rules, errors, protocol, delivery, refreshToken, options) {
    this.#rules = rules;
    this.#errors = errors;
    this.#protocol = protocol;
    // A sign-in's session whose refresh token rides the provider's cookie refreshes too.
    this.#delivery = protocol.oidc?.cookie ? 'oidc' : delivery;
    this.#refreshToken = refreshToken ?? null;
    const o = options ?? {};
    const invalid = (problem) => errors.error('invalid', problem);
    const text = (name, fallback) => {
      const value = o[name];
      if (value === undefined || value === null) return fallback;
      if (typeof value !== 'string' || value === '') throw invalid('URL and channel options must be non-empty strings');
      return value;
    };
    const fn = (name) => {
      const value = o[name];
      if (value === undefined || value === null) return null;
      if (typeof value !== 'function') throw invalid('onExpired and fetch must be functions');
      return value;
    };
    this.#allowed = allowedOrigins(o, errors);
    this.#oidc = protocol.oidc ?? null;
    if (this.#oidc) {
      // The provider's token endpoint, from the metadata of the issuer the page chose: the
      // refresh token goes there and nowhere else.
      this.#refreshUrl = protocol.refreshPath;
    } else {
      this.#refreshUrl = text('refreshUrl', protocol.refreshPath);
      this.#logoutUrl = text('logoutUrl', protocol.logoutPath);
      // The refresh token and the access token go there: the same rule as for fetch.
      this.#checkOrigin(this.#refreshUrl);
      this.#checkOrigin(this.#logoutUrl);
    }
    this.#channelName = text('channelName', DEFAULT_CHANNEL);
    const timeout = o.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS;
    if (typeof timeout !== 'number' || !Number.isFinite(timeout) || timeout < 0) {
      throw invalid('lockTimeoutMs must be a finite number of milliseconds');
    }
    this.#lockTimeoutMs = timeout;
    this.#fetch = fn('fetch');
    this.#onExpired = fn('onExpired');
    // A cookie session is shared (the HttpOnly cookie is the origin's), and so is a session
    // from a sign-in (its refresh token travels with each rotation to the tabs of the
    // session, so that any of them refreshes, once, and a closing tab takes nothing away); a
    // refresh token in a body belongs to its tab alone.
    if ((delivery === 'cookie' || this.#oidc) && typeof BroadcastChannel === 'function') {
      this.#channel = new BroadcastChannel(this.#channelName);
      this.#channel.onmessage = (event) => this.#receive(event.data);
    }
  }

  get delivery() {
    return this.#delivery;
  }

  get oidc() {
    return this.#oidc;
  }

  get dpop() {
    return this.#protocol.dpop ?? null;
  }

  /// Whether the access token is DPoP-bound: it goes with a proof, never alone.
  get bound() {
    return Boolean(this.#protocol.dpop) && (Boolean(this.#oidc) || isDpop(this.#protocol.tokenType));
  }

  get idToken() {
    return this.#oidc?.idToken;
  }

  get idTokenClaims() {
    return this.#oidc?.claims;
  }

  /// A valid access token: refreshed first when due, renewed through onExpired for a
  /// session that cannot refresh. `session` is what onExpired is called with.
  async accessToken(session) {
    const rules = this.#rules;
    if (rules.ended) throw this.#errors.error('ended');
    if (this.#delivery !== 'none') {
      if (rules.due()) {
        try {
          await this.refresh();
        } catch (error) {
          // A refresh ahead of time that failed is no loss while the token is still good.
          if (!this.#good()) throw error;
        }
      }
    } else if (!this.#good() && this.#onExpired) {
      await this.#renewThroughCallback(session);
    }
    rules.check();
    return rules.token;
  }

  #good() {
    try {
      this.#rules.check();
      return true;
    } catch {
      return false;
    }
  }

  /// onExpired, once however many requests wait.
  #renewThroughCallback(session) {
    this.#inflight ??= (async () => {
      try {
        const fresh = await this.#onExpired.call(undefined, session);
        if (typeof fresh === 'string') this.#rules.take(fresh, null);
      } finally {
        this.#inflight = null;
      }
    })();
    return this.#inflight;
  }

  /// Refreshes now, sharing a refresh under way in this tab.
  refresh() {
    if (this.#delivery === 'none') {
      return Promise.reject(this.#errors.error('invalid', 'this session has no refresh token'));
    }
    this.#inflight ??= this.#coordinated().finally(() => {
      this.#inflight = null;
    });
    return this.#inflight;
  }

  /// Refreshes a cookie session holding the origin's Web Lock, so that one tab refreshes and
  /// the others take its token; without the lock (none, or not had in time) on its own.
  async #coordinated() {
    const seen = this.#rules.version;
    const shared = this.#delivery === 'cookie' || this.#delivery === 'oidc';
    const locks = shared ? globalThis.navigator?.locks : undefined;
    if (!locks) return this.#unlessDone(seen);
    const name = this.#oidc ? `${this.#channelName} ${this.#oidc.key}` : this.#channelName;
    // First without waiting: the lock is free, or another tab is refreshing.
    let ran = false;
    await locks.request(name, { ifAvailable: true }, async (lock) => {
      if (!lock) return;
      ran = true;
      await this.#unlessDone(seen);
    });
    if (ran) return;
    const options = typeof AbortSignal?.timeout === 'function' ? { signal: AbortSignal.timeout(this.#lockTimeoutMs) } : {};
    try {
      await locks.request(name, options, async () => {
        await this.#tokenFromOtherTab(seen);
        await this.#unlessDone(seen);
      });
    } catch (error) {
      if (error?.name !== 'AbortError' && error?.name !== 'TimeoutError') throw error;
      await this.#unlessDone(seen);
    }
  }

  async #tokenFromOtherTab(seen) {
    for (let waited = 0; waited < TOKEN_WAIT_MS && this.#rules.version === seen; waited += 5) {
      await sleep(5);
    }
  }

  /// Refreshes unless another tab did while this one waited (its token arrived, not due).
  async #unlessDone(seen) {
    const rules = this.#rules;
    if (rules.ended) throw this.#errors.error('ended');
    if (rules.version !== seen && !rules.due()) return;
    await this.#refreshNow();
  }

  /// One refresh request, and what it means for the session.
  async #refreshNow() {
    const rules = this.#rules;
    const { dpop } = this.#protocol;
    // The cookie holds one session: when a newer one (another tab's sign-in) has its key as
    // the current one, this session is over here; its refresh would end the newer one.
    if (dpop && (this.#delivery === 'cookie' || this.#oidc?.cookie)
      && await currentKey(dpop.name, this.#errors) !== dpop.jkt) {
      this.#end('other-tab', false);
      forgetDpopKey(dpop);
      throw this.#errors.error('ended');
    }
    const headers = new Headers();
    const init = { method: 'POST', headers };
    if (this.#delivery === 'oidc') {
      // RFC 6749 §6, as the public client the sign-in was; the refresh token from memory, or
      // the provider's HttpOnly cookie (jwtkit's refresh_token_delivery).
      const form = { grant_type: 'refresh_token', client_id: this.#oidc.clientId };
      if (this.#oidc.cookie) {
        form.refresh_token_delivery = 'cookie';
        init.credentials = 'include';
        headers.set(this.#protocol.csrfHeader, '1');
      } else {
        form.refresh_token = this.#refreshToken;
      }
      init.body = new URLSearchParams(form);
      headers.set('Accept', 'application/json');
      init.redirect = 'error';
    } else if (this.#delivery === 'body') {
      init.body = JSON.stringify({ refresh_token: this.#refreshToken });
      headers.set('Content-Type', 'application/json');
    } else {
      init.credentials = 'include';
      headers.set(this.#protocol.csrfHeader, '1');
    }
    let response;
    try {
      response = await this.#proved(this.#refreshUrl, init, null);
    } catch (error) {
      this.#emit('refreshfailed', { kind: 'network', error });
      throw error;
    }
    // Logged out while the answer was on its way: the session stays ended.
    if (rules.ended) throw this.#errors.error('ended');
    if (response.status !== 200 && this.#oidc) {
      const body = await response.clone().json().catch(() => null);
      const detail = typeof body?.error === 'string'
        ? `${body.error}${typeof body.error_description === 'string' ? `: ${body.error_description}` : ''}`
        : `the token endpoint answered ${response.status}`;
      const error = this.#errors.error('token', `the refresh failed: ${detail}`);
      error.status = response.status;
      if (typeof body?.error === 'string') error.error = body.error;
      // invalid_grant: the refresh token is used up, revoked or expired (RFC 6749 §5.2).
      if (body?.error === 'invalid_grant') {
        this.#end('revoked', true);
      } else {
        this.#emit('refreshfailed', { kind: response.status >= 500 ? 'network' : 'refused', error });
      }
      throw error;
    }
    if (response.status !== 200) {
      const error = await this.#refused(response);
      const reason = this.#protocol.endingCodes[error.code];
      if (reason) {
        this.#end(reason, true);
      } else {
        this.#emit('refreshfailed', { kind: response.status >= 500 ? 'network' : 'refused', error });
      }
      throw error;
    }
    const body = await response.clone().json().catch(() => null);
    const type = this.#protocol.dpop ? 'DPoP' : 'Bearer';
    if (this.#oidc && (typeof body?.access_token !== 'string' || String(body.token_type).toLowerCase() !== type.toLowerCase())) {
      const error = this.#errors.error('token', `the refresh was answered without a ${type} access_token`);
      this.#emit('refreshfailed', { kind: 'refused', error });
      throw error;
    }
    if (this.#oidc) {
      rules.takeTokenResponse(body, response.headers.get('date'), false);
      this.#oidc.expiresAt = Date.now() / 1000 + (body.expires_in ?? 0);
      // A provider that rotates refresh tokens sends the next one; one that does not, none.
      if (typeof body.refresh_token === 'string') this.#refreshToken = body.refresh_token;
      this.announce();
      this.#emit('refreshed', { source: 'this-tab' });
      return;
    }
    const data = body?.data ?? body;
    rules.take(data?.token, response.headers.get('date'));
    this.#protocol.tokenType = data.token_type;
    if (this.#delivery === 'body' && typeof data.refresh_token === 'string') {
      this.#refreshToken = data.refresh_token;
    }
    this.announce();
    this.#emit('refreshed', { source: 'this-tab' });
  }

  /// The session's name among the tabs: the access token's `sid`, or for a sign-in's
  /// session the sign-in's own (the ID token's issuer, subject and sid).
  #key() {
    return this.#oidc ? this.#oidc.key : this.#rules.sid;
  }

  /// What a sign-in's session is, for another tab: its tokens as a token response (the
  /// access token's remaining lifetime as `expires_in`), and its protocol.
  #current() {
    const rules = this.#rules;
    const tokens = {
      access_token: rules.token, token_type: this.#protocol.dpop ? 'DPoP' : 'Bearer', expires_in: this.#oidc.expiresAt - Date.now() / 1000,
      refresh_token: this.#refreshToken, id_token: this.#oidc.idToken,
    };
    return { tokens, protocol: this.#protocol, offset: rules.offset };
  }

  /// Tells the other tabs of this session its new access token (and a sign-in's session its
  /// refresh token too).
  announce() {
    const key = this.#key();
    if (this.#oidc) {
      this.#channel?.postMessage({ type: 'rotated', key, ...this.#current() });
    } else {
      const { tokenType } = this.#protocol;
      this.#channel?.postMessage({ type: 'refreshed', sid: key, token: this.#rules.token, tokenType });
    }
  }

  /// A message from another tab: its new token for this session, or the session's end.
  #receive(message) {
    const rules = this.#rules;
    const key = this.#key();
    if (typeof message !== 'object' || message === null || rules.ended || !key) return;
    if (message.type === 'hello' && !this.#oidc) {
      // A tab opening: the current token serves it too, without another rotation.
      const { tokenType, dpop } = this.#protocol;
      this.#channel?.postMessage({ type: 'current', sid: key, token: rules.token, offset: rules.offset, tokenType, dpop });
      return;
    }
    if (message.type === 'hello-signed-in' && this.#oidc && message.issuer === this.#oidc.metadata.issuer
      && message.clientId === this.#oidc.clientId) {
      this.#channel?.postMessage({ type: 'current-signed-in', key, ...this.#current() });
      return;
    }
    if (message.sid !== key && message.key !== key) return;
    // Another session of the same name (a newer one in the cookie): not this one's news.
    const jkt = message.protocol?.dpop?.jkt ?? message.jkt;
    if (jkt !== undefined && jkt !== this.#protocol.dpop?.jkt) return;
    if (message.type === 'refreshed' && typeof message.token === 'string') {
      if (rules.takeFromTab(message.token)) {
        this.#protocol.tokenType = message.tokenType;
        this.#emit('refreshed', { source: 'other-tab' });
      }
    } else if (message.type === 'rotated' && this.#oidc) {
      if (rules.takeTokenResponse(message.tokens, undefined, true)) {
        this.#oidc.expiresAt = Date.now() / 1000 + message.tokens.expires_in;
        this.#refreshToken = message.tokens.refresh_token;
        this.#emit('refreshed', { source: 'other-tab' });
      }
    } else if (message.type === 'loggedout') {
      this.#end('other-tab', false);
    }
  }

  /// Ends the session here (reason: local, other-tab, revoked, reused, expired), telling the
  /// other tabs unless the news came from them.
  #end(reason, tellOthers) {
    const key = this.#key();
    if (!this.#rules.end()) return;
    this.#refreshToken = null;
    // The session's key ends with it (whichever tab hears of the end first forgets it; a
    // logout here, once its request has gone with a proof).
    if (reason !== 'local' && reason !== 'other-tab') forgetDpopKey(this.#protocol.dpop);
    if (tellOthers) this.#channel?.postMessage({ type: 'loggedout', reason, sid: key, key, jkt: this.#protocol.dpop?.jkt });
    this.#emit('loggedout', { reason });
  }

  /// fetch with the token, for the page's origin and allowed ones only.
  async fetch(session, input, init) {
    this.#checkOrigin(input);
    const response = await this.#withToken(session, input, init);
    if (response.status !== 401) return response;
    const error = await this.#refused(response);
    const method = String(init?.method ?? input?.method ?? 'GET').toUpperCase();
    if (error.code === 'ERR_JWT_EXPIRED' && this.#delivery !== 'none' && IDEMPOTENT.includes(method)) {
      // The server saw it expire first (clocks, or a slow request): one refresh, one retry.
      await this.refresh();
      const retried = await this.#withToken(session, input, init);
      if (retried.status !== 401) return retried;
      throw await this.#refused(retried);
    }
    if (error.code === 'ERR_JWT_REVOKED') this.#end('revoked', true);
    throw error;
  }

  async #withToken(session, input, init) {
    const token = await this.accessToken(session);
    let headers;
    try {
      headers = new Headers(init?.headers ?? (input instanceof Request ? input.headers : undefined));
    } catch (cause) {
      // Headers fetch itself would refuse fail the same way.
      throw this.#errors.error('fetch', String(cause?.message ?? cause), cause);
    }
    return this.#proved(input, { ...init, headers }, token);
  }

  /// Sends `init` (its headers a Headers) with `token` as its scheme says, and with a proof
  /// of the session's key: every request of a DPoP-bound session but those carrying a Bearer
  /// token (which nothing binds: one refreshed without a proof).
  async #proved(input, init, token) {
    const { dpop } = this.#protocol;
    if (!dpop || (token && !this.bound)) {
      if (token) init.headers.set('Authorization', `Bearer ${token}`);
      return this.#send(input, init);
    }
    const key = await dpopKey(dpop, this.#errors);
    return sendWithProof((i, o) => this.#send(i, o), key, input, init, token, this.#errors, this.#rules.offset);
  }

  /// Ends the session at the server, here and in the other tabs.
  async logout() {
    const rules = this.#rules;
    if (rules.ended) return;
    if (this.#oidc) {
      // Here and in the other tabs first; then the refresh token revoked at the provider
      // (RFC 7009, as the public client), when it has a revocation endpoint (checked with
      // the metadata): best effort, as the provider's own session ends with signOut.
      const token = this.#refreshToken;
      const endpoint = this.#oidc.metadata.revocation_endpoint;
      this.#end('local', true);
      forgetDpopKey(this.#protocol.dpop);
      if (token && typeof endpoint === 'string') {
        const body = new URLSearchParams({ token, token_type_hint: 'refresh_token', client_id: this.#oidc.clientId });
        await this.#send(endpoint, { method: 'POST', body, redirect: 'error' }).catch(() => {});
      }
      return;
    }
    const headers = new Headers();
    const init = { method: 'POST', headers };
    if (this.#delivery === 'cookie') {
      init.credentials = 'include';
      headers.set(this.#protocol.csrfHeader, '1');
    }
    // The access token while it is good, else the refresh token (a cookie's goes by itself).
    const token = this.#good() ? rules.token : null;
    if (!token && this.#delivery === 'body') {
      init.body = JSON.stringify({ refresh_token: this.#refreshToken });
      headers.set('Content-Type', 'application/json');
    } else if (!token && this.#delivery === 'none') {
      this.#end('local', true);
      forgetDpopKey(this.#protocol.dpop);
      return;
    }
    // Ended here and in the other tabs first, whatever the server says: the page asked to
    // leave, and no tab should go on sending a token the server is about to revoke.
    this.#end('local', true);
    const response = await this.#proved(this.#logoutUrl, init, token).finally(() => forgetDpopKey(this.#protocol.dpop));
    if (response.status !== 200) throw await this.#refused(response);
  }

  /// The token goes to the page's origin or an allowed one; others are refused unsent.
  #checkOrigin(input) {
    checkOrigin(input, this.#allowed, this.#errors);
  }

  async #send(input, init) {
    return send(this.#fetch, input, init, this.#errors);
  }

  /// The error for a refused request: the server's code and message when its body says so.
  async #refused(response) {
    return refused(response, this.#errors);
  }

  listen(kind, listener, add) {
    if (!add) {
      this.#listeners = this.#listeners.filter(([k, l]) => k !== kind || l !== listener);
      return;
    }
    if (!EVENTS.includes(kind)) throw this.#errors.error('invalid', 'the event type must be refreshed, loggedout or refreshfailed');
    if (typeof listener !== 'function') throw this.#errors.error('invalid', 'a listener must be a function');
    this.#listeners.push([kind, listener]);
  }

  #emit(type, fields) {
    const event = { type, ...fields };
    for (const [kind, listener] of [...this.#listeners]) {
      if (kind !== type) continue;
      try {
        listener.call(undefined, event);
      } catch {
        // A page's listener failing is the page's affair.
      }
    }
  }

  /// Stops listening to the other tabs (the session stays usable here).
  close() {
    this.#channel?.close();
    this.#channel = null;
  }
}

/// `fetch` (the given one, or the global one); its own failures become ERR_FETCH_FAILED.
async function send(fetch, input, init, errors) {
  const call = fetch ?? globalThis.fetch;
  if (typeof call !== 'function') throw errors.error('invalid', 'this environment has no fetch function');
  try {
    return await call.call(globalThis, input, init);
  } catch (cause) {
    // Outside a page (Node.js) a path names no server: say so, rather than fetch's "Failed
    // to parse URL" (a fetch that resolves paths itself, such as a test's, never gets here).
    if (globalThis.location === undefined && typeof input === 'string' && isPath(input)) {
      // The path alone: a query may carry a secret, never repeated in a message.
      const path = input.split(/[?#]/)[0];
      throw errors.error('invalid', `${JSON.stringify(path)} is a path, and outside a page (Node.js) there is no `
        + 'origin to resolve it against: give absolute URLs (refreshUrl and logoutUrl too, e.g. '
        + `"https://api.example${path}") with their origin in allowedOrigins`);
    }
    throw errors.error('fetch', String(cause?.message ?? cause), cause);
  }
}

async function refused(response, errors) {
  const body = await response.clone().json().catch(() => null);
  const error = typeof body?.code === 'string'
    ? errors.error('server', body.code, typeof body.message === 'string' ? body.message : undefined)
    : errors.error('unauthorized');
  error.status = response.status;
  error.response = response;
  return error;
}

/// The session of the cookie in a new tab (`answers.session`): another tab's current token
/// (`{ body, offset, protocol }`), else a refresh with the cookie (`{ body, date, protocol }`).
export async function resumeRequest(errors, protocol, options, answers) {
  const o = options ?? {};
  // The cookie goes there: the same rule as for every credentialed request, checked first.
  const url = o.refreshUrl ?? protocol.refreshPath;
  checkOrigin(url, allowedOrigins(o, errors), errors);
  const name = o.channelName ?? DEFAULT_CHANNEL;
  const bound = o.dpop === false ? undefined : await currentKey(name, errors);
  const current = await askTabs(name, { type: 'hello' }, (data) => {
    if (data?.type !== 'current' || typeof data.token !== 'string' || typeof data.offset !== 'number') return null;
    // The cookie's session (its current key), not an older one a tab still holds.
    if (data.dpop && data.dpop.jkt !== bound) return null;
    const { token, offset, tokenType, dpop } = data;
    return { body: { token, refresh_token_delivery: 'cookie' }, offset, protocol: { tokenType, dpop } };
  });
  if (current) return answers.session({ ...current, protocol: { ...protocol, ...current.protocol } }, options, true);
  const headers = new Headers();
  headers.set(protocol.csrfHeader, '1');
  const answer = await postProved(url, { method: 'POST', credentials: 'include', headers }, protocol, o, errors, false);
  return answers.session(answer, options, true);
}

/// `TokenSession.authenticate`: `credentials` posted to `/api/v3/auth` (or `authUrl`) as
/// JSON, with a proof of this origin's DPoP key unless `dpop` is false; its session.
export async function authRequest(errors, protocol, credentials, options, answers) {
  const o = options ?? {};
  if (typeof credentials !== 'object' || credentials === null) throw errors.error('invalid', 'the credentials must be an object, e.g. { "api-key": key }');
  const url = o.authUrl ?? protocol.authPath;
  checkOrigin(url, allowedOrigins(o, errors), errors);
  const headers = new Headers({ 'content-type': 'application/json' });
  // A refresh token in a cookie is set (and later sent) on a request with credentials.
  const cookie = credentials.refresh_token_delivery === 'cookie';
  const init = { method: 'POST', body: JSON.stringify(credentials), headers, credentials: cookie ? 'include' : 'same-origin' };
  return answers.session(await postProved(url, init, protocol, o, errors, true, cookie), options, false);
}

/// A POST of a session's start, proved unless the `dpop` option is false: with a new key
/// (`fresh`: a new session), else the current one of the channel (the cookie's session,
/// resumed); its answer as `{ body, date, protocol }` (the key in `protocol.dpop`, the token's
/// `token_type` in `protocol.tokenType`). A session the server did not bind keeps no key.
async function postProved(url, init, protocol, o, errors, fresh, cookie = true) {
  let dpop = dpopChoice(o.dpop, true, o.channelName ?? DEFAULT_CHANNEL, undefined, errors);
  if (dpop) dpop = await (fresh ? newDpopKey : withKey)(dpop, errors);
  const post = (input, i) => send(o.fetch ?? null, input, i, errors);
  const response = dpop ? await sendWithProof(post, await dpopKey(dpop, errors), url, init, null, errors) : await post(url, init);
  if (response.status !== 200) {
    if (fresh) forgetDpopKey(dpop);
    throw await refused(response, errors);
  }
  const body = await response.json();
  const tokenType = (body?.data ?? body)?.token_type;
  if (dpop && !isDpop(tokenType)) {
    if (fresh) forgetDpopKey(dpop);
    dpop = null;
  } else if (fresh && cookie) {
    // The cookie's session is what a reload resumes with: its key too.
    await makeCurrent(dpop, errors);
  }
  return { body, date: response.headers.get('date'), protocol: { ...protocol, dpop, tokenType } };
}

/// Asks the tabs of this origin on channel `name` (`hello`) for their session's current
/// state: the first answer `accept` takes (a value), or null when none comes in time. A tab
/// opening takes another's token (with its clock offset) instead of rotating the refresh
/// token again.
export async function askTabs(name, hello, accept) {
  if (typeof BroadcastChannel !== 'function') return null;
  const channel = new BroadcastChannel(name);
  try {
    return await new Promise((resolve) => {
      const timer = setTimeout(() => resolve(null), HELLO_WAIT_MS);
      channel.onmessage = ({ data }) => {
        const taken = accept(data);
        if (!taken) return;
        clearTimeout(timer);
        resolve(taken);
      };
      channel.postMessage(hello);
    });
  } finally {
    channel.close();
  }
}
