// The token inspector: a pasted token decoded by the npm package `jwtkit` (strictly: what
// every jwtkit server refuses for its form is refused here with the same code), its claims
// explained, and a countdown to its expiry on the clock expiry is judged on.
import { decodeUnverified, now, secondsUntilExpiry } from './pkg/jwtkit.js';

const $ = (id) => document.getElementById(id);

const REGISTERED = {
  iss: 'Issuer: who issued the token',
  sub: 'Subject: whom the token is about',
  aud: 'Audience: who the token is for',
  exp: 'Expires: not accepted from this time on',
  nbf: 'Not before: not accepted before this time',
  iat: 'Issued at',
  jti: 'Token ID: unique per token',
  sid: 'Session: the sign-in the token belongs to',
  client_id: 'Client: the client that obtained it, an API key or an OpenID client (RFC 9068)',
  roles: 'Roles granted to the bearer',
};
const TIMES = new Set(['exp', 'nbf', 'iat']);

export function human(seconds) {
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

function showError(box, e) {
  box.hidden = false;
  box.replaceChildren();
  const code = document.createElement('code');
  code.textContent = e.code ?? 'ERR_UNKNOWN';
  box.append(code, ` ${e.message}`);
}

/// The inspector. `judge(token)` says how to judge a token's time: `{ now, left }` (the
/// session's server clock for its own token), or null for the package's clock.
export class Inspector {
  #judge;

  constructor(judge) {
    this.#judge = judge;
    $('token').addEventListener('input', () => this.render());
  }

  get token() {
    return $('token').value.trim();
  }

  /// Shows `token` (as if pasted).
  show(token) {
    $('token').value = token;
    this.render();
  }

  render() {
    const token = this.token;
    const error = $('decode-error');
    const decoded = $('decoded');
    showSegments(token);
    if (!token) {
      error.hidden = true;
      decoded.hidden = true;
      return;
    }
    let header;
    let claims;
    try {
      ({ header, claims } = decodeUnverified(token));
    } catch (e) {
      decoded.hidden = true;
      showError(error, e);
      return;
    }
    error.hidden = true;
    decoded.hidden = false;
    $('header-json').textContent = JSON.stringify(header, null, 2);
    $('claims-json').textContent = JSON.stringify(claims, null, 2);
    showClaimsTable(claims, this.#times(token).now);
    this.tick();
  }

  #times(token) {
    return this.#judge(token) ?? { now: now(), left: secondsUntilExpiry(token) };
  }

  /// The live countdown. Only what changes with time is written: the relative times and
  /// the expiry line.
  tick() {
    const token = this.token;
    const line = $('expiry');
    if (!token || $('decoded').hidden) return;
    let times;
    try {
      times = this.#times(token);
    } catch (e) {
      // No `exp`: decoding succeeded, but expiry cannot be judged (the server refuses it).
      line.textContent = `${e.code}: ${e.message}. Every jwtkit server refuses such a token.`;
      line.className = 'expiry expired';
      return;
    }
    for (const cell of $('claims-table').querySelectorAll('td[data-time]')) {
      cell.textContent = timeText(Number(cell.dataset.time), times.now);
    }
    if (times.left > 0) {
      line.textContent = `Expires in ${human(times.left)}.`;
      line.className = 'expiry live';
    } else {
      line.textContent = `Expired ${human(times.left)} ago.`;
      line.className = 'expiry expired';
    }
  }
}
