package server_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func TestAdminManagesRolesAndAUsersRolesInTheConsole(t *testing.T) {
	h := newAdminHarness(t)
	admin := h.adminBrowser(t)
	apiPage := h.createAPI(t, admin, "Orders", "https://orders.example.com", "1h")
	h.adminPost(t, admin, apiPage, apiPage+"/scopes", url.Values{"scopes": {"read:orders\nwrite:orders"}}).expectRedirect(t, apiPage)
	h.adminPost(t, admin, apiPage, apiPage+"/rbac", url.Values{"token_permissions": {"1"}}).expect(t, http.StatusBadRequest, "admin-apis")
	h.adminPost(t, admin, apiPage, apiPage+"/rbac", url.Values{"enforce": {"1"}, "token_permissions": {"1"}}).expectRedirect(t, apiPage)
	if page := h.do(admin, "GET", apiPage, nil); !strings.Contains(page.body, `id="enforce" name="enforce" type="checkbox" value="1" checked`) {
		t.Error("the API's page does not show RBAC on")
	}

	h.adminPost(t, admin, "/admin/roles", "/admin/roles", url.Values{"name": {""}}).expect(t, http.StatusBadRequest, "admin-roles")
	r := h.adminPost(t, admin, "/admin/roles", "/admin/roles", url.Values{"name": {"clerk"}, "description": {"Reads orders"}})
	if r.status != http.StatusSeeOther {
		t.Fatalf("create role: %d %q", r.status, r.alert())
	}
	rolePage := r.header.Get("Location")
	h.adminPost(t, admin, "/admin/roles", "/admin/roles", url.Values{"name": {"clerk"}}).expect(t, http.StatusBadRequest, "admin-roles")
	h.adminPost(t, admin, rolePage, rolePage+"/permissions", url.Values{"permission": {"https://orders.example.com delete:orders"}}).
		expect(t, http.StatusBadRequest, "admin-roles")
	h.adminPost(t, admin, rolePage, rolePage+"/permissions", url.Values{"permission": {"https://orders.example.com read:orders"}}).
		expectRedirect(t, rolePage)

	h.signUp(h.browser(), "ann@example.com")
	ann, err := h.st.UserByEmail(context.Background(), "ann@example.com")
	if err != nil {
		t.Fatal(err)
	}
	rolesPage := "/admin/users/" + ann.ID + "/roles"
	roleID := strings.TrimPrefix(rolePage, "/admin/roles/")
	h.adminPost(t, admin, rolesPage, rolesPage, url.Values{"action": {"add"}, "role_id": {roleID}}).expectRedirect(t, rolesPage)
	if page := h.do(admin, "GET", rolesPage, nil); !strings.Contains(page.body, ">clerk</a>") {
		t.Fatal("the user's roles page does not list the role")
	}
	if got := auditDetails(t, h, "admin.user_roles_added"); len(got) != 1 || !strings.Contains(got[0], "admin:"+adminEmail) || !strings.Contains(got[0], "clerk") {
		t.Errorf("audit: %v", got)
	}

	// A stale form: the role is deleted while the page still offers it.
	stale := h.do(admin, "GET", rolesPage, nil)
	csrf := csrfRE.FindStringSubmatch(stale.body)[1]
	h.adminPost(t, admin, rolesPage, rolesPage, url.Values{"action": {"remove"}, "role_id": {roleID}}).expectRedirect(t, rolesPage)
	h.adminPost(t, admin, rolePage, rolePage+"/delete", url.Values{"confirm": {"Clerk"}}).expect(t, http.StatusBadRequest, "admin-roles")
	h.adminPost(t, admin, rolePage, rolePage+"/delete", url.Values{"confirm": {"clerk"}}).expectRedirect(t, "/admin/roles")
	refused := h.do(admin, "POST", rolesPage, url.Values{"csrf": {csrf}, "action": {"add"}, "role_id": {roleID}})
	refused.expect(t, http.StatusBadRequest, "admin-users")
	if !strings.Contains(refused.alert(), "was it deleted?") {
		t.Errorf("the refusal says %q; want it to name the deleted role", refused.alert())
	}
	if held, err := h.st.UserRoles(context.Background(), ann.ID); err != nil || len(held) != 0 {
		t.Fatalf("after a stale form the user holds %+v (%v)", held, err)
	}
}

func TestEveryRolesFormNeedsTheSessionsCSRFTokenAndASecondFactor(t *testing.T) {
	h := newAdminHarness(t)
	admin := h.adminBrowser(t)
	apiPage := h.createAPI(t, admin, "Orders", "https://orders.example.com", "1h")
	r := h.adminPost(t, admin, "/admin/roles", "/admin/roles", url.Values{"name": {"clerk"}})
	rolePage := r.header.Get("Location")
	h.signUp(h.browser(), "ann@example.com")
	ann, err := h.st.UserByEmail(context.Background(), "ann@example.com")
	if err != nil {
		t.Fatal(err)
	}
	roleID := strings.TrimPrefix(rolePage, "/admin/roles/")
	form := url.Values{"name": {"x"}, "confirm": {"clerk"}, "action": {"add"}, "role_id": {roleID}, "enforce": {"1"}}
	posts := []string{"/admin/roles", rolePage, rolePage + "/permissions", rolePage + "/delete", "/admin/users/" + ann.ID + "/roles", apiPage + "/rbac"}
	for _, path := range posts {
		h.do(admin, "POST", path, form).expect(t, http.StatusForbidden, "error")
	}
	pwOnly := h.browser()
	h.logIn(pwOnly, adminEmail, goodPassword)
	for _, path := range posts {
		if r := h.do(pwOnly, "POST", path, form); r.status != http.StatusSeeOther || !strings.HasPrefix(r.header.Get("Location"), "/mfa/challenge") {
			t.Errorf("%s by an admin with a password only: %d %s", path, r.status, r.header.Get("Location"))
		}
	}
	if held, _ := h.st.UserRoles(context.Background(), ann.ID); len(held) != 0 {
		t.Errorf("a refused form gave %+v", held)
	}
	if role, err := h.st.RoleByID(context.Background(), roleID); err != nil || role.Name != "clerk" {
		t.Errorf("a refused form changed the role: %+v %v", role, err)
	}
}

func TestAdminSetsAnApplicationsCustomClaims(t *testing.T) {
	h := newAdminHarness(t)
	admin := h.adminBrowser(t)
	id, _ := h.createApp(t, admin, "Shop", "spa")
	page := "/admin/applications/" + id + "/claims"
	if app := h.do(admin, "GET", "/admin/applications/"+id, nil); !strings.Contains(app.body, `href="/admin/applications/`+id+`/claims"`) {
		t.Error("the application's page does not link to its custom claims")
	}
	for text, want := range map[string]string{
		"roles = roles @ both":                                "not a namespaced claim name",
		"https://example.com/m = app_metadata..plan @ both":   "not a metadata path",
		"https://example.com/roles roles":                     "line 1: write claim = source @ token",
		"https://example.com/p = permissions @ refresh_token": "id_token, access_token or both",
	} {
		r := h.adminPost(t, admin, page, page, url.Values{"claims": {text}})
		r.expect(t, http.StatusBadRequest, "admin-applications")
		if !strings.Contains(r.body, want) {
			t.Errorf("%q: the page does not say %q", text, want)
		}
	}
	h.adminPost(t, admin, page, page, url.Values{"claims": {"https://example.com/roles = roles @ both\n\nhttps://example.com/email = email @ id_token"}}).
		expectRedirect(t, page)
	got, err := h.st.ClientClaims(context.Background(), id)
	if err != nil || len(got) != 2 || got[0].Claim != "https://example.com/roles" || got[1].Target != "id_token" {
		t.Fatalf("stored claims %+v %v", got, err)
	}
	if r := h.do(admin, "GET", page, nil); !strings.Contains(r.body, "https://example.com/email = email @ id_token") {
		t.Error("the page does not show the saved claims")
	}
	if d := auditDetails(t, h, "admin.client_claims_updated"); len(d) != 1 || !strings.Contains(d[0], "admin:"+adminEmail) {
		t.Errorf("audit: %v", d)
	}
}
