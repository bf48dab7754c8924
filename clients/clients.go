// Package clients is the domain of OAuth clients ("applications" in Auth0's
// dashboard) and of the APIs whose access tokens they ask for (audiences). It
// holds the rules a client must follow before it is stored — which redirect
// URIs, logout URLs and web origins are acceptable, which grants each type
// may use — and how client secrets are made and checked. It knows nothing of
// HTTP or SQL: it declares the Store it needs and the store package implements
// it against Postgres. Service is where administrators' changes are made —
// creating, changing and deleting applications and APIs, and granting APIs
// to machine-to-machine applications — so that the console, the admin API
// and the command line apply the same rules and write the same audit
// entries.
//
// Four types of client exist, as in Auth0:
//
//	spa     public (no secret); authorization_code + refresh_token; PKCE required
//	native  public (no secret); authorization_code + refresh_token; PKCE required;
//	        a loopback IP callback may come back on any port (RFC 8252 §7.3)
//	web     confidential (secret); authorization_code + refresh_token
//	m2m     confidential (secret); client_credentials only, no users, no redirects
//
// Every URL comparison is an exact string match: no case folding, no trailing
// slash forgiven, no wildcards. What an admin registered is what must arrive.
// The one exception is a native app's loopback callback, whose port is the
// one the app was given by its operating system when it started.
package clients

import (
	"context"
	"errors"
	"net/netip"
	"net/url"
	"slices"
	"time"
)

// Type says how a client authenticates and which grants it may use.
type Type string

const (
	SPA    Type = "spa"    // single-page app: public client, PKCE required
	Native Type = "native" // desktop or mobile app: public client, PKCE required
	Web    Type = "web"    // server-side web app: confidential client
	M2M    Type = "m2m"    // machine to machine: confidential, client_credentials only
)

// Types lists the known types in the order they are offered to an admin.
var Types = []Type{SPA, Native, Web, M2M}

// Errors the store returns. Their text is for logs; callers choose the words a
// person sees.
var (
	ErrNotFound  = errors.New("not found")
	ErrDuplicate = errors.New("already exists")
)

// PolicyPhishingResistant is the application policy that asks every login
// for a passkey (in the session, or passed now): SMS and app codes do not
// satisfy it.
const PolicyPhishingResistant = "phishing_resistant"

// Client is a registered OAuth client.
type Client struct {
	ID   string
	Name string
	Type Type
	// SecretHash is the SHA-256 of the secret, nil for a public (spa) client.
	// Secrets are 256+ bits of randomness, so a fast hash is enough: nothing
	// is gained by a slow password hash except ~200 ms per token request.
	SecretHash []byte
	Callbacks  []string // allowed redirect_uri values, exact match
	LogoutURLs []string // allowed returnTo / post_logout_redirect_uri values, exact match
	WebOrigins []string // allowed Origin values for CORS and response_mode=web_message, exact match
	// MFAPolicy overrides the tenant's MFA policy for logins to this
	// application: "never", "adaptive", "always" or
	// PolicyPhishingResistant; "" follows the tenant.
	MFAPolicy string
	// Lifetimes override the tenant's token lifetimes for this application;
	// a zero field follows the tenant.
	Lifetimes Lifetimes
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Lifetimes are the token lifetimes an application may set for itself, as
// in Auth0's application settings. Access tokens are not here: their
// lifetime belongs to the API they are for.
type Lifetimes struct {
	IDToken time.Duration // how long an ID token is valid
	// RefreshIdle ends a refresh token left unused this long (Auth0's
	// "inactivity expiration"); every rotation starts it again.
	RefreshIdle time.Duration
	// RefreshAbsolute ends a refresh token's rotation chain this long after
	// the login that started it, however often it is used.
	RefreshAbsolute time.Duration
}

// TryClientID is the built-in application behind the console's "Try your
// login box": a public client whose only callback is the console's.
const TryClientID = "gatehouse-try"

// BuiltIn reports whether Gatehouse itself manages the client, so an admin
// may look at it but neither change nor delete it.
func (c Client) BuiltIn() bool { return c.ID == TryClientID }

// Public reports whether the client has no secret and so must use PKCE.
func (c Client) Public() bool { return c.Type == SPA || c.Type == Native }

// GrantTypes lists the OAuth grant types the client may use.
func (c Client) GrantTypes() []string {
	if c.Type == M2M {
		return []string{"client_credentials"}
	}
	return []string{"authorization_code", "refresh_token"}
}

// AllowsCallback reports whether redirectURI is one of the registered
// callbacks, compared as exact strings.
func (c Client) AllowsCallback(redirectURI string) bool {
	return redirectURI != "" && slices.Contains(c.Callbacks, redirectURI)
}

// AllowsRedirect reports whether redirectURI may receive the client's
// authorization responses: one of its callbacks, compared as exact strings,
// or, for a native app only, a registered loopback IP callback on another
// port. A desktop app listens on whatever port its operating system gives it
// (RFC 8252 §7.3); for any other client another port on the user's machine is
// another program. Only the port is relaxed: scheme, IP literal, path and
// query must be as registered, and "localhost" is never relaxed (RFC 8252
// §8.3 advises the IP literal).
func (c Client) AllowsRedirect(redirectURI string) bool {
	if c.AllowsCallback(redirectURI) {
		return true
	}
	if c.Type != Native {
		return false
	}
	got, err := url.Parse(redirectURI)
	if err != nil || !isLoopbackHTTP(got) {
		return false
	}
	for _, cb := range c.Callbacks {
		reg, err := url.Parse(cb)
		if err == nil && isLoopbackHTTP(reg) && reg.Hostname() == got.Hostname() &&
			reg.EscapedPath() == got.EscapedPath() && reg.RawQuery == got.RawQuery {
			return true
		}
	}
	return false
}

// isLoopbackHTTP reports whether u is an http URL on a loopback IP literal,
// with nothing a callback must not carry.
func isLoopbackHTTP(u *url.URL) bool {
	ip, err := netip.ParseAddr(u.Hostname())
	return u.Scheme == "http" && err == nil && ip.IsLoopback() && u.User == nil && u.Fragment == "" && !u.ForceQuery
}

// AllowsOrigin reports whether origin (as a browser sends it in the Origin
// header) is one of the registered web origins. Only WebOrigins count: a
// callback's origin is not allowed implicitly, so an admin sees in one list
// every site that may call the token endpoint from a browser.
func (c Client) AllowsOrigin(origin string) bool {
	return origin != "" && slices.Contains(c.WebOrigins, origin)
}

// AllowsLogoutURL reports whether u is one of the registered logout URLs,
// compared as exact strings ("https://app/" and "https://app" differ).
func (c Client) AllowsLogoutURL(u string) bool {
	return u != "" && slices.Contains(c.LogoutURLs, u)
}

// API is a resource server that access tokens are issued for: its Identifier
// is the audience a client asks for and the aud claim of the token.
type API struct {
	ID            string // uuid, assigned by the store
	Identifier    string // the audience, e.g. https://api.example.com
	Name          string
	TokenLifetime time.Duration // how long its access tokens last
	CreatedAt     time.Time
}

// Store is the storage of clients and APIs.
type Store interface {
	// CreateClient stores a new client; ErrDuplicate when the id is taken.
	// Zero timestamps are set to the current time.
	CreateClient(ctx context.Context, c Client) error
	// ClientByID returns the client or ErrNotFound.
	ClientByID(ctx context.Context, id string) (Client, error)
	// ListClients returns every client, ordered by name.
	ListClients(ctx context.Context) ([]Client, error)
	// UpdateClient replaces every field but ID and CreatedAt and stamps
	// UpdatedAt with the current time; ErrNotFound when there is no such client.
	UpdateClient(ctx context.Context, c Client) error
	// DeleteClient removes the client or answers ErrNotFound. Tokens issued to
	// it are not deleted here: they reference the client id without a foreign key.
	DeleteClient(ctx context.Context, id string) error

	// CreateAPI stores a new API and returns it with its ID and CreatedAt;
	// ErrDuplicate when the identifier is taken.
	CreateAPI(ctx context.Context, a API) (API, error)
	// APIByIdentifier returns the API for an audience or ErrNotFound.
	APIByIdentifier(ctx context.Context, identifier string) (API, error)
	// APIByID returns the API with this ID or ErrNotFound.
	APIByID(ctx context.Context, id string) (API, error)
	// UpdateAPI changes the name and token lifetime of the API with a.ID; the
	// identifier never changes, since tokens already carry it. ErrNotFound
	// when there is no such API.
	UpdateAPI(ctx context.Context, a API) error
	// ListAPIs returns every API, ordered by identifier.
	ListAPIs(ctx context.Context) ([]API, error)
	// DeleteAPI removes the API with this identifier or answers ErrNotFound.
	DeleteAPI(ctx context.Context, identifier string) error
}
