// rp.mjs: panva's openid-client (an OpenID Certified relying party library)
// signs in against an OpenID provider, as suites/interop drives it.
//
//   node rp.mjs '{"issuer":…,"clientId":…,"clientSecret":…,"redirectUri":…,
//                 "postLogoutRedirectUri":…,"username":…,"password":…}'
//
// The browser's part is played with fetch and manual redirects: the
// authorization request, the provider's sign-in form (its action and hidden
// fields are read from the HTML), the POST of the credentials and the
// redirect to the redirect URI. Then openid-client redeems the code (it
// checks state, nonce, PKCE and the ID token, signature included), refreshes,
// reads UserInfo (whose sub must equal the ID token's) and builds the
// end-session URL, which is followed to the post-logout redirect URI.
//
// It prints one JSON object on stdout, what it saw at each step; on failure
// the object has "error" {step, name, code, message, cause} and the exit
// status is 1. Tokens are never printed, only a short SHA-256 fingerprint.
import { createHash } from 'node:crypto';
import * as client from 'openid-client';

const input = JSON.parse(process.argv[2] ?? '{}');
const out = { node: process.version };
let step = 'start';

// A cookie jar for the provider's origin: enough for its SSO session.
const jar = new Map();
function remember(res) {
  for (const line of res.headers.getSetCookie()) {
    const [pair, ...attrs] = line.split(';');
    const eq = pair.indexOf('=');
    const name = pair.slice(0, eq).trim();
    const value = pair.slice(eq + 1).trim();
    const expired = attrs.some((a) => /^\s*max-age\s*=\s*(0|-\d+)\s*$/i.test(a)) || value === '';
    if (expired) jar.delete(name);
    else jar.set(name, value);
  }
}
function cookieHeader() {
  return [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
}

// browse makes one request the way a browser would, without following a
// redirect, keeping cookies for the provider's origin only.
async function browse(url, init = {}) {
  const u = new URL(url);
  const headers = new Headers(init.headers ?? {});
  const sameOrigin = u.origin === new URL(input.issuer).origin;
  if (sameOrigin && jar.size > 0) headers.set('cookie', cookieHeader());
  headers.set('accept', 'text/html');
  const res = await fetch(u, { ...init, headers, redirect: 'manual' });
  if (sameOrigin) remember(res);
  const body = await res.text();
  return { status: res.status, location: res.headers.get('location'), body, url: u };
}

function fingerprint(s) {
  return s ? createHash('sha256').update(s).digest('hex').slice(0, 16) : '';
}

function decodeEntities(s) {
  return s
    .replace(/&#x([0-9a-f]+);/gi, (_, h) => String.fromCodePoint(parseInt(h, 16)))
    .replace(/&#(\d+);/g, (_, d) => String.fromCodePoint(parseInt(d, 10)))
    .replace(/&quot;/g, '"')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

function attributes(tag) {
  const attrs = {};
  for (const m of tag.matchAll(/([a-zA-Z_:][-a-zA-Z0-9_:.]*)\s*=\s*"([^"]*)"/g)) {
    attrs[m[1].toLowerCase()] = decodeEntities(m[2]);
  }
  return attrs;
}

// parseForm reads the first form of a page: its method, action and inputs.
function parseForm(html, base) {
  const form = html.match(/<form\b[^>]*>/i);
  if (!form) return null;
  const fa = attributes(form[0]);
  const end = html.indexOf('</form>', form.index);
  const inner = html.slice(form.index, end < 0 ? undefined : end);
  const inputs = [];
  for (const m of inner.matchAll(/<input\b[^>]*>/gi)) {
    const a = attributes(m[0]);
    if (a.name) inputs.push({ name: a.name, type: a.type ?? 'text', value: a.value ?? '' });
  }
  return {
    method: (fa.method ?? 'get').toUpperCase(),
    action: new URL(fa.action ?? '', base).href,
    inputs,
  };
}

function claimsOf(tokens) {
  const c = tokens.claims();
  return c ? { ...c } : null;
}

try {
  step = 'discovery';
  const config = await client.discovery(
    new URL(input.issuer),
    input.clientId,
    { client_secret: input.clientSecret },
    client.ClientSecretBasic(input.clientSecret),
    { execute: [client.allowInsecureRequests, client.enableNonRepudiationChecks] },
  );
  const md = config.serverMetadata();
  out.discovery = {
    issuer: md.issuer,
    authorization_endpoint: md.authorization_endpoint,
    token_endpoint: md.token_endpoint,
    userinfo_endpoint: md.userinfo_endpoint,
    end_session_endpoint: md.end_session_endpoint,
    jwks_uri: md.jwks_uri,
  };

  step = 'authorization-url';
  const verifier = client.randomPKCECodeVerifier();
  const challenge = await client.calculatePKCECodeChallenge(verifier);
  const state = client.randomState();
  const nonce = client.randomNonce();
  const authURL = client.buildAuthorizationUrl(config, {
    redirect_uri: input.redirectUri,
    scope: 'openid profile email offline_access',
    code_challenge: challenge,
    code_challenge_method: 'S256',
    state,
    nonce,
  });
  out.authorize = { params: Object.fromEntries(authURL.searchParams) };

  step = 'authorize';
  const first = await browse(authURL);
  const form = parseForm(first.body, authURL);
  out.loginForm = {
    status: first.status,
    method: form?.method ?? '',
    action: form?.action ?? '',
    fields: form ? form.inputs.map((i) => i.name) : [],
  };
  if (first.status !== 200 || !form) {
    throw new Error(`the authorization endpoint answered ${first.status} without a sign-in form`);
  }

  step = 'sign-in';
  const fields = new URLSearchParams();
  for (const i of form.inputs) {
    if (i.name === 'username') fields.set('username', input.username);
    else if (i.name === 'password') fields.set('password', input.password);
    else fields.append(i.name, i.value);
  }
  if (!fields.has('password')) fields.set('password', input.password);
  let res = await browse(form.action, {
    method: form.method,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: fields.toString(),
  });
  // Follow redirects on the provider's side until one leaves for the client.
  for (let hops = 0; res.location && hops < 10; hops++) {
    const next = new URL(res.location, res.url);
    if (next.href.startsWith(input.redirectUri)) break;
    res = await browse(next);
  }
  if (!res.location) {
    throw new Error(`the sign-in did not redirect (HTTP ${res.status})`);
  }
  const callback = new URL(res.location, res.url);
  out.callback = {
    status: res.status,
    target: callback.origin + callback.pathname,
    hasCode: callback.searchParams.has('code'),
    state: callback.searchParams.get('state'),
    stateMatches: callback.searchParams.get('state') === state,
    error: callback.searchParams.get('error'),
    sessionCookie: jar.size > 0,
  };

  step = 'code-grant';
  const tokens = await client.authorizationCodeGrant(config, callback, {
    pkceCodeVerifier: verifier,
    expectedState: state,
    expectedNonce: nonce,
    idTokenExpected: true,
  });
  const claims = claimsOf(tokens);
  out.tokens = {
    token_type: tokens.token_type,
    scope: tokens.scope,
    expires_in: tokens.expires_in,
    access_token: fingerprint(tokens.access_token),
    refresh_token: fingerprint(tokens.refresh_token),
    id_token: fingerprint(tokens.id_token),
    claims,
  };

  step = 'refresh';
  const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token);
  out.refresh = {
    token_type: refreshed.token_type,
    scope: refreshed.scope,
    access_token: fingerprint(refreshed.access_token),
    refresh_token: fingerprint(refreshed.refresh_token),
    id_token: fingerprint(refreshed.id_token),
    claims: claimsOf(refreshed),
  };

  step = 'userinfo';
  out.userinfo = await client.fetchUserInfo(config, refreshed.access_token, claims.sub);

  step = 'end-session';
  const logoutState = client.randomState();
  const endURL = client.buildEndSessionUrl(config, {
    id_token_hint: refreshed.id_token ?? tokens.id_token,
    post_logout_redirect_uri: input.postLogoutRedirectUri,
    state: logoutState,
  });
  res = await browse(endURL);
  const hops = [{ status: res.status, url: endURL.origin + endURL.pathname }];
  while (res.location && hops.length < 10) {
    const next = new URL(res.location, res.url);
    res = await browse(next);
    hops.push({ status: res.status, url: next.origin + next.pathname });
  }
  const landed = res.url;
  out.logout = {
    hops,
    landed: landed.origin + landed.pathname,
    status: res.status,
    state: landed.searchParams.get('state'),
    stateMatches: landed.searchParams.get('state') === logoutState,
    sessionCookie: jar.size > 0,
  };

  step = 'after-logout';
  // The SSO session is over: the same request shows the sign-in form again.
  const again = await browse(authURL);
  out.afterLogout = { status: again.status, signInForm: parseForm(again.body, authURL) !== null };

  process.stdout.write(JSON.stringify(out) + '\n');
} catch (err) {
  out.error = {
    step,
    name: err?.name ?? 'Error',
    code: err?.code ?? '',
    message: String(err?.message ?? err),
    cause: err?.cause === undefined ? null : describeCause(err.cause),
  };
  process.stdout.write(JSON.stringify(out) + '\n');
  process.exitCode = 1;
}

function describeCause(c) {
  if (c instanceof Error) return { name: c.name, message: c.message };
  try {
    return JSON.parse(JSON.stringify(c));
  } catch {
    return String(c);
  }
}
