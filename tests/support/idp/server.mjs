// A real OpenID Connect provider for glassgate's integration tests. TEST ONLY.
//
//   node server.mjs --port 9400 --keys keys.json [--exit-with-stdin]
//                   [--console-redirect URI ... --accounts accounts.json]
//
// Prints READY on stdout once it listens on 127.0.0.1:PORT. The issuer is
// http://127.0.0.1:PORT (no trailing slash); the JWKS is at <issuer>/jwks.
//
// - client_credentials for the clients below (secret: "<client id>-secret")
//   issue RFC 9068 `at+jwt` access tokens with audience `api://gateway`: RS256
//   by default, ES256 for a client whose id ends in `-es256`.
// - The resource `api://gateway-opaque` gets opaque access tokens instead, for
//   RFC 7662 introspection (client `gateway-introspector`).
// - Test-only token parameter `claims`: a JSON object whose members are copied
//   into the token last, so they can set or override any claim (sub, groups,
//   amr, acr, auth_time, even exp or iss, to build hostile tokens).
// - Key rotation: restart with another --keys file on the same port; the first
//   key of each type in the file signs.
// - GET /__test__/stats -> {"jwks": <number of JWKS requests served>}.
// - With --console-redirect (repeatable): the authorization code flow for the
//   glassgate console. Clients `console` and `console-other` (secret
//   "<id>-secret", those redirect URIs, PKCE required by the provider for
//   public and confidential clients alike), the development login form (any
//   login name; --accounts maps a login to its `groups`), and ID tokens that
//   carry `groups` and `auth_time`. Without the flag none of this exists.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

import Provider from 'oidc-provider';
// The grant parameter allow-list lives in provider internals; the test-only
// `claims` parameter is added to it below.
import instance from 'oidc-provider/lib/helpers/weak_cache.js';

const { values: args } = parseArgs({
  options: {
    port: { type: 'string' },
    keys: { type: 'string' },
    'exit-with-stdin': { type: 'boolean', default: false },
    'console-redirect': { type: 'string', multiple: true },
    accounts: { type: 'string' },
  },
});
if (!args.port || !args.keys) {
  process.stderr.write('usage: node server.mjs --port PORT --keys KEYS.json\n');
  process.exit(2);
}

const port = Number.parseInt(args.port, 10);
const issuer = `http://127.0.0.1:${port}`;
const jwks = JSON.parse(readFileSync(args.keys, 'utf8'));
const AUDIENCE = 'api://gateway';
const OPAQUE_AUDIENCE = 'api://gateway-opaque';

function client(id) {
  return {
    client_id: id,
    client_secret: `${id}-secret`,
    grant_types: ['client_credentials'],
    response_types: [],
    redirect_uris: [],
    scope: 'read write admin',
  };
}

function testClaims(ctx) {
  const raw = ctx.oidc?.params?.claims;
  if (!raw) return undefined;
  const parsed = JSON.parse(raw);
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new Error('claims must be a JSON object');
  }
  return parsed;
}

const redirects = args['console-redirect'] || [];
const accounts = args.accounts ? JSON.parse(readFileSync(args.accounts, 'utf8')) : {};

function consoleClient(id) {
  return {
    client_id: id,
    client_secret: `${id}-secret`,
    grant_types: ['authorization_code'],
    response_types: ['code'],
    redirect_uris: redirects,
    require_auth_time: true,
    scope: 'openid groups',
  };
}

const consoleClients = redirects.length ? [consoleClient('console'), consoleClient('console-other')] : [];

const provider = new Provider(issuer, {
  jwks,
  clients: [
    client('gateway'),
    client('gateway-es256'),
    client('gateway-test'),
    client('gateway-test-es256'),
    client('gateway-introspector'),
    ...consoleClients,
  ],
  scopes: ['openid', 'offline_access', 'read', 'write', 'admin', 'groups'],
  claims: { openid: ['sub'], groups: ['groups'] },
  conformIdTokenClaims: false,
  async findAccount(ctx, id) {
    return {
      accountId: id,
      async claims() {
        return { sub: id, groups: (accounts[id] || {}).groups || [] };
      },
    };
  },
  cookies: { keys: ['glassgate-test-only-cookie-key'] },
  features: {
    devInteractions: { enabled: redirects.length > 0 },
    clientCredentials: { enabled: true },
    introspection: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => AUDIENCE,
      useGrantedResource: () => true,
      getResourceServerInfo(ctx, resource, requester) {
        if (resource === OPAQUE_AUDIENCE) {
          return {
            scope: 'read write admin',
            audience: OPAQUE_AUDIENCE,
            accessTokenFormat: 'opaque',
            accessTokenTTL: 600,
          };
        }
        if (resource !== AUDIENCE) {
          throw new Error(`unknown resource ${resource}`);
        }
        const alg = requester.clientId.endsWith('-es256') ? 'ES256' : 'RS256';
        return {
          scope: 'read write admin',
          audience: AUDIENCE,
          accessTokenFormat: 'jwt',
          accessTokenTTL: 600,
          jwt: { sign: { alg } },
        };
      },
    },
  },
  extraTokenClaims: (ctx) => testClaims(ctx),
  formats: {
    customizers: {
      // oidc-provider writes sub/iat/exp/iss/aud after the extra claims;
      // re-apply the test's claims so that they win.
      jwt(ctx, token, jwt) {
        Object.assign(jwt.payload, token.extra || {});
      },
    },
  },
});

for (const grant of ['client_credentials', undefined]) {
  instance(provider).grantTypeParams.get(grant).add('claims');
}

let jwksHits = 0;
provider.use(async (ctx, next) => {
  if (ctx.path === '/__test__/stats') {
    ctx.body = { jwks: jwksHits };
    return;
  }
  if (ctx.path === '/jwks') jwksHits += 1;
  await next();
});

const server = provider.listen(port, '127.0.0.1', () => {
  process.stdout.write('READY\n');
});

// With --exit-with-stdin the server also stops when its parent goes away
// (the test runner holds the other end of stdin), so it never outlives a killed run.
if (args['exit-with-stdin']) {
  process.stdin.on('close', () => process.exit(0));
  process.stdin.resume();
}

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => {
    server.close();
    process.exit(0);
  });
}
