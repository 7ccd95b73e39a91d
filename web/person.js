// A person signs in to this page through the server's OpenID provider with the package's
// OpenID client: TokenSession.signIn and handleRedirect (the authorization code flow with
// PKCE, as a public client: the development setup registers this page as `jwtkit-demo`,
// redirecting to the page itself). The one-time values live in sessionStorage for the round
// trip only; the tokens only in the session's memory.
import { TokenSession } from './pkg/jwtkit.js';

const $ = (id) => document.getElementById(id);
const CLIENT_ID = 'jwtkit-demo';
const provider = () => ({ issuer: location.origin, clientId: CLIENT_ID, redirectUri: `${location.origin}/` });

let session = null;
let showToken = () => {};

function say(text, error = false) {
  const status = $('person-status');
  status.textContent = text;
  status.classList.toggle('error', error);
}

function render(claims) {
  const signedIn = session !== null;
  $('person-sign-in').hidden = signedIn;
  for (const id of ['person-userinfo', 'person-refresh', 'person-sign-out']) $(id).hidden = !signedIn;
  if (claims) say(`Signed in as ${claims.preferred_username ?? claims.sub} (OpenID Connect).`);
}

function show(title, value) {
  $('person-result').hidden = false;
  $('person-result-title').textContent = title;
  $('person-result-body').textContent = JSON.stringify(value, null, 2);
}

/** Back from the provider: the package checks the answer and the ID token. */
async function callback() {
  session = await TokenSession.handleRedirect();
  if (session === null) return;
  showToken(session.idToken);
  // Who it is, in words: the ID token names the subject; userinfo says more.
  const response = await session.fetch('/oauth2/userinfo');
  render(response.ok ? await response.json() : session.idTokenClaims);
  show('ID token claims', session.idTokenClaims);
}

async function userinfo() {
  const response = await session.fetch('/oauth2/userinfo');
  show(`GET /oauth2/userinfo → ${response.status}`, await response.json());
}

async function refresh() {
  await session.refresh();
  showToken(session.token);
  show('Refreshed: the new access token is in the inspector', { expires_at: session.expiresAt, refresh: session.refreshDelivery });
}

/** Wires the section; `inspect` shows a token in the inspector. */
export async function setUpPersonSignIn(inspect) {
  showToken = inspect;
  const failed = (e) => say(`${e.message} (${e.code ?? 'error'})`, true);
  $('person-sign-in').addEventListener('click', () => TokenSession.signIn({ ...provider(), scope: 'openid profile email' }).catch(failed));
  $('person-userinfo').addEventListener('click', () => userinfo().catch(failed));
  $('person-refresh').addEventListener('click', () => refresh().catch(failed));
  $('person-sign-out').addEventListener('click', () => {
    const ending = session;
    session = null;
    ending.signOut({ postLogoutRedirectUri: `${location.origin}/`, state: 'signed-out' }).catch(failed);
  });
  const params = new URLSearchParams(location.search);
  if (params.get('state') === 'signed-out' && !params.get('code')) {
    history.replaceState(null, '', location.pathname);
    say('Signed out at the provider.');
  } else {
    await callback().catch(failed);
  }
  render();
}
