// The app's settings: src/auth_config.json, as in Auth0's React sample
// (domain, clientId, audience), which gatehouse dev writes. Environment
// variables VITE_AUTH_DOMAIN, VITE_AUTH_CLIENT_ID and VITE_AUTH_AUDIENCE, when
// set at build or dev-server start, win over the file (docker-compose.yml
// uses them). The file is optional at build time, so the app builds without
// it and then says what is missing.
//
// Two optional keys follow the SDK's options of the same names:
// "cacheLocation" ("memory", the default, or "localstorage") and
// "useRefreshTokens" (false by default), or VITE_AUTH_CACHE_LOCATION and
// VITE_AUTH_USE_REFRESH_TOKENS ("true"). The defaults are Auth0's sample's;
// gatehouse dev writes localstorage and true, because its app and Gatehouse
// are different sites (this app's README.md, "Configuration").

const files = import.meta.glob('./auth_config.json', { eager: true, import: 'default' });
const file = files['./auth_config.json'] || {};
const env = import.meta.env;

export function getConfig() {
  const domain = env.VITE_AUTH_DOMAIN || file.domain;
  const clientId = env.VITE_AUTH_CLIENT_ID || file.clientId;
  const rawAudience = env.VITE_AUTH_AUDIENCE ?? file.audience;
  // A missing or placeholder audience turns the External API page off, as
  // in Auth0's sample.
  const audience = rawAudience && rawAudience !== '{yourApiIdentifier}' ? rawAudience : undefined;
  return {
    domain,
    clientId,
    audience,
    apiOrigin: env.VITE_API_ORIGIN || file.apiOrigin || 'http://localhost:3001',
    cacheLocation: env.VITE_AUTH_CACHE_LOCATION || file.cacheLocation || 'memory',
    useRefreshTokens: env.VITE_AUTH_USE_REFRESH_TOKENS
      ? env.VITE_AUTH_USE_REFRESH_TOKENS === 'true'
      : file.useRefreshTokens === true,
  };
}
