package store

import (
	"context"
	"fmt"
	"time"

	"github.com/ory/fosite"
)

// CreateRefreshTokenSession implements oauth2.RefreshTokenStorage. The token
// inherits the end of its grant's rotation chain; the first token of a grant
// starts the chain, which ends RefreshAbsoluteLifetime later.
func (o *OAuth2) CreateRefreshTokenSession(ctx context.Context, signature, accessSignature string, req fosite.Requester) error {
	return o.insertToken(ctx, kindRefresh, signature, req, accessSignature)
}

// GetRefreshTokenSession implements oauth2.RefreshTokenStorage.
//
// A rotated token comes back with fosite.ErrInactiveToken and its request, on
// which fosite revokes the whole grant as stolen (RFC 6819 5.2.2.3), unless it
// was first rotated less than RefreshReuseInterval ago: then it is returned as
// active, so a retry after a lost response or a second tab still succeeds.
//
// A token whose rotation chain has ended is fosite.ErrNotFound, which fosite
// answers with invalid_grant and nothing else. Not ErrInactiveToken: that would
// revoke the grant as if the token had been stolen. Not fosite.ErrTokenExpired
// either: from storage fosite does not expect it and answers server_error.
func (o *OAuth2) GetRefreshTokenSession(ctx context.Context, signature string, session fosite.Session) (fosite.Requester, error) {
	r, err := o.selectToken(ctx, kindRefresh, signature)
	if err != nil {
		return nil, err
	}
	now := o.now()
	if r.familyExpiresAt != nil && !now.Before(*r.familyExpiresAt) {
		return nil, fmt.Errorf("%w: the refresh token's grant ended at %s", fosite.ErrNotFound,
			r.familyExpiresAt.UTC().Format(time.RFC3339))
	}
	req, err := o.request(ctx, r, session)
	if err != nil {
		return nil, err
	}
	if !r.active && !o.inReuseInterval(r.firstUsedAt, now) {
		return req, fosite.ErrInactiveToken
	}
	return req, nil
}

func (o *OAuth2) inReuseInterval(firstUsedAt *time.Time, now time.Time) bool {
	return firstUsedAt != nil && now.Before(firstUsedAt.Add(o.cfg.RefreshReuseInterval))
}

// RotateRefreshToken implements oauth2.RefreshTokenStorage; fosite calls it in
// the refresh transaction before it stores the new tokens.
//
// The token becomes inactive and its first use is recorded, unless it already
// was: RefreshReuseInterval counts from the first rotation. It succeeds only
// for a token that is active, or rotated less than RefreshReuseInterval ago,
// so of two concurrent rotations outside that window the second waits for the
// first's transaction and then fails with fosite.ErrNotFound ("please retry").
//
// The subject's and the grant's locks (see lockKey) are taken in the same
// statement, in that order, before it changes the row. Its snapshot is older
// than the locks, but a rotation or revocation that committed meanwhile
// changed or deleted this very row, and Postgres re-checks a changed row
// against the conditions (and skips a deleted one) before it updates it.
//
// Graceful mode deletes only the access token issued with this refresh token;
// strict mode (RefreshReuseInterval 0) deletes every access token of the grant,
// as fosite's own storage does.
func (o *OAuth2) RotateRefreshToken(ctx context.Context, requestID, refreshSignature string) error {
	now := o.now()
	strict := o.cfg.RefreshReuseInterval == 0
	var rotatedAfter *time.Time
	if !strict {
		t := now.Add(-o.cfg.RefreshReuseInterval)
		rotatedAfter = &t
	}
	// One statement per mode rather than one condition with "or", which no
	// index serves: Postgres read the whole table for every rotation.
	revoked := `a.signature = r.access_token_signature`
	if strict {
		revoked = `a.request_id = r.request_id`
	}
	key := tokenKey(refreshSignature)
	if p := pendingOf(ctx); p != nil {
		p.rotated(requestID, key)
	}
	return o.st.write(ctx, "rotate refresh token", rotateNotFound, `
		with owner as (
			select request_id, subject from oauth2_tokens where kind = 'refresh' and signature = $1
		), locked as (
			select pg_advisory_xact_lock(hashtextextended('oauth grant:' || request_id, 0))
			from (select request_id, pg_advisory_xact_lock(hashtextextended('oauth subject:' || subject, 0))
				from owner offset 0) subject_locked
		), rotated as (
			update oauth2_tokens set active = false, first_used_at = coalesce(first_used_at, $3)
			where kind = 'refresh' and signature = $1 and request_id = $2 and family_expires_at > $3
				and (active or first_used_at > $4) and exists (select from locked)
			returning request_id, access_token_signature
		), revoked as (
			delete from oauth2_tokens a using rotated r where a.kind = 'access' and `+revoked+`
		)
		select 1 / count(*) from rotated`,
		key, requestID, now, rotatedAfter)
}

var rotateNotFound = fmt.Errorf("already rotated, revoked or ended: %w", fosite.ErrNotFound)

// DeleteRefreshTokenSession implements oauth2.RefreshTokenStorage.
func (o *OAuth2) DeleteRefreshTokenSession(ctx context.Context, signature string) error {
	return o.deleteToken(ctx, kindRefresh, signature)
}

// RevokeRefreshToken implements oauth2.TokenRevocationStorage: it deletes every
// refresh token of the grant, rotated ones included. fosite always pairs it
// with RevokeAccessToken.
func (o *OAuth2) RevokeRefreshToken(ctx context.Context, requestID string) error {
	return o.revoke(ctx, kindRefresh, requestID)
}
