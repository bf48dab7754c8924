package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/gatehouse-id/gatehouse/account"
	"github.com/gatehouse-id/gatehouse/clients"
)

// newManagementClient creates an m2m application granted scopes of the
// Management API and fetches its token, as ManagementClient does.
func (h *harness) newManagementClient(t *testing.T, id string, scopes ...string) *apiClient {
	t.Helper()
	ctx := context.Background()
	secret, hash := clients.NewSecret()
	if err := h.st.CreateClient(ctx, clients.Client{ID: id, Name: "Backend " + id, Type: clients.M2M, SecretHash: hash}); err != nil {
		t.Fatal(err)
	}
	api, err := h.st.APIByIdentifier(ctx, h.server.ManagementAudience())
	if err != nil {
		t.Fatalf("the Management API is not registered: %v", err)
	}
	if err := h.st.SetGrant(ctx, clients.Grant{ClientID: id, APIID: api.ID, Scopes: scopes}); err != nil {
		t.Fatal(err)
	}
	cc := clientcredentials.Config{ClientID: id, ClientSecret: secret, TokenURL: h.issuer + "oauth/token",
		EndpointParams: url.Values{"audience": {h.server.ManagementAudience()}}}
	tok, err := cc.Token(ctx)
	if err != nil {
		t.Fatalf("client credentials for %s: %v", id, err)
	}
	return &apiClient{h: h, id: id, secret: secret, token: tok.AccessToken}
}

// expectAuth0Error checks the Management API's error shape.
func (r apiResponse) expectAuth0Error(t *testing.T, status int, errorCode string) {
	t.Helper()
	r.expect(t, status, errorCode)
	if r.body["statusCode"] != float64(status) || r.body["error"] != http.StatusText(status) || r.body["message"] == "" {
		t.Errorf("not Auth0's error shape: %s", r.raw)
	}
}

var escapedSubject = url.PathEscape(auth0Subject)

// A backend reads an imported user the way Auth0 answered it: by their Auth0
// user_id or email, with their metadata and identity.
func TestManagementAPIReadsUsersInAuth0Shape(t *testing.T) {
	h := newHarness(t)
	c := h.newManagementClient(t, "backend", "read:users")
	h.importFromAuth0(t, `{"user_id":"`+auth0Subject+`","email":"Imp@Example.com","email_verified":true,"name":"Imp Orted",`+
		`"created_at":"2021-06-25T10:00:00.000Z","user_metadata":{"theme":"dark"},"app_metadata":{"plan":"pro"}}`+"\n")

	r := c.call(t, "GET", "/api/v2/users/"+escapedSubject, "")
	r.expect(t, http.StatusOK, "")
	ids, _ := r.body["identities"].([]any)
	id, _ := ids[0].(map[string]any)
	if r.body["user_id"] != auth0Subject || r.body["email"] != "Imp@Example.com" || r.body["email_verified"] != true ||
		r.body["name"] != "Imp Orted" || r.body["created_at"] != "2021-06-25T10:00:00.000Z" ||
		id["provider"] != "auth0" || id["user_id"] != "60d5f1c2a9b3e40068a1b2c3" || id["connection"] != "Username-Password-Authentication" {
		t.Errorf("user: %s", r.raw)
	}
	if um, _ := r.body["user_metadata"].(map[string]any); um["theme"] != "dark" {
		t.Errorf("user_metadata: %s", r.raw)
	}
	if am, _ := r.body["app_metadata"].(map[string]any); am["plan"] != "pro" {
		t.Errorf("app_metadata: %s", r.raw)
	}

	r = c.call(t, "GET", "/api/v2/users/"+escapedSubject+"?fields=user_id,app_metadata&include_fields=true", "")
	if len(r.body) != 2 || r.body["user_id"] != auth0Subject || r.body["app_metadata"] == nil {
		t.Errorf("fields: %s", r.raw)
	}
	r = c.call(t, "GET", "/api/v2/users/"+escapedSubject+"?fields=app_metadata,user_metadata&include_fields=false", "")
	if r.body["app_metadata"] != nil || r.body["user_metadata"] != nil || r.body["email"] == nil {
		t.Errorf("fields excluded: %s", r.raw)
	}

	for _, email := range []string{"Imp@Example.com", "imp@example.com"} {
		status, list := h.v2List(t, c.token, "/api/v2/users-by-email?email="+url.QueryEscape(email))
		if status != 200 || len(list) != 1 || list[0]["user_id"] != auth0Subject {
			t.Errorf("users-by-email %s: %d %v", email, status, list)
		}
	}
	if status, list := h.v2List(t, c.token, "/api/v2/users-by-email?email=nobody%40example.com"); status != 200 || list == nil || len(list) != 0 {
		t.Errorf("users-by-email of nobody: %d %v, want []", status, list)
	}

	for _, q := range []string{`email:"imp@example.com"`, `user_id:"` + auth0Subject + `"`, `email:Imp@Example.com`} {
		r := c.call(t, "GET", "/api/v2/users?search_engine=v3&include_totals=true&q="+url.QueryEscape(q), "")
		users, _ := r.body["users"].([]any)
		if r.status != 200 || r.body["total"] != float64(1) || len(users) != 1 || users[0].(map[string]any)["user_id"] != auth0Subject {
			t.Errorf("q=%s: %d %s", q, r.status, r.raw)
		}
	}
	all := c.call(t, "GET", "/api/v2/users?per_page=1&page=0&include_totals=true", "")
	if all.body["total"] != float64(1) || all.body["limit"] != float64(1) || all.body["start"] != float64(0) {
		t.Errorf("list: %s", all.raw)
	}

	refusals := []struct {
		name, path string
		status     int
		code       string
	}{
		{"unknown user", "/api/v2/users/auth0%7Cnobody", 404, "inexistent_user"},
		{"users-by-email without email", "/api/v2/users-by-email", 400, "invalid_query_string"},
		{"a query Gatehouse cannot run", "/api/v2/users?q=" + url.QueryEscape(`name:"x" AND email:"y"`), 400, "invalid_query_string"},
		{"another search engine", "/api/v2/users?search_engine=v2&q=email%3Ax", 400, "invalid_query_string"},
		{"per_page over 100", "/api/v2/users?per_page=101", 400, "invalid_query_string"},
		{"past the first 1000", "/api/v2/users?per_page=100&page=10", 400, "invalid_query_string"},
		{"a path outside the subset", "/api/v2/roles", 404, "not_found"},
	}
	for _, tt := range refusals {
		t.Run(tt.name, func(t *testing.T) {
			c.call(t, "GET", tt.path, "").expectAuth0Error(t, tt.status, tt.code)
		})
	}
}

// PATCH merges metadata as Auth0 does, and refuses what Gatehouse would not
// keep, changing nothing.
func TestManagementAPIPatchesMetadataAsAuth0Does(t *testing.T) {
	h := newHarness(t)
	c := h.newManagementClient(t, "backend", "read:users", "update:users")
	imported := h.importFromAuth0(t, `{"user_id":"`+auth0Subject+`","email":"imp@example.com",`+
		`"user_metadata":{"theme":"dark","lang":"en"},"app_metadata":{"plan":"pro","flags":{"beta":true,"new_ui":true}}}`+"\n")[0]
	path := "/api/v2/users/" + escapedSubject

	r := c.call(t, "PATCH", path, `{"user_metadata":{"lang":"fr","theme":null},"app_metadata":{"flags":{"beta":false}}}`)
	r.expect(t, http.StatusOK, "")
	if r.body["user_id"] != auth0Subject {
		t.Errorf("PATCH answered %s", r.raw)
	}
	u, err := h.accounts.User(context.Background(), imported.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !sameJSON(t, u.UserMetadata, `{"lang":"fr"}`) || !sameJSON(t, u.AppMetadata, `{"plan":"pro","flags":{"beta":false}}`) {
		t.Errorf("after merge: %s %s", u.UserMetadata, u.AppMetadata)
	}
	if e := h.lastAudit(t, account.EventMetadataChanged); !strings.Contains(e.Details, "api:backend") {
		t.Errorf("audit: %s", e.Details)
	}

	big := `{"user_metadata":{"notes":"` + strings.Repeat("x", account.MaxMetadataSize) + `"}}`
	refusals := []struct {
		name, body, code, words string
		status                  int
	}{
		{"oversized metadata", big, "invalid_body", "at most 16384", 400},
		{"metadata that is not an object", `{"app_metadata":["admin"]}`, "invalid_body", "must be a JSON object", 400},
		{"a dotted key", `{"app_metadata":{"roles.admin":true}}`, "invalid_body", `"roles.admin"`, 400},
		{"a property Gatehouse does not change", `{"password":"hunter2"}`, "invalid_body", "Additional properties not allowed: password", 400},
		{"not JSON", `{"user_metadata":`, "invalid_body", "must be a JSON object", 400},
		{"blocked that is not a boolean", `{"blocked":"yes"}`, "invalid_body", "'blocked' must be true or false", 400},
	}
	for _, tt := range refusals {
		t.Run(tt.name, func(t *testing.T) {
			r := c.call(t, "PATCH", path, tt.body)
			r.expectAuth0Error(t, tt.status, tt.code)
			if msg, _ := r.body["message"].(string); !strings.Contains(msg, tt.words) {
				t.Errorf("message %q lacks %q", msg, tt.words)
			}
		})
	}
	after, err := h.accounts.User(context.Background(), imported.ID)
	if err != nil {
		t.Fatal(err)
	}
	if string(after.UserMetadata) != string(u.UserMetadata) || string(after.AppMetadata) != string(u.AppMetadata) {
		t.Errorf("a refused PATCH changed metadata: %s %s", after.UserMetadata, after.AppMetadata)
	}

	c.call(t, "PATCH", path, `{"user_metadata":{}}`).expect(t, http.StatusOK, "")
	r = c.call(t, "PATCH", path, `{"blocked":true}`)
	if r.status != 200 || r.body["blocked"] != true || fmt.Sprint(r.body["user_metadata"]) != "map[]" {
		t.Errorf("clear and block: %s", r.raw)
	}
}

// Two backends patching different keys of one user at once both keep their
// change: the merge reads and writes under the user's row lock.
func TestManagementAPIConcurrentPatchesBothApply(t *testing.T) {
	h := newHarness(t)
	c := h.newManagementClient(t, "backend", "update:users")
	imported := h.importFromAuth0(t, `{"user_id":"`+auth0Subject+`","email":"imp@example.com"}`+"\n")[0]
	const n = 8
	var wg sync.WaitGroup
	statuses := make([]int, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			statuses[i] = h.apiCallStatus(c.token, "PATCH", "/api/v2/users/"+escapedSubject, fmt.Sprintf(`{"app_metadata":{"k%d":%d}}`, i, i))
		}()
	}
	wg.Wait()
	for i, s := range statuses {
		if s != http.StatusOK {
			t.Errorf("PATCH %d: %d", i, s)
		}
	}
	u, err := h.accounts.User(context.Background(), imported.ID)
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if !strings.Contains(string(u.AppMetadata), fmt.Sprintf(`"k%d": %d`, i, i)) {
			t.Errorf("k%d was lost: %s", i, u.AppMetadata)
		}
	}
}

// v2List makes a GET whose answer is a JSON array of users.
func (h *harness) v2List(t *testing.T, token, path string) (int, []map[string]any) {
	t.Helper()
	req, err := http.NewRequest("GET", h.srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var list []map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&list); err != nil {
		t.Fatalf("GET %s: %d, not a JSON array: %v", path, resp.StatusCode, err)
	}
	return resp.StatusCode, list
}

// apiCallStatus makes a call from another goroutine, where t.Fatal must not
// be used, and returns its status (0 when it could not be made).
func (h *harness) apiCallStatus(token, method, path, body string) int {
	req, err := http.NewRequest(method, h.srv.URL+path, strings.NewReader(body))
	if err != nil {
		return 0
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

// Only a machine client's token for the Management API with the scope the
// call needs, and still granted, gets through.
func TestManagementAPIRefusesTheWrongTokens(t *testing.T) {
	h := newHarness(t)
	imported := h.importFromAuth0(t, `{"user_id":"`+auth0Subject+`","email":"imp@example.com","app_metadata":{"plan":"pro"}}`+"\n")[0]
	path := "/api/v2/users/" + escapedSubject
	patch := `{"app_metadata":{"plan":"free"}}`

	reader := h.newManagementClient(t, "reader", "read:users")
	reader.call(t, "GET", path, "").expect(t, http.StatusOK, "")
	reader.call(t, "PATCH", path, patch).expectAuth0Error(t, http.StatusForbidden, "insufficient_scope")

	// The admin API is another audience, even with the same scope names.
	admin := h.newAPIClient(t, "admin-tool", "read:users", "update:users")
	admin.call(t, "PATCH", path, patch).expectAuth0Error(t, http.StatusUnauthorized, "invalid_audience")

	// A user's own login token for the Management API's audience.
	spa := h.newSPA(t)
	b := signedInBrowser(t, h)
	f := newFlow()
	q := callback(t, h.do(b, "GET", spa.authURL(f, oauth2.SetAuthURLParam("audience", h.server.ManagementAudience())), nil))
	userTok, err := spa.cfg.Exchange(context.Background(), q.Get("code"), oauth2.VerifierOption(f.verifier))
	if err != nil {
		t.Fatal(err)
	}
	h.apiCall(t, userTok.AccessToken, "PATCH", path, patch).expectAuth0Error(t, http.StatusForbidden, "machine_only")
	h.apiCall(t, userTok.AccessToken, "GET", path, "").expectAuth0Error(t, http.StatusForbidden, "machine_only")

	h.apiCall(t, "", "GET", path, "").expectAuth0Error(t, http.StatusUnauthorized, "missing_token")
	h.apiCall(t, "not-a-token", "GET", path, "").expectAuth0Error(t, http.StatusUnauthorized, "invalid_token")

	// A grant taken away takes the token's power with it at once.
	writer := h.newManagementClient(t, "writer", "read:users", "update:users")
	api, err := h.st.APIByIdentifier(context.Background(), h.server.ManagementAudience())
	if err != nil {
		t.Fatal(err)
	}
	if err := h.st.SetGrant(context.Background(), clients.Grant{ClientID: "writer", APIID: api.ID, Scopes: []string{"read:users"}}); err != nil {
		t.Fatal(err)
	}
	writer.call(t, "PATCH", path, patch).expectAuth0Error(t, http.StatusForbidden, "insufficient_scope")

	u, err := h.accounts.User(context.Background(), imported.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !sameJSON(t, u.AppMetadata, `{"plan":"pro"}`) {
		t.Errorf("a refused caller changed the metadata: %s", u.AppMetadata)
	}
	scopes, err := h.st.APIScopes(context.Background(), api.ID)
	if err != nil {
		t.Fatal(err)
	}
	var values []string
	for _, s := range scopes {
		values = append(values, s.Value)
	}
	if !slices.Equal(values, []string{"read:users", "update:users"}) {
		t.Errorf("the Management API's scopes are %v", values)
	}
}

// The Management API is Gatehouse's own: its scopes are fixed and it cannot
// be deleted, so no admin breaks the backends that call it by accident.
func TestTheManagementAPIIsBuiltIn(t *testing.T) {
	h := newHarness(t)
	c := h.newAPIClient(t, "ops", "read:apis", "update:apis", "delete:apis")
	api, err := h.st.APIByIdentifier(context.Background(), h.server.ManagementAudience())
	if err != nil {
		t.Fatal(err)
	}
	r := c.call(t, "GET", "/api/admin/apis/"+api.ID, "")
	if r.status != http.StatusOK || r.body["built_in"] != true {
		t.Errorf("GET: %s", r.raw)
	}
	c.call(t, "PUT", "/api/admin/apis/"+api.ID+"/scopes", `{"scopes":[{"value":"read:users"}]}`).expect(t, http.StatusConflict, "built_in")
	c.call(t, "DELETE", "/api/admin/apis/"+api.ID, "").expect(t, http.StatusConflict, "built_in")
	if _, err := h.st.APIByIdentifier(context.Background(), h.server.ManagementAudience()); err != nil {
		t.Errorf("the Management API is gone: %v", err)
	}
}
