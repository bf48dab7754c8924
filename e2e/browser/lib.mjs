// Helpers the journeys share: the browser, Gatehouse's screens, the dev
// outbox, the sample app's states and artifacts of failed steps.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { chromium, request } from 'playwright-core';

export function required(name) {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set (see e2e/README.md)`);
  return v;
}

// Where everything runs, as cmd/gatehouse/e2e_test.go passes it.
export const env = {
  gatehouse: required('GATEHOUSE_URL'), // the issuer, ending in /
  app: required('APP_URL').replace(/\/$/, ''), // the sample app's origin
  // The same app with refresh tokens in localStorage, as gatehouse dev
  // configures it; only the journey that needs it requires it.
  refreshApp: (process.env.REFRESH_APP_URL || '').replace(/\/$/, ''),
  artifacts: process.env.ARTIFACTS_DIR || path.resolve('artifacts'),
  chromium: process.env.CHROMIUM || '/usr/bin/chromium',
};
mkdirSync(env.artifacts, { recursive: true });

const gatehouseOrigin = new URL(env.gatehouse).origin;

// The args keep a headless Chromium from phoning home (there is no network
// here) and let it run as root in a container; extraArgs come after them.
export async function launch(extraArgs = []) {
  return chromium.launch({
    executablePath: env.chromium,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', ...extraArgs],
    timeout: 60_000,
  });
}

// A fresh context is a new browser profile: no cookies, so a new device to
// Gatehouse. ignoreHTTPSErrors accepts the dev CA's certificate everywhere,
// the silent-login iframe included.
export async function newPage(browser) {
  const context = await browser.newContext({ ignoreHTTPSErrors: true });
  context.setDefaultTimeout(20_000);
  context.setDefaultNavigationTimeout(30_000);
  const page = await context.newPage();
  return page;
}

let outboxClient;

// newestText is the newest console SMS, or '' when there is none.
async function newestText() {
  outboxClient ??= await request.newContext({ ignoreHTTPSErrors: true });
  const resp = await outboxClient.get(env.gatehouse + 'dev/outbox', { timeout: 10_000 });
  if (!resp.ok()) throw new Error(`dev/outbox answered ${resp.status()}`);
  const html = await resp.text();
  // Newest first; each message is a section with its time, recipient and text.
  const m = html.match(/<section class="section"><p class="muted">([^<]*)<\/p><pre class="pre">([^<]*)<\/pre>/);
  return m ? m[1] + '\n' + m[2] : '';
}

// Outbox remembers the newest message before an action that sends a code,
// so that code() returns the one that action sent, not an older one.
export async function outboxMark() {
  return { before: await newestText() };
}

export async function code(mark, { within = 15_000 } = {}) {
  const text = await sms(mark, { within });
  const m = text.match(/#(\d{6})\s*$/m);
  if (!m) throw new Error(`the newest SMS has no WebOTP line: ${text}`);
  return m[1];
}

// sms waits for a console SMS newer than mark and returns it: a line with
// its time and recipient, then its text.
export async function sms(mark, { within = 15_000 } = {}) {
  const deadline = Date.now() + within;
  for (;;) {
    const text = await newestText();
    if (text && text !== mark.before) return text;
    if (Date.now() > deadline) throw new Error(`no new SMS in the dev outbox within ${within} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

// A UK mobile number unique to the run (07400 and six random digits: the
// whole 07400 block is valid mobile numbering), as a person types it.
export function ukMobile() {
  const digits = String(Math.floor(Math.random() * 1e6)).padStart(6, '0');
  return `07400 ${digits}`;
}

export function isGatehouse(page) {
  return new URL(page.url()).origin === gatehouseOrigin;
}

// screen is the data-screen of Gatehouse's page.
export async function screen(page) {
  return page.locator('main[data-screen]').getAttribute('data-screen');
}

// submit clicks a button that posts a form and waits for the page that answers.
export async function submit(page, button) {
  await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), button.click()]);
}

// appSettled waits until the sample app has finished loading and shows either
// a logged-in user or the login button, and says which.
export async function appSettled(page, timeout = 20_000) {
  const loggedIn = page.locator('[data-testid=logout-button]');
  const loggedOut = page.locator('#qsLoginBtn');
  const failed = page.locator('[data-testid=auth-error]');
  await loggedIn.or(loggedOut).or(failed).first().waitFor({ timeout });
  if (await failed.isVisible()) throw new Error('the app shows an error: ' + (await failed.innerText()));
  return (await loggedIn.isVisible()) ? 'logged-in' : 'logged-out';
}

// signIn takes the browser from Gatehouse's login page back to the app,
// answering each screen Gatehouse shows, and returns the screens in order.
// user: {email, password, phone, remember, signup, onScreen(page, screen)}.
export async function signIn(page, user) {
  const seen = [];
  for (let step = 0; step < 10; step++) {
    if (!isGatehouse(page)) {
      await appSettled(page);
      return seen;
    }
    const s = await screen(page);
    seen.push(s);
    if (user.onScreen) await user.onScreen(page, s);
    const form = page.locator('main form').first();
    switch (s) {
      case 'login':
        if (user.signup) {
          await Promise.all([page.waitForNavigation(), page.getByRole('link', { name: 'Sign up' }).click()]);
          continue;
        }
        await page.fill('input[name=email]', user.email);
        await page.fill('input[name=password]', user.password);
        user.mark = await outboxMark(); // a challenge sends its code as the next page loads
        await submit(page, form.locator('button[type=submit]'));
        break;
      case 'signup':
        await page.fill('input[name=email]', user.email);
        await page.fill('input[name=password]', user.password);
        user.mark = await outboxMark();
        await submit(page, form.locator('button[type=submit]'));
        break;
      case 'enroll':
        if (await page.locator('input[name=phone]').count()) {
          await page.selectOption('select[name=country]', 'GB');
          await page.fill('input[name=phone]', user.phone);
          user.mark = await outboxMark();
          await submit(page, form.locator('button[type=submit]'));
        } else {
          user.lastCode = await code(user.mark);
          await page.fill('input[name=code]', user.lastCode);
          await submit(page, form.locator('button[type=submit]'));
        }
        break;
      case 'challenge':
        user.lastCode = await code(user.mark);
        await page.fill('input[name=code]', user.lastCode);
        if (user.remember) await page.check('input[name=remember]');
        await submit(page, form.locator('button[type=submit]'));
        break;
      case 'passkey':
        // The browser's authenticator (a virtual one in the journeys) answers.
        if (user.beforePasskey) await user.beforePasskey(page);
        await submit(page, form.locator('button[type=submit]'));
        break;
      case 'recovery':
        if ((await page.locator('.recovery-codes li').count()) < 1) throw new Error('the recovery page lists no codes');
        await page.check('input[name=saved]');
        await submit(page, form.locator('button[type=submit]'));
        break;
      default:
        if (s && s.startsWith('admin')) return seen;
        throw new Error(`unexpected screen ${s} at ${page.url()}`);
    }
  }
  throw new Error('signIn went round too many screens: ' + seen.join(' → '));
}

// loginFromApp opens the app (at app, the journeys' usual one unless told),
// presses Log in and signs in; it returns the Gatehouse screens passed on the
// way.
export async function loginFromApp(page, user, app = env.app) {
  await page.goto(app + '/');
  if ((await appSettled(page)) !== 'logged-out') throw new Error('the app is already logged in');
  await Promise.all([page.waitForURL((u) => u.origin === gatehouseOrigin), page.click('#qsLoginBtn')]);
  await page.locator('main[data-screen]').waitFor();
  const seen = await signIn(page, user);
  if ((await appSettled(page)) !== 'logged-in') throw new Error('back in the app but not logged in');
  return seen;
}

export async function logoutFromApp(page, app = env.app) {
  await Promise.all([page.waitForURL((u) => u.origin === new URL(app).origin && !u.pathname.startsWith('/v2')),
    page.click('[data-testid=logout-button]')]);
  if ((await appSettled(page)) !== 'logged-out') throw new Error('the app still shows a user after Log out');
}

export async function shot(page, name) {
  const file = path.join(env.artifacts, name + '.png');
  await page.screenshot({ path: file, fullPage: true });
  console.log(`  screenshot ${file}`);
}

// step runs one named part of a journey; when it fails it saves a screenshot
// and the HTML of every open page, so the failure can be seen afterwards.
export async function step(name, pages, fn) {
  console.log(`- ${name}`);
  try {
    return await fn();
  } catch (err) {
    const slug = name.replace(/[^a-z0-9]+/gi, '-').toLowerCase().slice(0, 60);
    for (const [i, page] of pages.entries()) {
      if (page.isClosed()) continue;
      const base = path.join(env.artifacts, `FAILED-${slug}-${i}`);
      try {
        await page.screenshot({ path: base + '.png', fullPage: true, timeout: 10_000 });
        writeFileSync(base + '.html', `<!-- ${page.url()} -->\n` + (await page.content()));
        console.error(`  saved ${base}.png and .html (${page.url()})`);
      } catch (e) {
        console.error(`  could not save artifacts of page ${i}: ${e.message}`);
      }
    }
    throw new Error(`${name}: ${err.message}`, { cause: err });
  }
}

export function assert(cond, message) {
  if (!cond) throw new Error(message);
}

// collectIDTokens collects the claims of every ID token the page's app receives
// at Gatehouse's token endpoint: the SDK leaves amr and acr out of the user
// it gives the app (protocol claims), so they are read from the tokens.
export function collectIDTokens(page) {
  const seen = [];
  page.on('response', async (resp) => {
    if (!resp.url().startsWith(env.gatehouse + 'oauth/token') || resp.request().method() !== 'POST') return;
    try {
      const body = await resp.json();
      if (body.id_token) seen.push(JSON.parse(Buffer.from(body.id_token.split('.')[1], 'base64url').toString()));
    } catch { /* a failed exchange shows up as the app's error */ }
  });
  return seen;
}
