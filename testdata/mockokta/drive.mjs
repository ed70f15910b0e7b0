// drive.mjs drives the mock Okta (idpkit mockokta) over HTTP the way a CI
// job in any language can: it creates a user and an OIDC app through
// /__mock/, signs the user in with the authorization code flow and PKCE,
// reads userinfo, arms the fault "wrong-aud" and shows that the next ID
// token's aud is not the client any more.
//
// Plain Node.js 20 or newer (built-in fetch and Web Crypto), no packages:
//
//   MOCKOKTA_URL=http://127.0.0.1:9090 MOCKOKTA_TOKEN=<the printed token> node testdata/mockokta/drive.mjs
//
// It prints one line per step and exits 1 on the first mismatch.

const base = (process.env.MOCKOKTA_URL || "").replace(/\/+$/, "");
const token = process.env.MOCKOKTA_TOKEN || "";
if (!base || !token) {
  console.error("drive.mjs: set MOCKOKTA_URL (the mock's URL) and MOCKOKTA_TOKEN (its API token)");
  process.exit(2);
}

function fail(msg) {
  console.error("FAIL: " + msg);
  process.exit(1);
}

function check(ok, msg) {
  if (!ok) fail(msg);
  console.log("ok   " + msg);
}

// control calls /__mock/ with the API token and returns the parsed JSON.
async function control(method, path, body, want) {
  const res = await fetch(base + "/__mock/" + path, {
    method,
    headers: { Authorization: "SSWS " + token, "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (res.status !== want) fail(`${method} /__mock/${path}: status ${res.status}, want ${want}: ${text}`);
  return text ? JSON.parse(text) : null;
}

const b64url = (bytes) => Buffer.from(bytes).toString("base64url");
const random = () => b64url(crypto.getRandomValues(new Uint8Array(32)));

function decodeJWT(jwt) {
  const [header, payload] = jwt.split(".");
  return {
    header: JSON.parse(Buffer.from(header, "base64url")),
    claims: JSON.parse(Buffer.from(payload, "base64url")),
  };
}

// verifySignature checks an RS256 or ES256 JWT against the issuer's JWKS.
async function verifySignature(jwt, jwksURI) {
  const { header } = decodeJWT(jwt);
  const jwks = await (await fetch(jwksURI)).json();
  const jwk = jwks.keys.find((k) => k.kid === header.kid);
  if (!jwk) return false;
  const alg = header.alg === "ES256"
    ? { import: { name: "ECDSA", namedCurve: "P-256" }, verify: { name: "ECDSA", hash: "SHA-256" } }
    : { import: { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" }, verify: { name: "RSASSA-PKCS1-v1_5" } };
  const key = await crypto.subtle.importKey("jwk", jwk, alg.import, false, ["verify"]);
  const [h, p, s] = jwt.split(".");
  return crypto.subtle.verify(alg.verify, key, Buffer.from(s, "base64url"), new TextEncoder().encode(h + "." + p));
}

// login runs one authorization code + PKCE login and returns the tokens.
async function login(meta, client, redirectURI) {
  const verifier = random();
  const challenge = b64url(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier)));
  const state = random(), nonce = random();
  const authorize = new URL(meta.authorization_endpoint);
  authorize.search = new URLSearchParams({
    client_id: client.id, redirect_uri: redirectURI, response_type: "code", scope: "openid profile email",
    state, nonce, code_challenge: challenge, code_challenge_method: "S256",
  });
  const res = await fetch(authorize, { redirect: "manual" });
  if (res.status !== 302) fail(`authorize: status ${res.status}, want 302 to the redirect URI: ${await res.text()}`);
  const back = new URL(res.headers.get("location"));
  if (back.origin + back.pathname !== redirectURI) fail(`authorize redirected to ${back}, not ${redirectURI}`);
  if (back.searchParams.get("state") !== state) fail("authorize: state did not come back");
  const code = back.searchParams.get("code");
  if (!code) fail(`authorize: no code in ${back}`);

  const tokenRes = await fetch(meta.token_endpoint, {
    method: "POST",
    headers: {
      Authorization: "Basic " + Buffer.from(encodeURIComponent(client.id) + ":" + encodeURIComponent(client.secret)).toString("base64"),
      "Content-Type": "application/x-www-form-urlencoded",
    },
    body: new URLSearchParams({ grant_type: "authorization_code", code, redirect_uri: redirectURI, code_verifier: verifier }),
  });
  const tokens = await tokenRes.json();
  if (tokenRes.status !== 200) fail(`token: status ${tokenRes.status}: ${JSON.stringify(tokens)}`);
  return { ...tokens, nonce };
}

const run = Date.now().toString(36);
const redirectURI = "http://127.0.0.1:1/callback";

// 1. A user and an OIDC app, over /__mock/.
const login1 = `drive-${run}@example.com`;
const user = await control("POST", "users", { login: login1, firstName: "Drive", lastName: "Script", password: "Correct-Horse-" + run }, 201);
check(user.status === "ACTIVE" && user.profile.login === login1, `created user ${login1} (${user.id}), ACTIVE`);
const app = await control("POST", "apps", { label: `drive ${run}`, type: "oidc", redirectUris: [redirectURI] }, 201);
const client = { id: app.credentials.oauthClient.client_id, secret: app.credentials.oauthClient.client_secret };
check(client.id && client.secret, `created OIDC app ${client.id}`);

// 2. Queue the user's login, sign in, exchange the code.
const meta = await (await fetch(base + "/.well-known/openid-configuration")).json();
check(meta.issuer === base, `discovery: issuer ${meta.issuer}`);
const queued = await control("POST", "login", { login: login1, clientId: client.id }, 202);
check(queued.queued === 1, "queued the login");
const first = await login(meta, client, redirectURI);
const id1 = decodeJWT(first.id_token).claims;
check(await verifySignature(first.id_token, meta.jwks_uri), "ID token signature verifies against the JWKS");
check(id1.iss === meta.issuer, "ID token iss is the issuer");
check(id1.aud === client.id, "ID token aud is the client id");
check(id1.sub === user.id, "ID token sub is the user id");
check(id1.nonce === first.nonce, "ID token nonce is the one sent");

// 3. Userinfo with the access token.
const ui = await fetch(meta.userinfo_endpoint, { headers: { Authorization: "Bearer " + first.access_token } });
const info = await ui.json();
check(ui.status === 200 && info.sub === user.id && info.email === login1, `userinfo: sub ${info.sub}, email ${info.email}`);

// 4. Arm wrong-aud and sign in again: the ID token's aud changes.
const armed = await control("POST", "faults", { name: "wrong-aud" }, 202);
check(armed.armed.some((f) => f.name === "wrong-aud"), "armed the fault wrong-aud");
await control("POST", "login", { login: login1, clientId: client.id }, 202);
const second = await login(meta, client, redirectURI);
const id2 = decodeJWT(second.id_token).claims;
const aud2 = [].concat(id2.aud);
check(!aud2.includes(client.id), `with wrong-aud the ID token's aud is ${JSON.stringify(id2.aud)}, not the client id: an RP must refuse it`);

// 5. The request log saw both token requests; reset disarms a sticky fault.
const log = await control("GET", "requests?endpoint=token", undefined, 200);
check(log.requests.filter((r) => r.clientId === client.id).length === 2, "the request log holds both token requests");
await control("POST", "faults", { name: "expired", sticky: true }, 202);
await control("POST", "reset", undefined, 204);
const after = await control("GET", "faults", undefined, 200);
check(after.armed.length === 0, "reset disarmed every fault");
console.log("PASS");
