package server

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/ory/fosite"

	"github.com/gatehouse-id/gatehouse/clients"
	"github.com/gatehouse-id/gatehouse/store"
)

// scopesSupported are the scopes any client may ask for.
var scopesSupported = []string{"openid", "profile", "email", "offline_access"}

// fositeClient presents a Gatehouse client to fosite. It deliberately does
// not implement fosite.OpenIDConnectClient: that would pin one token endpoint
// auth method, while Auth0's confidential clients may send the secret in the
// body or in Basic auth.
type fositeClient struct {
	c         clients.Client
	audiences []string
	scopes    []string // scopesSupported, plus for m2m the scopes of its grants
}

func (f *fositeClient) GetID() string                      { return f.c.ID }
func (f *fositeClient) GetHashedSecret() []byte            { return f.c.SecretHash }
func (f *fositeClient) GetRedirectURIs() []string          { return f.c.Callbacks }
func (f *fositeClient) GetGrantTypes() fosite.Arguments    { return f.c.GrantTypes() }
func (f *fositeClient) GetResponseTypes() fosite.Arguments { return fosite.Arguments{"code"} }
func (f *fositeClient) GetScopes() fosite.Arguments        { return f.scopes }
func (f *fositeClient) IsPublic() bool                     { return f.c.Public() }
func (f *fositeClient) GetAudience() fosite.Arguments      { return f.audiences }

func (f *fositeClient) GetResponseModes() []fosite.ResponseModeType {
	return []fosite.ResponseModeType{fosite.ResponseModeDefault, fosite.ResponseModeQuery,
		fosite.ResponseModeFragment, fosite.ResponseModeFormPost, responseModeWebMessage}
}

// GetEffectiveLifespan applies the application's own ID token and refresh
// token lifetimes (fosite.ClientWithCustomTokenLifespans); what it does not
// set follows the tenant.
func (f *fositeClient) GetEffectiveLifespan(gt fosite.GrantType, tt fosite.TokenType, fallback time.Duration) time.Duration {
	if gt != fosite.GrantTypeAuthorizationCode && gt != fosite.GrantTypeRefreshToken {
		return fallback
	}
	var d time.Duration
	switch tt {
	case fosite.IDToken:
		d = f.c.Lifetimes.IDToken
	case fosite.RefreshToken:
		d = f.c.Lifetimes.RefreshIdle
	}
	if d <= 0 {
		return fallback
	}
	return d
}

// RefreshAbsoluteLifetime is read by the store when a login starts a refresh
// token's rotation chain.
func (f *fositeClient) RefreshAbsoluteLifetime() time.Duration { return f.c.Lifetimes.RefreshAbsolute }

var (
	_ fosite.ClientWithCustomTokenLifespans = (*fositeClient)(nil)
	_ store.ClientRefreshLifetime           = (*fositeClient)(nil)
)

// clientRegistry loads clients for fosite. Every client may request any
// registered API as its audience, as in Auth0 where user-facing apps can call
// any API of the tenant.
type clientRegistry struct {
	clients clients.Store
	grants  clients.GrantStore
	// apiScopes lets a user-facing client ask for any API's scopes, as in
	// Auth0: which of them a user's token gets is package roles' decision.
	apiScopes interface {
		AllAPIScopeValues(ctx context.Context) ([]string, error)
	}
}

func (r clientRegistry) GetClient(ctx context.Context, id string) (fosite.Client, error) {
	memo, _ := ctx.Value(clientMemoKey{}).(*clientMemo)
	if c := memo.get(id); c != nil {
		return c, nil
	}
	c, err := r.loadClient(ctx, id)
	if err == nil {
		memo.put(id, c)
	}
	return c, err
}

// clientAudiencesLoader reads a client, every API's identifier and every
// API scope in one round trip (store.Store does).
type clientAudiencesLoader interface {
	ClientAndAudiences(ctx context.Context, id string) (c clients.Client, audiences, apiScopes []string, err error)
}

func (r clientRegistry) loadClient(ctx context.Context, id string) (fosite.Client, error) {
	c, audiences, apiScopes, err := r.clientAndAudiences(ctx, id)
	if errors.Is(err, clients.ErrNotFound) {
		return nil, fosite.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("load client: %w", err)
	}
	scopes := scopesSupported
	if c.Type == clients.M2M && r.grants != nil {
		grants, err := r.grants.GrantsOf(ctx, c.ID)
		if err != nil {
			return nil, fmt.Errorf("load grants: %w", err)
		}
		scopes = slices.Clone(scopesSupported)
		for _, g := range grants {
			scopes = append(scopes, g.Scopes...)
		}
	}
	if c.Type != clients.M2M {
		scopes = append(slices.Clone(scopesSupported), apiScopes...)
	}
	return &fositeClient{c: c, audiences: audiences, scopes: scopes}, nil
}

func (r clientRegistry) clientAndAudiences(ctx context.Context, id string) (c clients.Client, audiences, apiScopes []string, err error) {
	if l, ok := r.clients.(clientAudiencesLoader); ok {
		return l.ClientAndAudiences(ctx, id)
	}
	if c, err = r.clients.ClientByID(ctx, id); err != nil {
		return c, nil, nil, err
	}
	apis, err := r.clients.ListAPIs(ctx)
	if err != nil {
		return c, nil, nil, fmt.Errorf("load apis: %w", err)
	}
	audiences = make([]string, len(apis))
	for i, a := range apis {
		audiences[i] = a.Identifier
	}
	if r.apiScopes != nil {
		if apiScopes, err = r.apiScopes.AllAPIScopeValues(ctx); err != nil {
			return c, nil, nil, fmt.Errorf("load api scopes: %w", err)
		}
	}
	return c, audiences, apiScopes, nil
}

// clientMemo keeps the clients one request has loaded. fosite asks for the
// client when it authenticates a token request and again for every stored
// code, PKCE, OpenID or refresh session it loads, two queries each time: a
// code exchange asked four times. Kept for one request only, so a client an
// admin changes or deletes is seen as such by the next request.
type clientMemo struct {
	mu      sync.Mutex
	clients map[string]fosite.Client
}

type clientMemoKey struct{}

// withClientMemo gives the request in ctx a clientMemo.
func withClientMemo(ctx context.Context) context.Context {
	return context.WithValue(ctx, clientMemoKey{}, &clientMemo{clients: map[string]fosite.Client{}})
}

func (m *clientMemo) get(id string) fosite.Client {
	if m == nil {
		return nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.clients[id]
}

func (m *clientMemo) put(id string, c fosite.Client) {
	if m == nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.clients[id] = c
}

// gatehouseClient unwraps the client fosite hands back.
func gatehouseClient(c fosite.Client) (clients.Client, bool) {
	f, ok := c.(*fositeClient)
	if !ok {
		return clients.Client{}, false
	}
	return f.c, true
}

// trustedRedirect reports whether ar's redirect URI may receive an answer,
// a code or an error. fosite's own check is not enough: it lets a loopback IP
// callback come back on any port for every client, while only a native app
// listens on a port of its operating system's choosing (RFC 8252 §7.3); for
// a browser app another port on the user's machine is another program. So the
// client's own rule, clients.Client.AllowsRedirect, decides too. An empty
// redirect_uri means fosite took the client's one registered callback.
func trustedRedirect(ar fosite.AuthorizeRequester) bool {
	if ar == nil || !ar.IsRedirectURIValid() {
		return false
	}
	c, ok := gatehouseClient(ar.GetClient())
	if !ok {
		return false
	}
	raw := ar.GetRequestForm().Get("redirect_uri")
	return raw == "" || c.AllowsRedirect(raw)
}

// errRedirectNotRegistered is fosite's answer to an unregistered redirect
// URI, for one that only fosite's loopback rule accepted.
var errRedirectNotRegistered = fosite.ErrInvalidRequest.WithHint(
	"The 'redirect_uri' parameter does not match any of the OAuth 2.0 Client's pre-registered redirect urls.")
