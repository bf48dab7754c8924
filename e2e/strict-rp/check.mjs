// Runs two strict relying-party libraries, oauth4webapi and openid-client, in
// their default modes (no check turned off, https only) against a Gatehouse,
// and plays the browser's part of the redirects (authorize, login form,
// callback, logout) with fetch and a cookie jar. server/strict_rp_test.go
// runs it against a throwaway Gatehouse; by hand:
//
//   ISSUER=https://id.example.com/ SPA_CLIENT_ID=… REDIRECT_URI=… LOGOUT_URI=… API_AUDIENCE=… \
//   EMAIL=… PASSWORD=… M2M_CLIENT_ID=… M2M_CLIENT_SECRET=… OTHER_CLIENT_ID=… OTHER_CLIENT_SECRET=… \
//   node check.mjs
//
// It prints one JSON line per check, {"check": name, "ok": true} or
// {"check": name, "ok": false, "error": why}, and stops at the first failure
// (exit 1). Once it prints {"advance": "reuse-interval"} and waits for a line
// on standard input: the caller moves Gatehouse's clock past the refresh
// token reuse interval, so no check waits for wall-clock time.

import { createInterface } from 'node:readline';
import * as oauth from 'oauth4webapi';
import * as client from 'openid-client';

const STEP_TIMEOUT_MS = 10_000;
const SCRIPT_TIMEOUT_MS = 100_000;
const MAX_REDIRECTS = 10;

function env(name) {
  const v = process.env[name];
  if (!v) throw new Error(`environment variable ${name} is required`);
  return v;
}

const cfg = {
  issuer: new URL(env('ISSUER')),
  spa: env('SPA_CLIENT_ID'),
  redirectUri: env('REDIRECT_URI'),
  logoutUri: env('LOGOUT_URI'),
  api: env('API_AUDIENCE'),
  email: env('EMAIL'),
  password: env('PASSWORD'),
  m2m: env('M2M_CLIENT_ID'),
  m2mSecret: env('M2M_CLIENT_SECRET'),
  other: env('OTHER_CLIENT_ID'),
  otherSecret: env('OTHER_CLIENT_SECRET'),
};

function describe(err) {
  if (!err) return String(err);
  const parts = [err.message || String(err)];
  if (err.error) parts.push(`error=${err.error}`);
  if (err.error_description) parts.push(`error_description=${err.error_description}`);
  if (err.code) parts.push(`code=${err.code}`);
  if (err.status) parts.push(`status=${err.status}`);
  if (Array.isArray(err.cause)) parts.push(`challenges: ${JSON.stringify(err.cause)}`);
  else if (err.cause && err.cause.message) parts.push(`cause: ${err.cause.message}`);
  return parts.join('; ');
}

function assert(cond, message) {
  if (!cond) throw new Error(message);
}

// oauthError is the OAuth error code an error carries: in the response body
// (err.error) or in a WWW-Authenticate challenge (RFC 6750 §3).
function oauthError(err) {
  if (err.code === oauth.WWW_AUTHENTICATE_CHALLENGE) return err.cause?.[0]?.parameters?.error;
  return err.error;
}

// expectError runs fn, which must throw an error whose OAuth error code is
// code, and returns that error.
async function expectError(fn, code, what) {
  try {
    await fn();
  } catch (err) {
    assert(oauthError(err) === code, `${what}: threw ${describe(err)}, want error=${code}`);
    return err;
  }
  throw new Error(`${what}: succeeded, want error=${code}`);
}

function report(line) {
  process.stdout.write(JSON.stringify(line) + '\n');
}

const stdin = createInterface({ input: process.stdin });
const stdinLines = stdin[Symbol.asyncIterator]();

// advance asks the caller to move Gatehouse's clock and waits until it has.
async function advance(what) {
  report({ advance: what });
  const { done } = await stdinLines.next();
  assert(!done, `standard input closed while waiting for the clock to move past the ${what}`);
}

// Browser is one user agent: navigations with its own cookies (one host),
// following redirects by hand so that it stops at the application.
class Browser {
  constructor() {
    this.cookies = new Map();
  }

  keep(res) {
    for (const c of res.headers.getSetCookie()) {
      const [pair, ...attrs] = c.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const gone = attrs.some((a) => {
        const [k, v] = a.trim().split('=');
        return (k.toLowerCase() === 'max-age' && Number(v) <= 0) || (k.toLowerCase() === 'expires' && Date.parse(v) < Date.now());
      });
      if (gone || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }

  async request(url, { method = 'GET', form } = {}) {
    const headers = { Accept: 'text/html' };
    if (this.cookies.size) headers.Cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    let body;
    if (form) {
      body = new URLSearchParams(form).toString();
      headers['Content-Type'] = 'application/x-www-form-urlencoded';
      headers.Origin = new URL(url).origin; // a form posted from its own page
      headers['Sec-Fetch-Site'] = 'same-origin';
    }
    const res = await fetch(url, { method, headers, body, redirect: 'manual', signal: AbortSignal.timeout(STEP_TIMEOUT_MS) });
    this.keep(res);
    const text = await res.text();
    const location = res.headers.get('location');
    return { url: String(url), status: res.status, location: location && new URL(location, url).href, text };
  }

  // navigate follows redirects from url until one points at a URL starting
  // with stopAt (returned as redirect) or a page is shown (returned as page).
  async navigate(url, stopAt, init) {
    let res = await this.request(url, init);
    for (let hops = 0; ; hops++) {
      if (![301, 302, 303, 307, 308].includes(res.status) || !res.location) return { page: res };
      if (res.location.startsWith(stopAt)) return { redirect: new URL(res.location), hops };
      assert(hops < MAX_REDIRECTS, `more than ${MAX_REDIRECTS} redirects from ${url}`);
      res = await this.request(res.location);
    }
  }
}

function screenOf(page) {
  return (page.text.match(/data-screen="([a-z-]+)"/) || [])[1] || '';
}

function unescapeHTML(s) {
  return s.replace(/&(amp|lt|gt|quot|#39|#43);/g, (_, e) => ({ amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'", '#43': '+' })[e]);
}

// signIn goes from an authorization URL to the application's callback,
// filling in the login form when Gatehouse shows it.
async function signIn(browser, authorizationUrl) {
  const first = await browser.navigate(authorizationUrl, cfg.redirectUri);
  if (first.redirect) return first.redirect;
  const page = first.page;
  assert(page.status === 200 && screenOf(page) === 'login', `authorize led to ${page.status} on screen "${screenOf(page)}", want the login form`);
  const form = page.text.match(/<form[^>]*action="([^"]*\/login)"[^>]*>([\s\S]*?)<\/form>/);
  assert(form, 'the login page has no form posting to /login');
  const fields = {};
  for (const [, name, value] of form[2].matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) {
    fields[name] = unescapeHTML(value);
  }
  fields.email = cfg.email;
  fields.password = cfg.password;
  const out = await browser.navigate(new URL(unescapeHTML(form[1]), page.url), cfg.redirectUri, { method: 'POST', form: fields });
  assert(out.redirect, `logging in led to ${out.page?.status} on screen "${out.page && screenOf(out.page)}", want the callback`);
  return out.redirect;
}

// The checks share what earlier ones obtained.
const state = {};
const browser = new Browser();

const checks = [
  ['oauth4webapi discovery', async () => {
    const res = await oauth.discoveryRequest(cfg.issuer);
    state.as = await oauth.processDiscoveryResponse(cfg.issuer, res);
    assert(state.as.issuer === cfg.issuer.href, `issuer ${state.as.issuer}`);
  }],

  ['openid-client discovery', async () => {
    state.spaConfig = await client.discovery(cfg.issuer, cfg.spa, undefined, client.None());
    // ID tokens from the token endpoint are also checked against jwks_uri.
    client.enableNonRepudiationChecks(state.spaConfig);
    const meta = state.spaConfig.serverMetadata();
    assert(meta.supportsPKCE('S256'), 'discovery does not advertise PKCE S256');
    for (const field of ['end_session_endpoint', 'revocation_endpoint', 'introspection_endpoint', 'userinfo_endpoint']) {
      assert(meta[field], `discovery has no ${field}`);
    }
  }],

  ['oauth4webapi code flow with PKCE and nonce', async () => {
    const spa = { client_id: cfg.spa };
    const verifier = oauth.generateRandomCodeVerifier();
    const nonce = oauth.generateRandomNonce();
    const st = oauth.generateRandomState();
    const url = new URL(state.as.authorization_endpoint);
    url.search = new URLSearchParams({
      client_id: cfg.spa, redirect_uri: cfg.redirectUri, response_type: 'code', scope: 'openid profile email offline_access',
      audience: cfg.api, state: st, nonce, code_challenge: await oauth.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
    }).toString();
    const callback = await signIn(browser, url);
    const params = oauth.validateAuthResponse(state.as, spa, callback, st);
    const res = await oauth.authorizationCodeGrantRequest(state.as, spa, oauth.None(), params, cfg.redirectUri, verifier);
    const tokens = await oauth.processAuthorizationCodeResponse(state.as, spa, res, { expectedNonce: nonce, requireIdToken: true });
    // The ID token's signature, against the keys at jwks_uri.
    await oauth.validateApplicationLevelSignature(state.as, res);
    const claims = oauth.getValidatedIdTokenClaims(tokens);
    assert(claims.aud === cfg.spa, `ID token aud ${JSON.stringify(claims.aud)}, want the string ${cfg.spa}`);
    assert(claims.email === cfg.email, `ID token email ${claims.email}`);
    assert(tokens.refresh_token, 'offline_access gave no refresh token');
    state.first = { tokens, sub: claims.sub };
  }],

  ['oauth4webapi userinfo', async () => {
    const res = await oauth.userInfoRequest(state.as, { client_id: cfg.spa }, state.first.tokens.access_token);
    const info = await oauth.processUserInfoResponse(state.as, { client_id: cfg.spa }, state.first.sub, res);
    assert(info.email === cfg.email, `userinfo email ${info.email}`);
  }],

  ['oauth4webapi validateJwtAccessToken for the API', async () => {
    const request = new Request('https://api.invalid/resource', { headers: { Authorization: `Bearer ${state.first.tokens.access_token}` } });
    const claims = await oauth.validateJwtAccessToken(state.as, request, cfg.api);
    assert(claims.client_id === cfg.spa && claims.sub === state.first.sub, `client_id ${claims.client_id}, sub ${claims.sub}`);
  }],

  ['openid-client code flow with PKCE, nonce and ID token signature', async () => {
    const verifier = client.randomPKCECodeVerifier();
    const nonce = client.randomNonce();
    const st = client.randomState();
    const url = client.buildAuthorizationUrl(state.spaConfig, {
      redirect_uri: cfg.redirectUri, scope: 'openid profile email offline_access', audience: cfg.api, state: st, nonce,
      code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
    });
    const callback = await signIn(browser, url); // the session from the first flow answers at once
    const tokens = await client.authorizationCodeGrant(state.spaConfig, callback, {
      pkceCodeVerifier: verifier, expectedNonce: nonce, expectedState: st, idTokenExpected: true,
    });
    const claims = tokens.claims();
    assert(claims.sub === state.first.sub, `sub ${claims.sub}, want ${state.first.sub}`);
    state.second = tokens;
  }],

  ['openid-client userinfo', async () => {
    const info = await client.fetchUserInfo(state.spaConfig, state.second.access_token, state.first.sub);
    assert(info.email === cfg.email, `userinfo email ${info.email}`);
  }],

  ['without an audience the access token is opaque, for userinfo only', async () => {
    const verifier = client.randomPKCECodeVerifier();
    const nonce = client.randomNonce();
    const st = client.randomState();
    const url = client.buildAuthorizationUrl(state.spaConfig, {
      redirect_uri: cfg.redirectUri, scope: 'openid profile email offline_access', state: st, nonce,
      code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
    });
    const callback = await signIn(browser, url);
    const tokens = await client.authorizationCodeGrant(state.spaConfig, callback, {
      pkceCodeVerifier: verifier, expectedNonce: nonce, expectedState: st, idTokenExpected: true,
    });
    // The refresh retires the first access token, so each is checked while live.
    const opaqueOnly = async (name, token) => {
      assert(token.split('.').length !== 3, `the ${name} access token without an audience is a JWT`);
      const info = await client.fetchUserInfo(state.spaConfig, token, state.first.sub);
      assert(info.email === cfg.email, `userinfo with the ${name} opaque token: email ${info.email}`);
      const request = new Request('https://api.invalid/resource', { headers: { Authorization: `Bearer ${token}` } });
      let accepted = false;
      try {
        await oauth.validateJwtAccessToken(state.as, request, cfg.api);
        accepted = true;
      } catch {
        // refused, as an API must refuse it
      }
      assert(!accepted, `validateJwtAccessToken accepted the ${name} opaque token`);
    };
    await opaqueOnly('issued', tokens.access_token);
    const rotated = await client.refreshTokenGrant(state.spaConfig, tokens.refresh_token);
    assert(rotated.refresh_token && rotated.refresh_token !== tokens.refresh_token, 'the refresh gave no new refresh token');
    await opaqueOnly('refreshed', rotated.access_token);
    state.opaque = rotated;
  }],

  ['a revoked opaque access token stops working at userinfo', async () => {
    await client.tokenRevocation(state.spaConfig, state.opaque.access_token, { token_type_hint: 'access_token' });
    const res = await oauth.userInfoRequest(state.as, { client_id: cfg.spa }, state.opaque.access_token);
    await expectError(() => oauth.processUserInfoResponse(state.as, { client_id: cfg.spa }, state.first.sub, res), 'invalid_token',
      'userinfo with the revoked opaque token');
  }],

  ['openid-client refresh rotation', async () => {
    const rotated = await client.refreshTokenGrant(state.spaConfig, state.second.refresh_token);
    assert(rotated.refresh_token && rotated.refresh_token !== state.second.refresh_token, 'the refresh gave no new refresh token');
    assert(rotated.claims()?.sub === state.first.sub, 'the refresh gave no ID token for the user');
    state.rotated = rotated;
  }],

  ['refresh token retried within the reuse interval', async () => {
    const retried = await client.refreshTokenGrant(state.spaConfig, state.second.refresh_token);
    assert(retried.refresh_token, 'the retry gave no refresh token');
    state.retried = retried;
  }],

  ['refresh token reused after the reuse interval is refused', async () => {
    await advance('reuse-interval');
    await expectError(() => client.refreshTokenGrant(state.spaConfig, state.second.refresh_token), 'invalid_grant', 'reusing the rotated refresh token');
  }],

  ['reuse revokes the whole family', async () => {
    for (const [name, t] of [['the rotated', state.rotated], ['the retried', state.retried]]) {
      await expectError(() => client.refreshTokenGrant(state.spaConfig, t.refresh_token), 'invalid_grant', `${name} refresh token`);
    }
    const res = await oauth.userInfoRequest(state.as, { client_id: cfg.spa }, state.rotated.access_token);
    await expectError(() => oauth.processUserInfoResponse(state.as, { client_id: cfg.spa }, state.first.sub, res), 'invalid_token',
      'userinfo with an access token of the revoked family');
  }],

  ['openid-client client credentials for an m2m application', async () => {
    state.m2mConfig = await client.discovery(cfg.issuer, cfg.m2m, undefined, client.ClientSecretBasic(cfg.m2mSecret));
    const tokens = await client.clientCredentialsGrant(state.m2mConfig, { audience: cfg.api });
    const request = new Request('https://api.invalid/resource', { headers: { Authorization: `Bearer ${tokens.access_token}` } });
    const claims = await oauth.validateJwtAccessToken(state.as, request, cfg.api);
    assert(claims.client_id === cfg.m2m && claims.sub === `${cfg.m2m}@clients`, `client_id ${claims.client_id}, sub ${claims.sub}`);
    assert(!tokens.refresh_token && !tokens.id_token, 'client credentials gave a refresh or ID token');
    state.m2mToken = tokens.access_token;
  }],

  ['introspection shows a client its own token', async () => {
    const info = await client.tokenIntrospection(state.m2mConfig, state.m2mToken);
    assert(info.active === true && info.client_id === cfg.m2m, `introspection ${JSON.stringify(info)}`);
  }],

  ['introspection hides other applications\' tokens', async () => {
    state.otherConfig = await client.discovery(cfg.issuer, cfg.other, cfg.otherSecret); // client_secret_post
    const other = await client.tokenIntrospection(state.otherConfig, state.m2mToken);
    assert(other.active === false && Object.keys(other).length === 1, `another application sees ${JSON.stringify(other)}`);
    const spaToken = await client.tokenIntrospection(state.m2mConfig, state.first.tokens.access_token);
    assert(spaToken.active === false, `the m2m application sees the SPA's token: ${JSON.stringify(spaToken)}`);
  }],

  ['token revocation', async () => {
    await client.tokenRevocation(state.m2mConfig, state.m2mToken);
    const info = await client.tokenIntrospection(state.m2mConfig, state.m2mToken);
    assert(info.active === false, `a revoked access token introspects as ${JSON.stringify(info)}`);
    // A public client revokes its refresh token with its client_id alone.
    await client.tokenRevocation(state.spaConfig, state.first.tokens.refresh_token, { token_type_hint: 'refresh_token' });
    await expectError(() => client.refreshTokenGrant(state.spaConfig, state.first.tokens.refresh_token), 'invalid_grant',
      'a revoked refresh token');
  }],

  ['unknown grant type is unsupported_grant_type', async () => {
    await expectError(() => client.genericGrantRequest(state.m2mConfig, 'password', { username: cfg.email, password: cfg.password }),
      'unsupported_grant_type', 'the password grant');
  }],

  ['missing PKCE is refused before the login screen', async () => {
    const st = client.randomState();
    const url = client.buildAuthorizationUrl(state.spaConfig, { redirect_uri: cfg.redirectUri, scope: 'openid', state: st, nonce: client.randomNonce() });
    const out = await new Browser().navigate(url, cfg.redirectUri);
    assert(out.redirect && out.hops === 0, `authorize without PKCE led to ${out.page?.status} on screen "${out.page && screenOf(out.page)}", want the error at the redirect URI`);
    const err = await expectError(() => oauth.validateAuthResponse(state.as, { client_id: cfg.spa }, out.redirect, st), 'invalid_request',
      'the authorization response');
    assert(err.code === oauth.AUTHORIZATION_RESPONSE_ERROR, `error code ${err.code}`);
  }],

  ['RP-initiated logout', async () => {
    const st = client.randomState();
    const url = client.buildEndSessionUrl(state.spaConfig, {
      id_token_hint: state.second.id_token, post_logout_redirect_uri: cfg.logoutUri, state: st,
    });
    const out = await browser.request(url);
    assert(out.status === 302 && out.location === `${cfg.logoutUri}?state=${st}`, `logout answered ${out.status} to ${out.location}`);
    const again = await browser.navigate(client.buildAuthorizationUrl(state.spaConfig, {
      redirect_uri: cfg.redirectUri, scope: 'openid', state: client.randomState(), nonce: client.randomNonce(),
      code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()), code_challenge_method: 'S256',
    }), cfg.redirectUri);
    assert(again.page && screenOf(again.page) === 'login', 'after logout, authorize did not show the login form: the session survived');
  }],
];

async function main() {
  for (const [name, run] of checks) {
    try {
      await run();
    } catch (err) {
      report({ check: name, ok: false, error: describe(err) });
      return 1;
    }
    report({ check: name, ok: true });
  }
  return 0;
}

const watchdog = setTimeout(() => {
  process.stderr.write(`check.mjs: gave up after ${SCRIPT_TIMEOUT_MS / 1000} s\n`);
  process.exit(1);
}, SCRIPT_TIMEOUT_MS);

main().then(
  (code) => {
    clearTimeout(watchdog);
    process.exit(code);
  },
  (err) => {
    clearTimeout(watchdog);
    process.stderr.write(`check.mjs: ${describe(err)}\n`);
    process.exit(1);
  },
);
