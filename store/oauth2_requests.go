package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/ory/fosite"
)

// tokenKind is the kind column of oauth2_tokens.
type tokenKind string

const (
	kindCode    tokenKind = "code"
	kindPKCE    tokenKind = "pkce"
	kindOIDC    tokenKind = "oidc"
	kindAccess  tokenKind = "access"
	kindRefresh tokenKind = "refresh"
)

// tokenType is the session expiry that becomes the row's expires_at.
func (k tokenKind) tokenType() fosite.TokenType {
	switch k {
	case kindAccess:
		return fosite.AccessToken
	case kindRefresh:
		return fosite.RefreshToken
	default:
		return fosite.AuthorizeCode
	}
}

// tokenKey is what the signature column holds: the hex SHA-256 of the
// signature (or raw code) fosite passes.
func tokenKey(signature string) string {
	sum := sha256.Sum256([]byte(signature))
	return hex.EncodeToString(sum[:])
}

// requestRow is a fosite request as oauth2_tokens stores it.
type requestRow struct {
	requestID         string
	requestedAt       time.Time
	clientID          string
	subject           string
	requestedScope    []string
	grantedScope      []string
	requestedAudience []string
	grantedAudience   []string
	form              string
	session           []byte
	expiresAt         *time.Time

	// read back only
	active          bool
	firstUsedAt     *time.Time
	familyExpiresAt *time.Time
}

func newRequestRow(k tokenKind, req fosite.Requester) (requestRow, error) {
	r := requestRow{
		requestID:         req.GetID(),
		requestedAt:       req.GetRequestedAt(),
		requestedScope:    argumentsOrEmpty(req.GetRequestedScopes()),
		grantedScope:      argumentsOrEmpty(req.GetGrantedScopes()),
		requestedAudience: argumentsOrEmpty(req.GetRequestedAudience()),
		grantedAudience:   argumentsOrEmpty(req.GetGrantedAudience()),
		form:              req.GetRequestForm().Encode(),
	}
	if c := req.GetClient(); c != nil {
		r.clientID = c.GetID()
	}
	if r.clientID == "" {
		return r, errors.New("request has no client")
	}
	sess := req.GetSession()
	if sess != nil {
		r.subject = sess.GetSubject()
		if exp := sess.GetExpiresAt(k.tokenType()); !exp.IsZero() {
			r.expiresAt = &exp
		}
	}
	var err error
	if r.session, err = json.Marshal(sess); err != nil {
		return r, fmt.Errorf("marshal session: %w", err)
	}
	return r, nil
}

func argumentsOrEmpty(a fosite.Arguments) []string {
	if a == nil {
		return []string{}
	}
	return a
}

// insertToken stores req under signature. For a refresh token it also records
// the access token issued with it and inherits the end of the rotation chain
// from the grant's other refresh tokens, if any. Every token of a chain
// carries the same end (the first sets it, the others copy it and nothing
// changes it), so any one of them will do: reading one rather than the
// minimum of all keeps a rotation from costing more the longer the chain,
// which keeps every rotated token until the janitor removes the chain.
func (o *OAuth2) insertToken(ctx context.Context, k tokenKind, signature string, req fosite.Requester, accessSignature string) error {
	r, err := newRequestRow(k, req)
	if err != nil {
		return fmt.Errorf("store %s: %w", k, err)
	}
	args := []any{string(k), tokenKey(signature), r.requestID, r.requestedAt, r.clientID, r.subject,
		r.requestedScope, r.grantedScope, r.requestedAudience, r.grantedAudience, r.form, r.session, r.expiresAt}
	sql := `
		insert into oauth2_tokens (kind, signature, request_id, requested_at, client_id, subject,
			requested_scope, granted_scope, requested_audience, granted_audience, form_data, session_data, expires_at)
		values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`
	if k == kindRefresh {
		var atKey *string
		if accessSignature != "" {
			key := tokenKey(accessSignature)
			atKey = &key
		}
		args = append(args, atKey, o.now().Add(o.absoluteLifetime(req.GetClient())))
		// Any token of the chain will do. The one this transaction rotated is
		// found by its key; another through the grant's index entries, which
		// are as many as tokens the grant ever had until the janitor runs.
		family := `select family_expires_at from oauth2_tokens where kind = 'refresh' and request_id = $3 limit 1`
		if rotated, ok := rotatedIn(ctx, r.requestID); ok {
			args = append(args, rotated)
			family = `select family_expires_at from oauth2_tokens where kind = 'refresh' and signature = $16`
		}
		sql = `
		insert into oauth2_tokens (kind, signature, request_id, requested_at, client_id, subject,
			requested_scope, granted_scope, requested_audience, granted_audience, form_data, session_data, expires_at,
			access_token_signature, family_expires_at)
		values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, coalesce((` + family + `), $15))`
	}
	if deferWrite(ctx, sql, args...) {
		return nil
	}
	return o.st.write(ctx, "store "+string(k), nil, sql, args...)
}

// ClientRefreshLifetime is a client that sets its own absolute refresh token
// lifetime; zero follows OAuth2Config.
type ClientRefreshLifetime interface {
	RefreshAbsoluteLifetime() time.Duration
}

// absoluteLifetime is how long a rotation chain the client starts may last.
func (o *OAuth2) absoluteLifetime(c fosite.Client) time.Duration {
	if l, ok := c.(ClientRefreshLifetime); ok && l.RefreshAbsoluteLifetime() > 0 {
		return l.RefreshAbsoluteLifetime()
	}
	return o.cfg.RefreshAbsoluteLifetime
}

// selectToken loads the row stored under signature; fosite.ErrNotFound if
// there is none.
func (o *OAuth2) selectToken(ctx context.Context, k tokenKind, signature string) (requestRow, error) {
	key := tokenKey(signature)
	if r, err, ok := prefetchOf(ctx).take(k, key); ok {
		return r, err
	}
	r, err := scanRequestRow(o.st.db(ctx).QueryRow(ctx, selectTokenSQL, string(k), key))
	if errors.Is(err, pgx.ErrNoRows) {
		return r, fosite.ErrNotFound
	}
	if err != nil {
		return r, oauth2DBError("load "+string(k), err)
	}
	return r, nil
}

const selectTokenSQL = `
	select request_id, requested_at, client_id, subject, requested_scope, granted_scope,
		requested_audience, granted_audience, form_data, session_data, expires_at,
		active, first_used_at, family_expires_at
	from oauth2_tokens where kind = $1 and signature = $2`

func scanRequestRow(row pgx.Row) (requestRow, error) {
	var r requestRow
	err := row.Scan(&r.requestID, &r.requestedAt, &r.clientID, &r.subject, &r.requestedScope, &r.grantedScope,
		&r.requestedAudience, &r.grantedAudience, &r.form, &r.session, &r.expiresAt,
		&r.active, &r.firstUsedAt, &r.familyExpiresAt)
	return r, err
}

// request rebuilds the fosite request, unmarshalling the stored session into
// session, the prototype fosite passes (nil: leave the session out). A client
// that no longer exists makes the request fosite.ErrNotFound.
func (o *OAuth2) request(ctx context.Context, r requestRow, session fosite.Session) (*fosite.Request, error) {
	client, err := o.clients.GetClient(ctx, r.clientID)
	if err != nil {
		return nil, fmt.Errorf("client %q of stored request: %w", r.clientID, err)
	}
	form, err := url.ParseQuery(r.form)
	if err != nil {
		return nil, fmt.Errorf("stored request form: %w", err)
	}
	if session != nil {
		if err := json.Unmarshal(r.session, session); err != nil {
			return nil, fmt.Errorf("stored session: %w", err)
		}
	}
	return &fosite.Request{
		ID:                r.requestID,
		RequestedAt:       r.requestedAt.UTC(),
		Client:            client,
		RequestedScope:    r.requestedScope,
		GrantedScope:      r.grantedScope,
		RequestedAudience: r.requestedAudience,
		GrantedAudience:   r.grantedAudience,
		Form:              form,
		Session:           session,
	}, nil
}

// getToken is selectToken followed by request.
func (o *OAuth2) getToken(ctx context.Context, k tokenKind, signature string, session fosite.Session) (*fosite.Request, requestRow, error) {
	r, err := o.selectToken(ctx, k, signature)
	if err != nil {
		return nil, r, err
	}
	req, err := o.request(ctx, r, session)
	return req, r, err
}

// deleteToken removes the row stored under signature; deleting what is not
// there is not an error, so a retried or concurrent delete succeeds.
func (o *OAuth2) deleteToken(ctx context.Context, k tokenKind, signature string) error {
	return o.st.write(ctx, "delete "+string(k), nil, `delete from oauth2_tokens where kind = $1 and signature = $2`,
		string(k), tokenKey(signature))
}
