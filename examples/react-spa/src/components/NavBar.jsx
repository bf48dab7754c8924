import { NavLink } from 'react-router-dom';
import { useAuth0 } from '@auth0/auth0-react';

export default function NavBar() {
  const { user, isAuthenticated, loginWithRedirect, logout } = useAuth0();

  return (
    <nav className="navbar" data-testid="navbar">
      <span className="brand">Gatehouse sample</span>
      <NavLink to="/" end data-testid="nav-home">
        Home
      </NavLink>
      {isAuthenticated && (
        <>
          <NavLink to="/profile" data-testid="nav-profile">
            Profile
          </NavLink>
          <NavLink to="/external-api" data-testid="nav-external-api">
            External API
          </NavLink>
        </>
      )}
      <span className="spacer" />
      {!isAuthenticated && (
        <button id="qsLoginBtn" data-testid="login-button" onClick={() => loginWithRedirect()}>
          Log in
        </button>
      )}
      {isAuthenticated && (
        <>
          {user.picture && <img className="avatar" src={user.picture} alt="" width="32" height="32" />}
          <span data-testid="nav-user-name">{user.name}</span>
          <button
            id="qsLogoutBtn"
            data-testid="logout-button"
            onClick={() => logout({ logoutParams: { returnTo: window.location.origin } })}
          >
            Log out
          </button>
        </>
      )}
    </nav>
  );
}
