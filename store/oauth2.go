package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/ory/fosite"
	"github.com/ory/fosite/handler/oauth2"
	"github.com/ory/fosite/handler/openid"
	"github.com/ory/fosite/handler/pkce"
	"github.com/ory/fosite/storage"
)

// OAuth2 is fosite's storage on Postgres: authorization codes, PKCE requests,
// OpenID Connect sessions, access and refresh tokens, all in oauth2_tokens.
//
// The contract fosite relies on, beyond create/get/delete:
//   - A missing row is fosite.ErrNotFound. Expired rows are returned: fosite
//     checks expiry itself and answers with better errors.
//   - A redeemed code is returned together with fosite.ErrInvalidatedAuthorizeCode,
//     so that fosite can revoke the grant; redeeming is conditional, so of two
//     concurrent redemptions exactly one succeeds.
//   - A rotated refresh token is returned together with fosite.ErrInactiveToken
//     (reuse: fosite revokes the grant), except within RefreshReuseInterval of
//     its first rotation, when it still counts as active.
//   - A refresh token past the end of its rotation chain is fosite.ErrNotFound.
//   - SQLSTATE 40001 and 40P01 are fosite.ErrSerializationFailure.
type OAuth2 struct {
	st      *Store
	clients ClientGetter
	cfg     OAuth2Config
}

// ClientGetter loads the fosite view of a client. It must answer
// fosite.ErrNotFound for an unknown id.
type ClientGetter interface {
	GetClient(ctx context.Context, id string) (fosite.Client, error)
}

// OAuth2Config tunes refresh token rotation.
type OAuth2Config struct {
	// RefreshReuseInterval is how long after its first rotation a refresh
	// token still works (Auth0's "reuse interval"), so a retried request or a
	// second tab refreshing at the same moment does not look like theft. Zero
	// means strict: a rotated token is dead at once. DefaultOAuth2Config has 3s.
	RefreshReuseInterval time.Duration
	// RefreshAbsoluteLifetime ends a rotation chain this long after the grant
	// that started it, however often it is refreshed. Zero means 30 days.
	RefreshAbsoluteLifetime time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Defaults of OAuth2Config.
const (
	DefaultRefreshReuseInterval    = 3 * time.Second
	DefaultRefreshAbsoluteLifetime = 30 * 24 * time.Hour
)

// DefaultOAuth2Config is the configuration to start from.
func DefaultOAuth2Config() OAuth2Config {
	return OAuth2Config{
		RefreshReuseInterval:    DefaultRefreshReuseInterval,
		RefreshAbsoluteLifetime: DefaultRefreshAbsoluteLifetime,
		Now:                     time.Now,
	}
}

// NewOAuth2 returns fosite's storage on st, loading clients through clients.
func NewOAuth2(st *Store, clients ClientGetter, cfg OAuth2Config) *OAuth2 {
	cfg.RefreshReuseInterval = max(cfg.RefreshReuseInterval, 0)
	if cfg.RefreshAbsoluteLifetime <= 0 {
		cfg.RefreshAbsoluteLifetime = DefaultRefreshAbsoluteLifetime
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &OAuth2{st: st, clients: clients, cfg: cfg}
}

var (
	_ fosite.Storage                     = (*OAuth2)(nil)
	_ oauth2.CoreStorage                 = (*OAuth2)(nil)
	_ oauth2.TokenRevocationStorage      = (*OAuth2)(nil)
	_ pkce.PKCERequestStorage            = (*OAuth2)(nil)
	_ openid.OpenIDConnectRequestStorage = (*OAuth2)(nil)
	_ storage.Transactional              = (*OAuth2)(nil)
)

func (o *OAuth2) now() time.Time { return o.cfg.Now().UTC() }

// GetClient implements fosite.ClientManager.
func (o *OAuth2) GetClient(ctx context.Context, id string) (fosite.Client, error) {
	return o.clients.GetClient(ctx, id)
}

// ClientAssertionJWTValid implements fosite.ClientManager: no jti is ever
// recorded (see SetClientAssertionJWT), so every jti is unknown.
func (o *OAuth2) ClientAssertionJWTValid(context.Context, string) error { return nil }

// SetClientAssertionJWT implements fosite.ClientManager. Gatehouse does not
// support private_key_jwt client authentication, so it keeps no jti and
// refuses, which makes such an authentication fail instead of leaving its
// assertion open to replay.
func (o *OAuth2) SetClientAssertionJWT(context.Context, string, time.Time) error {
	return errors.New("store: private_key_jwt client authentication is not supported")
}

// deleteClientTokens removes every code, token and session issued to a
// client; DeleteClient calls it in the client's own transaction.
func (s *Store) deleteClientTokens(ctx context.Context, clientID string) error {
	if _, err := s.db(ctx).Exec(ctx, `delete from oauth2_tokens where client_id = $1`, clientID); err != nil {
		return oauth2DBError("delete client tokens", err)
	}
	return nil
}

// oauth2DBError wraps a database error for fosite: a serialization failure or
// deadlock becomes fosite.ErrSerializationFailure, which the refresh flow
// answers with "please retry".
func oauth2DBError(op string, err error) error {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && (pgErr.Code == "40001" || pgErr.Code == "40P01") {
		return fmt.Errorf("%s: %w: %w", op, fosite.ErrSerializationFailure, err)
	}
	return fmt.Errorf("%s: %w", op, err)
}
