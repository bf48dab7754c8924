package server_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/gatehouse-id/gatehouse/account"
	"github.com/gatehouse-id/gatehouse/clients"
	"github.com/gatehouse-id/gatehouse/mfa"
	"github.com/gatehouse-id/gatehouse/settings"
)

// apiClient is a machine-to-machine application granted admin API scopes.
type apiClient struct {
	h      *harness
	id     string
	secret string
	token  string
}

// newAPIClient creates an m2m application, grants it scopes of the admin
// API, and fetches a token with golang.org/x/oauth2's client credentials.
func (h *harness) newAPIClient(t *testing.T, id string, scopes ...string) *apiClient {
	t.Helper()
	ctx := context.Background()
	secret, hash := clients.NewSecret()
	if err := h.st.CreateClient(ctx, clients.Client{ID: id, Name: "Deploy " + id, Type: clients.M2M, SecretHash: hash}); err != nil {
		t.Fatal(err)
	}
	api, err := h.st.APIByIdentifier(ctx, h.server.AdminAudience())
	if err != nil {
		t.Fatal(err)
	}
	if err := h.st.SetGrant(ctx, clients.Grant{ClientID: id, APIID: api.ID, Scopes: scopes}); err != nil {
		t.Fatal(err)
	}
	cc := clientcredentials.Config{ClientID: id, ClientSecret: secret, TokenURL: h.issuer + "oauth/token",
		EndpointParams: map[string][]string{"audience": {h.server.AdminAudience()}}}
	tok, err := cc.Token(ctx)
	if err != nil {
		t.Fatalf("client credentials for %s: %v", id, err)
	}
	return &apiClient{h: h, id: id, secret: secret, token: tok.AccessToken}
}

// tokenFor asks the token endpoint for a client-credentials token of this
// application for audience, with scope (empty: none named).
func (c *apiClient) tokenFor(t *testing.T, audience, scope string) (int, map[string]any) {
	t.Helper()
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {c.id}, "client_secret": {c.secret}, "audience": {audience}}
	if scope != "" {
		form.Set("scope", scope)
	}
	status, body, _ := c.h.tokenRequest(t, form)
	return status, body
}

type apiResponse struct {
	status int
	header http.Header
	body   map[string]any
	raw    string
}

func (c *apiClient) call(t *testing.T, method, path, body string) apiResponse {
	t.Helper()
	return c.h.apiCall(t, c.token, method, path, body)
}

func (h *harness) apiCall(t *testing.T, token, method, path, body string) apiResponse {
	t.Helper()
	req, err := http.NewRequest(method, h.srv.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	r := apiResponse{status: resp.StatusCode, header: resp.Header, raw: string(b)}
	if len(b) > 0 { // 204 has no body
		if err := json.Unmarshal(b, &r.body); err != nil {
			t.Fatalf("%s %s: %d %q: %v", method, path, resp.StatusCode, b, err)
		}
	}
	return r
}

func (r apiResponse) expect(t *testing.T, status int, errorCode string) {
	t.Helper()
	if r.status != status || (errorCode != "" && r.body["errorCode"] != errorCode) {
		t.Fatalf("got %d %s, want %d %s", r.status, r.raw, status, errorCode)
	}
	if status != http.StatusNoContent && r.header.Get("Content-Type") != "application/json" {
		t.Errorf("Content-Type %q", r.header.Get("Content-Type"))
	}
}

func TestAdminAPIRefusesCallersWithoutTheRightToken(t *testing.T) {
	h := newHarness(t)
	reader := h.newAPIClient(t, "reader", "read:settings")

	h.apiCall(t, "", "GET", "/api/admin/settings", "").expect(t, 401, "missing_token")
	h.apiCall(t, "forged", "GET", "/api/admin/settings", "").expect(t, 401, "invalid_token")
	reader.call(t, "PATCH", "/api/admin/settings", `{"mfa_policy":"always"}`).expect(t, 403, "insufficient_scope")
	reader.call(t, "GET", "/api/admin/logs", "").expect(t, 403, "insufficient_scope")
	reader.call(t, "GET", "/api/admin/settings", "").expect(t, 200, "")
	reader.call(t, "GET", "/api/admin/nothing-here", "").expect(t, 404, "not_found")

	// A token for another API does not open the admin API.
	if _, err := h.st.CreateAPI(context.Background(), clients.API{Identifier: apiAudience, Name: "Example API", TokenLifetime: apiTokenLifetime}); err != nil {
		t.Fatal(err)
	}
	status, body := reader.tokenFor(t, apiAudience, "")
	if status != 200 {
		t.Fatalf("token for another API: %d %v", status, body)
	}
	h.apiCall(t, body["access_token"].(string), "GET", "/api/admin/settings", "").expect(t, 401, "invalid_audience")

	// Taking the grant away takes effect before the token expires.
	api, err := h.st.APIByIdentifier(context.Background(), h.server.AdminAudience())
	if err != nil {
		t.Fatal(err)
	}
	if err := h.st.DeleteGrant(context.Background(), "reader", api.ID); err != nil {
		t.Fatal(err)
	}
	reader.call(t, "GET", "/api/admin/settings", "").expect(t, 403, "insufficient_scope")
}

func TestMachineClientsGetOnlyGrantedAdminScopes(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	secret, hash := clients.NewSecret()
	if err := h.st.CreateClient(ctx, clients.Client{ID: "nogrant", Name: "No grant", Type: clients.M2M, SecretHash: hash}); err != nil {
		t.Fatal(err)
	}
	status, body, _ := h.tokenRequest(t, url.Values{"grant_type": {"client_credentials"}, "client_id": {"nogrant"},
		"client_secret": {secret}, "audience": {h.server.AdminAudience()}})
	if status != 403 || body["error"] != "access_denied" || !strings.Contains(body["error_description"].(string), "grant") {
		t.Fatalf("without a grant: %d %v", status, body)
	}

	logs := h.newAPIClient(t, "logs", "read:logs")
	status, body = logs.tokenFor(t, h.server.AdminAudience(), "read:logs update:settings")
	if status != 400 || body["error"] != "invalid_scope" {
		t.Fatalf("asking for a scope outside the grant: %d %v", status, body)
	}
	status, body = logs.tokenFor(t, h.server.AdminAudience(), "")
	if status != 200 || body["scope"] != "read:logs" {
		t.Fatalf("no scope asked: %d %v, want all granted scopes", status, body)
	}
}

func TestAdminAPISettingsRoundTrip(t *testing.T) {
	h := newHarness(t)
	c := h.newAPIClient(t, "deploy", "read:settings", "update:settings", "read:logs")

	r := c.call(t, "PATCH", "/api/admin/settings", `{"mfa_policy":"sometimes","plivo_src":"12345","sms_limit_global_hour":"-3"}`)
	r.expect(t, 400, "invalid_setting")
	fields, _ := r.body["fields"].(map[string]any)
	for _, k := range []string{"mfa_policy", "plivo_src", "sms_limit_global_hour"} {
		if fields[k] == nil {
			t.Errorf("no field error for %s: %s", k, r.raw)
		}
	}
	c.call(t, "PATCH", "/api/admin/settings", `{"mfa_policy": 3}`).expect(t, 400, "invalid_body")
	c.call(t, "PATCH", "/api/admin/settings", `{"mfa_policy":"always"} trailing`).expect(t, 400, "invalid_body")
	c.call(t, "PATCH", "/api/admin/settings", `{"webhook_secret":""}`).expect(t, 400, "invalid_setting")
	c.call(t, "PATCH", "/api/admin/settings", `{"mfa_policy":"`+strings.Repeat("a", 70<<10)+`"}`).expect(t, 413, "body_too_large")

	const secret = "a-webhook-secret-of-at-least-32-characters"
	r = c.call(t, "PATCH", "/api/admin/settings", `{"mfa_policy":"adaptive","sms_provider":"webhook","webhook_url":"https://sms.example.com/send","webhook_secret":"`+secret+`"}`)
	r.expect(t, 200, "")
	if strings.Contains(r.raw, secret) {
		t.Error("the answer holds the secret")
	}
	values := map[string]any{}
	for _, s := range r.body["settings"].([]any) {
		m := s.(map[string]any)
		values[m["key"].(string)] = m["value"]
		if m["key"] == "webhook_secret" && m["set"] != true {
			t.Error("webhook_secret is not reported as set")
		}
	}
	if values["mfa_policy"] != "adaptive" || values["webhook_url"] != "https://sms.example.com/send" || values["webhook_secret"] != nil {
		t.Errorf("settings after the change: %v", values)
	}

	c.call(t, "PATCH", "/api/admin/settings", `{"mfa_policy":null}`).expect(t, 200, "")
	snap, err := h.settings.Current(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if snap.IsSet(settings.KeyPolicy) {
		t.Error("null did not return the policy to its default")
	}

	logs := c.call(t, "GET", "/api/admin/logs?type=settings.changed", "")
	logs.expect(t, 200, "")
	entries := logs.body["logs"].([]any)
	if len(entries) != 2 || !strings.Contains(logs.raw, `"by": "api:deploy"`) || strings.Contains(logs.raw, secret) {
		t.Errorf("audit entries: %s", logs.raw)
	}
	c.call(t, "GET", "/api/admin/logs?from=yesterday&limit=9000&user_id=42", "").expect(t, 400, "invalid_query")
}

func TestAdminAPIPagesTheLog(t *testing.T) {
	h := newHarness(t)
	c := h.newAPIClient(t, "auditor", "read:logs")
	for i := 0; i < 5; i++ {
		if err := h.st.Record(context.Background(), account.Event{At: h.clock.Now(), Type: "test.event"}); err != nil {
			t.Fatal(err)
		}
	}
	first := c.call(t, "GET", "/api/admin/logs?type=test.&limit=3", "")
	first.expect(t, 200, "")
	next, ok := first.body["next_before"].(float64)
	if len(first.body["logs"].([]any)) != 3 || !ok {
		t.Fatalf("first page: %s", first.raw)
	}
	second := c.call(t, "GET", "/api/admin/logs?type=test.&limit=3&before="+strconv.FormatInt(int64(next), 10), "")
	if len(second.body["logs"].([]any)) != 2 || second.body["next_before"] != nil {
		t.Fatalf("second page: %s", second.raw)
	}
}

func TestAdminAPIApplicationsRoundTrip(t *testing.T) {
	h := newHarness(t)
	c := h.newAPIClient(t, "deploy", "read:clients", "create:clients", "update:clients", "delete:clients", "read:logs")

	r := c.call(t, "POST", "/api/admin/clients", `{"name":"Shop","type":"spa","callbacks":["javascript:alert(1)"]}`)
	r.expect(t, 400, "invalid_client")
	if fields, _ := r.body["fields"].(map[string]any); fields["callbacks"] == nil {
		t.Errorf("no field error for callbacks: %s", r.raw)
	}
	c.call(t, "POST", "/api/admin/clients", `{"name":"Shop","type":"desktop","callbacks":["https://shop.example.com/cb"]}`).expect(t, 400, "invalid_client")

	r = c.call(t, "POST", "/api/admin/clients", `{"name":"Shop","type":"spa","client_id":"shop","callbacks":["https://shop.example.com/cb"],"web_origins":["https://shop.example.com"]}`)
	r.expect(t, 201, "")
	if r.body["client_id"] != "shop" || r.body["client_secret"] != nil {
		t.Fatalf("created SPA: %s", r.raw)
	}
	c.call(t, "POST", "/api/admin/clients", `{"name":"Shop again","type":"spa","client_id":"shop","callbacks":["https://shop.example.com/cb"]}`).expect(t, 409, "duplicate")
	r = c.call(t, "PATCH", "/api/admin/clients/shop", `{"logout_urls":["https://shop.example.com/"],"mfa_policy":"always"}`)
	r.expect(t, 200, "")
	if r.body["mfa_policy"] != "always" || len(r.body["logout_urls"].([]any)) != 1 || len(r.body["callbacks"].([]any)) != 1 {
		t.Errorf("after PATCH: %s", r.raw)
	}
	c.call(t, "PATCH", "/api/admin/clients/shop", `{"type":"web"}`).expect(t, 400, "immutable")
	c.call(t, "PATCH", "/api/admin/clients/shop", `{"web_origins":["https://shop.example.com/path"]}`).expect(t, 400, "invalid_client")
	c.call(t, "POST", "/api/admin/clients/shop/rotate-secret", "").expect(t, 400, "public_client")
	c.call(t, "GET", "/api/admin/clients/nope", "").expect(t, 404, "not_found")

	r = c.call(t, "POST", "/api/admin/clients", `{"name":"Desktop","type":"native","client_id":"desktop","callbacks":["http://127.0.0.1/cb"]}`)
	r.expect(t, 201, "")
	if r.body["type"] != "native" || r.body["client_secret"] != nil {
		t.Fatalf("created native app: %s", r.raw)
	}
	c.call(t, "POST", "/api/admin/clients/desktop/rotate-secret", "").expect(t, 400, "public_client")

	r = c.call(t, "POST", "/api/admin/clients", `{"name":"Cron","type":"m2m","client_id":"cron"}`)
	r.expect(t, 201, "")
	first := &apiClient{h: h, id: "cron", secret: r.body["client_secret"].(string)}
	r = c.call(t, "POST", "/api/admin/clients/cron/rotate-secret", "")
	r.expect(t, 200, "")
	second := &apiClient{h: h, id: "cron", secret: r.body["client_secret"].(string)}

	c.call(t, "PUT", "/api/admin/clients/cron/grants", `{"audience":"`+h.server.AdminAudience()+`","scopes":["read:everything"]}`).expect(t, 400, "invalid_grant")
	c.call(t, "PUT", "/api/admin/clients/shop/grants", `{"audience":"`+h.server.AdminAudience()+`","scopes":["read:logs"]}`).expect(t, 400, "invalid_grant")
	c.call(t, "PUT", "/api/admin/clients/cron/grants", `{"audience":"`+h.server.AdminAudience()+`","scopes":["read:logs"]}`).expect(t, 200, "")
	if status, body := first.tokenFor(t, h.server.AdminAudience(), ""); status != 401 {
		t.Errorf("the rotated-out secret still works: %d %v", status, body)
	}
	if status, body := second.tokenFor(t, h.server.AdminAudience(), ""); status != 200 || body["scope"] != "read:logs" {
		t.Errorf("the new secret with its grant: %d %v", status, body)
	}
	if r := c.call(t, "GET", "/api/admin/clients/cron/grants", ""); !strings.Contains(r.raw, `"read:logs"`) {
		t.Errorf("grants: %s", r.raw)
	}
	c.call(t, "DELETE", "/api/admin/clients/cron/grants?audience="+url.QueryEscape(h.server.AdminAudience()), "").expect(t, 204, "")
	if status, _ := second.tokenFor(t, h.server.AdminAudience(), ""); status != 403 {
		t.Errorf("token after the grant was deleted: %d", status)
	}

	c.call(t, "DELETE", "/api/admin/clients/deploy", "").expect(t, 409, "self")
	c.call(t, "DELETE", "/api/admin/clients/shop", "").expect(t, 204, "")
	c.call(t, "GET", "/api/admin/clients/shop", "").expect(t, 404, "not_found")

	logs := c.call(t, "GET", "/api/admin/logs?type=admin.", "")
	for _, want := range []string{"admin.client_created", "admin.client_updated", "admin.client_secret_rotated", "admin.grant_updated", "admin.grant_deleted", "admin.client_deleted"} {
		if !strings.Contains(logs.raw, `"`+want+`"`) {
			t.Errorf("no %s in the audit log", want)
		}
	}
	if !strings.Contains(logs.raw, `"by": "api:deploy"`) {
		t.Error("the audit log does not name the API caller")
	}
}

func TestAdminAPIAPIsRoundTrip(t *testing.T) {
	h := newHarness(t)
	c := h.newAPIClient(t, "deploy", "read:apis", "create:apis", "update:apis", "delete:apis")

	c.call(t, "POST", "/api/admin/apis", `{"identifier":"has spaces","name":"Bad"}`).expect(t, 400, "invalid_api")
	c.call(t, "POST", "/api/admin/apis", `{"identifier":"billing","name":"Not a URI"}`).expect(t, 400, "invalid_api")
	c.call(t, "POST", "/api/admin/apis", `{"identifier":"https://orders.example.com","name":"Orders","scopes":[{"value":"read orders"}]}`).expect(t, 400, "invalid_api")
	c.call(t, "POST", "/api/admin/apis", `{"identifier":"https://orders.example.com","name":"Orders","token_lifetime_seconds":5}`).expect(t, 400, "invalid_api")
	r := c.call(t, "POST", "/api/admin/apis", `{"identifier":"https://orders.example.com","name":"Orders","token_lifetime_seconds":600,"scopes":[{"value":"read:orders","description":"Read orders"}]}`)
	r.expect(t, 201, "")
	id := r.body["id"].(string)
	c.call(t, "POST", "/api/admin/apis", `{"identifier":"https://orders.example.com","name":"Again"}`).expect(t, 409, "duplicate")
	c.call(t, "PATCH", "/api/admin/apis/"+id, `{"identifier":"https://other.example.com"}`).expect(t, 400, "immutable")
	c.call(t, "PATCH", "/api/admin/apis/"+id, `{"token_lifetime_seconds":1}`).expect(t, 400, "invalid_api")
	if r := c.call(t, "PATCH", "/api/admin/apis/"+id, `{"name":"Orders v2","token_lifetime_seconds":900}`); r.body["name"] != "Orders v2" || r.body["token_lifetime_seconds"] != float64(900) {
		t.Errorf("after PATCH: %s", r.raw)
	}
	r = c.call(t, "PUT", "/api/admin/apis/"+id+"/scopes", `[{"value":"read:orders"},{"value":"write:orders","description":"Place orders"}]`)
	r.expect(t, 200, "")
	if len(r.body["scopes"].([]any)) != 2 {
		t.Errorf("scopes after PUT: %s", r.raw)
	}

	list := c.call(t, "GET", "/api/admin/apis", "")
	var adminID string
	for _, a := range list.body["apis"].([]any) {
		if m := a.(map[string]any); m["built_in"] == true {
			adminID = m["id"].(string)
		}
	}
	if adminID == "" {
		t.Fatalf("the admin API is not listed as built in: %s", list.raw)
	}
	c.call(t, "DELETE", "/api/admin/apis/"+adminID, "").expect(t, 409, "built_in")
	c.call(t, "PUT", "/api/admin/apis/"+adminID+"/scopes", `[]`).expect(t, 409, "built_in")
	c.call(t, "DELETE", "/api/admin/apis/"+id, "").expect(t, 204, "")
	c.call(t, "GET", "/api/admin/apis/"+id, "").expect(t, 404, "not_found")
}

func TestAdminAPIUsersRoundTrip(t *testing.T) {
	h := newHarness(t, func(o *options) { o.plivo, o.mail = true, true })
	c := h.newAPIClient(t, "support", "read:users", "update:users", "delete:users", "read:stats", "read:logs")
	ctx := context.Background()
	ann := h.browser()
	h.signUp(ann, "ann@example.com").expectRedirect(t, "/account")
	h.signUp(h.browser(), "bob@example.com").expectRedirect(t, "/account")
	u, err := h.st.UserByEmail(ctx, "ann@example.com")
	if err != nil {
		t.Fatal(err)
	}
	phone, err := mfa.ParsePhone(mobile, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.mfaSvc.EnrollByOperator(ctx, u.ID, phone); err != nil {
		t.Fatal(err)
	}
	admin, err := h.accounts.CreateUser(ctx, "root@example.com", "", goodPassword, true, account.Meta{})
	if err != nil {
		t.Fatal(err)
	}

	for q, want := range map[string]string{"ANN@": "ann@example.com", url.QueryEscape(mobile): "ann@example.com", "bob": "bob@example.com"} {
		r := c.call(t, "GET", "/api/admin/users?q="+q, "")
		if users := r.body["users"].([]any); len(users) != 1 || users[0].(map[string]any)["email"] != want {
			t.Errorf("q=%s: %s", q, r.raw)
		}
	}
	c.call(t, "GET", "/api/admin/users?limit=0", "").expect(t, 400, "invalid_query")

	r := c.call(t, "GET", "/api/admin/users/"+u.ID, "")
	r.expect(t, 200, "")
	if m := r.body["mfa"].(map[string]any); m["phone"] == "" || m["recovery_codes_left"] == nil || len(r.body["sessions"].([]any)) != 1 {
		t.Errorf("user: %s", r.raw)
	}
	c.call(t, "GET", "/api/admin/users/not-a-uuid", "").expect(t, 404, "not_found")
	c.call(t, "PATCH", "/api/admin/users/"+u.ID, `{"email_verified":false}`).expect(t, 400, "invalid_user")
	c.call(t, "PATCH", "/api/admin/users/"+u.ID, `{"role":"admin"}`).expect(t, 400, "invalid_body")

	r = c.call(t, "PATCH", "/api/admin/users/"+u.ID, `{"blocked":true,"email_verified":true}`)
	if r.status != 200 || r.body["blocked"] != true || r.body["email_verified"] != true {
		t.Fatalf("block: %s", r.raw)
	}
	h.do(ann, "GET", "/account", nil).expectRedirect(t, "/login?return_to=%2Faccount")
	c.call(t, "PATCH", "/api/admin/users/"+u.ID, `{"blocked":false}`).expect(t, 200, "")

	c.call(t, "PATCH", "/api/admin/users/"+admin.ID, `{"admin":false}`).expect(t, 409, "last_admin")
	c.call(t, "POST", "/api/admin/users/"+u.ID+"/reset-mfa", "").expect(t, 200, "")
	if _, enrolled, err := h.mfaSvc.Factor(ctx, u.ID); err != nil || enrolled {
		t.Error("reset-mfa kept the phone")
	}
	c.call(t, "POST", "/api/admin/users/"+u.ID+"/revoke-sessions", "").expect(t, 200, "")
	c.call(t, "DELETE", "/api/admin/users/"+u.ID, "").expect(t, 204, "")
	c.call(t, "GET", "/api/admin/users/"+u.ID, "").expect(t, 404, "not_found")

	stats := c.call(t, "GET", "/api/admin/stats", "")
	stats.expect(t, 200, "")
	if _, ok := stats.body["events"].(map[string]any); !ok {
		t.Errorf("stats: %s", stats.raw)
	}
	logs := c.call(t, "GET", "/api/admin/logs?user_id="+u.ID, "")
	for _, want := range []string{"user.blocked", "user.unblocked", "user.email_verified", "mfa.reset", "user.deleted"} {
		if !strings.Contains(logs.raw, `"`+want+`"`) {
			t.Errorf("no %s in the user's log", want)
		}
	}
	if !strings.Contains(logs.raw, `"by": "api:support"`) {
		t.Error("the log does not name the API caller")
	}
}

func TestAdminAPIRefusesUsersTokens(t *testing.T) {
	h := newHarness(t)
	p := h.newSPA(t)
	b := signedInBrowser(t, h)
	f := newFlow()
	q := callback(t, h.do(b, "GET", p.authURL(f, oauth2.SetAuthURLParam("audience", h.server.AdminAudience())), nil))
	tok, err := p.cfg.Exchange(context.Background(), q.Get("code"), oauth2.VerifierOption(f.verifier))
	if err != nil {
		t.Fatal(err)
	}
	h.apiCall(t, tok.AccessToken, "GET", "/api/admin/settings", "").expect(t, http.StatusForbidden, "machine_only")
}
