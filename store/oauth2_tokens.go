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
	if err := lockTokenOwner(ctx, o.st, kindCode, tokenKey(signature), false); err != nil {
		return oauth2DBError("invalidate code", err)
	}
	tag, err := o.st.db(ctx).Exec(ctx, `
		update oauth2_tokens set active = false where kind = 'code' and signature = $1 and active`,
		tokenKey(signature))
	if err != nil {
		return oauth2DBError("invalidate code", err)
	}
	if tag.RowsAffected() == 0 {
		return fosite.ErrInvalidatedAuthorizeCode
	}
	return nil
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

func (o *OAuth2) revoke(ctx context.Context, k tokenKind, requestID string) error {
	return o.st.InTx(ctx, func(ctx context.Context) error {
		if err := lockGrant(ctx, o.st, requestID); err != nil {
			return oauth2DBError("revoke "+string(k)+" tokens", err)
		}
		_, err := o.st.db(ctx).Exec(ctx, `delete from oauth2_tokens where kind = $1 and request_id = $2`,
			string(k), requestID)
		if err != nil {
			return oauth2DBError("revoke "+string(k)+" tokens", err)
		}
		return nil
	})
}
