import { Routes, Route } from 'react-router-dom';
import { useAuth0 } from '@auth0/auth0-react';
import NavBar from './components/NavBar.jsx';
import Loading from './components/Loading.jsx';
import Home from './views/Home.jsx';
import Profile from './views/Profile.jsx';
import ExternalApi from './views/ExternalApi.jsx';

export default function App() {
  const { isLoading, error } = useAuth0();

  // Where the SDK reports a failed login or a token it refused (wrong
  // issuer, audience, nonce ...), as Auth0's sample does.
  if (error) {
    return (
      <main className="container" data-testid="auth-error" role="alert">
        Oops... {error.message}
      </main>
    );
  }
  if (isLoading) {
    return <Loading />;
  }
  return (
    <div id="app">
      <NavBar />
      <main className="container">
        <Routes>
          <Route path="/" element={<Home />} />
          <Route path="/profile" element={<Profile />} />
          <Route path="/external-api" element={<ExternalApi />} />
        </Routes>
      </main>
    </div>
  );
}
