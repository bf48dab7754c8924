package clients_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/netip"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/account"
	"github.com/gatehouse-id/gatehouse/clients"
	"github.com/gatehouse-id/gatehouse/store"
	"github.com/gatehouse-id/gatehouse/store/storetest"
)

func TestMain(m *testing.M) { os.Exit(storetest.Main(m)) }

var (
	ctx  = context.Background()
	ann  = account.Actor{UserID: "00000000-0000-4000-8000-0000000000a1", Name: "admin:ann@example.com"}
	from = account.Meta{IP: netip.MustParseAddr("192.0.2.7"), UserAgent: "test", RequestID: "req-1"}
)

func newService(t *testing.T) (*clients.Service, *store.Store) {
	t.Helper()
	st := storetest.NewStore(t)
	return clients.NewService(clients.Deps{Registry: st, Audit: st}), st
}

// audited is one audit entry with its details decoded.
type audited struct {
	store.AuditEntry
	details map[string]any
}

// events returns the audit entries of type typ, oldest first.
func events(t *testing.T, st *store.Store, typ string) []audited {
	t.Helper()
	list, err := st.AuditEvents(ctx, store.AuditFilter{Type: typ})
	if err != nil {
		t.Fatal(err)
	}
	var out []audited
	for _, e := range slices.Backward(list) {
		if e.Type != typ {
			continue
		}
		a := audited{AuditEntry: e}
		if err := json.Unmarshal([]byte(e.Details), &a.details); err != nil {
			t.Fatalf("details of %s: %v", typ, err)
		}
		out = append(out, a)
	}
	return out
}

// onlyEvent is the one audit entry of type typ.
func onlyEvent(t *testing.T, st *store.Store, typ string) audited {
	t.Helper()
	got := events(t, st, typ)
	if len(got) != 1 {
		t.Fatalf("%d %s events, want 1", len(got), typ)
	}
	if got[0].IP != "192.0.2.7" || got[0].RequestID != "req-1" || got[0].details["by"] != ann.Name {
		t.Errorf("%s names neither the actor nor the request: %+v", typ, got[0])
	}
	return got[0]
}

func wantValidation(t *testing.T, err error, field string) {
	t.Helper()
	var ve *clients.ValidationError
	if !errors.As(err, &ve) || ve.Field != field {
		t.Fatalf("error %v, want a *ValidationError for %s", err, field)
	}
}

func TestCreateClientMakesIDsAndSecretsAndAuditsOnce(t *testing.T) {
	svc, st := newService(t)
	app, secret, err := svc.CreateClient(ctx, clients.Client{Name: "  Portal ", Type: clients.Web,
		Callbacks: []string{"https://portal.example.com/cb"}}, ann, from)
	if err != nil {
		t.Fatal(err)
	}
	stored, err := st.ClientByID(ctx, app.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(app.ID) != 32 || stored.Name != "Portal" || !stored.VerifySecret(secret) || stored.CreatedAt.IsZero() {
		t.Fatalf("stored %+v; want a 32-character id, the name trimmed, the returned secret verifying", stored)
	}
	e := onlyEvent(t, st, clients.EventClientCreated)
	if e.Subject != app.ID || e.details["client_id"] != app.ID || e.details["name"] != "Portal" || e.details["type"] != "web" {
		t.Errorf("audit %+v", e)
	}

	spa, secret, err := svc.CreateClient(ctx, clients.Client{ID: "my-spa", Name: "SPA", Type: clients.SPA,
		SecretHash: clients.HashSecret("smuggled")}, ann, from)
	if err != nil || secret != "" || spa.ID != "my-spa" || spa.SecretHash != nil {
		t.Fatalf("spa %+v, secret %q, %v; want the id asked for and no secret", spa, secret, err)
	}
	if _, _, err := svc.CreateClient(ctx, clients.Client{ID: "my-spa", Name: "Again", Type: clients.SPA}, ann, from); !errors.Is(err, clients.ErrDuplicate) {
		t.Fatalf("a taken id: %v, want ErrDuplicate", err)
	}
	_, _, err = svc.CreateClient(ctx, clients.Client{Name: "Job", Type: clients.M2M, Callbacks: []string{"https://x.example.com/cb"}}, ann, from)
	wantValidation(t, err, "callbacks")
	if got := events(t, st, clients.EventClientCreated); len(got) != 2 {
		t.Errorf("%d creations audited, want 2: refusals are not", len(got))
	}
}

func TestUpdateClientKeepsTypeAndSecretAndAuditsWhatChanged(t *testing.T) {
	svc, st := newService(t)
	app, secret, err := svc.CreateClient(ctx, clients.Client{Name: "Portal", Type: clients.Web}, ann, from)
	if err != nil {
		t.Fatal(err)
	}
	change := app
	change.Name, change.Callbacks, change.SecretHash = "Portal 2", []string{"https://portal.example.com/cb"}, nil
	got, err := svc.UpdateClient(ctx, change, ann, from)
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != "Portal 2" || !got.VerifySecret(secret) || got.Type != clients.Web {
		t.Fatalf("updated %+v; want the new name with the type and secret kept", got)
	}
	if e := onlyEvent(t, st, clients.EventClientUpdated); !slices.Equal(e.details["changed"].([]any), []any{"name", "callbacks"}) {
		t.Errorf("changed %v, want name and callbacks", e.details["changed"])
	}
	if _, err := svc.UpdateClient(ctx, got, ann, from); err != nil {
		t.Fatal(err)
	}
	if n := len(events(t, st, clients.EventClientUpdated)); n != 1 {
		t.Errorf("%d updates audited, want 1: a save that changes nothing is not", n)
	}

	tests := []struct {
		name   string
		change func(*clients.Client)
		field  string
		err    error
	}{
		{"type", func(c *clients.Client) { c.Type = clients.SPA }, "type", nil},
		{"a rule", func(c *clients.Client) { c.WebOrigins = []string{"https://portal.example.com/"} }, "web_origins", nil},
		{"unknown client", func(c *clients.Client) { c.ID = "nobody" }, "", clients.ErrNotFound},
	}
	for _, tt := range tests {
		t.Run("refuses "+tt.name, func(t *testing.T) {
			c := got
			tt.change(&c)
			_, err := svc.UpdateClient(ctx, c, ann, from)
			if tt.err != nil {
				if !errors.Is(err, tt.err) {
					t.Fatalf("%v, want %v", err, tt.err)
				}
				return
			}
			wantValidation(t, err, tt.field)
		})
	}
}

func TestBuiltInApplicationsCannotBeChanged(t *testing.T) {
	svc, st := newService(t)
	try := clients.Client{ID: clients.TryClientID, Name: "Try", Type: clients.SPA}
	if err := st.CreateClient(ctx, try); err != nil {
		t.Fatal(err)
	}
	try.Name = "Mine now"
	if _, err := svc.UpdateClient(ctx, try, ann, from); !errors.Is(err, clients.ErrBuiltIn) {
		t.Errorf("update: %v, want ErrBuiltIn", err)
	}
	if err := svc.DeleteClient(ctx, try.ID, ann, from); !errors.Is(err, clients.ErrBuiltIn) {
		t.Errorf("delete: %v, want ErrBuiltIn", err)
	}
	if _, err := st.ClientByID(ctx, try.ID); err != nil {
		t.Errorf("the built-in application is gone: %v", err)
	}
}

func TestRotateSecretAndDeleteClient(t *testing.T) {
	svc, st := newService(t)
	app, old, err := svc.CreateClient(ctx, clients.Client{Name: "Job", Type: clients.M2M}, ann, from)
	if err != nil {
		t.Fatal(err)
	}
	_, fresh, err := svc.RotateSecret(ctx, app.ID, ann, from)
	if err != nil {
		t.Fatal(err)
	}
	if stored, err := st.ClientByID(ctx, app.ID); err != nil || !stored.VerifySecret(fresh) || stored.VerifySecret(old) {
		t.Fatalf("after rotation (%v) the new secret must verify and the old one must not", err)
	}
	if e := onlyEvent(t, st, clients.EventClientSecretRotated); e.details["client_id"] != app.ID {
		t.Errorf("audit %+v", e)
	}
	spa, _, err := svc.CreateClient(ctx, clients.Client{Name: "SPA", Type: clients.SPA}, ann, from)
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = svc.RotateSecret(ctx, spa.ID, ann, from)
	wantValidation(t, err, "client_secret")

	if err := svc.DeleteClient(ctx, app.ID, ann, from); err != nil {
		t.Fatal(err)
	}
	if _, err := st.ClientByID(ctx, app.ID); !errors.Is(err, clients.ErrNotFound) {
		t.Fatalf("after delete: %v", err)
	}
	if e := onlyEvent(t, st, clients.EventClientDeleted); e.details["client_id"] != app.ID || e.details["name"] != "Job" {
		t.Errorf("audit %+v", e)
	}
	if err := svc.DeleteClient(ctx, app.ID, ann, from); !errors.Is(err, clients.ErrNotFound) {
		t.Errorf("deleting again: %v, want ErrNotFound", err)
	}
}

func TestCreateAPIStoresItsScopesInOneStep(t *testing.T) {
	svc, st := newService(t)
	scopes := []clients.Scope{{Value: "read:orders", Description: "Read"}, {Value: "write:orders"}}
	a, err := svc.CreateAPI(ctx, clients.API{Identifier: " https://orders.example.com ", Name: "Orders"}, scopes, ann, from)
	if err != nil {
		t.Fatal(err)
	}
	if a.Identifier != "https://orders.example.com" || a.TokenLifetime != clients.DefaultTokenLifetime {
		t.Fatalf("created %+v; want the identifier trimmed and the default lifetime", a)
	}
	if got, err := st.APIScopes(ctx, a.ID); err != nil || !slices.Equal(got, scopes) {
		t.Fatalf("scopes %v, %v", got, err)
	}
	e := onlyEvent(t, st, clients.EventAPICreated)
	if e.Subject != a.Identifier || e.details["identifier"] != a.Identifier || e.details["token_lifetime_seconds"] != float64(86400) {
		t.Errorf("audit %+v", e)
	}

	refusals := []struct {
		name   string
		api    clients.API
		scopes []clients.Scope
		field  string
	}{
		{"an identifier that is not a URI", clients.API{Identifier: "orders", Name: "O"}, nil, "identifier"},
		{"a scope listed twice", clients.API{Identifier: "urn:example:o", Name: "O"}, []clients.Scope{{Value: "a"}, {Value: "a"}}, "scopes"},
		{"a lifetime of seconds", clients.API{Identifier: "urn:example:o", Name: "O", TokenLifetime: time.Second}, nil, "token_lifetime"},
	}
	for _, tt := range refusals {
		t.Run("refuses "+tt.name, func(t *testing.T) {
			_, err := svc.CreateAPI(ctx, tt.api, tt.scopes, ann, from)
			wantValidation(t, err, tt.field)
			if _, err := st.APIByIdentifier(ctx, tt.api.Identifier); !errors.Is(err, clients.ErrNotFound) {
				t.Errorf("a refused API was stored: %v", err)
			}
		})
	}
	if _, err := svc.CreateAPI(ctx, clients.API{Identifier: a.Identifier, Name: "Again"}, nil, ann, from); !errors.Is(err, clients.ErrDuplicate) {
		t.Errorf("a taken identifier: %v, want ErrDuplicate", err)
	}
}

func TestUpdateAPINeverChangesItsIdentifier(t *testing.T) {
	svc, st := newService(t)
	a, err := svc.CreateAPI(ctx, clients.API{Identifier: "urn:example:orders", Name: "Orders"}, nil, ann, from)
	if err != nil {
		t.Fatal(err)
	}
	moved := a
	moved.Identifier = "urn:example:elsewhere"
	_, err = svc.UpdateAPI(ctx, moved, ann, from)
	wantValidation(t, err, "identifier")

	a.Name, a.TokenLifetime = "Orders v2", time.Hour
	if _, err := svc.UpdateAPI(ctx, a, ann, from); err != nil {
		t.Fatal(err)
	}
	if got, err := st.APIByID(ctx, a.ID); err != nil || got.Name != "Orders v2" || got.TokenLifetime != time.Hour {
		t.Fatalf("stored %+v, %v", got, err)
	}
	if e := onlyEvent(t, st, clients.EventAPIUpdated); e.details["name"] != "Orders v2" || e.details["token_lifetime_seconds"] != float64(3600) {
		t.Errorf("audit %+v", e)
	}
}

func TestSetScopesTakesRemovedScopesFromGrants(t *testing.T) {
	svc, st := newService(t)
	a, err := svc.CreateAPI(ctx, clients.API{Identifier: "urn:example:orders", Name: "Orders"},
		[]clients.Scope{{Value: "read"}, {Value: "write"}}, ann, from)
	if err != nil {
		t.Fatal(err)
	}
	job, _, err := svc.CreateClient(ctx, clients.Client{Name: "Job", Type: clients.M2M}, ann, from)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.SetGrant(ctx, job.ID, a.Identifier, []string{"read", "write"}, ann, from); err != nil {
		t.Fatal(err)
	}
	if err := svc.SetScopes(ctx, a.ID, []clients.Scope{{Value: "read"}}, ann, from); err != nil {
		t.Fatal(err)
	}
	if g, err := st.GrantFor(ctx, job.ID, a.Identifier); err != nil || !slices.Equal(g.Scopes, []string{"read"}) {
		t.Fatalf("grant %v, %v; want only the scope that is left", g.Scopes, err)
	}
	if e := onlyEvent(t, st, clients.EventAPIScopesUpdated); !slices.Equal(e.details["scopes"].([]any), []any{"read"}) {
		t.Errorf("audit %+v", e)
	}
	wantValidation(t, svc.SetScopes(ctx, a.ID, []clients.Scope{{Value: "has space"}}, ann, from), "scopes")
}

func TestDeleteAPI(t *testing.T) {
	svc, st := newService(t)
	a, err := svc.CreateAPI(ctx, clients.API{Identifier: "urn:example:orders", Name: "Orders"}, nil, ann, from)
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.DeleteAPI(ctx, a.Identifier, ann, from); err != nil {
		t.Fatal(err)
	}
	if _, err := st.APIByID(ctx, a.ID); !errors.Is(err, clients.ErrNotFound) {
		t.Fatalf("after delete: %v", err)
	}
	if e := onlyEvent(t, st, clients.EventAPIDeleted); e.details["identifier"] != a.Identifier || e.details["name"] != "Orders" {
		t.Errorf("audit %+v", e)
	}
	if err := svc.DeleteAPI(ctx, a.Identifier, ann, from); !errors.Is(err, clients.ErrNotFound) {
		t.Errorf("deleting again: %v, want ErrNotFound", err)
	}
}

// A grant is saved the same way whichever front end asks: the console sends
// ticked boxes, the admin API a JSON list, the command line a flag, and any
// of them may repeat a scope.
func TestSetGrantStoresEachScopeOnceSortedAndAuditsOneShape(t *testing.T) {
	svc, st := newService(t)
	a, err := svc.CreateAPI(ctx, clients.API{Identifier: "urn:example:orders", Name: "Orders"},
		[]clients.Scope{{Value: "read"}, {Value: "write"}, {Value: "admin"}}, ann, from)
	if err != nil {
		t.Fatal(err)
	}
	job, _, err := svc.CreateClient(ctx, clients.Client{Name: "Job", Type: clients.M2M}, ann, from)
	if err != nil {
		t.Fatal(err)
	}
	g, err := svc.SetGrant(ctx, job.ID, a.Identifier, []string{"write", "read", "write"}, ann, from)
	if err != nil {
		t.Fatal(err)
	}
	stored, err := st.GrantFor(ctx, job.ID, a.Identifier)
	if err != nil || !slices.Equal(stored.Scopes, []string{"read", "write"}) || !slices.Equal(g.Scopes, stored.Scopes) || g.Audience != a.Identifier {
		t.Fatalf("returned %+v, stored %+v, %v; want read and write once each", g, stored, err)
	}
	e := onlyEvent(t, st, clients.EventGrantUpdated)
	want := map[string]any{"by": ann.Name, "client_id": job.ID, "identifier": a.Identifier, "scopes": []any{"read", "write"}}
	if e.Subject != job.ID || len(e.details) != len(want) {
		t.Fatalf("audit %+v, want details %v", e, want)
	}
	for k, v := range want {
		if vs, ok := v.([]any); ok {
			if got, _ := e.details[k].([]any); !slices.Equal(got, vs) {
				t.Errorf("details.%s = %v, want %v", k, e.details[k], v)
			}
		} else if e.details[k] != v {
			t.Errorf("details.%s = %v, want %v", k, e.details[k], v)
		}
	}

	if g, err := svc.SetGrant(ctx, job.ID, a.Identifier, nil, ann, from); err != nil || len(g.Scopes) != 0 {
		t.Fatalf("a grant of no scopes: %+v, %v", g, err)
	}

	spa, _, err := svc.CreateClient(ctx, clients.Client{Name: "SPA", Type: clients.SPA}, ann, from)
	if err != nil {
		t.Fatal(err)
	}
	refusals := []struct {
		name, client, audience string
		scopes                 []string
		field                  string
	}{
		{"a scope the API lacks", job.ID, a.Identifier, []string{"read", "delete"}, "scopes"},
		{"an application that is not m2m", spa.ID, a.Identifier, []string{"read"}, "client_id"},
		{"an unknown application", "nobody", a.Identifier, []string{"read"}, "client_id"},
		{"an unknown API", job.ID, "urn:example:nothing", []string{"read"}, "audience"},
	}
	for _, tt := range refusals {
		t.Run("refuses "+tt.name, func(t *testing.T) {
			_, err := svc.SetGrant(ctx, tt.client, tt.audience, tt.scopes, ann, from)
			wantValidation(t, err, tt.field)
		})
	}
	if n := len(events(t, st, clients.EventGrantUpdated)); n != 2 {
		t.Errorf("%d grants audited, want 2: refusals are not", n)
	}
}

func TestDeleteGrant(t *testing.T) {
	svc, st := newService(t)
	a, err := svc.CreateAPI(ctx, clients.API{Identifier: "urn:example:orders", Name: "Orders"}, []clients.Scope{{Value: "read"}}, ann, from)
	if err != nil {
		t.Fatal(err)
	}
	job, _, err := svc.CreateClient(ctx, clients.Client{Name: "Job", Type: clients.M2M}, ann, from)
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.DeleteGrant(ctx, job.ID, a.Identifier, ann, from); !errors.Is(err, clients.ErrNotFound) {
		t.Fatalf("no grant yet: %v, want ErrNotFound", err)
	}
	if _, err := svc.SetGrant(ctx, job.ID, a.Identifier, []string{"read"}, ann, from); err != nil {
		t.Fatal(err)
	}
	if err := svc.DeleteGrant(ctx, job.ID, a.Identifier, ann, from); err != nil {
		t.Fatal(err)
	}
	if _, err := st.GrantFor(ctx, job.ID, a.Identifier); !errors.Is(err, clients.ErrNotFound) {
		t.Fatalf("after delete: %v", err)
	}
	if e := onlyEvent(t, st, clients.EventGrantDeleted); e.Subject != job.ID || e.details["client_id"] != job.ID || e.details["identifier"] != a.Identifier {
		t.Errorf("audit %+v", e)
	}
	wantValidation(t, svc.DeleteGrant(ctx, job.ID, "urn:example:nothing", ann, from), "audience")
}
