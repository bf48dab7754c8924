// The sample's "External API": GET /api/external answers only requests that
// carry a valid Gatehouse access token for its audience, as the API server of
// Auth0's React sample does. The token is checked by express-oauth2-jwt-bearer,
// the library that sample uses: issuer, RS256 signature against the issuer's
// JWKS (found through its discovery document), audience and expiry.
//
// Configuration, read at start:
//   AUTH_CONFIG    path of the SPA's auth_config.json ({domain, audience});
//                  default ../react-spa/src/auth_config.json
//   ISSUER_BASE_URL, AUDIENCE
//                  override what auth_config.json says
//   JWKS_URI       fetch the signing keys from here instead of discovering
//                  them from the issuer; for containers that reach Gatehouse
//                  by another name than the browser does (docker-compose.yml)
//   API_PORT       listen port, default 3001
//   API_HOST       listen address, default all of the machine's
//   APP_ORIGIN     the SPA's origin, allowed by CORS; default http://localhost:3000
//   PERMISSION     the permission GET /api/messages needs; default read:messages
//
// A private CA (gatehouse dev's ./var/tls/ca.pem) is trusted through
// NODE_EXTRA_CA_CERTS, which Node reads at start.

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import express from 'express';
import cors from 'cors';
import helmet from 'helmet';
import { auth, claimIncludes, requiredScopes } from 'express-oauth2-jwt-bearer';

const here = path.dirname(fileURLToPath(import.meta.url));

function fail(message) {
  console.error(`api: ${message}`);
  process.exit(1);
}

function readAuthConfig() {
  const file = process.env.AUTH_CONFIG || path.join(here, '..', 'react-spa', 'src', 'auth_config.json');
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    if (process.env.ISSUER_BASE_URL && process.env.AUDIENCE) return {};
    fail(`cannot read ${file} (${err.message}); run gatehouse dev, which writes it, or copy auth_config.json.example`);
  }
}

// issuerFrom turns the SPA's domain into the issuer URL: a bare host[:port]
// means https, as with Auth0; a domain with a scheme (gatehouse dev --http)
// is kept. The issuer ends in a slash, as Gatehouse's does.
function issuerFrom(domain) {
  const base = /^https?:\/\//.test(domain) ? domain : `https://${domain}`;
  return base.replace(/\/*$/, '/');
}

const config = readAuthConfig();
const issuer = process.env.ISSUER_BASE_URL || (config.domain && issuerFrom(config.domain));
const audience = process.env.AUDIENCE || config.audience;
if (!issuer) fail('no domain in auth_config.json and no ISSUER_BASE_URL');
if (!audience || audience === '{API_IDENTIFIER}') fail('no audience in auth_config.json and no AUDIENCE');

const port = Number(process.env.API_PORT || 3001);
const host = process.env.API_HOST || undefined;
const appOrigin = process.env.APP_ORIGIN || 'http://localhost:3000';

const checkJwt = process.env.JWKS_URI
  ? auth({ issuer, jwksUri: process.env.JWKS_URI, audience, tokenSigningAlg: 'RS256' })
  : auth({ issuerBaseURL: issuer, audience, tokenSigningAlg: 'RS256' });

const app = express();
app.use(helmet());
app.use(cors({ origin: appOrigin }));

app.get('/api/external', checkJwt, (req, res) => {
  res.json({ msg: 'Your access token was successfully validated!' });
});

// Authorised by a permission, as Auth0's RBAC samples do: the token's
// "permissions" claim (the API's "Add Permissions in the Access Token"
// setting) must list it. The user holds it through a role.
const permission = process.env.PERMISSION || 'read:messages';
app.get('/api/messages', checkJwt, claimIncludes('permissions', permission), (req, res) => {
  res.json({ msg: `Your token holds the permission ${permission}.` });
});

// The same permission checked in the scope claim: with the API's RBAC on, a
// requested scope is granted only when the user holds it as a permission.
app.get('/api/messages/by-scope', checkJwt, requiredScopes(permission), (req, res) => {
  res.json({ msg: `Your token was granted the scope ${permission}.` });
});

// Errors as JSON, so the SPA can show why a call was refused (Auth0's sample
// answers with an HTML page the SPA cannot read).
app.use((err, req, res, next) => {
  const status = err.status || 500;
  if (status >= 500) console.error(err);
  if (err.headers) res.set(err.headers);
  res.status(status).json({ error: err.code || (status < 500 ? 'unauthorized' : 'server_error'), error_description: err.message });
});

app.listen(port, host, () => console.log(`API listening on http://${host || 'localhost'}:${port} (issuer ${issuer}, audience ${audience})`));
