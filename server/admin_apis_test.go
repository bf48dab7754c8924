package server_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/clients"
)

// createAPI creates an API in the console and returns its settings page path.
func (h *harness) createAPI(t *testing.T, admin *http.Client, name, identifier, lifetime string) string {
	t.Helper()
	r := h.adminPost(t, admin, "/admin/apis", "/admin/apis", url.Values{"name": {name}, "identifier": {identifier}, "token_lifetime": {lifetime}})
	if r.status != http.StatusSeeOther {
		t.Fatalf("create API: %d on %q (alert %q)", r.status, r.screen(), r.alert())
	}
	return r.header.Get("Location")
}

func TestAdminCreatesAndEditsAnAPI(t *testing.T) {
	h := newAdminHarness(t)
	admin := h.adminBrowser(t)
	page := h.createAPI(t, admin, "Orders", "https://orders.example.com", "2h")
	a, err := h.st.APIByIdentifier(context.Background(), "https://orders.example.com")
	if err != nil || a.TokenLifetime != 2*time.Hour || page != "/admin/apis/"+a.ID {
		t.Fatalf("stored %+v (%v), page %s", a, err, page)
	}
	list := h.do(admin, "GET", "/admin/apis", nil)
	list.expect(t, http.StatusOK, "admin-apis")
	if !strings.Contains(list.body, "https://orders.example.com") || !strings.Contains(list.body, "2h") {
		t.Error("the list does not show the API")
	}

	h.adminPost(t, admin, page, page, url.Values{"name": {"Orders v2"}, "token_lifetime": {"30m"}}).expectRedirect(t, page)
	h.adminPost(t, admin, page, page+"/scopes", url.Values{"scopes": {"read:orders: Read orders\nwrite:orders: Change orders"}}).
		expectRedirect(t, page)
	shown := h.do(admin, "GET", page, nil)
	if !strings.Contains(shown.body, "read:orders: Read orders") || !strings.Contains(shown.body, `value="Orders v2"`) {
		t.Error("the page does not show the saved name and scopes")
	}
	a, err = h.st.APIByID(context.Background(), a.ID)
	if err != nil {
		t.Fatalf("reading the API back: %v", err)
	}
	scopes, err := h.st.APIScopes(context.Background(), a.ID)
	if err != nil {
		t.Fatalf("reading the API's scopes: %v", err)
	}
	if a.Name != "Orders v2" || a.TokenLifetime != 30*time.Minute || len(scopes) != 2 {
		t.Fatalf("after edits %+v, scopes %+v", a, scopes)
	}
	for _, typ := range []string{"admin.api_created", "admin.api_updated", "admin.api_scopes_updated"} {
		if got := auditDetails(t, h, typ); len(got) != 1 || !strings.Contains(got[0], `"by": "admin:admin@example.com"`) {
			t.Errorf("%s audit: %v", typ, got)
		}
	}
}

func TestAdminAPIFormsRefuseBadFields(t *testing.T) {
	h := newAdminHarness(t)
	admin := h.adminBrowser(t)
	tests := []struct {
		name        string
		form        url.Values
		field, want string
	}{
		{"identifier not a URI", url.Values{"name": {"Orders"}, "identifier": {"orders"}, "token_lifetime": {"1h"}}, "identifier", "absolute URI"},
		{"identifier with spaces", url.Values{"name": {"Orders"}, "identifier": {"https://a.example.com/x y"}, "token_lifetime": {"1h"}}, "identifier", "spaces"},
		{"lifetime too short", url.Values{"name": {"Orders"}, "identifier": {"https://a.example.com"}, "token_lifetime": {"10s"}}, "token_lifetime", "between 1 minute and 30 days"},
		{"lifetime unreadable", url.Values{"name": {"Orders"}, "identifier": {"https://a.example.com"}, "token_lifetime": {"soon"}}, "token_lifetime", "not a duration"},
		{"no name", url.Values{"name": {""}, "identifier": {"https://a.example.com"}, "token_lifetime": {"1h"}}, "name", "must not be empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := h.adminPost(t, admin, "/admin/apis", "/admin/apis", tt.form)
			r.expect(t, http.StatusBadRequest, "admin-apis")
			if !strings.Contains(r.body, `id="`+tt.field+`-error"`) || !strings.Contains(r.body, tt.want) {
				t.Errorf("no field error on %s saying %q", tt.field, tt.want)
			}
		})
	}
	// Only the admin and Management APIs, which Gatehouse registers for itself.
	if list, err := h.st.ListAPIs(context.Background()); err != nil || len(list) != 2 {
		t.Errorf("refused forms stored %+v (%v)", list, err)
	}
	page := h.createAPI(t, admin, "Orders", "https://orders.example.com", "1h")
	r := h.adminPost(t, admin, page, page+"/scopes", url.Values{"scopes": {"read!orders: x\n"}})
	r.expect(t, http.StatusBadRequest, "admin-apis")
	if !strings.Contains(r.body, `id="scopes-error"`) {
		t.Error("a bad scope has no field error")
	}
	h.adminPost(t, admin, "/admin/apis", "/admin/apis", url.Values{"name": {"Again"}, "identifier": {"https://orders.example.com"}, "token_lifetime": {"1h"}}).
		expect(t, http.StatusBadRequest, "admin-apis")
}

func TestAnM2MGrantDecidesWhichScopesItsTokensCarry(t *testing.T) {
	h := newAdminHarness(t)
	admin := h.adminBrowser(t)
	page := h.createAPI(t, admin, "Orders", "https://orders.example.com", "1h")
	h.adminPost(t, admin, page, page+"/scopes", url.Values{"scopes": {"read:orders\nwrite:orders"}}).expectRedirect(t, page)
	id, created := h.createApp(t, admin, "Worker", "m2m")
	secret := secretRE.FindStringSubmatch(created.body)[1]
	token := func() (int, map[string]any) {
		s, body, _ := h.tokenRequest(t, url.Values{"grant_type": {"client_credentials"}, "client_id": {id},
			"client_secret": {secret}, "audience": {"https://orders.example.com"}})
		return s, body
	}
	if status, body := token(); status == http.StatusOK {
		t.Fatalf("a token without a grant: %v", body)
	}
	h.adminPost(t, admin, page, page+"/grants", url.Values{"client_id": {id}, "authorized": {"1"}, "scope": {"read:orders"}}).
		expectRedirect(t, page)
	status, body := token()
	if status != http.StatusOK || body["scope"] != "read:orders" {
		t.Fatalf("with a read grant: %d %v", status, body)
	}
	if app := h.do(admin, "GET", "/admin/applications/"+id, nil); !strings.Contains(app.body, `https://orders.example.com</a>: <span class="code">read:orders</span>`) {
		t.Error("the application's page does not show its grant")
	}
	h.adminPost(t, admin, page, page+"/grants", url.Values{"client_id": {id}, "scope": {"read:orders"}}).expectRedirect(t, page)
	if status, _ := token(); status == http.StatusOK {
		t.Error("a token after the grant was withdrawn")
	}
	if got := auditDetails(t, h, "admin.grant_updated"); len(got) != 1 || !strings.Contains(got[0], "read:orders") {
		t.Errorf("grant audit: %v", got)
	}
}

func TestDeletingAnAPINeedsItsNameTyped(t *testing.T) {
	h := newAdminHarness(t)
	admin := h.adminBrowser(t)
	page := h.createAPI(t, admin, "Orders", "https://orders.example.com", "1h")
	h.adminPost(t, admin, page, page+"/delete", url.Values{"confirm": {"orders"}}).expect(t, http.StatusBadRequest, "admin-apis")
	h.adminPost(t, admin, page, page+"/delete", url.Values{"confirm": {"Orders"}}).expectRedirect(t, "/admin/apis")
	if _, err := h.st.APIByIdentifier(context.Background(), "https://orders.example.com"); !errors.Is(err, clients.ErrNotFound) {
		t.Fatalf("after delete: %v", err)
	}
	if got := auditDetails(t, h, "admin.api_deleted"); len(got) != 1 {
		t.Errorf("delete audit: %v", got)
	}
}
