import { useAuth0, withAuthenticationRequired } from '@auth0/auth0-react';
import Loading from '../components/Loading.jsx';

// The ID token's claims as the SDK hands them to the app (protocol claims such
// as iss, aud and nonce removed).
function Profile() {
  const { user } = useAuth0();
  return (
    <section data-testid="profile">
      <div className="profile-head">
        {user.picture && (
          <img className="profile-picture" data-testid="profile-picture" src={user.picture} alt="Profile" width="96" height="96" />
        )}
        <div>
          <h2 data-testid="profile-name">{user.name}</h2>
          <p data-testid="profile-email">{user.email}</p>
        </div>
      </div>
      <pre data-testid="profile-json">{JSON.stringify(user, null, 2)}</pre>
    </section>
  );
}

export default withAuthenticationRequired(Profile, { onRedirecting: () => <Loading /> });
