package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"image"
	"image/png"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/gatehouse-id/gatehouse/account"
	"github.com/gatehouse-id/gatehouse/branding"
	"github.com/gatehouse-id/gatehouse/clients"
	"github.com/gatehouse-id/gatehouse/mfa"
	"github.com/gatehouse-id/gatehouse/settings"
	"github.com/gatehouse-id/gatehouse/store"
)

func logoPNG(t *testing.T) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, image.NewRGBA(image.Rect(0, 0, 32, 16))); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func (h *harness) brands() *branding.Service {
	return branding.NewService(h.st, h.st, h.st, nil, nil)
}

func ptr(s string) *string { return &s }

// loginPageFor starts an authorization request of p in a fresh browser and
// returns the login page it is sent to.
func loginPageFor(t *testing.T, p *rp) (response, *http.Client) {
	t.Helper()
	b := p.h.browser()
	r := p.h.do(b, "GET", p.authURL(newFlow()), nil)
	loc := r.header.Get("Location")
	if r.status != http.StatusFound || !strings.HasPrefix(loc, "/login?") {
		t.Fatalf("authorize answered %d to %q, want the login page", r.status, loc)
	}
	page := p.h.do(b, "GET", loc, nil)
	page.expect(t, http.StatusOK, "login")
	return page, b
}

func TestTheLoginCardShowsTheApplicationItIsFor(t *testing.T) {
	h := newHarness(t)
	p := h.newSPA(t)
	ctx := context.Background()
	if _, err := h.brands().Update(ctx, spaID, branding.Change{Name: ptr("Acme"), LogoURL: ptr("https://cdn.acme.test/logo.svg"),
		Primary: ptr("#1d4ed8"), Background: ptr("#0f172a")}, account.Actor{Name: "test"}, account.Meta{}); err != nil {
		t.Fatal(err)
	}

	page, b := loginPageFor(t, p)
	for _, want := range []string{
		"<title>Log in · Acme</title>",
		"to continue to Acme",
		`<img src="https://cdn.acme.test/logo.svg" alt="Acme" width="160" height="48">`,
		`href="/branding/style.css?background=0f172a&amp;primary=1d4ed8"`,
	} {
		if !strings.Contains(page.body, want) {
			t.Errorf("the login page of the flow lacks %s", want)
		}
	}
	csp := page.header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "img-src 'self' data: https://cdn.acme.test;") || strings.Contains(csp, "script-src 'unsafe") {
		t.Errorf("CSP %q: want the logo's origin in img-src and still no inline script", csp)
	}

	// A refused password keeps the page the application's.
	m := returnToRE.FindStringSubmatch(page.body)
	if m == nil {
		t.Fatal("the login form carries no return_to")
	}
	again := h.do(b, "POST", "/login", url.Values{"email": {"nobody@example.com"}, "password": {"wrong-password-1"}, "return_to": {m[1]}})
	if again.status != http.StatusUnauthorized || !strings.Contains(again.body, "to continue to Acme") {
		t.Errorf("after a wrong password: %d, Acme shown %v", again.status, strings.Contains(again.body, "to continue to Acme"))
	}

	// Outside any application's login: Gatehouse, with no other origin.
	plain := h.do(h.browser(), "GET", "/login", nil)
	if !strings.Contains(plain.body, "to continue to Gatehouse") || strings.Contains(plain.body, "branding/style.css") {
		t.Error("the login page outside a flow shows an application's brand")
	}
	if csp := plain.header.Get("Content-Security-Policy"); strings.Contains(csp, "acme") {
		t.Errorf("CSP outside the flow allows the application's logo host: %q", csp)
	}
	// A forged return_to naming no transaction shows no application either.
	forged := h.do(h.browser(), "GET", "/login?return_to="+url.QueryEscape("/authorize/resume?tx=AAAA"), nil)
	if strings.Contains(forged.body, "Acme") {
		t.Error("a made-up transaction shows an application's brand")
	}
}

var returnToRE = regexp.MustCompile(`name="return_to" value="([^"]+)"`)

func TestAnApplicationWithoutABrandShowsItsNameAndTheTenantDefaults(t *testing.T) {
	h := newHarness(t)
	p := h.newSPA(t)
	if err := h.settings.Set(context.Background(), map[string]string{settings.KeyBrandName: "Example Inc",
		settings.KeyBrandPrimary: "#15803d", settings.KeyBrandLogoURL: "https://static.example.com/t.png"}, "test", account.Meta{}); err != nil {
		t.Fatal(err)
	}
	page, _ := loginPageFor(t, p)
	for _, want := range []string{"to continue to Sample SPA", `href="/branding/style.css?primary=15803d"`,
		`<img src="https://static.example.com/t.png" alt="Sample SPA"`} {
		if !strings.Contains(page.body, want) {
			t.Errorf("the login page lacks %s", want)
		}
	}
	plain := h.do(h.browser(), "GET", "/login", nil)
	if !strings.Contains(plain.body, "to continue to Example Inc") || !strings.Contains(plain.body, "primary=15803d") {
		t.Error("the login page outside a flow does not show the tenant's brand")
	}
	if err := h.settings.Set(context.Background(), map[string]string{settings.KeyBrandPrimary: "#a5b4fc"}, "test", account.Meta{}); err == nil ||
		!strings.Contains(err.Error(), "contrast") {
		t.Errorf("a low-contrast tenant colour: %v, want refused for its contrast", err)
	}
}

func TestAnUploadedLogoIsServedInertAndCached(t *testing.T) {
	h := newHarness(t)
	p := h.newSPA(t)
	data := logoPNG(t)
	b, err := h.brands().SetLogo(context.Background(), spaID, data, "image/png", account.Actor{Name: "test"}, account.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	page, _ := loginPageFor(t, p)
	src := "/branding/logo/" + spaID + "?v=" + b.LogoSum
	if !strings.Contains(page.body, `<img src="`+src+`" alt="Sample SPA"`) {
		t.Fatalf("the login page does not show the uploaded logo at %s", src)
	}
	if csp := page.header.Get("Content-Security-Policy"); !strings.Contains(csp, "img-src 'self' data:;") {
		t.Errorf("an uploaded logo needs no other origin, CSP %q", csp)
	}

	logo := h.do(h.browser(), "GET", src, nil)
	if logo.status != http.StatusOK || logo.body != string(data) {
		t.Fatalf("logo: %d, %d bytes", logo.status, len(logo.body))
	}
	for name, want := range map[string]string{
		"Content-Type":            "image/png",
		"X-Content-Type-Options":  "nosniff",
		"Content-Security-Policy": "default-src 'none'; sandbox",
		"Cache-Control":           "public, max-age=31536000, immutable",
		"ETag":                    `"` + b.LogoSum + `"`,
	} {
		if got := logo.header.Get(name); got != want {
			t.Errorf("%s: %q, want %q", name, got, want)
		}
	}
	if r := h.do(h.browser(), "GET", "/branding/logo/"+spaID, nil); r.header.Get("Cache-Control") != "public, max-age=300" {
		t.Errorf("an unversioned address is kept %q, want five minutes", r.header.Get("Cache-Control"))
	}
	if r := h.do(h.browser(), "GET", src, nil, "If-None-Match", `"`+b.LogoSum+`"`); r.status != http.StatusNotModified {
		t.Errorf("a revalidation answered %d, want 304", r.status)
	}
	if r := h.do(h.browser(), "GET", "/branding/logo/nobody", nil); r.status != http.StatusNotFound {
		t.Errorf("the logo of an unknown application answered %d, want 404", r.status)
	}
}

func TestTheBrandStylesheetTakesOnlyColours(t *testing.T) {
	h := newHarness(t)
	r := h.do(h.browser(), "GET", "/branding/style.css?primary=1d4ed8&background=0f172a", nil)
	if r.status != http.StatusOK || r.header.Get("Content-Type") != "text/css; charset=utf-8" {
		t.Fatalf("stylesheet: %d %q", r.status, r.header.Get("Content-Type"))
	}
	for _, want := range []string{"--primary: #1d4ed8;", "--bg: #0f172a;", ".site-footer { color: #ffffff; }", "color-scheme: light"} {
		if !strings.Contains(r.body, want) {
			t.Errorf("the stylesheet lacks %s:\n%s", want, r.body)
		}
	}
	for _, q := range []string{"primary=red", "primary=fff%7Dbody%7Bx", "background=%231d4ed8", "primary=abc", "scope=evil"} {
		if r := h.do(h.browser(), "GET", "/branding/style.css?"+q, nil); r.status != http.StatusBadRequest {
			t.Errorf("?%s answered %d, want 400", q, r.status)
		}
	}
}

func TestAdminAPISetsAnApplicationsBrand(t *testing.T) {
	h := newHarness(t)
	h.newSPA(t)
	api := h.newAPIClient(t, "deploy", "read:clients", "update:clients")
	path := "/api/admin/clients/" + spaID + "/branding"

	r := api.call(t, "PATCH", path, `{"name":"Acme","primary_color":"#1D4ED8","background_color":"#f8fafc","logo_url":"https://cdn.acme.test/l.png"}`)
	r.expect(t, http.StatusOK, "")
	if r.body["name"] != "Acme" || r.body["primary_color"] != "#1d4ed8" || r.body["logo_url"] != "https://cdn.acme.test/l.png" {
		t.Fatalf("PATCH answered %s", r.raw)
	}
	cases := []struct{ name, body, field string }{
		{"a colour that is not hex", `{"primary_color":"blue"}`, "primary_color"},
		{"a primary too pale for white text", `{"primary_color":"#a5b4fc"}`, "primary_color"},
		{"a background no text reads on", `{"background_color":"#777777"}`, "background_color"},
		{"a logo over http", `{"logo_url":"http://cdn.acme.test/l.png"}`, "logo_url"},
		{"a name over 64 characters", `{"name":"` + strings.Repeat("x", 65) + `"}`, "name"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := api.call(t, "PATCH", path, c.body)
			r.expect(t, http.StatusBadRequest, "invalid_branding")
			if fields, _ := r.body["fields"].(map[string]any); fields[c.field] == nil {
				t.Errorf("no message for %s: %s", c.field, r.raw)
			}
		})
	}
	got := api.call(t, "GET", path, "")
	got.expect(t, http.StatusOK, "")
	if got.body["primary_color"] != "#1d4ed8" {
		t.Errorf("a refused change was stored: %s", got.raw)
	}

	put := h.putLogo(t, api.token, spaID, "image/png", logoPNG(t))
	put.expect(t, http.StatusOK, "")
	if put.body["logo_uploaded"] != true || put.body["logo_url"] != "" {
		t.Errorf("after an upload: %s, want the upload in place of the link", put.raw)
	}
	h.putLogo(t, api.token, spaID, "image/png", append(logoPNG(t), make([]byte, branding.MaxLogoBytes)...)).
		expect(t, http.StatusRequestEntityTooLarge, "")
	h.putLogo(t, api.token, spaID, "image/svg+xml", []byte(`<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>`)).
		expect(t, http.StatusBadRequest, "invalid_branding")
	h.putLogo(t, api.token, spaID, "image/png", []byte("<html><script>alert(1)</script></html>")).
		expect(t, http.StatusBadRequest, "invalid_branding")
	h.putLogo(t, api.token, spaID, "image/jpeg", logoPNG(t)).expect(t, http.StatusBadRequest, "invalid_branding")
	logo := h.do(h.browser(), "GET", "/branding/logo/"+spaID, nil)
	if logo.header.Get("Content-Type") != "image/png" || logo.body != string(logoPNG(t)) {
		t.Errorf("a refused upload replaced the logo: %q", logo.header.Get("Content-Type"))
	}
	api.call(t, "DELETE", path+"/logo", "").expect(t, http.StatusOK, "")
	if r := h.do(h.browser(), "GET", "/branding/logo/"+spaID, nil); r.status != http.StatusNotFound {
		t.Errorf("the removed logo answered %d", r.status)
	}

	api.call(t, "GET", "/api/admin/clients/nobody/branding", "").expect(t, http.StatusNotFound, "not_found")
	if err := h.st.CreateClient(context.Background(), clients.Client{ID: clients.TryClientID, Name: "Try", Type: clients.SPA}); err != nil {
		t.Fatal(err)
	}
	api.call(t, "PATCH", "/api/admin/clients/"+clients.TryClientID+"/branding", `{"name":"x"}`).expect(t, http.StatusConflict, "built_in")
	if events := auditDetails(t, h, branding.EventUpdated); len(events) != 3 || !strings.Contains(events[0], `"by": "api:deploy"`) {
		t.Errorf("audit: %v, want the change, the upload and the removal by the API client", events)
	}
}

func (h *harness) putLogo(t *testing.T, token, clientID, contentType string, data []byte) apiResponse {
	t.Helper()
	req, err := http.NewRequest("PUT", h.srv.URL+"/api/admin/clients/"+clientID+"/branding/logo", bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", contentType)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(resp.Body); err != nil {
		t.Fatal(err)
	}
	r := apiResponse{status: resp.StatusCode, header: resp.Header, raw: buf.String()}
	if err := json.Unmarshal(buf.Bytes(), &r.body); err != nil {
		t.Fatalf("PUT logo: %d %q: %v", resp.StatusCode, buf.String(), err)
	}
	return r
}

// A token that may read applications cannot change another application's
// brand or logo.
func TestABrandNeedsTheUpdateScope(t *testing.T) {
	h := newHarness(t)
	h.newSPA(t)
	ctx := context.Background()
	data := logoPNG(t)
	if _, err := h.brands().SetLogo(ctx, spaID, data, "", account.Actor{Name: "test"}, account.Meta{}); err != nil {
		t.Fatal(err)
	}
	reader := h.newAPIClient(t, "reader", "read:clients")
	path := "/api/admin/clients/" + spaID + "/branding"
	reader.call(t, "PATCH", path, `{"name":"Evil"}`).expect(t, http.StatusForbidden, "insufficient_scope")
	h.putLogo(t, reader.token, spaID, "image/png", logoPNG(t)).expect(t, http.StatusForbidden, "insufficient_scope")
	reader.call(t, "DELETE", path+"/logo", "").expect(t, http.StatusForbidden, "insufficient_scope")
	h.apiCall(t, "", "PATCH", path, `{"name":"Evil"}`).expect(t, http.StatusUnauthorized, "")
	b, err := h.brands().Get(ctx, spaID)
	if err != nil {
		t.Fatal(err)
	}
	img, _, err := h.st.Logo(ctx, spaID)
	if err != nil || b.Name != "" || !bytes.Equal(img.Data, data) {
		t.Fatalf("the brand changed: %+v, logo %v", b, err)
	}
}

func TestTheConsoleSetsAndPreviewsABrand(t *testing.T) {
	h := newAdminHarness(t)
	admin := h.adminBrowser(t)
	id, _ := h.createApp(t, admin, "Acme Portal", "spa")
	page := "/admin/applications/" + id + "/branding"

	app := h.do(admin, "GET", "/admin/applications/"+id, nil)
	if !strings.Contains(app.body, `href="`+page+`"`) {
		t.Error("the application's page does not link its branding")
	}
	show := h.do(admin, "GET", page, nil)
	show.expect(t, http.StatusOK, "admin-applications")
	if !strings.Contains(show.body, `data-preview="login"`) || !strings.Contains(show.body, "to continue to Acme Portal") {
		t.Error("the branding page has no preview of the login card")
	}

	preview := h.adminPost(t, admin, page, page, url.Values{"action": {"preview"}, "name": {"Acme"}, "primary_color": {"#b91c1c"}})
	if preview.status != http.StatusOK || !strings.Contains(preview.body, "to continue to Acme<") ||
		!strings.Contains(preview.body, "primary=b91c1c&amp;scope=preview") || !strings.Contains(preview.body, "(not saved)") {
		t.Fatalf("preview: %d, alert %q", preview.status, preview.alert())
	}
	if b, err := h.brands().Get(context.Background(), id); err != nil || b.Name != "" {
		t.Fatalf("a preview saved %+v (%v)", b, err)
	}

	low := h.adminPost(t, admin, page, page, url.Values{"action": {"save"}, "primary_color": {"#fbbf24"}})
	if low.status != http.StatusBadRequest || !strings.Contains(low.body, "contrast") || low.alert() == "" {
		t.Fatalf("a low-contrast colour: %d, alert %q", low.status, low.alert())
	}

	h.adminPost(t, admin, page, page, url.Values{"action": {"save"}, "name": {"Acme"}, "primary_color": {"#b91c1c"}}).
		expectRedirect(t, page)
	if b, err := h.brands().Get(context.Background(), id); err != nil || b.Name != "Acme" || b.Primary != "#b91c1c" {
		t.Fatalf("saved %+v (%v)", b, err)
	}

	up := h.uploadInConsole(t, admin, page, "logo.png", "image/png", logoPNG(t))
	up.expectRedirect(t, page)
	if b, err := h.brands().Get(context.Background(), id); err != nil || b.LogoType != "image/png" {
		t.Fatalf("after the upload: %+v (%v)", b, err)
	}
	svg := h.uploadInConsole(t, admin, page, "logo.svg", "image/svg+xml", []byte(`<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`))
	if svg.status != http.StatusBadRequest || !strings.Contains(svg.body, "SVG") {
		t.Fatalf("an SVG upload: %d, alert %q", svg.status, svg.alert())
	}
	h.adminPost(t, admin, page, page, url.Values{"action": {"remove-logo"}}).expectRedirect(t, page)
	if b, err := h.brands().Get(context.Background(), id); err != nil || b.LogoType != "" {
		t.Fatalf("after removal: %+v (%v)", b, err)
	}
}

// uploadInConsole posts the branding form with a file, as a browser does.
func (h *harness) uploadInConsole(t *testing.T, b *http.Client, page, filename, contentType string, data []byte) response {
	t.Helper()
	m := csrfRE.FindStringSubmatch(h.do(b, "GET", page, nil).body)
	if m == nil {
		t.Fatalf("no CSRF token on %s", page)
	}
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	for k, v := range map[string]string{"csrf": m[1], "action": "save", "name": "", "logo_url": ""} {
		if err := w.WriteField(k, v); err != nil {
			t.Fatal(err)
		}
	}
	part, err := w.CreatePart(map[string][]string{
		"Content-Disposition": {`form-data; name="logo"; filename="` + filename + `"`},
		"Content-Type":        {contentType},
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := part.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest("POST", h.srv.URL+page, &body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", w.FormDataContentType())
	resp, err := b.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out bytes.Buffer
	if _, err := out.ReadFrom(resp.Body); err != nil {
		t.Fatal(err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: out.String()}
}

func TestEveryScreenOfTheFlowShowsTheApplication(t *testing.T) {
	h := newHarness(t, func(o *options) { o.plivo = true })
	p := h.newSPA(t)
	if _, err := h.brands().Update(context.Background(), spaID, branding.Change{Name: ptr("Acme")}, account.Actor{Name: "test"}, account.Meta{}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.accounts.CreateUser(context.Background(), "ann@example.com", "", goodPassword, false, account.Meta{}); err != nil {
		t.Fatal(err)
	}
	h.setPolicy(t, mfa.PolicyAlways)
	acme := "· Acme</title>"

	signup := h.do(h.browser(), "GET", p.authURL(newFlow(), oauth2.SetAuthURLParam("screen_hint", "signup")), nil)
	if page := h.do(h.browser(), "GET", signup.header.Get("Location"), nil); page.screen() != "signup" || !strings.Contains(page.body, acme) {
		t.Errorf("the signup screen (%q) does not name the application", page.screen())
	}

	page, b := loginPageFor(t, p)
	resume := returnToRE.FindStringSubmatch(page.body)[1]
	resume = strings.ReplaceAll(resume, "&amp;", "&")
	h.do(b, "POST", "/login", url.Values{"email": {"ann@example.com"}, "password": {goodPassword}, "return_to": {resume}}).expectRedirect(t, resume)
	toEnroll := h.do(b, "GET", resume, nil).header.Get("Location")
	enroll := h.do(b, "GET", toEnroll, nil)
	if enroll.screen() != "enroll" || !strings.Contains(enroll.body, acme) {
		t.Errorf("the enrollment screen (%q) does not name the application", enroll.screen())
	}
	h.do(b, "POST", "/mfa/enroll", url.Values{"step": {"phone"}, "country": {"GB"}, "phone": {mobile}, "return_to": {resume}}).
		expect(t, http.StatusSeeOther, "")
	code := h.sendSMS(t)
	wrong := h.do(b, "POST", "/mfa/enroll", url.Values{"step": {"code"}, "code": {"000000"}, "return_to": {resume}})
	if code != "000000" && !strings.Contains(wrong.body, acme) {
		t.Errorf("the enrollment's wrong-code answer (%d) does not name the application", wrong.status)
	}
	rec := h.do(b, "POST", "/mfa/enroll", url.Values{"step": {"code"}, "code": {code}, "return_to": {resume}})
	if rec.screen() != "recovery" || !strings.Contains(rec.body, acme) {
		t.Errorf("the recovery codes screen (%q) does not name the application", rec.screen())
	}
}

// BenchmarkLoginPageOfAFlow measures the login page of an authorization
// request, for an application without a brand and for one with a name, a
// linked logo and colours: the look costs the transaction, application and
// brand reads.
func BenchmarkLoginPageOfAFlow(b *testing.B) {
	for _, branded := range []bool{false, true} {
		b.Run(map[bool]string{false: "tenant-look", true: "branded"}[branded], func(b *testing.B) {
			h := newHarness(b)
			ctx := context.Background()
			if err := h.st.CreateClient(ctx, clients.Client{ID: "bench", Name: "Bench", Type: clients.SPA,
				Callbacks: []string{spaCallback}}); err != nil {
				b.Fatal(err)
			}
			if branded {
				if _, err := h.brands().Update(ctx, "bench", branding.Change{Name: ptr("Acme"), LogoURL: ptr("https://cdn.acme.test/l.png"),
					Primary: ptr("#1d4ed8"), Background: ptr("#f8fafc")}, account.Actor{Name: "bench"}, account.Meta{}); err != nil {
					b.Fatal(err)
				}
			}
			txID, err := h.st.CreateLoginTransaction(ctx, store.LoginTransaction{ClientID: "bench", RequestForm: "client_id=bench",
				CreatedAt: h.clock.Now(), ExpiresAt: h.clock.Now().Add(time.Hour)})
			if err != nil {
				b.Fatal(err)
			}
			page := h.srv.URL + "/login?return_to=" + url.QueryEscape("/authorize/resume?tx="+txID)
			for b.Loop() {
				resp, err := http.Get(page)
				if err != nil {
					b.Fatal(err)
				}
				body, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				if err != nil || resp.StatusCode != http.StatusOK || strings.Contains(string(body), "Acme") != branded {
					b.Fatalf("login page: %d, %v", resp.StatusCode, err)
				}
			}
		})
	}
}

// A link and an upload saved at the same moment leave one logo, never both
// or a link with an upload's stale type.
func TestAttackALinkAndAnUploadRaceToOneLogo(t *testing.T) {
	h := newHarness(t)
	h.newSPA(t)
	api := h.newAPIClient(t, "deploy", "read:clients", "update:clients")
	path := "/api/admin/clients/" + spaID + "/branding"
	data := logoPNG(t)
	for range 5 {
		statuses := make(chan int, 2)
		go func() { statuses <- h.putLogoStatus(api.token, spaID, data) }()
		go func() { statuses <- h.patchStatus(api.token, path, `{"logo_url":"https://cdn.acme.test/l.png"}`) }()
		for range 2 {
			if s := <-statuses; s != http.StatusOK {
				t.Fatalf("a racing save answered %d", s)
			}
		}
		got := api.call(t, "GET", path, "")
		uploaded, link := got.body["logo_uploaded"] == true, got.body["logo_url"] != ""
		logo := h.do(h.browser(), "GET", "/branding/logo/"+spaID, nil)
		if uploaded == link || uploaded != (logo.status == http.StatusOK) {
			t.Fatalf("after the race: %s, logo route %d; want exactly one logo", got.raw, logo.status)
		}
		api.call(t, "PATCH", path, `{"logo_url":""}`).expect(t, http.StatusOK, "")
		api.call(t, "DELETE", path+"/logo", "").expect(t, http.StatusOK, "")
	}
}

func (h *harness) putLogoStatus(token, clientID string, data []byte) int {
	req, err := http.NewRequest("PUT", h.srv.URL+"/api/admin/clients/"+clientID+"/branding/logo", bytes.NewReader(data))
	if err != nil {
		return 0
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "image/png")
	return statusOf(req)
}

func (h *harness) patchStatus(token, path, body string) int {
	req, err := http.NewRequest("PATCH", h.srv.URL+path, strings.NewReader(body))
	if err != nil {
		return 0
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	return statusOf(req)
}

func statusOf(req *http.Request) int {
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

func TestAnOversizedUploadInTheConsoleIsRefusedWithAMessage(t *testing.T) {
	h := newAdminHarness(t)
	admin := h.adminBrowser(t)
	id, _ := h.createApp(t, admin, "Acme Portal", "spa")
	page := "/admin/applications/" + id + "/branding"
	// Just over the logo limit, within the route's body limit: the form's
	// own message.
	r := h.uploadInConsole(t, admin, page, "big.png", "image/png", append(logoPNG(t), make([]byte, branding.MaxLogoBytes)...))
	if r.status != http.StatusBadRequest || !strings.Contains(r.body, "at most 100 KiB") {
		t.Fatalf("a 100 KiB+ logo: %d, alert %q", r.status, r.alert())
	}
	// Far over it: the request is refused before it is read.
	r = h.uploadInConsole(t, admin, page, "huge.png", "image/png", make([]byte, 1<<20))
	if r.status != http.StatusRequestEntityTooLarge {
		t.Fatalf("a 1 MiB body: %d, want 413", r.status)
	}
	if b, err := h.brands().Get(context.Background(), id); err != nil || b.LogoType != "" {
		t.Fatalf("an oversized upload was stored: %+v (%v)", b, err)
	}
}
