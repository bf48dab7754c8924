package store_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/gatehouse-id/gatehouse/account"
	"github.com/gatehouse-id/gatehouse/clients"
	"github.com/gatehouse-id/gatehouse/roles"
	"github.com/gatehouse-id/gatehouse/store"
	"github.com/gatehouse-id/gatehouse/store/storetest"
)

var _ roles.Store = (*store.Store)(nil)

// rbacFixture is two APIs with scopes, a role and a user.
func rbacFixture(t *testing.T) (*store.Store, clients.API, clients.API, roles.Role, account.User) {
	t.Helper()
	st := storetest.NewStore(t)
	messages, err := st.CreateAPI(ctxB, clients.API{Identifier: "https://messages.example", Name: "Messages", TokenLifetime: 3600e9})
	if err != nil {
		t.Fatal(err)
	}
	billing, err := st.CreateAPI(ctxB, clients.API{Identifier: "https://billing.example", Name: "Billing", TokenLifetime: 3600e9})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.SetAPIScopes(ctxB, messages.ID, []clients.Scope{{Value: "read:messages"}, {Value: "write:messages"}}); err != nil {
		t.Fatal(err)
	}
	if err := st.SetAPIScopes(ctxB, billing.ID, []clients.Scope{{Value: "read:invoices"}}); err != nil {
		t.Fatal(err)
	}
	role, err := st.CreateRole(ctxB, roles.Role{Name: "editor"})
	if err != nil {
		t.Fatal(err)
	}
	u, err := st.CreateUser(ctxB, account.NewUser{Email: "ann@example.com", CreatedAt: t0})
	if err != nil {
		t.Fatal(err)
	}
	return st, messages, billing, role, u
}

func TestUserPermissionsAreTheScopesOfOneAPIHeldThroughRoles(t *testing.T) {
	st, messages, billing, role, u := rbacFixture(t)
	err := st.SetRolePermissions(ctxB, role.ID, []roles.Permission{
		{APIID: messages.ID, Value: "read:messages"}, {APIID: billing.ID, Value: "read:invoices"}})
	if err != nil {
		t.Fatal(err)
	}
	other, err := st.CreateRole(ctxB, roles.Role{Name: "writer"})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.SetRolePermissions(ctxB, other.ID, []roles.Permission{{APIID: messages.ID, Value: "write:messages"}, {APIID: messages.ID, Value: "read:messages"}}); err != nil {
		t.Fatal(err)
	}
	if got, _ := st.UserPermissions(ctxB, u.ID, messages.ID); len(got) != 0 {
		t.Fatalf("a user without roles holds %v", got)
	}
	if err := st.AddUserRoles(ctxB, u.ID, []string{role.ID, other.ID}); err != nil {
		t.Fatal(err)
	}
	got, err := st.UserPermissions(ctxB, u.ID, messages.ID)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"read:messages", "write:messages"}; !slices.Equal(got, want) {
		t.Fatalf("permissions on messages = %v, want %v (each once, sorted, none of billing's)", got, want)
	}
	if got, _ := st.UserPermissions(ctxB, u.ID, billing.ID); !slices.Equal(got, []string{"read:invoices"}) {
		t.Fatalf("permissions on billing = %v", got)
	}
	if err := st.RemoveUserRoles(ctxB, u.ID, []string{role.ID}); err != nil {
		t.Fatal(err)
	}
	if got, _ := st.UserPermissions(ctxB, u.ID, billing.ID); len(got) != 0 {
		t.Fatalf("after the role was removed the user still holds %v", got)
	}
}

func TestChangingAnAPIsScopesKeepsTheRolesOfTheScopesThatStay(t *testing.T) {
	st, messages, _, role, _ := rbacFixture(t)
	if err := st.SetRolePermissions(ctxB, role.ID, []roles.Permission{
		{APIID: messages.ID, Value: "read:messages"}, {APIID: messages.ID, Value: "write:messages"}}); err != nil {
		t.Fatal(err)
	}
	if err := st.SetAPIScopes(ctxB, messages.ID, []clients.Scope{{Value: "read:messages", Description: "Read them"}}); err != nil {
		t.Fatal(err)
	}
	perms, err := st.RolePermissions(ctxB, role.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(perms) != 1 || perms[0].Value != "read:messages" || perms[0].Audience != messages.Identifier {
		t.Fatalf("after write:messages was dropped the role holds %+v, want read:messages only", perms)
	}
	scopes, _ := st.APIScopes(ctxB, messages.ID)
	if len(scopes) != 1 || scopes[0].Description != "Read them" {
		t.Fatalf("scopes %+v: the description was not updated", scopes)
	}
}

func TestAPermissionOutsideTheAPIsScopesIsRefused(t *testing.T) {
	st, messages, _, role, _ := rbacFixture(t)
	err := st.SetRolePermissions(ctxB, role.ID, []roles.Permission{{APIID: messages.ID, Value: "delete:everything"}})
	if !errors.Is(err, roles.ErrNotFound) {
		t.Fatalf("got %v, want ErrNotFound", err)
	}
}

func TestADeletedRoleCannotBeGivenAndIsTakenFromItsHolders(t *testing.T) {
	st, messages, _, role, u := rbacFixture(t)
	if err := st.SetRolePermissions(ctxB, role.ID, []roles.Permission{{APIID: messages.ID, Value: "read:messages"}}); err != nil {
		t.Fatal(err)
	}
	if err := st.AddUserRoles(ctxB, u.ID, []string{role.ID}); err != nil {
		t.Fatal(err)
	}
	if err := st.DeleteRole(ctxB, role.ID); err != nil {
		t.Fatal(err)
	}
	if held, _ := st.UserRoles(ctxB, u.ID); len(held) != 0 {
		t.Fatalf("the user still holds %+v", held)
	}
	if err := st.AddUserRoles(ctxB, u.ID, []string{role.ID}); !errors.Is(err, roles.ErrNotFound) {
		t.Fatalf("giving a deleted role: %v, want ErrNotFound", err)
	}
	if err := st.AddUserRoles(ctxB, "00000000-0000-0000-0000-000000000000", []string{role.ID}); !errors.Is(err, roles.ErrNotFound) {
		t.Fatalf("giving a role to nobody: %v, want ErrNotFound", err)
	}
}

func TestRoleNamesAreUniqueAndSettingsDefaultOff(t *testing.T) {
	st, messages, _, role, _ := rbacFixture(t)
	if _, err := st.CreateRole(ctxB, roles.Role{Name: role.Name}); !errors.Is(err, roles.ErrDuplicate) {
		t.Fatalf("a second %q: %v, want ErrDuplicate", role.Name, err)
	}
	st0, err := st.APISettings(ctxB, messages.ID)
	if err != nil || st0.Enforce || st0.TokenPermissions {
		t.Fatalf("settings never set: %+v %v, want both off", st0, err)
	}
	want := roles.Settings{APIID: messages.ID, Enforce: true, TokenPermissions: true}
	if err := st.SetAPISettings(ctxB, want); err != nil {
		t.Fatal(err)
	}
	if got, _ := st.APISettings(ctxB, messages.ID); got != want {
		t.Fatalf("settings %+v, want %+v", got, want)
	}
}

func TestTwoSavesOfARolesPermissionsAtOnceLeaveOneOfThemWhole(t *testing.T) {
	st, messages, _, role, _ := rbacFixture(t)
	a := []roles.Permission{{APIID: messages.ID, Value: "read:messages"}}
	b := []roles.Permission{{APIID: messages.ID, Value: "write:messages"}}
	for range 10 {
		errs := make(chan error, 2)
		go func() { errs <- st.SetRolePermissions(ctxB, role.ID, a) }()
		go func() { errs <- st.SetRolePermissions(ctxB, role.ID, b) }()
		for range 2 {
			if err := <-errs; err != nil {
				t.Fatal(err)
			}
		}
		got, err := st.RolePermissions(ctxB, role.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 {
			t.Fatalf("after two saves at once the role holds %+v, want one list or the other", got)
		}
	}
}
