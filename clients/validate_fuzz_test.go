package clients

import (
	"net/url"
	"strings"
	"testing"
)

// FuzzCallbackRules: a callback the rules accept is an absolute http(s) URL
// without a fragment, plain http only for loopback, and it matches itself
// exactly and nothing that differs by a trailing slash or case.
func FuzzCallbackRules(f *testing.F) {
	for _, seed := range []string{"https://app.example.com/callback", "http://localhost:3000", "http://127.0.0.1:8080/cb",
		"http://evil.example/cb", "https://app.example.com/cb#frag", "javascript:alert(1)", "https://user@app.example.com/",
		"https://app.example.com/\x00", "HTTPS://APP.EXAMPLE.COM/", "https://[::1]/", "//app.example.com/cb", "com.example.app:/cb"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, cb string) {
		c := Client{ID: "app", Name: "App", Type: SPA, Callbacks: []string{cb}}
		if c.Validate() != nil {
			return
		}
		u, err := url.Parse(cb)
		if err != nil || u.Fragment != "" || u.Host == "" {
			t.Fatalf("accepted callback %q (%v)", cb, err)
		}
		if u.Scheme == "http" && !isLoopback(u.Hostname()) {
			t.Fatalf("accepted plain http for %q", cb)
		}
		if u.Scheme != "http" && u.Scheme != "https" {
			t.Fatalf("accepted scheme %q", u.Scheme)
		}
		if !c.AllowsCallback(cb) || c.AllowsCallback(cb+"/") || (strings.ToUpper(cb) != cb && c.AllowsCallback(strings.ToUpper(cb))) {
			t.Fatalf("matching of %q is not exact", cb)
		}
	})
}
