// A person signs in to this page through the server's OpenID provider: the authorization
// code flow with PKCE, as a public client (the development setup registers this page as
// `jwtkit-demo`, redirecting to the page itself). The PKCE verifier, state and nonce live in
// sessionStorage for the round trip only; the tokens only in memory.
const $ = (id) => document.getElementById(id);
const CLIENT_ID = 'jwtkit-demo';
const PENDING = 'jwtkit-demo-sign-in';
const b64url = (bytes) => btoa(String.fromCharCode(...new Uint8Array(bytes)))
  .replaceAll('+', '-').replaceAll('/', '_').replaceAll('=', '');
const random = (n) => b64url(crypto.getRandomValues(new Uint8Array(n)));
const redirectUri = () => `${location.origin}/`;

let tokens = null;
let showToken = () => {};

function say(text, error = false) {
  const status = $('person-status');
  status.textContent = text;
  status.classList.toggle('error', error);
}

function render(claims) {
  const signedIn = tokens !== null;
  $('person-sign-in').hidden = signedIn;
  for (const id of ['person-userinfo', 'person-refresh', 'person-sign-out']) $(id).hidden = !signedIn;
  if (claims) say(`Signed in as ${claims.preferred_username ?? claims.sub} (OpenID Connect).`);
}

function show(title, value) {
  $('person-result').hidden = false;
  $('person-result-title').textContent = title;
  $('person-result-body').textContent = JSON.stringify(value, null, 2);
}

async function signIn() {
  const verifier = random(32);
  const challenge = b64url(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier)));
  const state = random(16);
  const nonce = random(16);
  sessionStorage.setItem(PENDING, JSON.stringify({ verifier, state, nonce }));
  const url = new URL('/oauth2/authorize', location.origin);
  for (const [name, value] of Object.entries({
    client_id: CLIENT_ID, redirect_uri: redirectUri(), response_type: 'code', scope: 'openid profile email',
    state, nonce, code_challenge: challenge, code_challenge_method: 'S256',
  })) url.searchParams.set(name, value);
  location.assign(url);
}

async function token(form) {
  const response = await fetch('/oauth2/token', { method: 'POST', body: new URLSearchParams(form) });
  const body = await response.json();
  if (!response.ok) throw new Error(`${body.error}: ${body.error_description} (${body.code})`);
  return body;
}

/** The claims of a token, decoded (the server checked it; this page only reads it). */
function claimsOf(jwt) {
  const payload = jwt.split('.')[1].replaceAll('-', '+').replaceAll('_', '/');
  return JSON.parse(new TextDecoder().decode(Uint8Array.from(atob(payload), (c) => c.charCodeAt(0))));
}

/** Back from the provider: check state and iss, redeem the code, clean the address bar. */
async function callback(params) {
  const pending = JSON.parse(sessionStorage.getItem(PENDING) ?? 'null');
  sessionStorage.removeItem(PENDING);
  history.replaceState(null, '', location.pathname);
  if (params.get('error')) throw new Error(`${params.get('error')}: ${params.get('error_description') ?? ''}`);
  if (!pending || params.get('state') !== pending.state) throw new Error('the answer does not belong to a sign-in of this tab (state)');
  if (params.get('iss') !== location.origin) throw new Error(`the answer comes from another issuer: ${params.get('iss')}`);
  tokens = await token({
    grant_type: 'authorization_code', client_id: CLIENT_ID, code: params.get('code'),
    redirect_uri: redirectUri(), code_verifier: pending.verifier,
  });
  const claims = claimsOf(tokens.id_token);
  if (claims.nonce !== pending.nonce) throw new Error('the ID token answers another sign-in (nonce)');
  showToken(tokens.id_token);
  // Who it is, in words: the ID token names the subject; userinfo says more.
  const response = await fetch('/oauth2/userinfo', { headers: { authorization: `Bearer ${tokens.access_token}` } });
  render(response.ok ? await response.json() : claims);
  show('ID token claims', claims);
}

async function userinfo() {
  const response = await fetch('/oauth2/userinfo', { headers: { authorization: `Bearer ${tokens.access_token}` } });
  show(`GET /oauth2/userinfo → ${response.status}`, await response.json());
}

async function refresh() {
  tokens = { ...tokens, ...await token({ grant_type: 'refresh_token', client_id: CLIENT_ID, refresh_token: tokens.refresh_token }) };
  showToken(tokens.access_token);
  show('Refreshed: the new access token is in the inspector', { scope: tokens.scope, expires_in: tokens.expires_in });
}

function signOut() {
  const url = new URL('/oauth2/logout', location.origin);
  url.searchParams.set('id_token_hint', tokens.id_token);
  url.searchParams.set('post_logout_redirect_uri', redirectUri());
  url.searchParams.set('state', 'signed-out');
  tokens = null;
  location.assign(url);
}

/** Wires the section; `inspect` shows a token in the inspector. */
export async function setUpPersonSignIn(inspect) {
  showToken = inspect;
  const failed = (e) => say(e.message, true);
  $('person-sign-in').addEventListener('click', () => signIn().catch(failed));
  $('person-userinfo').addEventListener('click', () => userinfo().catch(failed));
  $('person-refresh').addEventListener('click', () => refresh().catch(failed));
  $('person-sign-out').addEventListener('click', signOut);
  const params = new URLSearchParams(location.search);
  if (params.get('state') === 'signed-out' && !params.get('code')) {
    history.replaceState(null, '', location.pathname);
    say('Signed out at the provider.');
  } else if (params.has('code') || params.has('error')) {
    await callback(params).catch(failed);
  }
  render();
}
