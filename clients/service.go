package clients

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/gatehouse-id/gatehouse/account"
)

// Audit event types of administrators' changes to applications, APIs and
// grants. Every front end (the console, the admin API, the command line)
// records the same shape: Subject is the client id or the API's identifier,
// and details carry by (who acted), client_id or identifier, and what
// changed.
const (
	EventClientCreated       = "admin.client_created"
	EventClientUpdated       = "admin.client_updated" // details.changed names the settings
	EventClientSecretRotated = "admin.client_secret_rotated"
	EventClientDeleted       = "admin.client_deleted"
	EventAPICreated          = "admin.api_created"
	EventAPIUpdated          = "admin.api_updated"
	EventAPIScopesUpdated    = "admin.api_scopes_updated"
	EventAPIDeleted          = "admin.api_deleted"
	EventGrantUpdated        = "admin.grant_updated"
	EventGrantDeleted        = "admin.grant_deleted"
)

// DefaultTokenLifetime is how long an API's access tokens last when its
// creator says nothing: a day, as in Auth0.
const DefaultTokenLifetime = 24 * time.Hour

// ErrBuiltIn refuses a change to an application Gatehouse manages itself.
var ErrBuiltIn = errors.New("Gatehouse manages this application itself")

// Registry is the storage the Service changes: clients, APIs, their scopes
// and grants, and a transaction that the other methods called with its ctx
// join. Package store implements it.
type Registry interface {
	Store
	GrantStore
	InTx(ctx context.Context, fn func(ctx context.Context) error) error
}

// AuditLog stores the Service's events.
type AuditLog interface {
	Record(ctx context.Context, e account.Event) error
}

// Service carries out administrators' changes to applications, APIs and
// grants: it reads nothing from a form, a JSON body or a flag, so that the
// console, the admin API and the command line apply one set of rules and
// leave one audit trail. It is safe for concurrent use.
type Service struct {
	reg   Registry
	audit AuditLog
	now   func() time.Time
	log   *slog.Logger
}

// Deps are the Service's collaborators. Now defaults to time.Now and Log to
// a logger that discards.
type Deps struct {
	Registry Registry
	Audit    AuditLog
	Now      func() time.Time
	Log      *slog.Logger
}

func NewService(d Deps) *Service {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	return &Service{reg: d.Registry, audit: d.Audit, now: d.Now, log: d.Log}
}

// CreateClient registers an application. An empty ID gets a fresh random
// one; a web or m2m application gets a fresh secret, returned in the clear
// this once (whatever SecretHash c carries is replaced). The name is
// trimmed, and the client is validated before anything is stored: the error
// is a *ValidationError, ErrDuplicate when the id is taken, or a storage
// error. It returns the client as stored.
func (s *Service) CreateClient(ctx context.Context, c Client, by account.Actor, m account.Meta) (Client, string, error) {
	if c.ID == "" {
		c.ID = NewClientID()
	}
	c.Name = strings.TrimSpace(c.Name)
	c.SecretHash = nil
	var secret string
	if c.Type == Web || c.Type == M2M {
		secret, c.SecretHash = NewSecret()
	}
	if err := c.Validate(); err != nil {
		return Client{}, "", err
	}
	if err := s.reg.CreateClient(ctx, c); err != nil {
		return Client{}, "", fmt.Errorf("create client %s: %w", c.ID, err)
	}
	s.record(ctx, account.Event{Type: EventClientCreated, Subject: c.ID, Details: map[string]any{
		"by": by.Name, "client_id": c.ID, "name": c.Name, "type": string(c.Type)}}, m)
	stored, err := s.reg.ClientByID(ctx, c.ID)
	if err != nil {
		return Client{}, "", fmt.Errorf("read created client %s: %w", c.ID, err)
	}
	return stored, secret, nil
}

// UpdateClient saves the settings of the application c.ID. Its type, secret
// and creation time stay as stored: the type decides how the application
// authenticates, and a secret changes only by RotateSecret. A built-in
// application is refused with ErrBuiltIn, an unknown one with ErrNotFound,
// a type change or a broken rule with a *ValidationError. A save that
// changes nothing is not audited.
func (s *Service) UpdateClient(ctx context.Context, c Client, by account.Actor, m account.Meta) (Client, error) {
	before, err := s.changeable(ctx, c.ID)
	if err != nil {
		return Client{}, err
	}
	if c.Type != "" && c.Type != before.Type {
		return Client{}, &ValidationError{"type", "the type of an application cannot change; create another"}
	}
	c.Name = strings.TrimSpace(c.Name)
	c.Type, c.SecretHash, c.CreatedAt = before.Type, before.SecretHash, before.CreatedAt
	if err := c.Validate(); err != nil {
		return Client{}, err
	}
	if err := s.reg.UpdateClient(ctx, c); err != nil {
		return Client{}, fmt.Errorf("update client %s: %w", c.ID, err)
	}
	if changed := changedFields(before, c); len(changed) > 0 {
		s.record(ctx, account.Event{Type: EventClientUpdated, Subject: c.ID, Details: map[string]any{
			"by": by.Name, "client_id": c.ID, "changed": changed}}, m)
	}
	stored, err := s.reg.ClientByID(ctx, c.ID)
	if err != nil {
		return Client{}, fmt.Errorf("read updated client %s: %w", c.ID, err)
	}
	return stored, nil
}

// changedFields names the settings an update changed, for the audit log.
func changedFields(a, b Client) []string {
	var changed []string
	add := func(name string, differ bool) {
		if differ {
			changed = append(changed, name)
		}
	}
	add("name", a.Name != b.Name)
	add("callbacks", !slices.Equal(a.Callbacks, b.Callbacks))
	add("logout_urls", !slices.Equal(a.LogoutURLs, b.LogoutURLs))
	add("web_origins", !slices.Equal(a.WebOrigins, b.WebOrigins))
	add("mfa_policy", a.MFAPolicy != b.MFAPolicy)
	add("lifetimes", a.Lifetimes != b.Lifetimes)
	return changed
}

// RotateSecret gives a web or m2m application a new secret and returns it in
// the clear, once; the old one stops working at once. A public application
// has none to rotate (a *ValidationError).
func (s *Service) RotateSecret(ctx context.Context, id string, by account.Actor, m account.Meta) (Client, string, error) {
	c, err := s.changeable(ctx, id)
	if err != nil {
		return Client{}, "", err
	}
	secret, err := c.RotateSecret()
	if err != nil {
		return Client{}, "", err
	}
	if err := s.reg.UpdateClient(ctx, c); err != nil {
		return Client{}, "", fmt.Errorf("rotate secret of client %s: %w", c.ID, err)
	}
	s.record(ctx, account.Event{Type: EventClientSecretRotated, Subject: c.ID, Details: map[string]any{
		"by": by.Name, "client_id": c.ID}}, m)
	return c, secret, nil
}

// DeleteClient deletes an application with every code and token issued to
// it.
func (s *Service) DeleteClient(ctx context.Context, id string, by account.Actor, m account.Meta) error {
	c, err := s.changeable(ctx, id)
	if err != nil {
		return err
	}
	if err := s.reg.DeleteClient(ctx, c.ID); err != nil && !errors.Is(err, ErrNotFound) {
		return fmt.Errorf("delete client %s: %w", c.ID, err)
	}
	s.record(ctx, account.Event{Type: EventClientDeleted, Subject: c.ID, Details: map[string]any{
		"by": by.Name, "client_id": c.ID, "name": c.Name}}, m)
	return nil
}

// changeable loads the application an admin means to change: ErrNotFound
// when there is none, ErrBuiltIn when Gatehouse manages it.
func (s *Service) changeable(ctx context.Context, id string) (Client, error) {
	c, err := s.reg.ClientByID(ctx, id)
	if err != nil {
		return Client{}, fmt.Errorf("load client %s: %w", id, err)
	}
	if c.BuiltIn() {
		return Client{}, ErrBuiltIn
	}
	return c, nil
}

// CreateAPI registers an API with its scopes, in one transaction. A zero
// TokenLifetime is DefaultTokenLifetime; the identifier must be an absolute
// URI (API.ValidateNew). The error is a *ValidationError, ErrDuplicate when
// the identifier is taken, or a storage error.
func (s *Service) CreateAPI(ctx context.Context, a API, scopes []Scope, by account.Actor, m account.Meta) (API, error) {
	a.Identifier, a.Name = strings.TrimSpace(a.Identifier), strings.TrimSpace(a.Name)
	if a.TokenLifetime == 0 {
		a.TokenLifetime = DefaultTokenLifetime
	}
	if err := a.ValidateNew(); err != nil {
		return API{}, err
	}
	if err := ValidateScopes(scopes); err != nil {
		return API{}, err
	}
	var created API
	err := s.reg.InTx(ctx, func(ctx context.Context) error {
		var err error
		if created, err = s.reg.CreateAPI(ctx, a); err != nil || len(scopes) == 0 {
			return err
		}
		return s.reg.SetAPIScopes(ctx, created.ID, scopes)
	})
	if err != nil {
		return API{}, fmt.Errorf("create api %s: %w", a.Identifier, err)
	}
	s.record(ctx, account.Event{Type: EventAPICreated, Subject: created.Identifier, Details: map[string]any{
		"by": by.Name, "identifier": created.Identifier, "name": created.Name,
		"token_lifetime_seconds": int64(created.TokenLifetime / time.Second), "scopes": scopeValues(scopes)}}, m)
	return created, nil
}

// UpdateAPI saves the name and token lifetime of the API a.ID. Its
// identifier never changes, since tokens already issued carry it: an
// identifier other than the stored one is a *ValidationError, an empty one
// keeps it.
func (s *Service) UpdateAPI(ctx context.Context, a API, by account.Actor, m account.Meta) (API, error) {
	before, err := s.reg.APIByID(ctx, a.ID)
	if err != nil {
		return API{}, fmt.Errorf("load api %s: %w", a.ID, err)
	}
	if a.Identifier != "" && a.Identifier != before.Identifier {
		return API{}, &ValidationError{"identifier", "an API's identifier cannot change: tokens carry it as their audience; create another API"}
	}
	a.Identifier, a.CreatedAt, a.Name = before.Identifier, before.CreatedAt, strings.TrimSpace(a.Name)
	if err := a.Validate(); err != nil {
		return API{}, err
	}
	if err := s.reg.UpdateAPI(ctx, a); err != nil {
		return API{}, fmt.Errorf("update api %s: %w", a.Identifier, err)
	}
	s.record(ctx, account.Event{Type: EventAPIUpdated, Subject: a.Identifier, Details: map[string]any{
		"by": by.Name, "identifier": a.Identifier, "name": a.Name,
		"token_lifetime_seconds": int64(a.TokenLifetime / time.Second)}}, m)
	return a, nil
}

// SetScopes replaces the scopes of the API with this id; grants lose the
// scopes that are gone.
func (s *Service) SetScopes(ctx context.Context, apiID string, scopes []Scope, by account.Actor, m account.Meta) error {
	a, err := s.reg.APIByID(ctx, apiID)
	if err != nil {
		return fmt.Errorf("load api %s: %w", apiID, err)
	}
	if err := ValidateScopes(scopes); err != nil {
		return err
	}
	if err := s.reg.SetAPIScopes(ctx, a.ID, scopes); err != nil {
		return fmt.Errorf("set scopes of api %s: %w", a.Identifier, err)
	}
	s.record(ctx, account.Event{Type: EventAPIScopesUpdated, Subject: a.Identifier, Details: map[string]any{
		"by": by.Name, "identifier": a.Identifier, "scopes": scopeValues(scopes)}}, m)
	return nil
}

// DeleteAPI deletes the API with this identifier, and its grants. Tokens
// already issued for it keep working until they expire: they are signed,
// and the API checks them itself.
func (s *Service) DeleteAPI(ctx context.Context, identifier string, by account.Actor, m account.Meta) error {
	a, err := s.reg.APIByIdentifier(ctx, identifier)
	if err != nil {
		return fmt.Errorf("load api %s: %w", identifier, err)
	}
	if err := s.reg.DeleteAPI(ctx, a.Identifier); err != nil && !errors.Is(err, ErrNotFound) {
		return fmt.Errorf("delete api %s: %w", a.Identifier, err)
	}
	s.record(ctx, account.Event{Type: EventAPIDeleted, Subject: a.Identifier, Details: map[string]any{
		"by": by.Name, "identifier": a.Identifier, "name": a.Name}}, m)
	return nil
}

// SetGrant lets the machine-to-machine application clientID ask for the
// access tokens of the API audience with scopes, replacing an earlier grant
// for that API. The scopes are stored sorted, each once, and must all be
// the API's. An unknown application or API, a client that is not m2m or a
// scope the API lacks is a *ValidationError (fields client_id, audience,
// scopes).
func (s *Service) SetGrant(ctx context.Context, clientID, audience string, scopes []string, by account.Actor, m account.Meta) (Grant, error) {
	c, a, err := s.grantParties(ctx, clientID, audience)
	if err != nil {
		return Grant{}, err
	}
	defined, err := s.reg.APIScopes(ctx, a.ID)
	if err != nil {
		return Grant{}, fmt.Errorf("scopes of api %s: %w", a.Identifier, err)
	}
	g := Grant{ClientID: c.ID, APIID: a.ID, Audience: a.Identifier,
		Scopes: slices.Compact(slices.Sorted(slices.Values(scopes)))}
	if g.Scopes == nil {
		g.Scopes = []string{}
	}
	if err := ValidateGrant(c, defined, g.Scopes); err != nil {
		return Grant{}, err
	}
	if err := s.reg.SetGrant(ctx, g); err != nil {
		return Grant{}, fmt.Errorf("grant %s to %s: %w", a.Identifier, c.ID, err)
	}
	s.record(ctx, account.Event{Type: EventGrantUpdated, Subject: c.ID, Details: map[string]any{
		"by": by.Name, "client_id": c.ID, "identifier": a.Identifier, "scopes": g.Scopes}}, m)
	return g, nil
}

// DeleteGrant takes the API audience away from the application clientID at
// once; ErrNotFound when it had no grant for it, a *ValidationError when
// either is unknown.
func (s *Service) DeleteGrant(ctx context.Context, clientID, audience string, by account.Actor, m account.Meta) error {
	c, a, err := s.grantParties(ctx, clientID, audience)
	if err != nil {
		return err
	}
	if err := s.reg.DeleteGrant(ctx, c.ID, a.ID); err != nil {
		return fmt.Errorf("delete grant of %s to %s: %w", a.Identifier, c.ID, err)
	}
	s.record(ctx, account.Event{Type: EventGrantDeleted, Subject: c.ID, Details: map[string]any{
		"by": by.Name, "client_id": c.ID, "identifier": a.Identifier}}, m)
	return nil
}

// grantParties loads the application and the API a grant is between.
func (s *Service) grantParties(ctx context.Context, clientID, audience string) (Client, API, error) {
	c, err := s.reg.ClientByID(ctx, clientID)
	if errors.Is(err, ErrNotFound) {
		return Client{}, API{}, &ValidationError{"client_id", fmt.Sprintf("no application has the client id %q", clientID)}
	}
	if err != nil {
		return Client{}, API{}, fmt.Errorf("load client %s: %w", clientID, err)
	}
	a, err := s.reg.APIByIdentifier(ctx, audience)
	if errors.Is(err, ErrNotFound) {
		return Client{}, API{}, &ValidationError{"audience", fmt.Sprintf("no API has the identifier %q", audience)}
	}
	if err != nil {
		return Client{}, API{}, fmt.Errorf("load api %s: %w", audience, err)
	}
	return c, a, nil
}

func scopeValues(scopes []Scope) []string {
	values := make([]string, len(scopes))
	for i, sc := range scopes {
		values[i] = sc.Value
	}
	return values
}

// record writes e to the audit log. The change has happened by now, so a
// failed write is logged, not returned.
func (s *Service) record(ctx context.Context, e account.Event, m account.Meta) {
	e.At = s.now()
	e.IP, e.UserAgent, e.RequestID = m.IP, m.UserAgent, m.RequestID
	if err := s.audit.Record(context.WithoutCancel(ctx), e); err != nil {
		s.log.ErrorContext(ctx, "audit log write failed", "event", e.Type, "err", err)
	}
}
