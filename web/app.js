// The jwtkit demo: the token inspector, and a live session through the npm package's
// TokenSession. Signed in with the cookie (the default), the refresh token lives in an
// HttpOnly cookie this page cannot read; the access token only in memory. Every tab of the
// page shares one session: one tab refreshes, the others take its token.
import init, { decodeUnverified, TokenSession } from './pkg/jwtkit.js';
import { human, Inspector } from './inspector.js';
import { setUpPersonSignIn } from './person.js';

const $ = (id) => document.getElementById(id);
const AUTH = '/api/v3/auth';
const REFRESH = '/api/v3/auth/refresh';
const SECRET = '/api/v3/secret';
const JSON_HEADERS = { 'content-type': 'application/json' };
const REASONS = {
  local: 'logged out here',
  'other-tab': 'logged out in another tab',
  revoked: 'the server ended the session (revoked)',
  reused: 'the server detected a reused refresh token and ended the session',
  expired: 'the session expired',
};
// After a failed refresh, the page waits this long before trying again on its own.
const RETRY_MS = 2000;
// The server's `refresh_grace` (its default): within it after a rotation, the predecessor
// is answered as a tab that raced another, not taken for a thief's.
const GRACE_MS = 10_000;

let session = null;
// The session's first refresh token, kept by the tab that signed in for the replay button
// only: a real page asks for the cookie at sign-in (`refresh_token_delivery: "cookie"`).
let firstRefreshToken = null;
// When the first refresh token was rotated (moved into the cookie), and whether a replay is
// under way (waiting out the grace window).
let firstRotatedAt = 0;
let replaying = false;
let generation = 0;
let endReason = null;
let retryAt = 0;
let continuous = false;
const counts = { ok: 0, unauthorized: 0, unsent: 0, other: 0 };

const inspector = new Inspector((token) => (session && session.token === token
  ? { now: session.serverNow(), left: session.secondsLeft() }
  : null));

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const time = (date) => date.toLocaleTimeString();

// What a response shows: bearer secrets are not written on the page.
function shown(body) {
  const data = body?.data;
  if (!data || typeof data !== 'object') return body;
  const copy = { ...data };
  if ('token' in copy) copy.token = '(shown in the inspector)';
  if ('refresh_token' in copy) copy.refresh_token = '(a bearer secret: not shown)';
  return { data: copy };
}

function timeline(text, className, fields = {}) {
  const item = document.createElement('li');
  item.textContent = `${time(new Date())} — ${text}`;
  item.className = className;
  Object.assign(item.dataset, fields);
  $('timeline').append(item);
  item.scrollIntoView({ block: 'nearest' });
}

// A new access token of the session: one line of the timeline.
function newGeneration(how, source) {
  generation += 1;
  const { claims } = decodeUnverified(session.token);
  const jti = String(claims.jti ?? '');
  timeline(`#${generation} ${how}: jti …${jti.slice(-8)}, expires ${time(session.expiresAt)}`, source, { source, jti });
  if (inspector.token !== session.token) inspector.show(session.token);
}

function start(next, how, source) {
  session?.close();
  session = next;
  generation = 0;
  retryAt = 0;
  $('timeline').replaceChildren();
  next.addEventListener('refreshed', (e) => {
    if (next !== session) return;
    newGeneration(e.source === 'this-tab' ? 'refreshed by this tab' : 'refreshed by another tab', e.source);
  });
  next.addEventListener('loggedout', (e) => {
    if (next !== session) return;
    firstRefreshToken = null;
    endReason = REASONS[e.reason] ?? e.reason;
    timeline(`signed out: ${endReason}`, 'end', { reason: e.reason });
    showState();
  });
  next.addEventListener('refreshfailed', (e) => {
    if (next !== session) return;
    retryAt = Date.now() + RETRY_MS;
    timeline(`refresh failed (${e.kind}): ${e.error.code ?? e.error.message}`, 'failed', { kind: e.kind });
  });
  newGeneration(how, source);
  showState();
}

async function signIn(event) {
  event?.preventDefault();
  firstRefreshToken = null;
  const cookie = $('mode').value === 'cookie';
  const response = await fetch(AUTH, {
    method: 'POST',
    headers: JSON_HEADERS,
    body: JSON.stringify({ 'api-key': $('api-key').value.trim() }),
  });
  const body = await response.json().catch(() => null);
  if (!response.ok) {
    session?.close();
    session = null;
    showResult(`POST ${AUTH}`, response, body);
    showState();
    return;
  }
  const date = response.headers.get('date');
  if (!cookie) {
    // The access token alone: once it expires, the page refuses to send it.
    start(TokenSession.fromAuthResponse({ data: { token: body.data.token } }, { serverDate: date }), 'signed in', 'this-tab');
    showResult(`POST ${AUTH}`, response, shown(body));
    return;
  }
  // The refresh token moves into the HttpOnly cookie (never the other way).
  firstRefreshToken = body.data.refresh_token;
  firstRotatedAt = Date.now();
  const moved = await fetch(REFRESH, {
    method: 'POST',
    headers: JSON_HEADERS,
    body: JSON.stringify({ refresh_token: firstRefreshToken, refresh_token_delivery: 'cookie' }),
  });
  const movedBody = await moved.json().catch(() => null);
  showResult(`POST ${AUTH}, then POST ${REFRESH}`, moved, shown(movedBody));
  if (!moved.ok) return;
  start(TokenSession.fromAuthResponse(movedBody, { serverDate: moved.headers.get('date') }), 'signed in', 'this-tab');
}

function showResult(what, response, body) {
  $('result').hidden = false;
  $('refused').hidden = true;
  const status = $('result-status');
  status.textContent = `${what} → ${response.status} ${response.statusText}`;
  status.className = `status ${response.ok ? 'ok' : 'bad'}`;
  const list = $('result-headers');
  list.replaceChildren();
  for (const name of ['www-authenticate', 'content-type', 'cache-control', 'retry-after']) {
    const value = response.headers.get(name);
    if (value === null) continue;
    const dt = document.createElement('dt');
    dt.textContent = name;
    const dd = document.createElement('dd');
    dd.textContent = value;
    dd.dataset.header = name;
    list.append(dt, dd);
  }
  $('result-body').textContent = typeof body === 'string' ? body : JSON.stringify(body, null, 2);
}

function showNotSent(what, e) {
  $('result').hidden = false;
  $('result-status').textContent = `${what} → not sent`;
  $('result-status').className = 'status bad';
  $('result-headers').replaceChildren();
  $('result-body').textContent = JSON.stringify({ code: e.code, message: e.message }, null, 2);
}

async function call(path) {
  const what = `GET ${path}`;
  try {
    const response = session && !session.ended ? await session.fetch(path) : await fetch(path);
    const text = await response.text();
    let body = text;
    try { body = JSON.parse(text); } catch { /* plain text */ }
    showResult(what, response, body);
  } catch (e) {
    if (e.response) {
      // The server's RFC 6750 401, turned into an error with the server's code.
      const body = await e.response.json().catch(() => ({ code: e.code, message: e.message }));
      showResult(what, e.response, body);
    } else if (e.code === 'ERR_JWT_EXPIRED') {
      showNotSent(what, e);
      $('refused').hidden = false;
      $('renew').focus();
    } else if (e.code) {
      showNotSent(what, e);
    } else {
      $('result').hidden = false;
      $('result-status').textContent = `${what} → failed: ${e.message}`;
    }
  }
  showState();
}

// The protected endpoint, again and again, counting what happened.
async function callContinuously() {
  while (continuous && session && !session.ended) {
    try {
      const response = await session.fetch(SECRET);
      await response.arrayBuffer();
      counts[response.ok ? 'ok' : 'other'] += 1;
    } catch (e) {
      counts[e.status === 401 ? 'unauthorized' : e.status ? 'other' : 'unsent'] += 1;
    }
    showCounts();
    await sleep(100);
  }
  $('continuous').checked = false;
  continuous = false;
}

function showCounts() {
  const line = $('calls');
  line.textContent = `${counts.ok} ok, ${counts.unauthorized} × 401, ${counts.unsent} not sent, ${counts.other} other`;
  Object.assign(line.dataset, counts);
}

// The first refresh token, sent again as a thief who copied it would: rotated before, the
// server takes it for stolen and ends the whole session. Within the grace window after its
// rotation it would be answered as an honest race instead, so the replay waits that out,
// counting down. The page notices the end at its next request (here, one made at once), and
// so do the other tabs.
async function replay() {
  replaying = true;
  showState();
  try {
    for (;;) {
      if (!await waitOutGrace()) break;
      const response = await fetch(REFRESH, {
        method: 'POST',
        headers: JSON_HEADERS,
        body: JSON.stringify({ refresh_token: firstRefreshToken }),
      });
      const body = await response.json().catch(() => null);
      showResult(`POST ${REFRESH} (the first refresh token, again)`, response, shown(body));
      if (!response.ok) {
        timeline(`replay refused: ${body?.code} (${body?.message})`, 'note', { code: body?.code ?? '' });
        break;
      }
      // Still within the server's grace window (configured longer than the default): a
      // racing tab is not a thief yet. Again in a moment.
      timeline('replay answered: still within the grace window, where a racing tab is not taken for a thief; trying again', 'note');
      firstRotatedAt = Date.now() - GRACE_MS + RETRY_MS;
    }
  } finally {
    replaying = false;
    $('replay-wait').hidden = true;
  }
  firstRefreshToken = null;
  // The page's next request meets the end of the session (the response above stays shown).
  if (session && !session.ended) await session.fetch(SECRET).catch(() => {});
  showState();
}

// Until the grace window after the first token's rotation has passed, with a countdown;
// false when the session ended meanwhile (nothing left to replay).
async function waitOutGrace() {
  const wait = $('replay-wait');
  for (let left = firstRotatedAt + GRACE_MS + 500 - Date.now(); left > 0; left = firstRotatedAt + GRACE_MS + 500 - Date.now()) {
    if (!firstRefreshToken || !session || session.ended) return false;
    wait.hidden = false;
    wait.textContent = `Replaying in ${Math.ceil(left / 1000)} s: within ${GRACE_MS / 1000} s of a rotation the server answers the previous token as a tab that raced another, not as a thief.`;
    await sleep(Math.min(left, 250));
  }
  wait.hidden = true;
  return Boolean(firstRefreshToken);
}

// Every 250 ms: the countdowns, and the refresh when it is due (once across the tabs).
function tick() {
  inspector.tick();
  showState();
  if (session && !session.ended && session.refreshDelivery !== 'none' && Date.now() >= retryAt) {
    try {
      if (session.secondsUntilRefresh() === 0) session.getAccessToken().catch(() => {});
    } catch { /* a clock out of range: nothing to refresh on */ }
  }
}

function showState() {
  const line = $('session');
  const countdown = $('countdown');
  const active = session && !session.ended;
  $('logout').disabled = !active;
  $('replay').disabled = !active || !firstRefreshToken || replaying;
  countdown.hidden = !active;
  if (!session) {
    line.textContent = 'Not signed in.';
    return;
  }
  if (!active) {
    line.textContent = `Signed out: ${endReason}.`;
    return;
  }
  const offset = session.clockOffsetSeconds;
  const skew = Math.abs(offset) >= 1
    ? ` Your clock is ${human(offset)} ${offset > 0 ? 'behind' : 'ahead of'} the server's (from ${session.clockSource}); expiry is judged on the server's clock.`
    : '';
  const { claims } = decodeUnverified(session.token);
  const who = `Signed in as ${claims.sub}, session …${String(claims.sid ?? '').slice(-8)}.`;
  line.textContent = session.isExpired()
    ? `${who} Token #${generation} expired at ${time(session.expiresAt)}.${skew}`
    : `${who} Token #${generation} valid until ${time(session.expiresAt)} (${human(session.secondsLeft())} left).${skew}`;
  if (session.refreshDelivery === 'none') {
    countdown.textContent = 'No refresh token: once the token expires, the page refuses to send it.';
  } else {
    const wait = session.secondsUntilRefresh();
    countdown.textContent = wait > 0
      ? `Next refresh in ${wait.toFixed(1)} s (refresh token: an HttpOnly cookie this page cannot read).`
      : 'Refreshing…';
  }
}

async function resume() {
  try {
    const resumed = await TokenSession.resume();
    start(resumed, resumed.clockSource === 'tab' ? 'taken from an open tab' : 'resumed with the cookie', 'resumed');
  } catch (e) {
    // No cookie, no session: nothing to say. Anything else is worth a line.
    if (e.code !== 'ERR_REFRESH_TOKEN_MISSING') timeline(`no session resumed: ${e.code ?? e.message}`, 'note');
  }
}

await init();
$('auth-form').addEventListener('submit', signIn);
$('renew').addEventListener('click', () => signIn());
$('call-home').addEventListener('click', () => call('/api/v3/home'));
$('call-secret').addEventListener('click', () => call(SECRET));
$('call-admin').addEventListener('click', () => call('/api/v3/admin'));
$('logout').addEventListener('click', () => session?.logout().catch((e) => timeline(`logout: ${e.code ?? e.message}`, 'note')));
$('replay').addEventListener('click', replay);
$('continuous').addEventListener('change', (e) => {
  continuous = e.target.checked;
  if (continuous) callContinuously();
});
await resume();
await setUpPersonSignIn((token) => inspector.show(token));
setInterval(tick, 250);
inspector.render();
showState();
document.body.dataset.ready = 'true';
