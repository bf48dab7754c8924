package clients_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/clients"
)

func spa() clients.Client {
	return clients.Client{
		ID:         "spa-app_1.0",
		Name:       "My SPA",
		Type:       clients.SPA,
		Callbacks:  []string{"https://app.example.com/callback", "http://localhost:3000"},
		LogoutURLs: []string{"https://app.example.com/", "http://127.0.0.1:3000/bye"},
		WebOrigins: []string{"https://app.example.com", "http://localhost:3000", "http://[::1]:3000"},
	}
}

func web() clients.Client {
	c := spa()
	c.Type = clients.Web
	_, c.SecretHash = clients.NewSecret()
	return c
}

func native() clients.Client {
	return clients.Client{ID: "desktop", Name: "Desktop app", Type: clients.Native,
		Callbacks: []string{"http://127.0.0.1:3000/cb", "http://[::1]:3000/cb?app=1", "http://localhost:3000/cb", "https://app.example.com/cb"}}
}

func m2m() clients.Client {
	_, hash := clients.NewSecret()
	return clients.Client{ID: clients.NewClientID(), Name: "Billing job", Type: clients.M2M, SecretHash: hash}
}

func TestValidateClient(t *testing.T) {
	tests := []struct {
		name   string
		client clients.Client
		change func(*clients.Client)
		field  string // "" when the client is valid
		want   string // part of the problem
	}{
		{"a spa with loopback http callbacks is valid", spa(), func(*clients.Client) {}, "", ""},
		{"a web app with a secret is valid", web(), func(*clients.Client) {}, "", ""},
		{"an m2m client with only a secret is valid", m2m(), func(*clients.Client) {}, "", ""},
		{"a generated client id is valid", spa(), func(c *clients.Client) { c.ID = clients.NewClientID() }, "", ""},
		{"an app may require MFA", spa(), func(c *clients.Client) { c.MFAPolicy = "always" }, "", ""},
		{"an unknown MFA policy is refused", spa(), func(c *clients.Client) { c.MFAPolicy = "sometimes" }, "mfa_policy", "is not a policy"},

		{"client id is required", spa(), func(c *clients.Client) { c.ID = "" }, "client_id", "must not be empty"},
		{"client id at most 64 characters", spa(), func(c *clients.Client) { c.ID = strings.Repeat("a", 65) }, "client_id", "at most 64"},
		{"client id only letters digits dot underscore dash", spa(), func(c *clients.Client) { c.ID = "my app" }, "client_id", "may contain only letters"},
		{"client id ascii only", spa(), func(c *clients.Client) { c.ID = "appé" }, "client_id", "may contain only letters"},

		{"name is required", spa(), func(c *clients.Client) { c.Name = "  " }, "name", "must not be empty"},
		{"name at most 100 characters", spa(), func(c *clients.Client) { c.Name = strings.Repeat("é", 101) }, "name", "at most 100"},
		{"name of 100 characters is fine", spa(), func(c *clients.Client) { c.Name = strings.Repeat("é", 100) }, "", ""},
		{"name without control characters", spa(), func(c *clients.Client) { c.Name = "a\tb" }, "name", "control characters"},

		{"type must be known", spa(), func(c *clients.Client) { c.Type = "desktop" }, "type", `"desktop" is not a client type; use spa, native, web or m2m`},
		{"spa has no secret", spa(), func(c *clients.Client) { _, c.SecretHash = clients.NewSecret() }, "client_secret", "a spa client is public"},
		{"a native app with loopback callbacks is valid", native(), func(*clients.Client) {}, "", ""},
		{"native has no secret", native(), func(c *clients.Client) { _, c.SecretHash = clients.NewSecret() }, "client_secret", "a native client is public"},
		{"web needs a secret", web(), func(c *clients.Client) { c.SecretHash = nil }, "client_secret", "needs a secret"},
		{"m2m needs a secret", m2m(), func(c *clients.Client) { c.SecretHash = []byte("short") }, "client_secret", "needs a secret"},

		{"a spa without callbacks yet is valid", spa(), func(c *clients.Client) { c.Callbacks = nil }, "", ""},
		{"a web app without callbacks yet is valid", web(), func(c *clients.Client) { c.Callbacks = nil }, "", ""},
		{"lifetimes may follow the tenant", spa(), func(c *clients.Client) { c.Lifetimes = clients.Lifetimes{} }, "", ""},
		{"lifetimes within bounds", spa(), func(c *clients.Client) {
			c.Lifetimes = clients.Lifetimes{IDToken: time.Hour, RefreshIdle: 24 * time.Hour, RefreshAbsolute: 30 * 24 * time.Hour}
		}, "", ""},
		{"id token at least a minute", spa(), func(c *clients.Client) { c.Lifetimes.IDToken = time.Second }, "id_token_lifetime", "between 1 minute and 30d"},
		{"refresh at most a year", web(), func(c *clients.Client) { c.Lifetimes.RefreshAbsolute = 400 * 24 * time.Hour }, "refresh_absolute_lifetime", "365d"},
		{"idle no longer than absolute", spa(), func(c *clients.Client) {
			c.Lifetimes = clients.Lifetimes{RefreshIdle: 48 * time.Hour, RefreshAbsolute: 24 * time.Hour}
		}, "refresh_idle_lifetime", "absolute"},
		{"m2m sets no user token lifetimes", m2m(), func(c *clients.Client) { c.Lifetimes.IDToken = time.Hour }, "id_token_lifetime", "machine-to-machine"},
		{"m2m takes no callbacks", m2m(), func(c *clients.Client) { c.Callbacks = []string{"https://x.example.com/cb"} }, "callbacks", "machine-to-machine"},
		{"m2m takes no web origins", m2m(), func(c *clients.Client) { c.WebOrigins = []string{"https://x.example.com"} }, "web_origins", "machine-to-machine"},
		{"m2m takes no logout urls", m2m(), func(c *clients.Client) { c.LogoutURLs = []string{"https://x.example.com"} }, "logout_urls", "machine-to-machine"},

		{"callback must be https", spa(), addCallback("ftp://x"), "callbacks", `"ftp://x" must be an https URL (http is allowed only for localhost)`},
		{"callback http only for loopback", spa(), addCallback("http://app.example.com/cb"), "callbacks", "must be an https URL"},
		{"callback http for localhost in any case", spa(), addCallback("http://LOCALHOST:8080/cb"), "", ""},
		{"callback must be absolute", spa(), addCallback("/callback"), "callbacks", "must be an absolute URL"},
		{"callback must have a host", spa(), addCallback("https:/callback"), "callbacks", "must be an absolute URL"},
		{"callback not opaque", spa(), addCallback("https:app.example.com"), "callbacks", "must be an absolute URL"},
		{"callback without fragment", spa(), addCallback("https://app.example.com/cb#x"), "callbacks", "fragment"},
		{"callback without empty fragment", spa(), addCallback("https://app.example.com/cb#"), "callbacks", "fragment"},
		{"callback without userinfo", spa(), addCallback("https://ann:pw@app.example.com/cb"), "callbacks", "user name or password"},
		{"callback without wildcard", spa(), addCallback("https://*.example.com/cb"), "callbacks", "wildcard"},
		{"callback without spaces", spa(), addCallback("https://app.example.com/a b"), "callbacks", "spaces or control"},
		{"callback not empty", spa(), addCallback(""), "callbacks", "empty URL"},
		{"callback with query is fine", spa(), addCallback("https://app.example.com/cb?tenant=a"), "", ""},
		{"callback at most 2048 characters", spa(), addCallback("https://app.example.com/" + strings.Repeat("a", 2048)), "callbacks", "too long"},
		{"callback of 2048 characters is fine", spa(), addCallback("https://app.example.com/" + strings.Repeat("a", 2048-24)), "", ""},
		{"at most 100 callbacks", spa(), func(c *clients.Client) { c.Callbacks = manyURLs(101) }, "callbacks", "at most 100"},
		{"100 callbacks are fine", spa(), func(c *clients.Client) { c.Callbacks = manyURLs(100) }, "", ""},

		{"logout url must be https", spa(), func(c *clients.Client) { c.LogoutURLs = []string{"http://app.example.com/"} }, "logout_urls", "must be an https URL"},
		{"logout url without fragment", spa(), func(c *clients.Client) { c.LogoutURLs = []string{"https://app.example.com/#bye"} }, "logout_urls", "fragment"},
		{"at most 100 logout urls", spa(), func(c *clients.Client) { c.LogoutURLs = manyURLs(101) }, "logout_urls", "at most 100"},

		{"web origin without path", spa(), addOrigin("https://app.example.com/app"), "web_origins", "must be an origin"},
		{"web origin without trailing slash", spa(), addOrigin("https://app.example.com/"), "web_origins", "must be an origin"},
		{"web origin without query", spa(), addOrigin("https://app.example.com?x=1"), "web_origins", "must be an origin"},
		{"web origin must be https", spa(), addOrigin("http://app.example.com"), "web_origins", "must be an https URL"},
		{"web origin in lower case", spa(), addOrigin("https://App.Example.com"), "web_origins", `written as browsers send it: "https://app.example.com"`},
		{"web origin without default port", spa(), addOrigin("https://app.example.com:443"), "web_origins", `"https://app.example.com"`},
		{"web origin with other port is fine", spa(), addOrigin("https://app.example.com:8443"), "", ""},
		{"web origin not a bare host", spa(), addOrigin("app.example.com"), "web_origins", "absolute URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := tt.client
			tt.change(&c)
			err := c.Validate()
			checkValidation(t, err, tt.field, tt.want)
		})
	}
}

func TestValidateAPI(t *testing.T) {
	ok := clients.API{Identifier: "https://api.example.com", Name: "Orders API", TokenLifetime: 24 * time.Hour}
	tests := []struct {
		name   string
		change func(*clients.API)
		field  string
		want   string
	}{
		{"a URL identifier is valid", func(*clients.API) {}, "", ""},
		{"a plain token identifier is valid", func(a *clients.API) { a.Identifier = "orders-api" }, "", ""},
		{"identifier is required", func(a *clients.API) { a.Identifier = "" }, "identifier", "must not be empty"},
		{"identifier without spaces", func(a *clients.API) { a.Identifier = "orders api" }, "identifier", "spaces"},
		{"identifier without control characters", func(a *clients.API) { a.Identifier = "orders\x00" }, "identifier", "control"},
		{"identifier at most 255 characters", func(a *clients.API) { a.Identifier = strings.Repeat("a", 256) }, "identifier", "at most 255"},
		{"name is required", func(a *clients.API) { a.Name = "" }, "name", "must not be empty"},
		{"name at most 100 characters", func(a *clients.API) { a.Name = strings.Repeat("n", 101) }, "name", "at most 100"},
		{"lifetime at least a minute", func(a *clients.API) { a.TokenLifetime = 59 * time.Second }, "token_lifetime", "between 1 minute and 30 days"},
		{"lifetime of a minute is fine", func(a *clients.API) { a.TokenLifetime = time.Minute }, "", ""},
		{"lifetime of 30 days is fine", func(a *clients.API) { a.TokenLifetime = 30 * 24 * time.Hour }, "", ""},
		{"lifetime at most 30 days", func(a *clients.API) { a.TokenLifetime = 30*24*time.Hour + time.Second }, "token_lifetime", "between 1 minute and 30 days"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := ok
			tt.change(&a)
			checkValidation(t, a.Validate(), tt.field, tt.want)
		})
	}
}

func TestValidationErrorNamesFieldAndProblem(t *testing.T) {
	c := spa()
	c.Callbacks = []string{"ftp://x"}
	want := `callbacks: "ftp://x" must be an https URL (http is allowed only for localhost)`
	if err := c.Validate(); err == nil || err.Error() != want {
		t.Fatalf("error %q, want %q", err, want)
	}
}

func TestVerifySecret(t *testing.T) {
	plain, hash := clients.NewSecret()
	c := clients.Client{Type: clients.Web, SecretHash: hash}
	if !c.VerifySecret(plain) {
		t.Error("the right secret does not verify")
	}
	for _, wrong := range []string{"", plain[:63], plain + "x", strings.ToUpper(plain)} {
		if c.VerifySecret(wrong) {
			t.Errorf("wrong secret %q verifies", wrong)
		}
	}
	public := clients.Client{Type: clients.SPA, SecretHash: hash}
	if public.VerifySecret(plain) {
		t.Error("a public client verifies a secret")
	}
	if (clients.Client{Type: clients.M2M}).VerifySecret("") {
		t.Error("a client without a stored hash verifies the empty secret")
	}
}

func TestNewSecretAndClientIDShapes(t *testing.T) {
	seen := map[string]bool{}
	for range 200 {
		id := clients.NewClientID()
		if len(id) != 32 || strings.Trim(id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789") != "" {
			t.Fatalf("client id %q: want 32 letters and digits", id)
		}
		plain, hash := clients.NewSecret()
		if len(plain) != 64 || strings.Trim(plain, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") != "" {
			t.Fatalf("secret %q: want 64 base64url characters", plain)
		}
		if !slices.Equal(hash, clients.HashSecret(plain)) || len(hash) != 32 {
			t.Fatalf("hash %x is not the SHA-256 of the secret", hash)
		}
		if seen[id] || seen[plain] {
			t.Fatal("a random value repeated")
		}
		seen[id], seen[plain] = true, true
	}
}

func TestAllowedURLsMatchExactly(t *testing.T) {
	c := spa()
	checks := []struct {
		name string
		got  bool
		want bool
	}{
		{"registered origin", c.AllowsOrigin("https://app.example.com"), true},
		{"origin with trailing slash", c.AllowsOrigin("https://app.example.com/"), false},
		{"origin in other case", c.AllowsOrigin("https://APP.example.com"), false},
		{"origin on other port", c.AllowsOrigin("http://localhost:3001"), false},
		{"origin of a callback is not implied", c.AllowsOrigin("http://localhost"), false},
		{"empty origin", c.AllowsOrigin(""), false},
		{"null origin", c.AllowsOrigin("null"), false},
		{"registered logout url", c.AllowsLogoutURL("https://app.example.com/"), true},
		{"logout url without trailing slash", c.AllowsLogoutURL("https://app.example.com"), false},
		{"logout url with extra query", c.AllowsLogoutURL("https://app.example.com/?x=1"), false},
		{"logout url that is a callback", c.AllowsLogoutURL("https://app.example.com/callback"), false},
		{"empty logout url", c.AllowsLogoutURL(""), false},
		{"registered callback", c.AllowsCallback("https://app.example.com/callback"), true},
		{"callback with trailing slash", c.AllowsCallback("https://app.example.com/callback/"), false},
		{"callback prefix", c.AllowsCallback("https://app.example.com/call"), false},
	}
	for _, ch := range checks {
		if ch.got != ch.want {
			t.Errorf("%s: allowed = %v, want %v", ch.name, ch.got, ch.want)
		}
	}
}

func TestOnlyNativeAppsGetLoopbackCallbacksOnAnyPort(t *testing.T) {
	spaOnLoopback := spa()
	spaOnLoopback.Callbacks = native().Callbacks
	tests := []struct {
		name   string
		client clients.Client
		uri    string
		want   bool
	}{
		{"native, registered", native(), "http://127.0.0.1:3000/cb", true},
		{"native, IPv4 loopback on another port", native(), "http://127.0.0.1:53682/cb", true},
		{"native, IPv4 loopback without a port", native(), "http://127.0.0.1/cb", true},
		{"native, IPv6 loopback on another port, same query", native(), "http://[::1]:4000/cb?app=1", true},
		{"native, another path", native(), "http://127.0.0.1:4000/cb/", false},
		{"native, another query", native(), "http://127.0.0.1:4000/cb?app=2", false},
		{"native, IPv6 without its query", native(), "http://[::1]:4000/cb", false},
		{"native, another loopback address", native(), "http://127.0.0.2:3000/cb", false},
		{"native, localhost on another port", native(), "http://localhost:4000/cb", false},
		{"native, https on another port", native(), "https://app.example.com:8443/cb", false},
		{"native, https loopback on another port", native(), "https://127.0.0.1:4000/cb", false},
		{"native, with a fragment", native(), "http://127.0.0.1:4000/cb#x", false},
		{"native, with a user", native(), "http://ann@127.0.0.1:4000/cb", false},
		{"spa, registered", spaOnLoopback, "http://127.0.0.1:3000/cb", true},
		{"spa, IPv4 loopback on another port", spaOnLoopback, "http://127.0.0.1:4000/cb", false},
		{"spa, IPv6 loopback on another port", spaOnLoopback, "http://[::1]:4000/cb?app=1", false},
	}
	for _, tt := range tests {
		if got := tt.client.AllowsRedirect(tt.uri); got != tt.want {
			t.Errorf("%s: AllowsRedirect(%q) = %v, want %v", tt.name, tt.uri, got, tt.want)
		}
	}
}

func TestGrantTypesAndPublic(t *testing.T) {
	tests := []struct {
		typ    clients.Type
		public bool
		grants []string
	}{
		{clients.SPA, true, []string{"authorization_code", "refresh_token"}},
		{clients.Native, true, []string{"authorization_code", "refresh_token"}},
		{clients.Web, false, []string{"authorization_code", "refresh_token"}},
		{clients.M2M, false, []string{"client_credentials"}},
	}
	for _, tt := range tests {
		c := clients.Client{Type: tt.typ}
		if c.Public() != tt.public || !slices.Equal(c.GrantTypes(), tt.grants) {
			t.Errorf("%s: public %v grants %v; want %v %v", tt.typ, c.Public(), c.GrantTypes(), tt.public, tt.grants)
		}
	}
}

func addCallback(u string) func(*clients.Client) {
	return func(c *clients.Client) { c.Callbacks = append(slices.Clip(c.Callbacks), u) }
}

func addOrigin(o string) func(*clients.Client) {
	return func(c *clients.Client) { c.WebOrigins = append(slices.Clip(c.WebOrigins), o) }
}

func manyURLs(n int) []string {
	urls := make([]string, n)
	for i := range urls {
		urls[i] = "https://app.example.com/" + strings.Repeat("x", i)
	}
	return urls
}

func checkValidation(t *testing.T, err error, field, want string) {
	t.Helper()
	if field == "" {
		if err != nil {
			t.Fatalf("valid, but Validate said %v", err)
		}
		return
	}
	var ve *clients.ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("error %v (%T), want a *ValidationError for %s", err, err, field)
	}
	if ve.Field != field || !strings.Contains(ve.Problem, want) {
		t.Fatalf("error %q, want field %s and a problem containing %q", err, field, want)
	}
}
