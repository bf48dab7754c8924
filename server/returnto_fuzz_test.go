package server

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// FuzzSafeReturnTo: a return_to that survives is always a path on this
// server, so the login page can never become an open redirect.
func FuzzSafeReturnTo(f *testing.F) {
	for _, seed := range []string{"/account", "/authorize/resume?tx=1", "//evil.example", "/\\evil.example",
		"https://evil.example/", "/%2F%2Fevil.example", "/\t/evil", "javascript:alert(1)", "/auth/x", "/..//evil", ""} {
		f.Add(seed)
	}
	s := &Server{base: "/auth/"}
	f.Fuzz(func(t *testing.T, raw string) {
		got := s.safeReturnTo(raw)
		if got == "" {
			return
		}
		u, err := url.Parse(got)
		if err != nil || u.Scheme != "" || u.Host != "" || !strings.HasPrefix(got, "/auth/") || strings.HasPrefix(got, "//") {
			t.Fatalf("safeReturnTo(%q) = %q leaves this server", raw, got)
		}
		// A browser resolves it against the issuer; it must stay on the issuer's host.
		base, err := url.Parse("https://id.example.com/auth/")
		if err != nil {
			t.Fatal(err)
		}
		if r := base.ResolveReference(u); r.Host != "id.example.com" {
			t.Fatalf("safeReturnTo(%q) = %q resolves to %s", raw, got, r)
		}
	})
}

// FuzzJSONBodyAsForm: any token request body is either refused or becomes a
// form of string fields, never a panic.
func FuzzJSONBodyAsForm(f *testing.F) {
	for _, seed := range []string{`{"grant_type":"authorization_code","code":"x"}`, `{"a":1,"b":true,"c":null,"d":[1]}`,
		`[]`, `"str"`, `{`, `{"a":{"b":"c"}}`, "\x00", `{"grant_type":"refresh_token"}{"x":1}`} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, body string) {
		r, err := newJSONRequest(body)
		if err != nil {
			t.Skip()
		}
		if err := jsonBodyAsForm(r); err != nil {
			return
		}
		for k, vs := range r.PostForm {
			if len(vs) != 1 {
				t.Fatalf("field %q has %d values", k, len(vs))
			}
		}
	})
}

func newJSONRequest(body string) (*http.Request, error) {
	r, err := http.NewRequest("POST", "http://localhost/oauth/token", strings.NewReader(body))
	if err == nil {
		r.Header.Set("Content-Type", "application/json")
	}
	return r, err
}
