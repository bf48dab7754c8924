package server

import (
	"context"
	"net/http"
	"time"

	"github.com/ory/fosite"

	"github.com/gatehouse-id/gatehouse/store"
)

// retryAfterOutage is the Retry-After, in seconds, of an answer given while
// no database primary serves requests: a failover takes seconds.
const retryAfterOutage = "5"

// unavailable reports whether err is the database's absence rather than a
// bug: the error itself says so (it is the only sign once a failover has
// finished in between), or the database does not answer a ping now.
func (s *Server) unavailable(ctx context.Context, err error) bool {
	if store.IsUnavailable(err) {
		return true
	}
	if s.db == nil {
		return false
	}
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	return s.db.Ping(ctx) != nil
}

// outageAwareProvider answers OAuth requests that failed for want of the
// database with temporarily_unavailable (503 and a Retry-After at the token
// endpoint) instead of fosite's server_error, or the invalid_client fosite
// makes of any failed client lookup, so that clients retry rather than give
// up or sign the user out.
type outageAwareProvider struct {
	fosite.OAuth2Provider
	s *Server
}

func (p outageAwareProvider) outage(ctx context.Context, err error) bool {
	if store.IsUnavailable(err) {
		return true
	}
	return fosite.ErrorToRFC6749Error(err).ErrorField == fosite.ErrServerError.ErrorField && p.s.unavailable(ctx, err)
}

func temporarilyUnavailable(err error) error {
	return fosite.ErrTemporarilyUnavailable.WithHint("Try again in a few seconds.").WithWrap(err)
}

func (p outageAwareProvider) WriteAccessError(ctx context.Context, w http.ResponseWriter, req fosite.AccessRequester, err error) {
	if p.outage(ctx, err) {
		p.s.logger(ctx).Warn("database unavailable", "endpoint", "token", "err", err)
		w.Header().Set("Retry-After", retryAfterOutage)
		err = temporarilyUnavailable(err)
	}
	p.OAuth2Provider.WriteAccessError(ctx, w, req, err)
}

func (p outageAwareProvider) WriteAuthorizeError(ctx context.Context, w http.ResponseWriter, ar fosite.AuthorizeRequester, err error) {
	if p.outage(ctx, err) {
		p.s.logger(ctx).Warn("database unavailable", "endpoint", "authorize", "err", err)
		err = temporarilyUnavailable(err)
	}
	p.OAuth2Provider.WriteAuthorizeError(ctx, w, ar, err)
}
