package server_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"

	"github.com/gatehouse-id/gatehouse/clients"
	"github.com/gatehouse-id/gatehouse/store"
)

// createApp creates an application in the console and returns its client id
// and the page that answered.
func (h *harness) createApp(t *testing.T, admin *http.Client, name, typ string) (string, response) {
	t.Helper()
	r := h.adminPost(t, admin, "/admin/applications", "/admin/applications", url.Values{"name": {name}, "type": {typ}})
	if loc := r.header.Get("Location"); r.status == http.StatusSeeOther {
		return strings.TrimPrefix(loc, "/admin/applications/"), r
	}
	m := regexp.MustCompile(`id="client_id">([^<]+)<`).FindStringSubmatch(r.body)
	if r.status != http.StatusCreated || m == nil {
		t.Fatalf("create %s: %d on %q (alert %q)", typ, r.status, r.screen(), r.alert())
	}
	return m[1], r
}

var secretRE = regexp.MustCompile(`id="client_secret" type="text" class="code" readonly value="([^"]+)"`)

// as is the relying party p playing another client, such as one made in the
// console.
func (p *rp) as(clientID string) *rp {
	c := *p
	c.cfg.ClientID = clientID
	return &c
}

func auditDetails(t *testing.T, h *harness, typ string) []string {
	t.Helper()
	events, err := h.st.AuditEvents(context.Background(), store.AuditFilter{Type: typ})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range events {
		if e.Type == typ {
			out = append(out, e.Details)
		}
	}
	return out
}

func TestAdminCreatesASPAWhoseUsersLogIn(t *testing.T) {
	h := newAdminHarness(t)
	admin := h.adminBrowser(t)
	id, _ := h.createApp(t, admin, "My React App", "spa")

	page := h.do(admin, "GET", "/admin/applications/"+id, nil)
	page.expect(t, http.StatusOK, "admin-applications")
	issuer, err := url.Parse(h.issuer)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`id="domain">` + issuer.Host + "<", `id="issuer">` + h.issuer + "<", `id="client_id">` + id + "<", "Created"} {
		if want == "Created" {
			want = "Application created."
		}
		if !strings.Contains(page.body, want) {
			t.Errorf("the settings page lacks %s", want)
		}
	}
	if list := h.do(admin, "GET", "/admin/applications", nil); !strings.Contains(list.body, id) || !strings.Contains(list.body, "My React App") {
		t.Error("the list does not show the new application")
	}

	h.adminPost(t, admin, "/admin/applications/"+id, "/admin/applications/"+id, url.Values{
		"name": {"My React App"}, "callbacks": {spaCallback + ", https://app.example.com/cb"},
		"logout_urls": {spaOrigin + "/"}, "web_origins": {spaOrigin + "\n"}, "mfa_policy": {""}}).
		expectRedirect(t, "/admin/applications/"+id)
	c, err := h.st.ClientByID(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Callbacks) != 2 || c.WebOrigins[0] != spaOrigin {
		t.Fatalf("stored %+v", c)
	}

	p := h.newSPA(t).as(id)
	tok, _ := p.login(t, signedInBrowser(t, h))
	raw, _ := tok.Extra("id_token").(string)
	if _, err := p.provider.Verifier(&oidc.Config{ClientID: id}).Verify(context.Background(), raw); err != nil {
		t.Fatalf("the ID token for the console's application does not verify: %v", err)
	}

	created, updated := auditDetails(t, h, "admin.client_created"), auditDetails(t, h, "admin.client_updated")
	if len(created) != 1 || !strings.Contains(created[0], `"by": "admin:admin@example.com"`) ||
		len(updated) != 1 || !strings.Contains(updated[0], `"callbacks"`) || !strings.Contains(updated[0], `"by": "admin:admin@example.com"`) {
		t.Errorf("audit: created %v, updated %v", created, updated)
	}
}

func TestAdminCreatesANativeApp(t *testing.T) {
	h := newAdminHarness(t)
	admin := h.adminBrowser(t)
	if list := h.do(admin, "GET", "/admin/applications", nil); !strings.Contains(list.body, `value="native"`) {
		t.Fatal("the create form does not offer the native type")
	}
	id, r := h.createApp(t, admin, "Desktop app", "native")
	if secretRE.MatchString(r.body) {
		t.Fatal("a native app was given a secret")
	}
	c, err := h.st.ClientByID(context.Background(), id)
	if err != nil || c.Type != clients.Native || c.SecretHash != nil {
		t.Fatalf("stored %+v, %v; want a public native client", c, err)
	}
	if page := h.do(admin, "GET", "/admin/applications/"+id, nil); !strings.Contains(page.body, ">Native") ||
		!strings.Contains(page.body, "may come back on any port") {
		t.Error("the settings page does not name the type or say how its callbacks match")
	}
}

func TestAdminSettingsRefuseBadFieldsAndSaveNothing(t *testing.T) {
	h := newAdminHarness(t)
	admin := h.adminBrowser(t)
	id, _ := h.createApp(t, admin, "App", "spa")
	good := func() url.Values {
		return url.Values{"name": {"App"}, "callbacks": {spaCallback}, "logout_urls": {""}, "web_origins": {""}, "mfa_policy": {""}}
	}
	tests := []struct {
		name, field, value, want string
	}{
		{"callback over http", "callbacks", spaCallback + "\nhttp://evil.example.com/cb", `&#34;http://evil.example.com/cb&#34; must be an https URL`},
		{"web origin with a path", "web_origins", "https://app.example.com/app", `&#34;https://app.example.com/app&#34; must be an origin`},
		{"logout URL with a fragment", "logout_urls", "https://app.example.com/#bye", "fragment"},
		{"lifetime without a unit", "id_token_lifetime", "a day", "not a duration"},
		{"idle longer than absolute", "refresh_idle_lifetime", "30d", "absolute"},
		{"unknown policy", "mfa_policy", "sometimes", "not a policy"},
		{"empty name", "name", " ", "must not be empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := good()
			f.Set(tt.field, tt.value)
			f.Set("refresh_absolute_lifetime", "1d")
			r := h.adminPost(t, admin, "/admin/applications/"+id, "/admin/applications/"+id, f)
			r.expect(t, http.StatusBadRequest, "admin-applications")
			if !strings.Contains(r.body, `id="`+tt.field+`-error"`) && !strings.Contains(r.body, tt.want) {
				t.Fatalf("no field error for %s", tt.field)
			}
			if !strings.Contains(r.body, tt.want) {
				t.Errorf("the error does not say %s", tt.want)
			}
		})
	}
	c, err := h.st.ClientByID(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if c.Callbacks != nil || c.Lifetimes != (clients.Lifetimes{}) || c.MFAPolicy != "" {
		t.Errorf("a refused form saved something: %+v", c)
	}
	if got := auditDetails(t, h, "admin.client_updated"); len(got) != 0 {
		t.Errorf("refused forms were audited as changes: %v", got)
	}
}

func TestAClientSecretIsShownOnceAndRotationEndsTheOldOne(t *testing.T) {
	h := newAdminHarness(t)
	admin := h.adminBrowser(t)
	h.newSPA(t)

	id, created := h.createApp(t, admin, "Portal", "web")
	m := secretRE.FindStringSubmatch(created.body)
	if m == nil {
		t.Fatal("the page after creating a web application shows no secret")
	}
	if again := h.do(admin, "GET", "/admin/applications/"+id, nil); secretRE.MatchString(again.body) || strings.Contains(again.body, m[1]) {
		t.Fatal("the secret is shown a second time")
	}
	if c, err := h.st.ClientByID(context.Background(), id); err != nil || !c.VerifySecret(m[1]) || strings.Contains(string(c.SecretHash), m[1]) {
		t.Fatal("the stored hash does not match the shown secret")
	}

	id, created = h.createApp(t, admin, "Cron", "m2m")
	old := secretRE.FindStringSubmatch(created.body)[1]
	credentials := func(secret string) int {
		status, _, _ := h.tokenRequest(t, url.Values{"grant_type": {"client_credentials"}, "client_id": {id},
			"client_secret": {secret}, "audience": {apiAudience}})
		return status
	}
	if got := credentials(old); got != http.StatusOK {
		t.Fatalf("the first secret: %d", got)
	}
	r := h.adminPost(t, admin, "/admin/applications/"+id, "/admin/applications/"+id+"/rotate-secret", url.Values{})
	r.expect(t, http.StatusOK, "admin-applications")
	fresh := secretRE.FindStringSubmatch(r.body)
	if fresh == nil || fresh[1] == old {
		t.Fatal("rotation showed no new secret")
	}
	if got := credentials(old); got != http.StatusUnauthorized {
		t.Errorf("the old secret after rotation: %d, want 401", got)
	}
	if got := credentials(fresh[1]); got != http.StatusOK {
		t.Errorf("the new secret: %d", got)
	}
	if got := auditDetails(t, h, "admin.client_secret_rotated"); len(got) != 1 || strings.Contains(got[0], fresh[1]) ||
		!strings.Contains(got[0], id) {
		t.Errorf("rotation audit: %v", got)
	}
}

func TestDeletingAnApplicationNeedsItsNameTyped(t *testing.T) {
	h := newAdminHarness(t)
	admin := h.adminBrowser(t)
	id, _ := h.createApp(t, admin, "Doomed", "spa")
	page := "/admin/applications/" + id
	h.adminPost(t, admin, page, page+"/delete", url.Values{"confirm": {"doomed"}}).expect(t, http.StatusBadRequest, "admin-applications")
	if _, err := h.st.ClientByID(context.Background(), id); err != nil {
		t.Fatalf("deleted without the exact name: %v", err)
	}
	h.adminPost(t, admin, page, page+"/delete", url.Values{"confirm": {"Doomed"}}).expectRedirect(t, "/admin/applications")
	if _, err := h.st.ClientByID(context.Background(), id); !errors.Is(err, clients.ErrNotFound) {
		t.Fatalf("after delete: %v", err)
	}
	if got := auditDetails(t, h, "admin.client_deleted"); len(got) != 1 || !strings.Contains(got[0], "Doomed") {
		t.Errorf("delete audit: %v", got)
	}
	h.do(admin, "GET", page, nil).expect(t, http.StatusNotFound, "error")
}

func TestPerApplicationLifetimesChangeTheIssuedTokens(t *testing.T) {
	h := newAdminHarness(t)
	admin := h.adminBrowser(t)
	id, _ := h.createApp(t, admin, "Short lived", "spa")
	h.adminPost(t, admin, "/admin/applications/"+id, "/admin/applications/"+id, url.Values{
		"name": {"Short lived"}, "callbacks": {spaCallback}, "mfa_policy": {""},
		"id_token_lifetime": {"5m"}, "refresh_idle_lifetime": {"1h"}, "refresh_absolute_lifetime": {"2h"}}).
		expectRedirect(t, "/admin/applications/"+id)

	def := h.newSPA(t)
	p := def.as(id)
	b := signedInBrowser(t, h)
	tok, _ := p.login(t, b)
	raw, _ := tok.Extra("id_token").(string)
	idt, err := p.provider.Verifier(&oidc.Config{ClientID: id, Now: h.clock.Now}).Verify(context.Background(), raw)
	if err != nil {
		t.Fatal(err)
	}
	if life := idt.Expiry.Sub(idt.IssuedAt); life != 5*time.Minute {
		t.Errorf("ID token lives %v, want the application's 5m", life)
	}
	refresh := func(rt string) (int, map[string]any) {
		s, body, _ := h.tokenRequest(t, url.Values{"grant_type": {"refresh_token"}, "client_id": {id}, "refresh_token": {rt}})
		return s, body
	}
	status, body := refresh(tok.RefreshToken)
	if status != http.StatusOK {
		t.Fatalf("refresh within the lifetimes: %d %v", status, body)
	}
	// The default client, logged in at the same time, outlives the
	// application's absolute lifetime.
	defTok, _ := def.login(t, b)
	h.clock.Advance(2*time.Hour + time.Minute)
	if status, body := refresh(body["refresh_token"].(string)); status != http.StatusBadRequest || body["error"] != "invalid_grant" {
		t.Errorf("refresh after the application's absolute lifetime: %d %v, want invalid_grant", status, body)
	}
	status, _, _ = h.tokenRequest(t, url.Values{"grant_type": {"refresh_token"}, "client_id": {spaID}, "refresh_token": {defTok.RefreshToken}})
	if status != http.StatusOK {
		t.Errorf("the tenant's default absolute lifetime ended a refresh after 2h: %d", status)
	}
}

func TestApplicationsAPIsAndTryAreForAdminsPastTheirSecondFactor(t *testing.T) {
	h := newAdminHarness(t)
	admin := h.adminBrowser(t)
	appID, _ := h.createApp(t, admin, "App", "spa")
	apiPage := h.createAPI(t, admin, "Orders", "https://orders.example.com", "1h")
	routes := []struct{ method, path string }{
		{"GET", "/admin/applications"}, {"POST", "/admin/applications"},
		{"GET", "/admin/applications/" + appID}, {"POST", "/admin/applications/" + appID},
		{"POST", "/admin/applications/" + appID + "/rotate-secret"}, {"POST", "/admin/applications/" + appID + "/delete"},
		{"GET", "/admin/apis"}, {"POST", "/admin/apis"},
		{"GET", apiPage}, {"POST", apiPage}, {"POST", apiPage + "/scopes"}, {"POST", apiPage + "/grants"}, {"POST", apiPage + "/delete"},
		{"GET", "/admin/try"}, {"POST", "/admin/try"},
	}
	user := h.browser()
	h.signUp(user, "ann@example.com")
	pwOnly := h.browser()
	h.logIn(pwOnly, adminEmail, goodPassword)
	form := url.Values{"name": {"X"}, "type": {"spa"}, "confirm": {"App"}, "identifier": {"https://x.example.com"}, "token_lifetime": {"1h"}}
	for _, rt := range routes {
		t.Run(rt.method+" "+rt.path, func(t *testing.T) {
			var f url.Values
			if rt.method == "POST" {
				f = form
			}
			h.do(user, rt.method, rt.path, f).expect(t, http.StatusForbidden, "error")
			r := h.do(pwOnly, rt.method, rt.path, f)
			if loc := r.header.Get("Location"); r.status != http.StatusSeeOther || !strings.HasPrefix(loc, "/mfa/challenge?") {
				t.Fatalf("an admin without a second factor: %d to %q, want the challenge", r.status, loc)
			}
		})
	}
	if _, err := h.st.ClientByID(context.Background(), appID); err != nil {
		t.Errorf("the application is gone: %v", err)
	}
	if list, err := h.st.ListClients(context.Background()); err != nil || len(list) != 1 {
		t.Errorf("refused requests created applications: %d", len(list))
	}
}

func TestTheBuiltInApplicationCannotBeChangedOrDeleted(t *testing.T) {
	h := newAdminHarness(t)
	admin := h.adminBrowser(t)
	h.tryLogin(t, admin, url.Values{})
	page := "/admin/applications/" + clients.TryClientID
	h.do(admin, "GET", page, nil).expect(t, http.StatusOK, "admin-applications")
	for _, action := range []string{page, page + "/rotate-secret", page + "/delete"} {
		h.adminPost(t, admin, "/admin/applications", action, url.Values{"name": {"Mine now"}, "confirm": {"Try your login box"}}).
			expect(t, http.StatusBadRequest, "error")
	}
	if c, err := h.st.ClientByID(context.Background(), clients.TryClientID); err != nil || c.Name != "Try your login box" {
		t.Errorf("the built-in application: %+v, %v", c, err)
	}
}
