// node-oidc-provider (an OpenID Certified provider) configured as jwtkit's provider is, for
// side-by-side measurements (`cargo xtask bench-http`): the authorization code flow with PKCE
// (S256) for a public client, ID tokens signed with the same private JWK as jwtkit's, refresh
// tokens rotating at every use, userinfo, and introspection for a confidential client.
//
// Usage: node peers/oidc-provider.mjs KEY.json REDIRECT_URI INTROSPECTION_SECRET [RESOURCE]
// With RESOURCE (a resource indicator, RFC 8707), access tokens are RFC 9068 JWTs for it with
// the audience `api`, and DPoP proofs must carry the provider's nonce (RFC 9449 §8): a third
// party's DPoP for the interop tests.
// Listens on 127.0.0.1, a free port, and prints {"url": ...} as one JSON line. A browser's
// interaction (sign-in and consent) is completed at once for the account its `login_hint`
// names, as a person who is already signed in and has consented would be: the measurements
// are of the protocol's endpoints, not of a login page. State is kept by the provider's own
// in-memory adapter, given room for a million entries (its default 1 000 would evict codes
// and tokens a benchmark still uses).
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';

import Provider from 'oidc-provider';
import MemoryAdapter from 'oidc-provider/lib/adapters/memory_adapter.js';
import LRU from 'oidc-provider/lib/helpers/lru.js';

const [keyFile, redirectUri, introspectionSecret, resource] = process.argv.slice(2);
if (!introspectionSecret) {
  console.error('usage: oidc-provider.mjs KEY.json REDIRECT_URI INTROSPECTION_SECRET');
  process.exit(2);
}
const jwk = JSON.parse(readFileSync(keyFile, 'utf8'));
const alg = jwk.alg;

const server = createServer();
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const url = `http://127.0.0.1:${server.address().port}`;

const storage = new LRU({ maxSize: 1_000_000 });

const provider = new Provider(url, {
  adapter: (model) => new MemoryAdapter(model, storage),
  clients: [
    {
      client_id: 'bench',
      token_endpoint_auth_method: 'none',
      redirect_uris: [redirectUri],
      // Back to the app's home page after RP-initiated logout.
      post_logout_redirect_uris: [new URL('/', redirectUri).href],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      id_token_signed_response_alg: alg,
    },
    {
      client_id: 'introspector',
      client_secret: introspectionSecret,
      id_token_signed_response_alg: alg,
      grant_types: [],
      response_types: [],
      redirect_uris: [],
    },
  ],
  jwks: { keys: [jwk] },
  cookies: { keys: ['a cookie key of the benchmark only'] },
  claims: {
    openid: ['sub'],
    profile: ['name', 'preferred_username'],
    email: ['email', 'email_verified'],
  },
  async findAccount(_ctx, sub) {
    return {
      accountId: sub,
      async claims() {
        return {
          sub,
          name: 'Bench',
          preferred_username: sub,
          email: 'bench@example.org',
          email_verified: true,
        };
      },
    };
  },
  features: {
    ...(resource && {
      dPoP: { enabled: true, nonceSecret: randomBytes(32), requireNonce: () => true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => resource,
        useGrantedResource: () => true,
        getResourceServerInfo: () => ({ scope: 'api', audience: 'api', accessTokenFormat: 'jwt', jwt: { sign: { alg } } }),
      },
    }),
    devInteractions: { enabled: false },
    introspection: { enabled: true },
    revocation: { enabled: true },
  },
  interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
  // A refresh token for every code, as jwtkit issues one (without offline_access).
  issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
  pkce: { required: () => true },
  ttl: {
    AccessToken: 600,
    AuthorizationCode: 600,
    IdToken: 600,
    RefreshToken: 86400,
    Grant: 86400,
    Session: 86400,
    Interaction: 600,
  },
});
provider.on('server_error', (_ctx, error) => console.error('server_error', error));

// The interaction: signed in as the `login_hint`, and consent to what the client asked.
async function interaction(req, res) {
  const details = await provider.interactionDetails(req, res);
  const accountId = details.params.login_hint ?? 'bench';
  const grant = new provider.Grant({ accountId, clientId: details.params.client_id });
  grant.addOIDCScope(details.params.scope);
  if (resource) grant.addResourceScope(resource, 'api');
  const grantId = await grant.save();
  await provider.interactionFinished(
    req,
    res,
    { login: { accountId }, consent: { grantId } },
    { mergeWithLastSubmission: false },
  );
}

const handle = provider.callback();
server.on('request', (req, res) => {
  if (req.url.startsWith('/interaction/')) {
    interaction(req, res).catch((error) => {
      res.statusCode = 500;
      res.end(String(error));
    });
  } else {
    handle(req, res);
  }
});
console.log(JSON.stringify({ url }));
