import React from 'react';
import { createRoot } from 'react-dom/client';
import { BrowserRouter, useNavigate } from 'react-router-dom';
import { Auth0Provider } from '@auth0/auth0-react';
import App from './App.jsx';
import { getConfig } from './config.js';
import './index.css';

const config = getConfig();

// After login the SDK hands back where the user was going (withAuthenticationRequired
// records it); the router takes them there.
function ProviderWithNavigate({ children }) {
  const navigate = useNavigate();
  const onRedirectCallback = (appState) => {
    navigate(appState && appState.returnTo ? appState.returnTo : window.location.pathname, { replace: true });
  };
  return (
    <Auth0Provider
      domain={config.domain}
      clientId={config.clientId}
      cacheLocation={config.cacheLocation}
      useRefreshTokens={config.useRefreshTokens}
      onRedirectCallback={onRedirectCallback}
      authorizationParams={{
        redirect_uri: window.location.origin,
        ...(config.audience ? { audience: config.audience } : null),
      }}
    >
      {children}
    </Auth0Provider>
  );
}

function MissingConfig() {
  return (
    <main className="container" data-testid="config-missing">
      <h1>Configuration missing</h1>
      <p>
        <code>src/auth_config.json</code> needs a <code>domain</code> and a <code>clientId</code>. Run{' '}
        <code>./scripts/dev.sh</code> at the repository root, which writes it, or copy{' '}
        <code>src/auth_config.json.example</code> and restart <code>npm start</code>.
      </p>
    </main>
  );
}

createRoot(document.getElementById('root')).render(
  <React.StrictMode>
    {config.domain && config.clientId ? (
      <BrowserRouter>
        <ProviderWithNavigate>
          <App />
        </ProviderWithNavigate>
      </BrowserRouter>
    ) : (
      <MissingConfig />
    )}
  </React.StrictMode>,
);
