package server_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"
	"golang.org/x/oauth2"

	"github.com/gatehouse-id/gatehouse/account"
	"github.com/gatehouse-id/gatehouse/roles"
)

// Attacks on the Management API, subjects, custom claims and branding. Each
// test states the safe behaviour.

// A user_id is the one user whose subject it is. An imported user whose
// Auth0 user_id happens to be shaped like another user's Gatehouse id (here
// the same UUID in capitals, which the subjects' unique index does not
// catch) must be refused at import, or be the user that user_id names: a
// backend reading or patching "its" user must never reach someone else.
func TestAttack4AnImportedUserIDShapedLikeAnotherUsersIDNamesNoOneElse(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	h.signUp(h.browser(), "victim@example.com")
	victim, err := h.accounts.UserByEmail(ctx, "victim@example.com")
	if err != nil {
		t.Fatal(err)
	}
	lookalike := strings.ToUpper(victim.ID)
	imported, err := h.accounts.ImportUser(ctx, account.Imported{Email: "imp@example.com", Source: "auth0",
		ExternalID: lookalike}, account.Meta{})
	if errors.Is(err, account.ErrInvalidSubject) {
		return // refused at import: safe
	}
	if err != nil {
		t.Fatal(err)
	}
	if imported.Subject != lookalike {
		t.Fatalf("imported subject %q, want %q", imported.Subject, lookalike)
	}

	c := h.newManagementClient(t, "backend", "read:users", "update:users")
	r := c.call(t, "GET", "/api/v2/users/"+url.PathEscape(lookalike), "")
	r.expect(t, http.StatusOK, "")
	if r.body["email"] != "imp@example.com" {
		t.Errorf("GET /api/v2/users/%s answered %v, not the user whose user_id it is", lookalike, r.body["email"])
	}
	c.call(t, "PATCH", "/api/v2/users/"+url.PathEscape(lookalike), `{"app_metadata":{"plan":"pwned"}}`)
	after, err := h.accounts.User(ctx, victim.ID)
	if err != nil {
		t.Fatal(err)
	}
	if sameJSON(t, after.AppMetadata, `{"plan":"pwned"}`) {
		t.Errorf("a PATCH naming the imported user's user_id changed another user's metadata")
	}
}

// A user's subject never takes the shape of a machine-to-machine token's
// ("<client id>@clients"): APIs, and Gatehouse's own admin and Management
// APIs, tell a machine's token from a person's by it. Either the import
// refuses such a user_id, or the person's login token is still refused as
// not a machine's.
func TestAttack4AnImportedSubjectCannotPoseAsAMachine(t *testing.T) {
	h := newHarness(t)
	spa := h.newSPA(t)
	hash, err := bcrypt.GenerateFromPassword([]byte(goodPassword), 4)
	if err != nil {
		t.Fatal(err)
	}
	machineLike := spaID + "@clients"
	_, err = h.accounts.ImportUser(context.Background(), account.Imported{Email: "imp@example.com", Source: "auth0",
		PasswordHash: string(hash), ExternalID: machineLike}, account.Meta{})
	if errors.Is(err, account.ErrInvalidSubject) {
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Errorf("import with user_id %q: accepted, want ErrInvalidSubject", machineLike)

	b := h.browser()
	h.logIn(b, "imp@example.com", goodPassword).expectRedirect(t, "/account")
	f := newFlow()
	q := callback(t, h.do(b, "GET", spa.authURL(f, oauth2.SetAuthURLParam("audience", h.server.ManagementAudience())), nil))
	tok, err := spa.cfg.Exchange(context.Background(), q.Get("code"), oauth2.VerifierOption(f.verifier))
	if err != nil {
		t.Fatal(err)
	}
	if sub := jwtPayload(t, tok.AccessToken)["sub"]; sub != machineLike {
		t.Fatalf("sub %v", sub)
	}
	r := h.apiCall(t, tok.AccessToken, "GET", "/api/v2/users/"+url.PathEscape(machineLike), "")
	if r.body["errorCode"] != "machine_only" {
		t.Errorf("a person's login token got past the machine-only check: %d %s", r.status, r.raw)
	}
}

// Like the admin API, the Management API takes machine tokens only: roles
// do not apply to it, so RBAC cannot be switched on for it and no role can
// hand users read:users or update:users.
func TestAttack4RolesCannotReachTheManagementAPI(t *testing.T) {
	h := newHarness(t)
	c := h.newAPIClient(t, "ops", "read:apis", "update:apis")
	api, err := h.st.APIByIdentifier(context.Background(), h.server.ManagementAudience())
	if err != nil {
		t.Fatal(err)
	}
	c.call(t, "PUT", "/api/admin/apis/"+api.ID+"/rbac", `{"enforce":true,"token_permissions":true}`).
		expect(t, http.StatusConflict, "built_in")
}

// PATCH /api/v2/users/{id} changes metadata, blocked and email_verified
// only; identity and privilege fields are refused and nothing changes.
func TestAttack4ManagementAPIPatchesNoIdentityOrPrivilege(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	imported := h.importFromAuth0(t, `{"user_id":"`+auth0Subject+`","email":"imp@example.com"}`+"\n")[0]
	c := h.newManagementClient(t, "backend", "read:users", "update:users")
	path := "/api/v2/users/" + escapedSubject
	for _, body := range []string{
		`{"email":"attacker@example.com"}`,
		`{"password":"Sw0rdfish-Sw0rdfish"}`,
		`{"user_id":"auth0|000000000000000000000000"}`,
		`{"subject":"auth0|000000000000000000000000"}`,
		`{"admin":true}`,
		`{"app_metadata":{"plan":"x"},"admin":true}`,
		`{"email_verified":"true"}`,
	} {
		r := c.call(t, "PATCH", path, body)
		if r.status != http.StatusBadRequest {
			t.Errorf("PATCH %s: %d %s, want 400", body, r.status, r.raw)
		}
	}
	u, err := h.accounts.User(ctx, imported.ID)
	if err != nil {
		t.Fatal(err)
	}
	if u.Email != "imp@example.com" || u.Subject != auth0Subject || u.Admin || !sameJSON(t, u.AppMetadata, `{}`) {
		t.Errorf("a refused PATCH changed the user: %+v", u)
	}
}

// Metadata keys that a path or a query language would read specially, deep
// nesting and oversized values are refused whole.
func TestAttack4ManagementAPIRefusesMetadataAbuse(t *testing.T) {
	h := newHarness(t)
	imported := h.importFromAuth0(t, `{"user_id":"`+auth0Subject+`","email":"imp@example.com","user_metadata":{"theme":"dark"}}`+"\n")[0]
	c := h.newManagementClient(t, "backend", "update:users")
	path := "/api/v2/users/" + escapedSubject
	deep := strings.Repeat(`{"a":`, 12) + `1` + strings.Repeat(`}`, 12)
	huge := `{"blob":"` + strings.Repeat("x", 17<<10) + `"}`
	for _, md := range []string{
		`{"$where":"1"}`,
		`{"a.b":"c"}`,
		`{"prefs":{"$set":1}}`,
		`{"":1}`,
		deep,
		huge,
		`[1,2]`,
		`"text"`,
	} {
		r := c.call(t, "PATCH", path, `{"user_metadata":`+md+`}`)
		if r.status != http.StatusBadRequest && r.status != http.StatusRequestEntityTooLarge {
			t.Errorf("user_metadata %.60s: %d %.200s, want a refusal", md, r.status, r.raw)
		}
	}
	u, err := h.accounts.User(context.Background(), imported.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !sameJSON(t, u.UserMetadata, `{"theme":"dark"}`) {
		t.Errorf("refused patches changed user_metadata: %s", u.UserMetadata)
	}
}

// A user_id is matched exactly: not in another case, not double-encoded,
// not padded with a wildcard.
func TestAttack4ManagementAPIMatchesUserIDsExactly(t *testing.T) {
	h := newHarness(t)
	h.importFromAuth0(t, `{"user_id":"`+auth0Subject+`","email":"imp@example.com"}`+"\n")
	c := h.newManagementClient(t, "backend", "read:users")
	for _, id := range []string{
		url.PathEscape(strings.ToUpper(auth0Subject)),
		url.PathEscape(url.PathEscape(auth0Subject)),
		url.PathEscape("auth0|60d5f1c2a9b3e40068a1b2c%"),
		url.PathEscape("auth0|*"),
		"auth0",
	} {
		c.call(t, "GET", "/api/v2/users/"+id, "").expect(t, http.StatusNotFound, "inexistent_user")
	}
	for _, q := range []string{`user_id:"auth0|*"`, `user_id:auth0|60d5f1c2a9b3e40068a1b2c%`, `email:"%@example.com"`, `email:*`} {
		r := c.call(t, "GET", "/api/v2/users?include_totals=true&q="+url.QueryEscape(q), "")
		if r.status == http.StatusOK && r.body["total"] != float64(0) {
			t.Errorf("q=%s found someone: %s", q, r.raw)
		}
	}
}

// A custom claim never takes a registered claim's name, whatever its spelling.
func TestAttack4CustomClaimsCannotTakeRegisteredNames(t *testing.T) {
	h := newHarness(t)
	h.newSPA(t)
	c := h.newAPIClient(t, "ops", "read:clients", "update:clients")
	for _, name := range []string{"sub", "aud", "iss", "scope", "permissions", "azp", "https:sub", "https:///sub",
		"javascript://x/", "https://user@example.com/x", "https://example.com/x#sub", "https://example.com/x?y", ""} {
		body := `{"claims":[{"claim":"` + name + `","source":"user_metadata.role","token":"both"}]}`
		c.call(t, "PUT", "/api/admin/clients/"+spaID+"/claims", body).expect(t, http.StatusBadRequest, "")
	}
	r := c.call(t, "GET", "/api/admin/clients/"+spaID+"/claims", "")
	if claims, _ := r.body["claims"].([]any); r.status != http.StatusOK || len(claims) != 0 {
		t.Errorf("claims after refusals: %s", r.raw)
	}
}

// The brand stylesheet's content is its address, colours only: nothing
// else reaches the CSS.
func TestAttack4BrandStylesheetTakesHexColoursOnly(t *testing.T) {
	h := newHarness(t)
	b := h.browser()
	for _, q := range []string{
		"primary=" + url.QueryEscape("1d4ed8;}body{background:url(https://evil.example/x)}"),
		"primary=" + url.QueryEscape("1d4ed8\n"),
		"primary=" + url.QueryEscape(" 1d4ed8"),
		"primary=red",
		"primary=15c",
		"background=" + url.QueryEscape("</style><script>alert(1)</script>"),
		"scope=" + url.QueryEscape("x{}body"),
	} {
		if r := h.do(b, "GET", "/branding/style.css?"+q, nil); r.status != http.StatusBadRequest {
			t.Errorf("style.css?%s: %d %.200s, want 400", q, r.status, r.body)
		}
	}
}

// A brand's name and logo link hold no script, markup or CSP-breaking text.
func TestAttack4BrandingRefusesScriptableValues(t *testing.T) {
	h := newHarness(t)
	h.newSPA(t)
	c := h.newAPIClient(t, "ops", "read:clients", "update:clients")
	path := "/api/admin/clients/" + spaID + "/branding"
	for _, body := range []string{
		`{"logo_url":"javascript:alert(1)"}`,
		`{"logo_url":"data:image/svg+xml,<svg onload=alert(1)>"}`,
		`{"logo_url":"http://cdn.example.com/logo.png"}`,
		`{"logo_url":"https://cdn.example.com/a.png\"onerror=alert(1)"}`,
		`{"logo_url":"https://cdn.example.com;script-src *"}`,
		`{"logo_url":"https://*.example.com/logo.png"}`,
		`{"logo_url":"https://127.0.0.1 'unsafe-inline'/x.png"}`,
		`{"name":"Acme\n<script>alert(1)</script>"}`,
		`{"primary_color":"red;}*{x:y"}`,
		`{"background_color":"#fff;}"}`,
	} {
		if r := c.call(t, "PATCH", path, body); r.status != http.StatusBadRequest {
			t.Errorf("PATCH %s: %d %s, want 400", body, r.status, r.raw)
		}
	}
	svg := `<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`
	for _, ct := range []string{"image/png", "image/svg+xml", "image/webp"} {
		req, err := http.NewRequest("PUT", h.srv.URL+path+"/logo", strings.NewReader(svg))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+c.token)
		req.Header.Set("Content-Type", ct)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode < 400 || resp.StatusCode >= 500 {
			t.Errorf("SVG uploaded as %s: %d, want a refusal", ct, resp.StatusCode)
		}
	}
}

// A refresh cannot widen a token: neither a scope the user does not hold,
// nor another API's audience (whose permissions the user does hold), nor a
// scope of the Management API.
func TestAttack4ARefreshCannotWidenTheToken(t *testing.T) {
	w := newRBACWorld(t)
	w.settings(t, true, true)
	tok, _ := w.tokenFor(t, "openid offline_access read:messages")
	for _, extra := range []url.Values{
		{"scope": {"openid offline_access read:messages write:messages"}},
		{"scope": {"openid offline_access read:invoices"}, "audience": {billingAudience}},
		{"audience": {billingAudience}},
		{"scope": {"openid offline_access read:users update:users"}, "audience": {w.h.server.ManagementAudience()}},
	} {
		form := url.Values{"grant_type": {"refresh_token"}, "client_id": {spaID}, "refresh_token": {tok.RefreshToken}}
		for k, v := range extra {
			form[k] = v
		}
		status, body, _ := w.h.tokenRequest(t, form)
		if status != http.StatusOK {
			continue // refused: safe
		}
		tok.RefreshToken = body["refresh_token"].(string)
		claims := jwtPayload(t, body["access_token"].(string))
		scopes := strings.Fields(claims["scope"].(string))
		for _, s := range []string{"write:messages", "read:invoices", "read:users", "update:users"} {
			if slices.Contains(scopes, s) {
				t.Errorf("refresh with %v granted %s: %v", extra, s, claims)
			}
		}
		if got := permissionsOf(t, claims); !slices.Equal(got, []string{"read:messages"}) {
			t.Errorf("refresh with %v: permissions %v", extra, got)
		}
		if aud := audiencesOf(claims); slices.Contains(aud, billingAudience) || slices.Contains(aud, w.h.server.ManagementAudience()) {
			t.Errorf("refresh with %v: aud %v", extra, aud)
		}
	}
}

// A user's token for the Management API's audience never carries a
// Management API scope: roles reach it no more than the admin API.
func TestAttack4AUserTokenCarriesNoManagementScope(t *testing.T) {
	w := newRBACWorld(t)
	ctx := context.Background()
	api, err := w.h.st.APIByIdentifier(ctx, w.h.server.ManagementAudience())
	if err != nil {
		t.Fatal(err)
	}
	by := account.Actor{Name: "test"}
	if err := w.roles.SetAPISettings(ctx, roles.Settings{APIID: api.ID, Enforce: true, TokenPermissions: true}, by, account.Meta{}); err != nil {
		return // refused: safe
	}
	_, err = w.roles.SetPermissions(ctx, w.role.ID, []roles.Permission{{Audience: w.h.server.ManagementAudience(), Value: "update:users"}}, by, account.Meta{})
	if err != nil {
		return // refused: safe
	}
	f := newFlow()
	q := callback(t, w.h.do(w.b, "GET", w.spa.authURL(f, oauth2.SetAuthURLParam("audience", w.h.server.ManagementAudience()),
		oauth2.SetAuthURLParam("scope", "openid update:users")), nil))
	tok, err := w.spa.cfg.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(f.verifier))
	if err != nil {
		return // refused: safe
	}
	claims := jwtPayload(t, tok.AccessToken)
	if strings.Contains(claims["scope"].(string), "update:users") || slices.Contains(toStrings(claims["permissions"]), "update:users") {
		t.Errorf("a user's token carries the Management API's update:users: %v", claims)
	}
}

func audiencesOf(claims map[string]any) []string {
	switch aud := claims["aud"].(type) {
	case string:
		return []string{aud}
	case []any:
		return toStrings(aud)
	}
	return nil
}
