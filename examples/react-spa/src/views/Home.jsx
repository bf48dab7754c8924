import { useAuth0 } from '@auth0/auth0-react';

export default function Home() {
  const { isAuthenticated, user } = useAuth0();
  return (
    <section data-testid="home">
      <h1>Gatehouse sample app</h1>
      <p>
        A React single-page app that logs in with <code>@auth0/auth0-react</code>, unchanged, against a
        Gatehouse server. Only <code>src/auth_config.json</code> points it there.
      </p>
      <p data-testid="home-status">
        {isAuthenticated ? `Logged in as ${user.email || user.name || user.sub}.` : 'Not logged in.'}
      </p>
    </section>
  );
}
