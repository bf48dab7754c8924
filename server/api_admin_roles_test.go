package server_test

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/gatehouse-id/gatehouse/clients"
)

func TestAdminAPIRolesRoundTrip(t *testing.T) {
	h := newHarness(t)
	spa := h.newSPA(t)
	ctx := context.Background()
	api, err := h.st.APIByIdentifier(ctx, apiAudience)
	if err != nil {
		t.Fatal(err)
	}
	if err := h.st.SetAPIScopes(ctx, api.ID, []clients.Scope{{Value: "read:messages"}, {Value: "write:messages"}}); err != nil {
		t.Fatal(err)
	}
	c := h.newAPIClient(t, "deploy", "read:roles", "create:roles", "update:roles", "delete:roles", "read:users", "update:users", "read:apis", "update:apis")

	c.call(t, "POST", "/api/admin/roles", `{"name":""}`).expect(t, 400, "invalid_role")
	c.call(t, "POST", "/api/admin/roles", `{"name":"x","extra":1}`).expect(t, 400, "invalid_body")
	r := c.call(t, "POST", "/api/admin/roles", `{"name":"reader","description":"Reads messages"}`)
	r.expect(t, 201, "")
	id := r.body["id"].(string)
	c.call(t, "POST", "/api/admin/roles", `{"name":"reader"}`).expect(t, 409, "duplicate")
	c.call(t, "PUT", "/api/admin/roles/"+id+"/permissions", `{"permissions":[{"resource_server_identifier":"`+apiAudience+`","permission_name":"delete:all"}]}`).expect(t, 400, "invalid_role")
	r = c.call(t, "PUT", "/api/admin/roles/"+id+"/permissions", `{"permissions":[{"resource_server_identifier":"`+apiAudience+`","permission_name":"read:messages"}]}`)
	r.expect(t, 200, "")
	if perms := r.body["permissions"].([]any); len(perms) != 1 || perms[0].(map[string]any)["permission_name"] != "read:messages" {
		t.Fatalf("permissions after PUT: %s", r.raw)
	}
	if r := c.call(t, "PATCH", "/api/admin/roles/"+id, `{"name":"readers"}`); r.status != 200 || r.body["name"] != "readers" {
		t.Fatalf("PATCH: %s", r.raw)
	}
	if r := c.call(t, "GET", "/api/admin/roles", ""); len(r.body["roles"].([]any)) != 1 {
		t.Fatalf("list: %s", r.raw)
	}

	b := signedInBrowser(t, h)
	ann, err := h.st.UserByEmail(ctx, "ann@example.com")
	if err != nil {
		t.Fatal(err)
	}
	c.call(t, "POST", "/api/admin/users/"+ann.ID+"/roles", `{"roles":["00000000-0000-4000-8000-000000000000"]}`).expect(t, 400, "invalid_role")
	c.call(t, "POST", "/api/admin/users/00000000-0000-4000-8000-000000000000/roles", `{"roles":["`+id+`"]}`).expect(t, 404, "not_found")
	c.call(t, "POST", "/api/admin/users/"+ann.ID+"/roles", `{"roles":["`+id+`"]}`).expect(t, 204, "")
	if r := c.call(t, "GET", "/api/admin/users/"+ann.ID+"/roles", ""); len(r.body["roles"].([]any)) != 1 {
		t.Fatalf("user roles: %s", r.raw)
	}

	c.call(t, "PUT", "/api/admin/apis/"+api.ID+"/rbac", `{"token_permissions":true}`).expect(t, 400, "invalid_role")
	c.call(t, "PUT", "/api/admin/apis/"+api.ID+"/rbac", `{"enforce":true,"token_permissions":true}`).expect(t, 200, "")
	if r := c.call(t, "GET", "/api/admin/apis/"+api.ID+"/rbac", ""); r.body["enforce"] != true || r.body["token_permissions"] != true {
		t.Fatalf("rbac: %s", r.raw)
	}
	admin, _ := h.st.APIByIdentifier(ctx, h.server.AdminAudience())
	c.call(t, "PUT", "/api/admin/apis/"+admin.ID+"/rbac", `{"enforce":true}`).expect(t, 409, "built_in")

	tok, _ := spa.login(t, b)
	if got := jwtPayload(t, tok.AccessToken)["permissions"]; !slices.Equal(toStrings(got), []string{"read:messages"}) {
		t.Fatalf("permissions in ann's token: %v", got)
	}

	c.call(t, "DELETE", "/api/admin/users/"+ann.ID+"/roles", `{"roles":["`+id+`"]}`).expect(t, 204, "")
	c.call(t, "DELETE", "/api/admin/roles/"+id, "").expect(t, 204, "")
	c.call(t, "GET", "/api/admin/roles/"+id, "").expect(t, 404, "not_found")
	for _, typ := range []string{"admin.role_created", "admin.role_permissions_updated", "admin.user_roles_added", "admin.user_roles_removed", "admin.role_deleted", "admin.api_rbac_updated"} {
		if got := auditDetails(t, h, typ); len(got) != 1 || !strings.Contains(got[0], "api:deploy") {
			t.Errorf("%s audit: %v", typ, got)
		}
	}
}

func TestAdminAPIRolesNeedTheirScopes(t *testing.T) {
	h := newHarness(t)
	reader := h.newAPIClient(t, "reader", "read:roles", "read:users")
	reader.call(t, "GET", "/api/admin/roles", "").expect(t, 200, "")
	reader.call(t, "POST", "/api/admin/roles", `{"name":"admin"}`).expect(t, 403, "insufficient_scope")
	reader.call(t, "PUT", "/api/admin/roles/x/permissions", `{"permissions":[]}`).expect(t, 403, "insufficient_scope")
	reader.call(t, "DELETE", "/api/admin/roles/x", "").expect(t, 403, "insufficient_scope")
	reader.call(t, "POST", "/api/admin/users/x/roles", `{"roles":[]}`).expect(t, 403, "insufficient_scope")
	reader.call(t, "PUT", "/api/admin/apis/x/rbac", `{}`).expect(t, 403, "insufficient_scope")
}

// A user's own token must never reach the admin API, roles or not: a user
// holding a role whose permission is named like an admin scope gains
// nothing.
func TestAUserTokenWithPermissionsCannotCallTheAdminAPI(t *testing.T) {
	w := newRBACWorld(t)
	w.settings(t, true, true)
	_, claims := w.tokenFor(t, "openid read:messages")
	if claims["permissions"] == nil {
		t.Fatal("no permissions: the setup is wrong")
	}
	tok, _ := w.tokenFor(t, "openid read:messages")
	w.h.apiCall(t, tok.AccessToken, "GET", "/api/admin/roles", "").expect(t, 401, "invalid_audience")
}

func toStrings(v any) []string {
	raw, _ := v.([]any)
	out := make([]string, 0, len(raw))
	for _, x := range raw {
		s, _ := x.(string)
		out = append(out, s)
	}
	return out
}

func TestAdminAPIRefusesOversizedAndMalformedRoles(t *testing.T) {
	h := newHarness(t)
	c := h.newAPIClient(t, "deploy", "create:roles", "update:roles", "update:users")
	c.call(t, "POST", "/api/admin/roles", `{"name":"`+strings.Repeat("r", 101)+`"}`).expect(t, 400, "invalid_role")
	c.call(t, "POST", "/api/admin/roles", `{"name":"a\u0000b"}`).expect(t, 400, "invalid_role")
	c.call(t, "POST", "/api/admin/roles", `{"name":["x"]}`).expect(t, 400, "invalid_body")
	r := c.call(t, "POST", "/api/admin/roles", `{"name":"x"}`)
	r.expect(t, 201, "")
	id := r.body["id"].(string)
	var perms []string
	for i := range 201 {
		perms = append(perms, `{"resource_server_identifier":"https://api.example.com","permission_name":"p`+strconv.Itoa(i)+`"}`)
	}
	c.call(t, "PUT", "/api/admin/roles/"+id+"/permissions", `{"permissions":[`+strings.Join(perms, ",")+`]}`).expect(t, 400, "invalid_role")
	c.call(t, "POST", "/api/admin/users/not-a-uuid/roles", `{"roles":["`+id+`"]}`).expect(t, 404, "not_found")
	c.call(t, "PUT", "/api/admin/roles/"+id+"/permissions", `{"permissions":[{"resource_server_identifier":"https://api.example.com"}`).expect(t, 400, "invalid_body")
}
