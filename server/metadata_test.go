package server_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/gatehouse-id/gatehouse/account"
)

// The admin API shows an imported user's subject and metadata, finds them by
// their Auth0 id as well as by Gatehouse's, and replaces metadata only with
// valid objects, auditing what changed.
func TestAdminAPIShowsAndEditsMetadataAndFindsUsersBySubject(t *testing.T) {
	h := newHarness(t)
	c := h.newAPIClient(t, "support", "read:users", "update:users", "read:logs")
	imported := h.importFromAuth0(t, `{"user_id":"`+auth0Subject+`","email":"imp@example.com","user_metadata":{"theme":"dark"},"app_metadata":{"plan":"pro"}}`+"\n")[0]

	for _, ref := range []string{imported.ID, url.PathEscape(auth0Subject), "auth0%7C60d5f1c2a9b3e40068a1b2c3"} {
		r := c.call(t, "GET", "/api/admin/users/"+ref, "")
		r.expect(t, http.StatusOK, "")
		if r.body["user_id"] != imported.ID || r.body["subject"] != auth0Subject {
			t.Errorf("GET by %s: %s", ref, r.raw)
		}
		if um, _ := r.body["user_metadata"].(map[string]any); um["theme"] != "dark" {
			t.Errorf("GET by %s: user_metadata %v", ref, r.body["user_metadata"])
		}
		if am, _ := r.body["app_metadata"].(map[string]any); am["plan"] != "pro" {
			t.Errorf("GET by %s: app_metadata %v", ref, r.body["app_metadata"])
		}
	}
	if r := c.call(t, "GET", "/api/admin/users?q="+url.QueryEscape(auth0Subject), ""); !strings.Contains(r.raw, `"imp@example.com"`) {
		t.Errorf("search by subject: %s", r.raw)
	}
	c.call(t, "GET", "/api/admin/users/auth0%7Cnobody", "").expect(t, http.StatusNotFound, "not_found")

	r := c.call(t, "PATCH", "/api/admin/users/"+url.PathEscape(auth0Subject), `{"app_metadata":{"plan":"team","seats":5}}`)
	r.expect(t, http.StatusOK, "")
	if am, _ := r.body["app_metadata"].(map[string]any); am["plan"] != "team" || am["seats"] != float64(5) || len(am) != 2 {
		t.Errorf("app_metadata after PATCH: %s", r.raw)
	}
	if um, _ := r.body["user_metadata"].(map[string]any); um["theme"] != "dark" {
		t.Errorf("a PATCH of app_metadata changed user_metadata: %s", r.raw)
	}
	e := h.lastAudit(t, account.EventMetadataChanged)
	var details struct {
		By    string   `json:"by"`
		Field string   `json:"field"`
		Keys  []string `json:"keys"`
	}
	if err := json.Unmarshal([]byte(e.Details), &details); err != nil {
		t.Fatal(err)
	}
	if details.By != "api:support" || details.Field != "app_metadata" || strings.Join(details.Keys, ",") != "plan,seats" || e.UserID != imported.ID {
		t.Errorf("audit: %+v %s", details, e.Details)
	}
	if strings.Contains(e.Details, "team") {
		t.Errorf("the audit log holds metadata values: %s", e.Details)
	}

	big := `{"notes":"` + strings.Repeat("x", account.MaxMetadataSize) + `"}`
	refusals := []struct {
		name, body, field, words string
	}{
		{"an array", `{"user_metadata":["a"]}`, "user_metadata", "must be a JSON object"},
		{"a string", `{"app_metadata":"pro"}`, "app_metadata", "must be a JSON object"},
		{"over 16 KiB", `{"user_metadata":` + big + `}`, "user_metadata", "at most 16384"},
		{"a dotted key", `{"app_metadata":{"a.b":1}}`, "app_metadata", `"a.b"`},
		{"a key starting with $", `{"app_metadata":{"x":{"$where":1}}}`, "app_metadata", `"$where"`},
	}
	for _, tt := range refusals {
		t.Run(tt.name, func(t *testing.T) {
			r := c.call(t, "PATCH", "/api/admin/users/"+imported.ID, tt.body)
			r.expect(t, http.StatusBadRequest, "invalid_user")
			fields, _ := r.body["fields"].(map[string]any)
			if msg, _ := fields[tt.field].(string); !strings.Contains(msg, tt.words) {
				t.Errorf("fields %v, want %s to say %q", r.body["fields"], tt.field, tt.words)
			}
		})
	}
	u, err := h.accounts.User(context.Background(), imported.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !sameJSON(t, u.AppMetadata, `{"plan":"team","seats":5}`) || !sameJSON(t, u.UserMetadata, `{"theme":"dark"}`) {
		t.Errorf("refused changes changed the metadata: %s %s", u.UserMetadata, u.AppMetadata)
	}
}

// In the console an admin finds an imported user by their Auth0 id, reads
// their metadata and edits it; invalid JSON is refused in words, with what
// was typed kept.
func TestAdminEditsMetadataInTheConsole(t *testing.T) {
	h := newAdminHarness(t)
	imported := h.importFromAuth0(t, `{"user_id":"`+auth0Subject+`","email":"imp@example.com","app_metadata":{"plan":"pro"}}`+"\n")[0]
	admin := h.adminBrowser(t)

	r := h.do(admin, "GET", "/admin/users?q="+url.QueryEscape(auth0Subject), nil)
	r.expect(t, http.StatusOK, "admin-users")
	if m := userLinkRE.FindAllStringSubmatch(r.body, -1); len(m) != 1 || m[0][1] != imported.ID {
		t.Fatalf("search by subject found %v", m)
	}
	page := "/admin/users/" + imported.ID
	r = h.do(admin, "GET", page, nil)
	if !strings.Contains(r.body, auth0Subject) || !strings.Contains(r.body, "&#34;plan&#34;: &#34;pro&#34;") {
		t.Errorf("the user page lacks the subject or the metadata")
	}

	r = h.adminPost(t, admin, page, page+"/metadata", url.Values{"user_metadata": {`{"theme": "dark"`}, "app_metadata": {`{"plan":"pro"}`}})
	r.expect(t, http.StatusBadRequest, "admin-users")
	if !strings.Contains(r.body, "user_metadata must be a JSON object") || !strings.Contains(r.body, "{&#34;theme&#34;: &#34;dark&#34;") {
		t.Errorf("the refusal does not say why or lost what was typed")
	}
	h.adminPost(t, admin, page, page+"/metadata", url.Values{"user_metadata": {`{"theme": "dark"}`}, "app_metadata": {`{}`}}).
		expectRedirect(t, page)
	u, err := h.accounts.User(context.Background(), imported.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !sameJSON(t, u.UserMetadata, `{"theme":"dark"}`) || !sameJSON(t, u.AppMetadata, `{}`) {
		t.Errorf("saved %s %s", u.UserMetadata, u.AppMetadata)
	}
	if e := h.lastAudit(t, account.EventMetadataChanged); !strings.Contains(e.Details, "admin:") {
		t.Errorf("audit by %s", e.Details)
	}
}

// sameJSON tells whether got holds the same JSON value as want.
func sameJSON(t *testing.T, got []byte, want string) bool {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("%q: %v", got, err)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatal(err)
	}
	return reflect.DeepEqual(g, w)
}
