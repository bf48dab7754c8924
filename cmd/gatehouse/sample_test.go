package main

import (
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"testing"
)

// TestSampleConfigKeepsUsersSignedInWithRefreshTokens checks what dev writes
// for the sample: refresh tokens in localStorage, which survive a reload in a
// browser that blocks third-party cookies; a config an older dev wrote is
// brought up to date, and one a developer changed is left alone.
func TestSampleConfigKeepsUsersSignedInWithRefreshTokens(t *testing.T) {
	issuer, _ := url.Parse("https://localhost:8443/")
	cfg := sampleConfigFor(issuer)
	var got map[string]any
	if err := json.Unmarshal(cfg.JSON(), &got); err != nil {
		t.Fatal(err)
	}
	if got["useRefreshTokens"] != true || got["cacheLocation"] != "localstorage" || got["domain"] != "localhost:8443" {
		t.Fatalf("sample config %s", cfg.JSON())
	}

	sample := t.TempDir()
	if err := os.WriteFile(filepath.Join(sample, "package.json"), []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(sample, "src", "auth_config.json")
	if err := os.Mkdir(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	write := func(content string) {
		t.Helper()
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	olderDev := `{"domain": "localhost:8443", "clientId": "gatehouse-sample-spa", "audience": "https://gatehouse-sample-api"}`
	mine := `{"domain": "localhost:8443", "clientId": "gatehouse-sample-spa", "audience": "https://gatehouse-sample-api", "useRefreshTokens": false}`
	otherServer := `{"domain": "localhost:9443", "clientId": "gatehouse-sample-spa", "audience": "https://gatehouse-sample-api"}`
	for _, tc := range []struct {
		existing, status string
		rewritten        bool
	}{
		{"", "written", true},
		{olderDev, "updated", true},
		{string(cfg.JSON()), "current", true},
		{mine, "kept", false},
		{otherServer, "kept", false},
	} {
		os.Remove(path)
		if tc.existing != "" {
			write(tc.existing)
		}
		r := writeSampleConfig(cfg, path)
		if r.status != tc.status || r.err != nil {
			t.Errorf("with %q: status %s (%v), want %s", tc.existing, r.status, r.err, tc.status)
		}
		b, _ := os.ReadFile(path)
		if rewritten := string(b) == string(cfg.JSON()); rewritten != tc.rewritten {
			t.Errorf("with %q the file is now %s", tc.existing, b)
		}
	}
}
