import { useState } from 'react';
import { useAuth0, withAuthenticationRequired } from '@auth0/auth0-react';
import Loading from '../components/Loading.jsx';
import { getConfig } from '../config.js';

const { apiOrigin, audience } = getConfig();

// Calls the sample API (examples/api) with an access token for its audience,
// as the External API page of Auth0's sample does, including its ways out
// when a token cannot be had silently: log in again, or consent, in a popup.
function ExternalApi() {
  const { getAccessTokenSilently, loginWithPopup, getAccessTokenWithPopup } = useAuth0();
  const [state, setState] = useState({ result: null, error: null, busy: false });

  const callApi = async () => {
    setState({ result: null, error: null, busy: true });
    try {
      const token = await getAccessTokenSilently();
      const response = await fetch(`${apiOrigin}/api/external`, {
        headers: { Authorization: `Bearer ${token}` },
      });
      const body = await response.json();
      if (!response.ok) {
        throw new Error(body.error_description || `the API answered ${response.status}`);
      }
      setState({ result: body, error: null, busy: false });
    } catch (error) {
      setState({ result: null, error, busy: false });
    }
  };

  const retry = async (how) => {
    try {
      await how();
      setState({ result: null, error: null, busy: false });
      await callApi();
    } catch (error) {
      setState({ result: null, error, busy: false });
    }
  };

  const { result, error, busy } = state;
  return (
    <section data-testid="external-api">
      <h1>External API</h1>
      {!audience && (
        <p role="alert" data-testid="api-no-audience">
          Set <code>audience</code> in <code>src/auth_config.json</code> to call the API.
        </p>
      )}
      <p>
        Ping <code>{apiOrigin}/api/external</code> with an access token for <code>{audience || '(no audience)'}</code>.
      </p>
      <button data-testid="ping-api" onClick={callApi} disabled={!audience || busy}>
        Ping API
      </button>
      {error && error.error === 'login_required' && (
        <p role="alert" data-testid="api-error">
          You need to{' '}
          <a href="#/" data-testid="api-login-again" onClick={(e) => { e.preventDefault(); retry(() => loginWithPopup()); }}>
            log in again
          </a>
          .
        </p>
      )}
      {error && error.error === 'consent_required' && (
        <p role="alert" data-testid="api-error">
          You need to{' '}
          <a href="#/" data-testid="api-consent" onClick={(e) => { e.preventDefault(); retry(() => getAccessTokenWithPopup()); }}>
            consent to get access to the API
          </a>
          .
        </p>
      )}
      {error && error.error !== 'login_required' && error.error !== 'consent_required' && (
        <p role="alert" data-testid="api-error">
          {error.message}
        </p>
      )}
      {result && (
        <div>
          <h2>Result</h2>
          <pre data-testid="api-result">{JSON.stringify(result, null, 2)}</pre>
        </div>
      )}
    </section>
  );
}

export default withAuthenticationRequired(ExternalApi, { onRedirecting: () => <Loading /> });
