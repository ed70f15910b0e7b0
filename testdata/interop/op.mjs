// op.mjs: panva's oidc-provider (an OpenID Certified provider) with one
// client, for suites/interop to sign idpkit's relying party in against.
//
//   node op.mjs '{"clientId":…,"clientSecret":…,"redirectUri":…,
//                 "accounts":{"<sub>":{"email":…,"email_verified":true,"preferred_username":…}}}'
//
// It listens on a free loopback port, with the issuer http://127.0.0.1:PORT,
// and prints one JSON line {"issuer","port"} on stdout when it is ready. The
// client uses client_secret_basic, response type code and must send PKCE.
//
// There is no sign-in page: the interaction handler finishes every login
// at once for the account named by the last POST /__test/login
// {"accountId": sub} (204), and grants consent to what the client asked.
// A login before any POST, or for an unknown account, ends the
// authorization with access_denied.
//
// It exits when its standard input closes, so it never outlives the test.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import Provider from 'oidc-provider';

const input = JSON.parse(process.argv[2] ?? '{}');
const accounts = input.accounts ?? {};
let nextAccount = null;

function keySet() {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = privateKey.export({ format: 'jwk' });
  return { keys: [{ ...jwk, kid: 'interop-' + randomBytes(4).toString('hex'), alg: 'RS256', use: 'sig' }] };
}

function configuration() {
  return {
    clients: [
      {
        client_id: input.clientId,
        client_secret: input.clientSecret,
        redirect_uris: [input.redirectUri],
        response_types: ['code'],
        grant_types: ['authorization_code'],
        token_endpoint_auth_method: 'client_secret_basic',
      },
    ],
    pkce: { required: () => true },
    jwks: keySet(),
    cookies: { keys: [randomBytes(32).toString('hex')] },
    scopes: ['openid', 'offline_access', 'profile', 'email'],
    claims: {
      openid: ['sub'],
      profile: ['preferred_username', 'name'],
      email: ['email', 'email_verified'],
    },
    features: { devInteractions: { enabled: false } },
    interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
    async findAccount(ctx, sub) {
      const claims = accounts[sub];
      if (!claims) return undefined;
      return { accountId: sub, claims: async () => ({ ...claims, sub }) };
    },
  };
}

async function readJSON(req) {
  const chunks = [];
  for await (const c of req) chunks.push(c);
  return JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
}

// interact finishes the pending prompt without showing anything.
async function interact(provider, req, res) {
  const details = await provider.interactionDetails(req, res);
  const { prompt, params, session } = details;
  if (prompt.name === 'login') {
    if (!nextAccount || !accounts[nextAccount]) {
      await provider.interactionFinished(req, res, {
        error: 'access_denied',
        error_description: 'no test account is queued for this sign-in',
      }, { mergeWithLastSubmission: false });
      return;
    }
    await provider.interactionFinished(req, res, { login: { accountId: nextAccount } }, { mergeWithLastSubmission: false });
    return;
  }
  if (prompt.name === 'consent') {
    const grant = details.grantId
      ? await provider.Grant.find(details.grantId)
      : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
    const missing = prompt.details;
    if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
    if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
    for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes ?? {})) {
      grant.addResourceScope(indicator, scopes.join(' '));
    }
    const grantId = await grant.save();
    await provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
    return;
  }
  res.statusCode = 500;
  res.end(`op.mjs: unexpected prompt ${prompt.name}`);
}

const server = createServer();
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const { port } = server.address();
const issuer = `http://127.0.0.1:${port}`;
const provider = new Provider(issuer, configuration());
const oidc = provider.callback();

server.on('request', async (req, res) => {
  try {
    const path = new URL(req.url, issuer).pathname;
    if (req.method === 'POST' && path === '/__test/login') {
      const body = await readJSON(req);
      nextAccount = body.accountId ?? null;
      res.statusCode = 204;
      res.end();
      return;
    }
    if (req.method === 'GET' && path.startsWith('/interaction/')) {
      await interact(provider, req, res);
      return;
    }
    oidc(req, res);
  } catch (err) {
    process.stderr.write(`op.mjs: ${req.method} ${req.url}: ${err?.stack ?? err}\n`);
    if (!res.headersSent) {
      res.statusCode = 500;
      res.setHeader('content-type', 'text/plain');
    }
    res.end(`op.mjs: ${err?.message ?? err}`);
  }
});

// Errors the provider reports to its own listeners go to stderr, so a
// refusal of our relying party's requests shows up in the test's log.
for (const ev of ['authorization.error', 'grant.error', 'server_error', 'userinfo.error', 'jwks.error', 'discovery.error']) {
  provider.on(ev, (ctx, err) => {
    process.stderr.write(`op.mjs: ${ev}: ${err?.name ?? ''} ${err?.message ?? err} ${err?.error_description ?? ''}\n`);
  });
}

process.stdin.on('end', () => process.exit(0));
process.stdin.on('error', () => process.exit(0));
process.stdin.resume();
process.stdout.write(JSON.stringify({ issuer, port }) + '\n');
