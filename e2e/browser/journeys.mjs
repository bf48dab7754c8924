// Browser journeys through the sample app, Gatehouse and the sample API.
//   node journeys.mjs [journey...]   (all, in the order below, when none is named)
// The environment names the servers; cmd/gatehouse/e2e_test.go starts them
// and sets it (see e2e/README.md).
import {
  env, launch, newPage, outboxMark, code, sms, ukMobile, screen, submit, appSettled, signIn,
  loginFromApp, logoutFromApp, shot, step, assert, required, isGatehouse, collectIDTokens,
} from './lib.mjs';

const run = Date.now().toString(36);

// 1. A new user signs up from the app, enrolls a phone (the policy is
// always), sees their claims, survives a reload by silent login, calls the API
// and logs out.
async function signupThroughMFA(browser) {
  const page = await newPage(browser);
  const pages = [page];
  const user = { email: `e2e-${run}@example.com`, password: 'violet tractor meadow ' + run, phone: ukMobile(), signup: true };
  // The screens of a first sign-in, for the docs (scripts/screenshots.sh).
  const shots = { signup: 'journey1-00-signup', enroll: 'journey1-00-enroll', recovery: 'journey1-00-recovery' };
  user.onScreen = async (p, s) => {
    if (shots[s]) {
      await shot(p, shots[s]);
      delete shots[s]; // the enroll screen comes twice: the number, then the code
    }
  };
  const idTokens = collectIDTokens(page);
  const seen = await step('sign up from the app, enroll a phone, save the recovery codes', pages,
    () => loginFromApp(page, user));
  await step('the way in was login, signup, phone, code, recovery codes', pages, async () => {
    assert(seen.join(',') === 'login,signup,enroll,enroll,recovery', 'screens: ' + seen.join(' → '));
  });
  const claims = await step('Profile shows the claims; the ID token has mfa in amr', pages, async () => {
    await page.click('[data-testid=nav-profile]');
    const json = JSON.parse(await page.locator('[data-testid=profile-json]').innerText());
    assert(json.email === user.email, `email ${json.email}, want ${user.email}`);
    const idToken = idTokens.at(-1);
    assert(idToken && idToken.sub === json.sub, 'no ID token for this user seen at oauth/token');
    assert(Array.isArray(idToken.amr) && idToken.amr.includes('mfa'), 'amr ' + JSON.stringify(idToken.amr));
    await shot(page, 'journey1-01-profile-claims');
    return json;
  });
  await step('a reload keeps the user logged in by silent login, without the login page', pages, async () => {
    const visited = [];
    const onNav = (f) => { if (f === page.mainFrame()) visited.push(f.url()); };
    page.on('framenavigated', onNav);
    const started = Date.now();
    await page.reload();
    const state = await appSettled(page, 15_000);
    page.off('framenavigated', onNav);
    assert(state === 'logged-in', 'logged out after the reload');
    assert(visited.every((u) => u.startsWith(env.app)), 'the page left the app: ' + visited.join(', '));
    const json = JSON.parse(await page.locator('[data-testid=profile-json]').innerText());
    assert(json.sub === claims.sub, 'another user after the reload');
    console.log(`  restored in ${Date.now() - started} ms`);
  });
  await step('External API: Ping API validates the access token', pages, async () => {
    await page.click('[data-testid=nav-external-api]');
    await page.click('[data-testid=ping-api]');
    const result = page.locator('[data-testid=api-result]');
    await result.waitFor();
    const text = await result.innerText();
    assert(text.includes('Your access token was successfully validated!'), 'API result: ' + text);
    await shot(page, 'journey1-02-external-api');
  });
  await step('Log out returns to the app, logged out', pages, async () => {
    await logoutFromApp(page);
    const status = await page.locator('[data-testid=home-status]').innerText();
    assert(status.includes('Not logged in'), 'home says ' + status);
    await shot(page, 'journey1-03-logged-out');
  });
  await page.context().close();
}

// 2. The admin switches the policy in the console: with Never the demo user
// gets in with a password alone; with Adaptive a new browser is challenged
// and a remembered one is not.
async function adminSwitchesPolicy(browser) {
  const admin = await newPage(browser);
  const pages = [admin];
  const adminUser = { email: 'admin@example.com', password: 'gatehouse-admin-demo', phone: ukMobile() };
  await step('the admin logs in to the console, passing MFA', pages, async () => {
    await admin.goto(env.gatehouse + 'admin/');
    assert((await screen(admin)) === 'login', 'the console did not ask to log in');
    const seen = await signIn(admin, adminUser);
    assert(seen.includes('enroll') || seen.includes('challenge'), 'the console let the admin in without MFA: ' + seen.join(' → '));
    const s = await screen(admin);
    assert(s.startsWith('admin'), 'after login the admin is on ' + s);
  });
  const setPolicy = (policy) => step(`the admin switches the policy to ${policy}`, pages, async () => {
    await admin.click('nav.admin-nav >> text=Multi-factor auth');
    assert((await screen(admin)) === 'admin-mfa', 'not on the MFA page');
    await admin.check(`#mfa_policy_${policy}`);
    const policyForm = admin.locator('form:has(input[name=section][value=policy])');
    await submit(admin, policyForm.getByRole('button', { name: 'Save policy' }));
    await admin.locator('[role=status]').waitFor({ timeout: 5_000 });
    assert(await admin.isChecked(`#mfa_policy_${policy}`), 'the saved page shows another policy');
    await shot(admin, `journey2-policy-${policy}`);
  });

  const demo = { email: 'user@example.com', password: 'gatehouse-user-demo', phone: ukMobile() };
  await setPolicy('never');
  await step('with Never, the demo user logs in to the app without a challenge', pages, async () => {
    const page = await newPage(browser);
    pages.push(page);
    const seen = await loginFromApp(page, demo);
    assert(seen.join(',') === 'login', 'screens: ' + seen.join(' → '));
    await logoutFromApp(page);
    await page.context().close();
  });

  await setPolicy('adaptive');
  await step('the admin has Adaptive challenge medium-confidence logins (a new device alone)', pages, async () => {
    // Set in the console rather than left to the default, so the journey
    // does not depend on GATEHOUSE_ADAPTIVE_CHALLENGE_MEDIUM.
    await admin.check('#risk_challenge_medium');
    const adaptiveForm = admin.locator('form:has(input[name=section][value=adaptive])');
    await submit(admin, adaptiveForm.getByRole('button', { name: 'Save adaptive' }));
    await admin.locator('[role=status]').waitFor({ timeout: 5_000 });
    assert(await admin.isChecked('#risk_challenge_medium'), 'the saved page shows the box unticked');
  });
  const remembered = await newPage(browser);
  pages.push(remembered);
  await step('with Adaptive, a first login from a new browser is challenged (the user enrolls a phone)', pages, async () => {
    // The demo user's only finding here is the new device (medium).
    const seen = await loginFromApp(remembered, demo);
    assert(seen.includes('enroll') || seen.includes('challenge'), 'not challenged: ' + seen.join(' → '));
    await logoutFromApp(remembered);
  });
  await step('the user logs in again and ticks "remember this browser" when challenged', pages, async () => {
    // Enrolling offers no "remember" box, and a phone verified minutes ago
    // is itself a risk signal, so the next login here is challenged.
    let ticked = false;
    for (let i = 0; i < 2 && !ticked; i++) {
      const seen = await loginFromApp(remembered, { ...demo, remember: true });
      ticked = seen.includes('challenge');
      await logoutFromApp(remembered);
    }
    assert(ticked, 'never challenged, so nothing was remembered');
  });
  await step('the remembered browser logs in without a challenge', pages, async () => {
    const seen = await loginFromApp(remembered, demo);
    assert(seen.join(',') === 'login', 'screens: ' + seen.join(' → '));
    await logoutFromApp(remembered);
  });
  // Its findings are a new device and the phone verified minutes ago.
  await step('a new browser (no cookies) is challenged', pages, async () => {
    const page = await newPage(browser);
    pages.push(page);
    const seen = await loginFromApp(page, demo);
    assert(seen.includes('challenge'), 'a new device was not challenged: ' + seen.join(' → '));
    await logoutFromApp(page);
  });
  for (const p of pages) if (!p.isClosed()) await p.context().close();
}

// 3. Errors a person meets: a wrong code, a code that was already used, and
// the app's silent login after logout, which must end at once.
async function errors(browser) {
  const page = await newPage(browser);
  const pages = [page];
  const user = { email: required('E2E_ERRORS_EMAIL'), password: required('E2E_ERRORS_PASSWORD') };
  let used;
  await step('a wrong code shows its error and the challenge stays', pages, async () => {
    await page.goto(env.app + '/');
    await appSettled(page);
    await Promise.all([page.waitForURL((u) => u.href.startsWith(env.gatehouse)), page.click('#qsLoginBtn')]);
    await page.fill('input[name=email]', user.email);
    await page.fill('input[name=password]', user.password);
    const mark = await outboxMark();
    await submit(page, page.locator('main form button[type=submit]').first());
    assert((await screen(page)) === 'challenge', 'no challenge after the password');
    used = await code(mark);
    const wrong = used.slice(0, 5) + String((Number(used[5]) + 1) % 10);
    await page.fill('input[name=code]', wrong);
    await submit(page, page.locator('main form button[type=submit]').first());
    assert((await screen(page)) === 'challenge', 'the challenge did not stay');
    const alert = await page.locator('[role=alert]').innerText();
    assert(/not right/i.test(alert), 'alert: ' + alert);
    assert(/4 attempts left/.test(await page.locator('#attempts-left').innerText()), 'attempts left not counted down');
    await shot(page, 'journey3-01-wrong-code');
    await page.fill('input[name=code]', used);
    await submit(page, page.locator('main form button[type=submit]').first());
    assert((await appSettled(page)) === 'logged-in', 'the right code did not log in');
  });
  await step('after Log out, loading the app ends logged out at once (prompt=none, no spinner)', pages, async () => {
    await logoutFromApp(page);
    const started = Date.now();
    await page.goto(env.app + '/');
    await page.locator('[data-testid=loading]').waitFor({ state: 'hidden', timeout: 5_000 });
    await page.locator('#qsLoginBtn').waitFor({ timeout: 5_000 });
    const status = await page.locator('[data-testid=home-status]').innerText();
    assert(status.includes('Not logged in'), 'home says ' + status);
    console.log(`  logged-out state shown in ${Date.now() - started} ms`);
  });
  await step('a code already used is refused on the next challenge', pages, async () => {
    await Promise.all([page.waitForURL((u) => u.href.startsWith(env.gatehouse)), page.click('#qsLoginBtn')]);
    await page.fill('input[name=email]', user.email);
    await page.fill('input[name=password]', user.password);
    const mark = await outboxMark();
    await submit(page, page.locator('main form button[type=submit]').first());
    assert((await screen(page)) === 'challenge', 'no challenge on the second login');
    const fresh = await code(mark);
    assert(fresh !== used, 'the new challenge sent the same code');
    await page.fill('input[name=code]', used);
    await submit(page, page.locator('main form button[type=submit]').first());
    assert((await screen(page)) === 'challenge', 'the challenge did not stay');
    const alert = await page.locator('[role=alert]').innerText();
    assert(/not right/i.test(alert), 'alert: ' + alert);
    await page.fill('input[name=code]', fresh);
    await submit(page, page.locator('main form button[type=submit]').first());
    assert((await appSettled(page)) === 'logged-in', 'the new code did not log in');
    await logoutFromApp(page);
  });
  await page.context().close();
}

// 4. Passkeys: a user who signed up with a phone adds a passkey from the
// security page; the app's next login asks for it instead of a text message
// and the tokens say phishing-resistant; then the passkey alone signs in;
// last, the phone is changed from the security page. Chromium's virtual
// authenticator (DevTools WebAuthn domain) stands in for a platform
// authenticator with user verification.
async function passkeys(browser) {
  const page = await newPage(browser);
  const pages = [page];
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true,
      isUserVerified: true, automaticPresenceSimulation: true,
    },
  });
  const idTokens = collectIDTokens(page);
  const user = { email: `e2e-passkey-${run}@example.com`, password: 'violet tractor meadow ' + run, phone: ukMobile(), signup: true };
  await step('sign up from the app with a phone', pages, () => loginFromApp(page, user));
  await step('add a passkey from the security page', pages, async () => {
    await page.goto(env.gatehouse + 'account/security');
    assert((await screen(page)) === 'security', 'at ' + (await screen(page)));
    await Promise.all([page.waitForNavigation(), page.getByRole('link', { name: 'Add a passkey' }).click()]);
    assert((await screen(page)) === 'passkey-enroll', 'at ' + (await screen(page)));
    await page.fill('input[name=name]', 'Journey laptop');
    await shot(page, 'journey4-01-add-passkey');
    await submit(page, page.getByRole('button', { name: 'Create passkey' }));
    assert((await screen(page)) === 'security', 'after creating: ' + (await screen(page)));
    assert((await page.locator('main').innerText()).includes('Journey laptop'), 'the security page does not list the passkey');
    const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
    assert(credentials.length === 1 && credentials[0].isResidentCredential, 'authenticator holds ' + JSON.stringify(credentials));
    await shot(page, 'journey4-02-security-page');
  });
  // The virtual authenticator answers at once while presence is simulated;
  // off, the login page's autofill request waits, as for a person who types
  // a password instead.
  const presence = (enabled) => cdp.send('WebAuthn.setAutomaticPresenceSimulation', { authenticatorId, enabled });
  await step("the app's next login asks for the passkey, not a code", pages, async () => {
    await presence(false);
    // Log out at Gatehouse itself: the app, loaded again, may not see the
    // session when the browser keeps Gatehouse's cookie from its
    // silent-login iframe.
    await page.goto(env.gatehouse + 'logout');
    await submit(page, page.locator('main form button[type=submit]').first());
    await page.getByRole('button', { name: 'Sign in with a passkey' }).waitFor();
    await shot(page, 'journey4-03-login-page');
    user.signup = false;
    user.beforePasskey = async (p) => {
      await shot(p, 'journey4-04-passkey-challenge');
      await presence(true);
    };
    const mark = await outboxMark();
    const seen = await loginFromApp(page, user);
    assert(seen.join(',') === 'login,passkey', 'screens: ' + seen.join(' → '));
    const idToken = idTokens.at(-1);
    assert(idToken.amr.includes('mfa') && (idToken.amr.includes('hwk') || idToken.amr.includes('swk')), 'amr ' + JSON.stringify(idToken.amr));
    assert(idToken.acr === 'http://schemas.openid.net/pape/policies/2007/06/phishing-resistant', 'acr ' + idToken.acr);
    let texted = false;
    try { await code(mark, { within: 1_000 }); texted = true; } catch { /* no SMS: as it should be */ }
    assert(!texted, 'an SMS was sent to a user who used a passkey');
  });
  await step('the passkey alone signs in from the email field\'s autofill, no password and no code', pages, async () => {
    await logoutFromApp(page);
    await Promise.all([page.waitForURL((u) => u.href.startsWith(env.gatehouse)), page.click('#qsLoginBtn')]);
    // Conditional mediation: the browser offers the passkey in the email
    // field, and the virtual authenticator picks it.
    try {
      await page.waitForURL((u) => u.href.startsWith(env.app), { timeout: 10_000 });
    } catch {
      await shot(page, 'journey4-05-login-with-passkey');
      await Promise.all([page.waitForURL((u) => u.href.startsWith(env.app)),
        page.getByRole('button', { name: 'Sign in with a passkey' }).click()]);
    }
    assert((await appSettled(page)) === 'logged-in', 'not logged in after the passkey sign-in');
    const idToken = idTokens.at(-1);
    assert(!idToken.amr.includes('pwd') && idToken.amr.includes('mfa'), 'amr ' + JSON.stringify(idToken.amr));
  });
  await step('change the phone from the security page', pages, async () => {
    await page.goto(env.gatehouse + 'account/security');
    const before = await page.locator('main').innerText();
    await Promise.all([page.waitForNavigation(), page.getByRole('link', { name: 'Change phone' }).click()]);
    assert((await screen(page)) === 'enroll', 'at ' + (await screen(page)));
    const phone = ukMobile();
    await page.selectOption('select[name=country]', 'GB');
    await page.fill('input[name=phone]', phone);
    const mark = await outboxMark();
    await submit(page, page.locator('main form').first().locator('button[type=submit]'));
    await page.fill('input[name=code]', await code(mark));
    await submit(page, page.locator('main form').first().locator('button[type=submit]'));
    if ((await screen(page)) === 'recovery') {
      await page.check('input[name=saved]');
      await submit(page, page.locator('main form').first().locator('button[type=submit]'));
    }
    assert((await screen(page)) === 'security', 'after the new number: ' + (await screen(page)));
    const last2 = phone.replace(/\D/g, '').slice(-2);
    const after = await page.locator('main').innerText();
    assert(after !== before && after.includes(last2), 'the security page does not show the new number');
    await shot(page, 'journey4-06-phone-changed');
  });
  await page.context().close();
}

// authorizeURL is the request the SDK's silent login makes, from the app at
// app, answered in responseMode.
function authorizeURL(app, responseMode) {
  return env.gatehouse + 'authorize?' + new URLSearchParams({
    client_id: 'gatehouse-sample-spa', redirect_uri: app, response_type: 'code', response_mode: responseMode,
    prompt: 'none', scope: 'openid', state: 'probe-' + run, nonce: 'probe-' + run,
    code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256',
  });
}

// silentAuthorize asks Gatehouse from a hidden iframe in page, as the SDK's
// silent login does, and returns what it answered: an error such as
// login_required, or 'code'.
async function silentAuthorize(page) {
  const url = authorizeURL(new URL(page.url()).origin, 'web_message');
  return page.evaluate(({ url, origin }) => new Promise((resolve, reject) => {
    const frame = document.createElement('iframe');
    frame.style.display = 'none';
    const timer = setTimeout(() => reject(new Error('no answer from the silent-login iframe within 10 s')), 10_000);
    window.addEventListener('message', function onMessage(e) {
      if (e.origin !== origin || !e.data || e.data.type !== 'authorization_response') return;
      window.removeEventListener('message', onMessage);
      clearTimeout(timer);
      frame.remove();
      resolve(e.data.response.error || (e.data.response.code ? 'code' : JSON.stringify(e.data.response)));
    });
    frame.src = url;
    document.body.appendChild(frame);
  }), { url, origin: new URL(env.gatehouse).origin });
}

// 5. The app as gatehouse dev configures it (refresh tokens in localStorage)
// in a Chromium that blocks third-party cookies, where the silent-login
// iframe gets no session: a reload keeps the user signed in without going to
// Gatehouse, and an expired access token is renewed by a refresh token that
// rotates.
async function reloadWithoutThirdPartyCookies(browser) {
  const app = required('REFRESH_APP_URL').replace(/\/$/, '');
  // Chromium still allows third-party cookies by default; this flag applies
  // the blocking it is phasing in.
  const blocking = await launch(['--test-third-party-cookie-phaseout']);
  const page = await newPage(blocking);
  const pages = [page];
  const tokenCalls = [];
  page.on('request', (req) => {
    if (req.url().startsWith(env.gatehouse + 'oauth/token') && req.method() === 'POST') tokenCalls.push(req);
  });
  try {
    const user = { email: `e2e-refresh-${run}@example.com`, password: 'violet tractor meadow ' + run, phone: ukMobile(), signup: true };
    await step('sign up from the app in a browser that blocks third-party cookies', pages,
      () => loginFromApp(page, user, app));
    await step('the silent-login iframe gets no session, though the browser holds one', pages, async () => {
      const blocked = await silentAuthorize(page);
      assert(blocked === 'login_required', 'with third-party cookies blocked the iframe answered ' + blocked);
      // The same request with the browser's cookies, first-party: the
      // session is alive, only the blocking kept it from the iframe.
      const resp = await page.context().request.get(authorizeURL(app, 'query'), { maxRedirects: 0 });
      const location = new URL(resp.headers().location || '/', env.gatehouse);
      assert(location.origin === app && location.searchParams.has('code'),
        `with the session cookie sent, authorize answered ${resp.status()} to ${location}`);
    });
    const sub = await step('Profile shows the user', pages, async () => {
      await page.click('[data-testid=nav-profile]');
      const json = JSON.parse(await page.locator('[data-testid=profile-json]').innerText());
      assert(json.email === user.email, `email ${json.email}, want ${user.email}`);
      return json.sub;
    });
    // reload reloads the page and checks that the user is still signed in
    // and that no frame navigated to Gatehouse. Navigation requests are
    // watched rather than committed pages: on Profile, an app that lost the
    // session sends the page through authorize, which redirects straight back
    // while Gatehouse's own cookie is first-party.
    const reload = async () => {
      const toGatehouse = [];
      const onRequest = (req) => {
        if (req.isNavigationRequest() && req.url().startsWith(env.gatehouse)) toGatehouse.push(req.url());
      };
      page.on('request', onRequest);
      await page.reload();
      const state = await appSettled(page, 15_000);
      page.off('request', onRequest);
      assert(state === 'logged-in', 'logged out after the reload');
      assert(toGatehouse.length === 0, 'a frame went to Gatehouse: ' + toGatehouse.join(', '));
      const json = JSON.parse(await page.locator('[data-testid=profile-json]').innerText());
      assert(json.sub === sub, 'another user after the reload');
    };
    await step('a reload keeps the user signed in, with no login page and no iframe', pages, reload);
    await step('with the access token expired, a reload renews it with the refresh token, which rotates', pages, async () => {
      const before = await page.evaluate(() => {
        for (const key of Object.keys(localStorage)) {
          if (!key.startsWith('@@auth0spajs@@::')) continue;
          const entry = JSON.parse(localStorage.getItem(key));
          if (!entry.body || !entry.body.refresh_token) continue;
          entry.expiresAt = 0;
          localStorage.setItem(key, JSON.stringify(entry));
          return entry.body.refresh_token;
        }
        return null;
      });
      assert(before, 'the app keeps no refresh token in localStorage');
      tokenCalls.length = 0;
      await reload();
      const refresh = tokenCalls.find((req) => /grant_type(=|":")refresh_token/.test(req.postData() || ''));
      assert(refresh, 'no refresh_token grant at oauth/token during the reload');
      const resp = await refresh.response();
      assert(resp && resp.status() === 200, 'the refresh answered ' + (resp && resp.status()));
      const body = await resp.json();
      assert(body.refresh_token && body.refresh_token !== before, 'the refresh token did not rotate');
    });
    await step('Log out returns to the app, logged out', pages, () => logoutFromApp(page, app));
  } finally {
    await blocking.close();
  }
}

// 6. A phone-sized screen (390 px wide): a new user signs up from the app
// and enrolls a phone, typing one wrong code first. The code screen keeps
// the number and the resend countdown after the wrong code, no page is wider
// than the screen, and no recovery code breaks across lines.
async function phoneSizedScreens(browser) {
  const page = await newPage(browser);
  await page.setViewportSize({ width: 390, height: 844 });
  const pages = [page];
  const user = { email: `e2e-390-${run}@example.com`, password: 'violet tractor meadow ' + run, phone: ukMobile() };
  const fits = async () => {
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    assert(width <= 390, `${await screen(page)} is ${width} px wide on a 390 px screen`);
  };
  await step('sign up and give a number on a 390 px screen', pages, async () => {
    await page.goto(env.app + '/');
    await appSettled(page);
    await Promise.all([page.waitForURL((u) => u.href.startsWith(env.gatehouse)), page.click('#qsLoginBtn')]);
    await fits();
    await Promise.all([page.waitForNavigation(), page.getByRole('link', { name: 'Sign up' }).click()]);
    await page.fill('input[name=email]', user.email);
    await page.fill('input[name=password]', user.password);
    await submit(page, page.locator('main form button[type=submit]').first());
    assert((await screen(page)) === 'enroll', 'after signup: ' + (await screen(page)));
    await fits();
    await page.selectOption('select[name=country]', 'GB');
    await page.fill('input[name=phone]', user.phone);
    user.mark = await outboxMark();
    await submit(page, page.locator('main form button[type=submit]').first());
  });
  await step('a wrong code keeps the number and the countdown', pages, async () => {
    const right = await code(user.mark);
    const wrong = right.slice(0, 5) + String((Number(right[5]) + 1) % 10);
    // Typed as a person might, with a space in the middle.
    await page.fill('input[name=code]', wrong.slice(0, 3) + ' ' + wrong.slice(3));
    await submit(page, page.locator('main form button[type=submit]').first());
    assert((await screen(page)) === 'enroll', 'after a wrong code: ' + (await screen(page)));
    const subtitle = await page.locator('main .subtitle').innerText();
    const digits = user.phone.replace(/\D/g, '').slice(-2);
    assert(subtitle.includes(digits), 'the code screen lost the number: ' + subtitle);
    assert(await page.locator('#resend-wait').count() > 0 || await page.locator('.form-resend button').count() > 0,
      'the resend countdown is gone');
    await fits();
    await page.fill('input[name=code]', right.slice(0, 3) + ' ' + right.slice(3));
    await submit(page, page.locator('main form button[type=submit]').first());
  });
  await step('recovery codes fit the screen, one line each', pages, async () => {
    assert((await screen(page)) === 'recovery', 'after the right code: ' + (await screen(page)));
    await fits();
    const lines = await page.locator('.recovery-codes li').evaluateAll((items) => items.map((li) => {
      const range = document.createRange();
      range.selectNodeContents(li);
      return new Set([...range.getClientRects()].map((r) => Math.round(r.top))).size;
    }));
    assert(lines.length === 10 && lines.every((n) => n === 1), 'lines per code: ' + JSON.stringify(lines));
    await shot(page, 'journey6-01-recovery-codes-390');
    await page.check('input[name=saved]');
    await submit(page, page.locator('main form button[type=submit]').first());
    assert((await appSettled(page)) === 'logged-in', 'not back in the app');
  });
  await page.context().close();
}

// 7. An app that asks for French (the Auth0 SDK's authorizationParams
// ui_locales, added here to the app's authorize request) gets every screen of
// the sign-up in French, whatever the browser's own language, and a French
// text message whose WebOTP line is unchanged.
async function frenchUILocales(browser) {
  // A German browser: ui_locales outranks Accept-Language.
  const context = await browser.newContext({ ignoreHTTPSErrors: true, locale: 'de-DE' });
  context.setDefaultTimeout(20_000);
  context.setDefaultNavigationTimeout(30_000);
  const page = await context.newPage();
  const pages = [page];
  await page.route((u) => u.href.startsWith(env.gatehouse + 'authorize?'), (route) => {
    const u = new URL(route.request().url());
    u.searchParams.set('ui_locales', 'fr');
    return route.continue({ url: u.href });
  });
  const user = { email: `e2e-fr-${run}@example.com`, password: 'violet tractor meadow ' + run, phone: ukMobile() };
  const inFrench = async (want, heading) => {
    assert((await screen(page)) === want, `screen ${await screen(page)}, want ${want}`);
    const lang = await page.locator('html').getAttribute('lang');
    assert(lang === 'fr', `the ${want} screen is in ${lang}`);
    const h1 = await page.locator('main h1').innerText();
    assert(h1 === heading, `the ${want} screen's heading is "${h1}", want "${heading}"`);
  };
  await step('the app\'s login page is French', pages, async () => {
    await page.goto(env.app + '/');
    assert((await appSettled(page)) === 'logged-out', 'the app is already logged in');
    await Promise.all([page.waitForURL((u) => u.href.startsWith(env.gatehouse)), page.click('#qsLoginBtn')]);
    await inFrench('login', 'Connexion');
    await shot(page, 'journey7-00-login-fr');
  });
  await step('sign up, in French', pages, async () => {
    await Promise.all([page.waitForNavigation(), page.getByRole('link', { name: 'Créer un compte' }).click()]);
    await inFrench('signup', 'Créez votre compte');
    await page.fill('input[name=email]', user.email);
    await page.fill('input[name=password]', user.password);
    await submit(page, page.locator('main form button[type=submit]').first());
    await inFrench('enroll', 'Sécurisez votre compte');
  });
  const text = await step('enroll a phone: the code comes in a French SMS', pages, async () => {
    await page.selectOption('select[name=country]', 'GB');
    await page.fill('input[name=phone]', user.phone);
    const mark = await outboxMark();
    await submit(page, page.locator('main form button[type=submit]').first());
    await inFrench('enroll', 'Saisissez le code');
    return sms(mark);
  });
  await step('the SMS is French and ends with the WebOTP line', pages, async () => {
    const m = text.match(/Votre code de vérification \S+ est (\d{6})\n\n@localhost #(\d{6})\s*$/);
    assert(m && m[1] === m[2], 'SMS: ' + text);
    await page.fill('input[name=code]', m[1]);
    await submit(page, page.locator('main form button[type=submit]').first());
    await inFrench('recovery', 'Enregistrez vos codes de récupération');
    await shot(page, 'journey7-01-recovery-fr');
  });
  await step('back in the app, logged in', pages, async () => {
    await page.check('input[name=saved]');
    await submit(page, page.locator('main form button[type=submit]').first());
    assert((await appSettled(page)) === 'logged-in', 'not back in the app');
  });
  await page.context().close();

  // An Arabic browser: the login page is laid out right to left, the
  // refusal's bar on the right, the email typed left to right.
  const arabic = await browser.newContext({ ignoreHTTPSErrors: true, locale: 'ar-EG' });
  const ar = await arabic.newPage();
  await step('an Arabic browser gets a right-to-left login page', [ar], async () => {
    await ar.goto(env.gatehouse + 'login');
    assert((await ar.locator('html').getAttribute('dir')) === 'rtl', 'the page is not right to left');
    await ar.fill('input[name=email]', 'nobody@example.com');
    await ar.fill('input[name=password]', 'not the password at all');
    await submit(ar, ar.locator('main form button[type=submit]').first());
    const alert = ar.locator('[role=alert]');
    assert((await alert.innerText()).includes('غير صحيحة'), 'refusal: ' + (await alert.innerText()));
    const bar = await alert.evaluate((e) => getComputedStyle(e).borderRightWidth);
    assert(bar === '4px', `the alert's bar is not on the right (border-right ${bar})`);
    const dir = await ar.locator('input[name=email]').evaluate((e) => getComputedStyle(e).direction);
    assert(dir === 'ltr', 'the email field is ' + dir);
    await shot(ar, 'journey7-02-login-ar');
  });
  await arabic.close();
}

// 8. The admin brands the sample app in the console: its preview shows the
// login card in the new look, and the app's login page then names it and
// wears its colours; a logo that cannot load keeps the card's layout, an
// uploaded one shows. The look is cleared at the end, so the journey leaves
// the tenant as it was.
async function branding(browser) {
  const admin = await newPage(browser);
  const pages = [admin];
  const adminUser = { email: 'admin@example.com', password: 'gatehouse-admin-demo', phone: ukMobile() };
  await step('the admin logs in to the console', pages, async () => {
    await admin.goto(env.gatehouse + 'admin/');
    await signIn(admin, adminUser);
    assert((await screen(admin)).startsWith('admin'), 'not in the console');
  });
  const brandingPage = async () => {
    await admin.goto(env.gatehouse + 'admin/applications/gatehouse-sample-spa');
    await Promise.all([admin.waitForNavigation(), admin.getByRole('link', { name: 'Branding', exact: true }).click()]);
  };
  const save = async (button = 'Save branding') => {
    await submit(admin, admin.getByRole('button', { name: button }));
    await admin.locator('[role=status]').waitFor({ timeout: 5_000 });
  };
  const setLook = (name, primary, background, logoURL = '') => step(`the admin sets the sample app's look to "${name || 'default'}"`, pages, async () => {
    await brandingPage();
    await admin.fill('#name', name);
    await admin.fill('#primary_color', primary);
    await admin.fill('#background_color', background);
    await admin.fill('#logo_url', logoURL);
    await save();
    const shown = await admin.locator('[data-preview=login] .subtitle').innerText();
    assert(shown === `to continue to ${name || 'Sample SPA'}`, 'the preview says ' + shown);
  });
  // loginCard opens the app's login page in a new browser.
  const loginCard = async () => {
    const page = await newPage(browser);
    pages.push(page);
    await page.goto(env.app + '/');
    await appSettled(page);
    await Promise.all([page.waitForURL((u) => u.origin === new URL(env.gatehouse).origin), page.click('#qsLoginBtn')]);
    await page.locator('main[data-screen=login]').waitFor();
    await page.waitForLoadState('load');
    return page;
  };

  await setLook('Acme Demo', '#0f766e', '#ecfdf5', 'https://logo.invalid/acme.png');
  await step('the preview shows the card in the new colours', pages, async () => {
    const bg = await admin.locator('[data-preview=login] .button-primary').evaluate((el) => getComputedStyle(el).backgroundColor);
    assert(bg === 'rgb(15, 118, 110)', 'the preview button is ' + bg);
  });
  await step("the app's login card names the app and wears its colours; its unloadable logo keeps the layout", pages, async () => {
    const page = await loginCard();
    const subtitle = await page.locator('main .subtitle').innerText();
    assert(subtitle === 'to continue to Acme Demo', 'the login card says ' + subtitle);
    const bg = await page.locator('main button[type=submit]').first().evaluate((el) => getComputedStyle(el).backgroundColor);
    assert(bg === 'rgb(15, 118, 110)', 'the Continue button is ' + bg);
    const logo = page.locator('.brand-logo img');
    assert((await logo.getAttribute('alt')) === 'Acme Demo', 'the logo has no alt text');
    assert((await logo.evaluate((img) => img.complete && img.naturalWidth)) === 0, 'the logo on logo.invalid loaded');
    const box = await page.locator('.brand-logo').boundingBox();
    assert(box && box.width === 160 && box.height === 48, 'the logo box is ' + JSON.stringify(box));
    await page.context().close();
  });
  await step('the admin uploads a logo file in place of the link', pages, async () => {
    await brandingPage();
    await admin.fill('#logo_url', '');
    await admin.setInputFiles('#logo', new URL('./fixtures/acme-logo.png', import.meta.url).pathname);
    await save();
    const loaded = await admin.locator('[data-preview=login] .brand-logo img').evaluate((img) => img.complete && img.naturalWidth);
    assert(loaded > 0, 'the preview shows no uploaded logo');
    await shot(admin, 'journey8-branding-console');
  });
  await step('the login card shows the uploaded logo', pages, async () => {
    const page = await loginCard();
    const loaded = await page.locator('.brand-logo img').evaluate((img) => img.complete && img.naturalWidth);
    assert(loaded > 0, 'the uploaded logo did not load');
    await shot(page, 'journey8-branding-login');
    await page.context().close();
  });
  await step('the admin removes the logo', pages, () => save('Remove uploaded logo'));
  await setLook('', '', '');
  await admin.context().close();
}

const journeys = {
  'signup-mfa-api-logout': signupThroughMFA,
  errors,
  'admin-switches-policy': adminSwitchesPolicy,
  passkeys,
  'phone-sized-screens': phoneSizedScreens,
  'reload-without-third-party-cookies': reloadWithoutThirdPartyCookies,
  'french-ui-locales': frenchUILocales,
  branding,
};

const names = process.argv.slice(2);
for (const n of names) {
  if (!journeys[n]) {
    console.error(`unknown journey ${n}; journeys: ${Object.keys(journeys).join(', ')}`);
    process.exit(2);
  }
}
console.log(`artifacts: ${env.artifacts}`);
const browser = await launch();
let failed = 0;
try {
  for (const n of names.length ? names : Object.keys(journeys)) {
    console.log(`journey ${n}`);
    const started = Date.now();
    try {
      await journeys[n](browser);
      console.log(`ok ${n} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
    } catch (err) {
      failed++;
      console.error(`FAIL ${n}: ${err.message}`);
    }
  }
} finally {
  await browser.close();
}
process.exit(failed ? 1 : 0);
