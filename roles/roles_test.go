package roles_test

import (
	"reflect"
	"testing"

	"github.com/gatehouse-id/gatehouse/roles"
)

func TestDecide(t *testing.T) {
	held := []string{"read:messages", "write:messages"}
	on := roles.Settings{Enforce: true}
	both := roles.Settings{Enforce: true, TokenPermissions: true}
	cases := []struct {
		name      string
		settings  roles.Settings
		requested []string
		held      []string
		want      roles.Decision
	}{
		{"without RBAC no API scope reaches a user's token", roles.Settings{}, []string{"read:messages"}, held, roles.Decision{}},
		{"with RBAC the requested scopes are kept when held", on, []string{"read:messages"}, held, roles.Decision{Scopes: []string{"read:messages"}}},
		{"a requested scope not held is dropped, not refused", on, []string{"read:messages", "delete:messages"}, held, roles.Decision{Scopes: []string{"read:messages"}}},
		{"a scope asked twice is granted once", on, []string{"read:messages", "read:messages"}, held, roles.Decision{Scopes: []string{"read:messages"}}},
		{"nothing held, nothing granted", on, []string{"read:messages"}, nil, roles.Decision{Scopes: []string{}}},
		{"permissions list everything held, requested or not", both, nil, held, roles.Decision{Scopes: []string{}, Permissions: held}},
		{"permissions of a user holding nothing are an empty list, not absent", both, nil, nil, roles.Decision{Scopes: []string{}, Permissions: []string{}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := roles.Decide(c.settings, c.requested, c.held); !reflect.DeepEqual(got, c.want) {
				t.Fatalf("Decide = %#v, want %#v", got, c.want)
			}
		})
	}
}

func TestSeveralAPIsAtOnceAreRefusedWhenOneUsesRBAC(t *testing.T) {
	plain := roles.Settings{}
	if err := roles.CheckAudiences([]roles.Settings{plain, plain}); err != nil {
		t.Fatalf("two APIs without RBAC: %v", err)
	}
	if err := roles.CheckAudiences([]roles.Settings{{Enforce: true}}); err != nil {
		t.Fatalf("one API with RBAC: %v", err)
	}
	if err := roles.CheckAudiences([]roles.Settings{plain, {Enforce: true}}); err != roles.ErrOneAPI {
		t.Fatalf("two APIs, one with RBAC: %v, want ErrOneAPI", err)
	}
}

func TestRoleNames(t *testing.T) {
	for name, ok := range map[string]bool{"editor": true, "Billing admins": true, "": false, " editor": false, "a\nb": false, string(make([]byte, 101)): false} {
		if err := (roles.Role{Name: name}).Validate(); (err == nil) != ok {
			t.Errorf("name %q: %v, want ok=%v", name, err, ok)
		}
	}
}
