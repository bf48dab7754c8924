// Runs the auth0 package's ManagementClient, as an SPA's backend uses it,
// against Gatehouse's Management API subset (/api/v2/): it gets its token by
// client credentials for the audience https://{domain}/api/v2/, reads an
// imported user by their Auth0 user_id and by email, searches, and patches
// their metadata. server/management_api_sdk_test.go runs it against a
// throwaway Gatehouse served over HTTPS (the SDK builds https:// URLs only);
// by hand:
//
//   NODE_EXTRA_CA_CERTS=ca.pem DOMAIN=login.example.com CLIENT_ID=… CLIENT_SECRET=… \
//   READER_CLIENT_ID=… READER_CLIENT_SECRET=… USER_ID='auth0|…' EMAIL=… node check.mjs
//
// It prints one JSON line per check, {"check": name, "ok": true} or
// {"check": name, "ok": false, "error": why}, and stops at the first failure
// (exit 1).

import { ManagementClient, ManagementError } from 'auth0';

function env(name) {
  const v = process.env[name];
  if (!v) throw new Error(`environment variable ${name} is required`);
  return v;
}

const cfg = {
  domain: env('DOMAIN'),
  clientId: env('CLIENT_ID'),
  clientSecret: env('CLIENT_SECRET'),
  readerId: env('READER_CLIENT_ID'),
  readerSecret: env('READER_CLIENT_SECRET'),
  userId: env('USER_ID'),
  email: env('EMAIL'),
};

function assert(cond, message) {
  if (!cond) throw new Error(message);
}

function describe(err) {
  if (!err) return String(err);
  const parts = [err.message || String(err)];
  if (err.statusCode) parts.push(`statusCode=${err.statusCode}`);
  if (err.body) parts.push(`body=${JSON.stringify(err.body)}`);
  if (err.cause && err.cause.message) parts.push(`cause: ${err.cause.message}`);
  return parts.join('; ');
}

async function check(name, fn) {
  try {
    await fn();
    console.log(JSON.stringify({ check: name, ok: true }));
  } catch (err) {
    console.log(JSON.stringify({ check: name, ok: false, error: describe(err) }));
    process.exit(1);
  }
}

// refusal runs fn, which must fail with a ManagementError of status.
async function refusal(fn, status, errorCode) {
  try {
    await fn();
  } catch (err) {
    assert(err instanceof ManagementError, `expected a ManagementError, got ${describe(err)}`);
    assert(err.statusCode === status, `expected status ${status}, got ${describe(err)}`);
    assert(err.body && err.body.statusCode === status && err.body.errorCode === errorCode && err.body.message,
      `expected Auth0's error body with errorCode ${errorCode}, got ${JSON.stringify(err.body)}`);
    return;
  }
  throw new Error(`expected a ${status} refusal, the call succeeded`);
}

const management = new ManagementClient({ domain: cfg.domain, clientId: cfg.clientId, clientSecret: cfg.clientSecret });
const reader = new ManagementClient({ domain: cfg.domain, clientId: cfg.readerId, clientSecret: cfg.readerSecret });

await check('users.get reads the imported user by their Auth0 user_id', async () => {
  const user = await management.users.get(cfg.userId);
  assert(user.user_id === cfg.userId, `user_id ${user.user_id}`);
  assert(user.email === cfg.email, `email ${user.email}`);
  assert(user.app_metadata && user.app_metadata.plan === 'pro', `app_metadata ${JSON.stringify(user.app_metadata)}`);
  assert(user.user_metadata && user.user_metadata.theme === 'dark', `user_metadata ${JSON.stringify(user.user_metadata)}`);
  assert(Array.isArray(user.identities) && user.identities[0].provider === 'auth0', `identities ${JSON.stringify(user.identities)}`);
});

await check('users.listUsersByEmail finds the user', async () => {
  const users = await management.users.listUsersByEmail({ email: cfg.email });
  assert(Array.isArray(users) && users.length === 1 && users[0].user_id === cfg.userId, JSON.stringify(users));
});

await check('users.list searches by email with search_engine v3', async () => {
  const page = await management.users.list({ q: `email:"${cfg.email}"`, search_engine: 'v3' });
  assert(page.data.length === 1 && page.data[0].user_id === cfg.userId, JSON.stringify(page.data));
});

await check('users.update merges metadata', async () => {
  const user = await management.users.update(cfg.userId, {
    app_metadata: { plan: 'team', seats: 5 },
    user_metadata: { theme: null, lang: 'fr' },
  });
  assert(user.app_metadata.plan === 'team' && user.app_metadata.seats === 5, JSON.stringify(user.app_metadata));
  assert(user.user_metadata.lang === 'fr' && !('theme' in user.user_metadata), JSON.stringify(user.user_metadata));
});

await check('users.get shows the update', async () => {
  const user = await management.users.get(cfg.userId, { fields: 'user_id,app_metadata', include_fields: true });
  assert(user.app_metadata.plan === 'team' && user.email === undefined, JSON.stringify(user));
});

await check('a client granted read:users only cannot update', async () => {
  await reader.users.get(cfg.userId);
  await refusal(() => reader.users.update(cfg.userId, { app_metadata: { plan: 'free' } }), 403, 'insufficient_scope');
});

await check('oversized metadata is refused', async () => {
  await refusal(() => management.users.update(cfg.userId, { user_metadata: { notes: 'x'.repeat(17 * 1024) } }), 400, 'invalid_body');
});

await check('an unknown user is a 404', async () => {
  await refusal(() => management.users.get('auth0|000000000000000000000000'), 404, 'inexistent_user');
});
