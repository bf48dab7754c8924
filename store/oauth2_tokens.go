package store

import (
	"context"

	"github.com/ory/fosite"
)

// CreateAuthorizeCodeSession implements oauth2.AuthorizeCodeStorage.
func (o *OAuth2) CreateAuthorizeCodeSession(ctx context.Context, signature string, req fosite.Requester) error {
	return o.insertToken(ctx, kindCode, signature, req, "")
}

// GetAuthorizeCodeSession implements oauth2.AuthorizeCodeStorage. A redeemed
// code comes back with fosite.ErrInvalidatedAuthorizeCode and its request,
// whose id fosite needs to revoke the tokens issued for it.
func (o *OAuth2) GetAuthorizeCodeSession(ctx context.Context, signature string, session fosite.Session) (fosite.Requester, error) {
	req, r, err := o.getToken(ctx, kindCode, signature, session)
	if err != nil {
		return nil, err
	}
	if !r.active {
		return req, fosite.ErrInvalidatedAuthorizeCode
	}
	return req, nil
}

// InvalidateAuthorizeCodeSession implements oauth2.AuthorizeCodeStorage. Only
// an active code can be invalidated: of two concurrent redemptions the second
// waits for the first's transaction and then fails, so it issues no tokens.
func (o *OAuth2) InvalidateAuthorizeCodeSession(ctx context.Context, signature string) error {
	return o.st.write(ctx, "invalidate code", fosite.ErrInvalidatedAuthorizeCode, `
		with locked as (
			select pg_advisory_xact_lock(hashtextextended('oauth subject:' || subject, 0))
			from oauth2_tokens where kind = 'code' and signature = $1
		), redeemed as (
			update oauth2_tokens set active = false
			where kind = 'code' and signature = $1 and active and exists (select from locked)
			returning 1
		)
		select 1 / count(*) from redeemed`,
		tokenKey(signature))
}

// CreatePKCERequestSession implements pkce.PKCERequestStorage.
func (o *OAuth2) CreatePKCERequestSession(ctx context.Context, signature string, req fosite.Requester) error {
	return o.insertToken(ctx, kindPKCE, signature, req, "")
}

// GetPKCERequestSession implements pkce.PKCERequestStorage.
func (o *OAuth2) GetPKCERequestSession(ctx context.Context, signature string, session fosite.Session) (fosite.Requester, error) {
	req, _, err := o.getToken(ctx, kindPKCE, signature, session)
	if err != nil {
		return nil, err
	}
	return req, nil
}

// DeletePKCERequestSession implements pkce.PKCERequestStorage.
func (o *OAuth2) DeletePKCERequestSession(ctx context.Context, signature string) error {
	return o.deleteToken(ctx, kindPKCE, signature)
}

// CreateOpenIDConnectSession implements openid.OpenIDConnectRequestStorage.
// fosite passes the raw authorization code, which is stored hashed like every
// signature.
func (o *OAuth2) CreateOpenIDConnectSession(ctx context.Context, authorizeCode string, req fosite.Requester) error {
	return o.insertToken(ctx, kindOIDC, authorizeCode, req, "")
}

// GetOpenIDConnectSession implements openid.OpenIDConnectRequestStorage; the
// stored session is unmarshalled into req's.
func (o *OAuth2) GetOpenIDConnectSession(ctx context.Context, authorizeCode string, req fosite.Requester) (fosite.Requester, error) {
	var session fosite.Session
	if req != nil {
		session = req.GetSession()
	}
	stored, _, err := o.getToken(ctx, kindOIDC, authorizeCode, session)
	if err != nil {
		return nil, err
	}
	return stored, nil
}

// DeleteOpenIDConnectSession implements openid.OpenIDConnectRequestStorage.
func (o *OAuth2) DeleteOpenIDConnectSession(ctx context.Context, authorizeCode string) error {
	return o.deleteToken(ctx, kindOIDC, authorizeCode)
}

// CreateAccessTokenSession implements oauth2.AccessTokenStorage.
func (o *OAuth2) CreateAccessTokenSession(ctx context.Context, signature string, req fosite.Requester) error {
	return o.insertToken(ctx, kindAccess, signature, req, "")
}

// GetAccessTokenSession implements oauth2.AccessTokenStorage.
func (o *OAuth2) GetAccessTokenSession(ctx context.Context, signature string, session fosite.Session) (fosite.Requester, error) {
	req, _, err := o.getToken(ctx, kindAccess, signature, session)
	if err != nil {
		return nil, err
	}
	return req, nil
}

// DeleteAccessTokenSession implements oauth2.AccessTokenStorage.
func (o *OAuth2) DeleteAccessTokenSession(ctx context.Context, signature string) error {
	return o.deleteToken(ctx, kindAccess, signature)
}

// RevokeAccessToken implements oauth2.TokenRevocationStorage: it deletes every
// access token of the grant.
func (o *OAuth2) RevokeAccessToken(ctx context.Context, requestID string) error {
	return o.revoke(ctx, kindAccess, requestID)
}

// revoke deletes the grant's tokens of kind k under the grant's lock. The
// lock and the delete are two statements: a delete whose snapshot predated
// the lock would miss a token that a rotation holding it commits meanwhile.
func (o *OAuth2) revoke(ctx context.Context, k tokenKind, requestID string) error {
	what := "revoke " + string(k) + " tokens"
	if !inTransaction(ctx) {
		return o.st.InTx(ctx, func(ctx context.Context) error { return o.revoke(ctx, k, requestID) })
	}
	if err := o.st.write(ctx, what, nil, `select pg_advisory_xact_lock(hashtextextended($1, 0))`,
		grantLockKey(requestID)); err != nil {
		return err
	}
	return o.st.write(ctx, what, nil, `delete from oauth2_tokens where kind = $1 and request_id = $2`,
		string(k), requestID)
}
