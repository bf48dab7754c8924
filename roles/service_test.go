package roles_test

import (
	"context"
	"errors"
	"net/netip"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/account"
	"github.com/gatehouse-id/gatehouse/clients"
	"github.com/gatehouse-id/gatehouse/roles"
	"github.com/gatehouse-id/gatehouse/store"
	"github.com/gatehouse-id/gatehouse/store/storetest"
)

func TestMain(m *testing.M) { os.Exit(storetest.Main(m)) }

var (
	ctx  = context.Background()
	ann  = account.Actor{Name: "admin:ann@example.com"}
	from = account.Meta{IP: netip.MustParseAddr("192.0.2.7"), RequestID: "req-1"}
)

type world struct {
	svc      *roles.Service
	st       *store.Store
	messages clients.API
	billing  clients.API
	user     account.User
}

func newWorld(t *testing.T) world {
	t.Helper()
	st := storetest.NewStore(t)
	cs := clients.NewService(clients.Deps{Registry: st, Audit: st})
	messages, err := cs.CreateAPI(ctx, clients.API{Identifier: "https://messages.example", Name: "Messages"},
		[]clients.Scope{{Value: "read:messages"}, {Value: "write:messages"}}, ann, from)
	if err != nil {
		t.Fatal(err)
	}
	billing, err := cs.CreateAPI(ctx, clients.API{Identifier: "https://billing.example", Name: "Billing"},
		[]clients.Scope{{Value: "read:invoices"}}, ann, from)
	if err != nil {
		t.Fatal(err)
	}
	u, err := st.CreateUser(ctx, account.NewUser{Email: "bob@example.com", CreatedAt: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	return world{roles.NewService(roles.Deps{Store: st, APIs: st, Audit: st}), st, messages, billing, u}
}

func (w world) role(t *testing.T, name string, perms ...roles.Permission) roles.Role {
	t.Helper()
	r, err := w.svc.CreateRole(ctx, roles.Role{Name: name}, ann, from)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.svc.SetPermissions(ctx, r.ID, perms, ann, from); err != nil {
		t.Fatal(err)
	}
	return r
}

func TestAUsersTokenCarriesThePermissionsOfItsAPIOnly(t *testing.T) {
	w := newWorld(t)
	r := w.role(t, "reader", roles.Permission{Audience: w.messages.Identifier, Value: "read:messages"},
		roles.Permission{Audience: w.billing.Identifier, Value: "read:invoices"})
	if err := w.svc.AddUserRoles(ctx, w.user.ID, []string{r.ID}, ann, from); err != nil {
		t.Fatal(err)
	}
	if _, applies, err := w.svc.ForUserToken(ctx, w.user.ID, []string{w.messages.Identifier}, []string{"read:messages"}); err != nil || applies {
		t.Fatalf("before RBAC is on: applies=%v %v, want the token as before", applies, err)
	}
	if err := w.svc.SetAPISettings(ctx, roles.Settings{APIID: w.messages.ID, Enforce: true, TokenPermissions: true}, ann, from); err != nil {
		t.Fatal(err)
	}
	d, applies, err := w.svc.ForUserToken(ctx, w.user.ID, []string{w.messages.Identifier}, []string{"read:messages", "write:messages", "read:invoices"})
	if err != nil || !applies {
		t.Fatalf("applies=%v %v", applies, err)
	}
	if !slices.Equal(d.Scopes, []string{"read:messages"}) || !slices.Equal(d.Permissions, []string{"read:messages"}) {
		t.Fatalf("decision %+v: want read:messages only, never billing's read:invoices", d)
	}
	if _, _, err := w.svc.ForUserToken(ctx, w.user.ID, []string{w.messages.Identifier, w.billing.Identifier}, nil); !errors.Is(err, roles.ErrOneAPI) {
		t.Fatalf("a token for both APIs: %v, want ErrOneAPI", err)
	}
}

func TestPermissionsMustBeScopesOfTheirAPI(t *testing.T) {
	w := newWorld(t)
	r, err := w.svc.CreateRole(ctx, roles.Role{Name: "x"}, ann, from)
	if err != nil {
		t.Fatal(err)
	}
	for name, p := range map[string]roles.Permission{
		"a scope of another API":   {Audience: w.messages.Identifier, Value: "read:invoices"},
		"an API that is not there": {Audience: "https://nowhere.example", Value: "read:messages"},
	} {
		var ve *roles.ValidationError
		if _, err := w.svc.SetPermissions(ctx, r.ID, []roles.Permission{p}, ann, from); !errors.As(err, &ve) {
			t.Errorf("%s: %v, want a ValidationError", name, err)
		}
	}
}

func TestARoleDeletedSinceTheFormWasShownIsNotGiven(t *testing.T) {
	w := newWorld(t)
	keep := w.role(t, "keep")
	gone := w.role(t, "gone", roles.Permission{Audience: w.messages.Identifier, Value: "write:messages"})
	if err := w.svc.DeleteRole(ctx, gone.ID, ann, from); err != nil {
		t.Fatal(err)
	}
	var ve *roles.ValidationError
	if err := w.svc.AddUserRoles(ctx, w.user.ID, []string{keep.ID, gone.ID}, ann, from); !errors.As(err, &ve) {
		t.Fatalf("giving a deleted role: %v, want a ValidationError", err)
	}
	if held, _ := w.svc.UserRoles(ctx, w.user.ID); len(held) != 0 {
		t.Fatalf("the user holds %+v; a refused request must give nothing", held)
	}
}

func TestPermissionsInTheTokenNeedRBACOn(t *testing.T) {
	w := newWorld(t)
	var ve *roles.ValidationError
	if err := w.svc.SetAPISettings(ctx, roles.Settings{APIID: w.messages.ID, TokenPermissions: true}, ann, from); !errors.As(err, &ve) {
		t.Fatalf("permissions without enforcement: %v, want a ValidationError", err)
	}
}

func TestEveryChangeIsAuditedInOneShape(t *testing.T) {
	w := newWorld(t)
	r := w.role(t, "auditor", roles.Permission{Audience: w.messages.Identifier, Value: "read:messages"})
	if err := w.svc.AddUserRoles(ctx, w.user.ID, []string{r.ID}, ann, from); err != nil {
		t.Fatal(err)
	}
	if err := w.svc.RemoveUserRoles(ctx, w.user.ID, []string{r.ID}, ann, from); err != nil {
		t.Fatal(err)
	}
	if err := w.svc.DeleteRole(ctx, r.ID, ann, from); err != nil {
		t.Fatal(err)
	}
	for _, typ := range []string{roles.EventRoleCreated, roles.EventRolePermissionsUpdated, roles.EventUserRolesAdded, roles.EventUserRolesRemoved, roles.EventRoleDeleted} {
		list, err := w.st.AuditEvents(ctx, store.AuditFilter{Type: typ})
		if err != nil {
			t.Fatal(err)
		}
		if len(list) != 1 {
			t.Fatalf("%s: %d entries, want 1", typ, len(list))
		}
		if !contains(list[0].Details, `"by": "admin:ann@example.com"`) && !contains(list[0].Details, `"by":"admin:ann@example.com"`) {
			t.Errorf("%s details %s do not name who acted", typ, list[0].Details)
		}
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }

// An API that takes machines' tokens only (Gatehouse's own admin and
// Management APIs) never reaches a person through a role: no role holds its
// scopes, RBAC stays off for it, and a user's token for it carries none of
// its scopes even where a role was given them before the rule.
func TestMachineOnlyAPIsAreOutOfRolesReach(t *testing.T) {
	w := newWorld(t)
	machineOnly := func(identifier string) bool { return identifier == w.billing.Identifier }
	svc := roles.NewService(roles.Deps{Store: w.st, APIs: w.st, Audit: w.st, MachineOnly: machineOnly})
	r, err := svc.CreateRole(ctx, roles.Role{Name: "clerk"}, ann, from)
	if err != nil {
		t.Fatal(err)
	}
	var ve *roles.ValidationError
	if _, err := svc.SetPermissions(ctx, r.ID, []roles.Permission{{Audience: w.billing.Identifier, Value: "read:invoices"}}, ann, from); !errors.As(err, &ve) {
		t.Errorf("a machine-only API's scope in a role: %v, want a ValidationError", err)
	}
	if err := svc.SetAPISettings(ctx, roles.Settings{APIID: w.billing.ID, Enforce: true}, ann, from); !errors.As(err, &ve) {
		t.Errorf("RBAC on for a machine-only API: %v, want a ValidationError", err)
	}

	// Stored by a service that did not know the rule: the token still
	// carries nothing of the API.
	if _, err := w.svc.SetPermissions(ctx, r.ID, []roles.Permission{{Audience: w.billing.Identifier, Value: "read:invoices"}}, ann, from); err != nil {
		t.Fatal(err)
	}
	if err := w.svc.SetAPISettings(ctx, roles.Settings{APIID: w.billing.ID, Enforce: true, TokenPermissions: true}, ann, from); err != nil {
		t.Fatal(err)
	}
	if err := svc.AddUserRoles(ctx, w.user.ID, []string{r.ID}, ann, from); err != nil {
		t.Fatal(err)
	}
	d, applies, err := svc.ForUserToken(ctx, w.user.ID, []string{w.billing.Identifier}, []string{"read:invoices"})
	if err != nil || !applies || len(d.Scopes) != 0 || d.Permissions != nil {
		t.Fatalf("a user's token for a machine-only API: %+v applies=%v %v; want no scope and no permissions", d, applies, err)
	}
}
