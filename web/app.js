// The jwtkit demo: a token inspector and the live auth flow, all decoding through the npm
// package `jwtkit` (served at ./pkg/ next to this file). Every "now" comes from the package's
// clock, moved to the server's clock for the session's token, so that what the page says
// ("expires in 2m") is what the server will decide.
import init, { decodeUnverified, now, secondsUntilExpiry, TokenSession } from './pkg/jwtkit.js';

const $ = (id) => document.getElementById(id);

const REGISTERED = {
  iss: 'Issuer: who issued the token',
  sub: 'Subject: whom the token is about',
  aud: 'Audience: who the token is for',
  exp: 'Expires: not accepted from this time on',
  nbf: 'Not before: not accepted before this time',
  iat: 'Issued at',
  jti: 'Token ID: unique per token',
  client_id: 'Client: the API key that obtained it (RFC 9068)',
  roles: 'Roles granted to the bearer',
};
const TIMES = new Set(['exp', 'nbf', 'iat']);

let session = null;

function human(seconds) {
  const s = Math.round(Math.abs(seconds));
  const parts = [];
  if (s >= 86400) parts.push(`${Math.floor(s / 86400)}d`);
  if (s >= 3600) parts.push(`${Math.floor((s % 86400) / 3600)}h`);
  if (s >= 60) parts.push(`${Math.floor((s % 3600) / 60)}m`);
  parts.push(`${s % 60}s`);
  return parts.join(' ');
}

function relative(seconds) {
  return seconds >= 0 ? `in ${human(seconds)}` : `${human(seconds)} ago`;
}

// The time expiry is judged at: the server's clock for the session's token, else the package's.
function judgedNow(token) {
  return session && session.token === token ? session.serverNow() : now();
}

function timeText(value, at) {
  return `${new Date(value * 1000).toLocaleString()} (${relative(value - at)})`;
}

function showSegments(token) {
  const box = $('encoded');
  box.replaceChildren();
  const names = ['header', 'payload', 'signature'];
  token.split('.').forEach((part, i) => {
    if (i > 0) {
      const dot = document.createElement('span');
      dot.className = 'dot';
      dot.textContent = '.';
      box.append(dot);
    }
    const span = document.createElement('span');
    span.className = `seg-${names[i] ?? 'signature'}`;
    span.textContent = part;
    box.append(span);
  });
}

// Built once per token; the time cells (data-time) are then updated by tick().
function showClaimsTable(claims, at) {
  const body = $('claims-table').tBodies[0];
  body.replaceChildren();
  for (const [name, meaning] of Object.entries(REGISTERED)) {
    if (!(name in claims)) continue;
    const row = body.insertRow();
    row.dataset.claim = name;
    row.insertCell().textContent = name;
    row.insertCell().textContent = meaning;
    const value = claims[name];
    const cell = row.insertCell();
    if (TIMES.has(name) && typeof value === 'number') {
      cell.dataset.time = String(value);
      cell.textContent = timeText(value, at);
    } else {
      cell.textContent = JSON.stringify(value);
    }
  }
}

function currentToken() {
  return $('token').value.trim();
}

function render() {
  const token = currentToken();
  const error = $('decode-error');
  const decoded = $('decoded');
  showSegments(token);
  if (!token) {
    error.hidden = true;
    decoded.hidden = true;
    return;
  }
  try {
    const { header, claims } = decodeUnverified(token);
    error.hidden = true;
    decoded.hidden = false;
    $('header-json').textContent = JSON.stringify(header, null, 2);
    $('claims-json').textContent = JSON.stringify(claims, null, 2);
    showClaimsTable(claims, judgedNow(token));
    tick();
  } catch (e) {
    decoded.hidden = true;
    error.hidden = false;
    error.replaceChildren();
    const code = document.createElement('code');
    code.textContent = e.code ?? 'ERR_UNKNOWN';
    error.append(code, ` ${e.message}`);
  }
}

// The live countdown: on the server's clock when the token is the session's. Only what
// changes with time is written: the relative times and the expiry lines.
function tick() {
  const token = currentToken();
  const line = $('expiry');
  if (!token || $('decoded').hidden) return;
  let left;
  let at;
  try {
    at = judgedNow(token);
    left = session && session.token === token ? session.secondsLeft() : secondsUntilExpiry(token);
  } catch {
    return;
  }
  for (const cell of $('claims-table').querySelectorAll('td[data-time]')) {
    cell.textContent = timeText(Number(cell.dataset.time), at);
  }
  if (left === Infinity) {
    line.textContent = 'This token has no "exp": it never expires (the server refuses such tokens).';
    line.className = 'expiry';
  } else if (left > 0) {
    line.textContent = `Expires in ${human(left)}.`;
    line.className = 'expiry live';
  } else {
    line.textContent = `Expired ${human(left)} ago.`;
    line.className = 'expiry expired';
  }
  showSessionLine();
}

function showSessionLine() {
  const line = $('session');
  if (!session) {
    line.textContent = 'No token yet.';
    return;
  }
  const offset = session.clockOffsetSeconds;
  const skew = Math.abs(offset) >= 1 ? ` Your clock is ${human(offset)} ${offset > 0 ? 'behind' : 'ahead of'} the server's; expiry is judged on the server's clock.` : '';
  line.textContent = session.isExpired()
    ? `Token expired at ${session.expiresAt.toLocaleTimeString()}.${skew}`
    : `Token valid until ${session.expiresAt.toLocaleTimeString()} (${human(session.secondsLeft())} left).${skew}`;
}

async function getToken(event) {
  event?.preventDefault();
  const apiKey = $('api-key').value.trim();
  const response = await fetch('/api/v3/auth', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ 'api-key': apiKey }),
  });
  const body = await response.json().catch(() => null);
  if (!response.ok) {
    session = null;
    showResult('POST /api/v3/auth', response, body);
    showSessionLine();
    return;
  }
  session = TokenSession.fromAuthResponse(body, { serverDate: response.headers.get('date') });
  $('token').value = session.token;
  render();
  const shown = { ...body.data, token: '(shown in the inspector)' };
  if (shown.refresh_token) shown.refresh_token = '(a bearer secret: not shown)';
  showResult('POST /api/v3/auth', response, { data: shown });
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

async function call(path) {
  const what = `GET ${path}`;
  try {
    const response = session ? await session.fetch(path) : await fetch(path);
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
      $('result').hidden = false;
      $('result-status').textContent = `${what} → not sent`;
      $('result-status').className = 'status bad';
      $('result-headers').replaceChildren();
      $('result-body').textContent = JSON.stringify({ code: e.code, message: e.message }, null, 2);
      $('refused').hidden = false;
      $('renew').focus();
    } else {
      $('result').hidden = false;
      $('result-status').textContent = `${what} → failed: ${e.message}`;
    }
  }
  showSessionLine();
}

await init();
$('token').addEventListener('input', render);
$('auth-form').addEventListener('submit', getToken);
$('renew').addEventListener('click', () => getToken());
$('call-home').addEventListener('click', () => call('/api/v3/home'));
$('call-secret').addEventListener('click', () => call('/api/v3/secret'));
$('call-admin').addEventListener('click', () => call('/api/v3/admin'));
setInterval(tick, 1000);
render();
document.body.dataset.ready = 'true';
