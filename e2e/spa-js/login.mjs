// Logs in to Gatehouse with the real, unmodified @auth0/auth0-spa-js bundle,
// without a browser: the SDK runs in a jsdom window at the app's origin and
// makes its own token requests, while this script plays the browser's part
// of the redirects (authorize, login form, callback, logout) with fetch and a
// cookie jar. server/spa_sdk_test.go runs it; it can also be run by hand:
//
//   GATEHOUSE_URL=http://localhost:8080 CLIENT_ID=… REDIRECT_URI=http://localhost:3000/callback \
//   AUDIENCE=https://api.example.com EMAIL=… PASSWORD=… node login.mjs
//
// ISSUER, if set, is the SDK's issuer option: the iss it expects in the ID
// token instead of GATEHOUSE_URL + "/" (the tests set it to check that the SDK
// really validates the token).
//
// It prints one JSON line (user, ID token claims, an access token obtained
// with the refresh-token grant, the logout redirect) and exits 0, or prints
// the error on stderr and exits 1.

import { webcrypto } from 'node:crypto';
import { JSDOM, CookieJar } from 'jsdom';

const APP_ORIGIN = 'http://localhost:3000';
const STEP_TIMEOUT_MS = 10_000;
const SCRIPT_TIMEOUT_MS = 50_000;
const MAX_REDIRECTS = 10;

// Node's own fetch; globalThis.fetch becomes corsFetch below.
const nodeFetch = globalThis.fetch;

function env(name) {
  const v = process.env[name];
  if (!v) throw new Error(`environment variable ${name} is required`);
  return v;
}

// describe turns an SDK error (GenericError and friends carry error and
// error_description) or any other error into one line.
function describe(err) {
  if (err && err.error) return `${err.error}: ${err.error_description || err.message}`;
  return String(err && err.stack ? err.message : err);
}

// The browser's window, at the app's origin. The SDK needs window.crypto with
// subtle (jsdom has only getRandomValues), and it refers to window, document,
// fetch, AbortController, btoa and TextEncoder as globals; Node provides the
// last four. jsdom has no Worker, so the SDK makes its token requests with
// fetch on the main thread even with refresh tokens in memory.
function appWindow(jar) {
  const dom = new JSDOM('<!doctype html><html><head></head><body></body></html>', {
    url: APP_ORIGIN + '/',
    cookieJar: jar,
    pretendToBeVisual: true,
  });
  const { window } = dom;
  Object.defineProperty(window, 'crypto', { value: webcrypto, configurable: true });
  window.fetch = corsFetch;
  for (const name of ['window', 'document', 'location', 'navigator', 'sessionStorage', 'localStorage']) {
    Object.defineProperty(globalThis, name, { value: window[name], configurable: true, writable: true });
  }
  globalThis.fetch = corsFetch;
  return dom;
}

// tokenGrants records the grant_type of every token request the SDK makes.
const tokenGrants = [];

// corsFetch is the fetch the SDK sees: Node's fetch with a browser's CORS
// rules for a page at APP_ORIGIN, so a Gatehouse that forgot a preflight or an
// Access-Control-Allow-Origin header fails here as it would in a browser
// (with TypeError "Failed to fetch", plus the reason on stderr).
async function corsFetch(input, init = {}) {
  const url = new URL(typeof input === 'string' ? input : input.url);
  const method = (init.method || 'GET').toUpperCase();
  const headers = new Headers(init.headers);
  const signal = AbortSignal.any([AbortSignal.timeout(STEP_TIMEOUT_MS), ...(init.signal ? [init.signal] : [])]);
  if (url.pathname.endsWith('/oauth/token') && init.body) {
    tokenGrants.push(new URLSearchParams(String(init.body)).get('grant_type'));
  }
  if (url.origin === APP_ORIGIN) return nodeFetch(url, { ...init, signal });

  const refuse = (why) => {
    process.stderr.write(`CORS: ${method} ${url.pathname}: ${why}\n`);
    throw new TypeError('Failed to fetch');
  };
  const allowsOrigin = (res) => [APP_ORIGIN, '*'].includes(res.headers.get('access-control-allow-origin'));
  const safelisted = ['accept', 'accept-language', 'content-language', 'content-type'];
  const simpleTypes = ['application/x-www-form-urlencoded', 'multipart/form-data', 'text/plain'];
  const custom = [...headers.keys()].filter((h) => !safelisted.includes(h));
  const type = (headers.get('content-type') || '').split(';')[0].trim().toLowerCase();
  if (custom.length || !['GET', 'HEAD', 'POST'].includes(method) || (headers.has('content-type') && !simpleTypes.includes(type))) {
    const wanted = [...headers.keys()].filter((h) => custom.includes(h) || (h === 'content-type' && !simpleTypes.includes(type)));
    const pre = await nodeFetch(url, {
      method: 'OPTIONS',
      headers: { Origin: APP_ORIGIN, 'Access-Control-Request-Method': method, 'Access-Control-Request-Headers': wanted.sort().join(',') },
      signal,
    });
    if (pre.status < 200 || pre.status > 299) refuse(`preflight answered ${pre.status}`);
    if (!allowsOrigin(pre)) refuse(`preflight has Access-Control-Allow-Origin ${JSON.stringify(pre.headers.get('access-control-allow-origin'))}`);
    const methods = (pre.headers.get('access-control-allow-methods') || '').toUpperCase().split(/\s*,\s*/);
    if (!['GET', 'HEAD', 'POST'].includes(method) && !methods.includes(method) && !methods.includes('*')) refuse(`preflight does not allow ${method}`);
    const allowed = (pre.headers.get('access-control-allow-headers') || '').toLowerCase().split(/\s*,\s*/);
    const missing = wanted.filter((h) => !allowed.includes(h) && !allowed.includes('*'));
    if (missing.length) refuse(`preflight does not allow the headers ${missing.join(', ')}`);
  }
  headers.set('Origin', APP_ORIGIN);
  const res = await nodeFetch(url, { ...init, headers, credentials: undefined, signal });
  if (!allowsOrigin(res)) refuse(`response (${res.status}) has Access-Control-Allow-Origin ${JSON.stringify(res.headers.get('access-control-allow-origin'))}`);
  return res;
}

// pageSummary names the Gatehouse screen a response shows, for error messages.
function pageSummary(html) {
  const doc = new JSDOM(html).window.document;
  const text = (sel) => doc.querySelector(sel)?.textContent.trim() || '';
  const parts = [`screen ${JSON.stringify(doc.querySelector('[data-screen]')?.getAttribute('data-screen') || '')}`];
  for (const [label, sel] of [['alert', '[role=alert]'], ['title', 'h1'], ['message', '.message']]) {
    if (text(sel)) parts.push(`${label} ${JSON.stringify(text(sel))}`);
  }
  return parts.join(', ');
}

// Browser is the user's top-level browsing: navigations with one cookie jar,
// following redirects by hand so that it stops at the app's callback.
class Browser {
  constructor(jar) {
    this.jar = jar;
  }

  async request(url, { method = 'GET', form } = {}) {
    const headers = { Accept: 'text/html' };
    const cookie = await this.jar.getCookieString(url);
    if (cookie) headers.Cookie = cookie;
    let body;
    if (form) {
      body = new URLSearchParams(form).toString();
      headers['Content-Type'] = 'application/x-www-form-urlencoded';
      headers.Origin = new URL(url).origin; // a form posted from its own page
      headers['Sec-Fetch-Site'] = 'same-origin';
    }
    const res = await nodeFetch(url, { method, headers, body, redirect: 'manual', signal: AbortSignal.timeout(STEP_TIMEOUT_MS) });
    for (const c of res.headers.getSetCookie()) await this.jar.setCookie(c, url, { ignoreError: true });
    const text = await res.text();
    const location = res.headers.get('location');
    return { url, status: res.status, location: location && new URL(location, url).href, text };
  }

  // navigate follows redirects from url until one points at a URL starting
  // with stopAt (returned), or a page is shown (returned as the response).
  async navigate(url, stopAt, init) {
    let res = await this.request(url, init);
    for (let hops = 0; ; hops++) {
      if (![301, 302, 303, 307, 308].includes(res.status) || !res.location) return { page: res };
      if (stopAt && res.location.startsWith(stopAt)) return { redirect: res.location };
      if (hops === MAX_REDIRECTS) throw new Error(`more than ${MAX_REDIRECTS} redirects from ${url}`);
      res = await this.request(res.location);
    }
  }
}

// logIn fills in and submits the login form shown on page.
async function logIn(browser, page, email, password, stopAt) {
  const doc = new JSDOM(page.text, { url: page.url }).window.document;
  const form = doc.querySelector('form input[name=password]')?.form;
  if (page.status !== 200 || !form) {
    throw new Error(`GET ${new URL(page.url).pathname}: ${page.status}, ${pageSummary(page.text)}; want the login form`);
  }
  const fields = {};
  for (const input of form.querySelectorAll('input[name]')) fields[input.name] = input.value;
  fields.email = email;
  fields.password = password;
  const out = await browser.navigate(form.action, stopAt, { method: 'POST', form: fields });
  if (out.page) {
    throw new Error(`logging in: ${out.page.status} from ${new URL(out.page.url).pathname}, ${pageSummary(out.page.text)}; want a redirect to ${stopAt}`);
  }
  return out.redirect;
}

async function main() {
  const gatehouse = env('GATEHOUSE_URL');
  const clientId = env('CLIENT_ID');
  const redirectUri = env('REDIRECT_URI');
  const audience = env('AUDIENCE');
  const email = env('EMAIL');
  const password = env('PASSWORD');
  const returnTo = APP_ORIGIN + '/';

  const jar = new CookieJar();
  const dom = appWindow(jar);
  const browser = new Browser(jar);
  const { Auth0Client } = await import('@auth0/auth0-spa-js');
  const auth0 = new Auth0Client({
    domain: gatehouse,
    clientId,
    authorizationParams: { redirect_uri: redirectUri, audience },
    useRefreshTokens: true,
    cacheLocation: 'memory',
    ...(process.env.ISSUER && { issuer: process.env.ISSUER }),
  });

  let authorizeUrl;
  await auth0.loginWithRedirect({ openUrl: (url) => { authorizeUrl = url; } });
  const toLogin = await browser.navigate(authorizeUrl, redirectUri);
  const callbackUrl = toLogin.redirect || (await logIn(browser, toLogin.page, email, password, redirectUri));

  dom.reconfigure({ url: callbackUrl });
  await auth0.handleRedirectCallback();
  if (!(await auth0.isAuthenticated())) throw new Error('isAuthenticated() is false after handleRedirectCallback');
  const user = await auth0.getUser();
  const claims = await auth0.getIdTokenClaims();
  const accessToken = await auth0.getTokenSilently({ cacheMode: 'cache-only' });
  const accessTokenAfterRefresh = await auth0.getTokenSilently({ cacheMode: 'off' });
  if (accessTokenAfterRefresh === accessToken) throw new Error('the refresh gave back the same access token');

  let logoutUrl;
  await auth0.logout({ logoutParams: { returnTo }, openUrl: (url) => { logoutUrl = url; } });
  const out = await browser.request(logoutUrl);
  if (out.status !== 302) throw new Error(`GET ${new URL(logoutUrl).pathname}: ${out.status}, ${pageSummary(out.text)}; want 302 to ${returnTo}`);
  if (await auth0.isAuthenticated()) throw new Error('isAuthenticated() is still true after logout');

  // The Gatehouse session must be gone: a new login shows the form again.
  let again;
  await auth0.loginWithRedirect({ openUrl: (url) => { again = url; } });
  const second = await browser.navigate(again, redirectUri);
  if (second.redirect) throw new Error('after logout, /authorize went straight back to the app: the session survived');
  if (!second.page.text.includes('data-screen="login"')) {
    throw new Error(`after logout, /authorize led to ${second.page.status}, ${pageSummary(second.page.text)}; want the login form`);
  }

  return { user, claims, accessToken, accessTokenAfterRefresh, tokenGrants, logoutLocation: out.location };
}

const watchdog = setTimeout(() => {
  process.stderr.write(`login.mjs: gave up after ${SCRIPT_TIMEOUT_MS / 1000} s\n`);
  process.exit(1);
}, SCRIPT_TIMEOUT_MS);

main().then(
  (result) => {
    clearTimeout(watchdog);
    process.stdout.write(JSON.stringify(result) + '\n');
    process.exit(0);
  },
  (err) => {
    clearTimeout(watchdog);
    process.stderr.write(`login.mjs: ${describe(err)}\n`);
    process.exit(1);
  },
);
