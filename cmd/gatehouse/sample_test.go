package main

import (
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gatehouse-id/gatehouse/clients"
	"github.com/gatehouse-id/gatehouse/store/storetest"
)

// TestSampleConfigKeepsUsersSignedInWithRefreshTokens checks what dev writes
// for the sample: refresh tokens in localStorage, which survive a reload in a
// browser that blocks third-party cookies; a config an older dev wrote is
// brought up to date, and one a developer changed is left alone.
func TestSampleConfigKeepsUsersSignedInWithRefreshTokens(t *testing.T) {
	issuer, err := url.Parse("https://localhost:8443/")
	if err != nil {
		t.Fatal(err)
	}
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
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			t.Fatal(err)
		}
		if tc.existing != "" {
			write(tc.existing)
		}
		r := writeSampleConfig(cfg, path)
		if r.status != tc.status || r.err != nil {
			t.Errorf("with %q: status %s (%v), want %s", tc.existing, r.status, r.err, tc.status)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if rewritten := string(b) == string(cfg.JSON()); rewritten != tc.rewritten {
			t.Errorf("with %q the file is now %s", tc.existing, b)
		}
	}
}

// TestDevRegistersTheSampleAppsHTTPSOrigins checks the sample client dev
// seeds: over HTTPS the app's https://localhost:3000 beside its plain HTTP
// origin, added to the client an older dev registered but not to one a
// developer changed; with --http, the plain HTTP origin alone.
func TestDevRegistersTheSampleAppsHTTPSOrigins(t *testing.T) {
	ctx := context.Background()
	both := []string{"http://localhost:3000", "https://localhost:3000"}
	bothURLs := []string{"http://localhost:3000", "http://localhost:3000/", "https://localhost:3000", "https://localhost:3000/"}
	httpOnly := []string{"http://localhost:3000"}
	httpOnlyURLs := []string{"http://localhost:3000", "http://localhost:3000/"}
	mine := clients.Client{ID: sampleClientID, Name: "Sample SPA", Type: clients.SPA,
		Callbacks: []string{"http://localhost:5173"}, LogoutURLs: []string{"http://localhost:5173"}, WebOrigins: []string{"http://localhost:5173"}}
	for _, tc := range []struct {
		name      string
		useTLS    bool
		existing  *clients.Client
		wantURLs  []string
		wantOrigs []string
	}{
		{"https, fresh database", true, nil, bothURLs, both},
		{"http, fresh database", false, nil, httpOnlyURLs, httpOnly},
		{"https after an older dev", true, ptr(sampleClient(httpOnly)), bothURLs, both},
		{"http after https", false, ptr(sampleClient(both)), bothURLs, both},
		{"https with the developer's client", true, &mine, mine.Callbacks, mine.WebOrigins},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, err := openStore(ctx, storetest.NewDatabase(t), false, slog.New(slog.DiscardHandler))
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			if tc.existing != nil {
				if err := st.CreateClient(ctx, *tc.existing); err != nil {
					t.Fatal(err)
				}
			}
			// Twice: dev seeds on every start.
			for range 2 {
				if err := seedSample(ctx, st, sampleOrigins(tc.useTLS)); err != nil {
					t.Fatal(err)
				}
			}
			c, err := st.ClientByID(ctx, sampleClientID)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(c.Callbacks, tc.wantURLs) || !slices.Equal(c.LogoutURLs, tc.wantURLs) || !slices.Equal(c.WebOrigins, tc.wantOrigs) {
				t.Fatalf("callbacks %v, logout URLs %v, web origins %v; want %v, %v, %v",
					c.Callbacks, c.LogoutURLs, c.WebOrigins, tc.wantURLs, tc.wantURLs, tc.wantOrigs)
			}
		})
	}
}

// TestDevBannerOpensTheSampleOverHTTPS checks the banner sends the developer
// to the app on https://localhost:3000, served with the dev CA's certificate,
// and keeps plain HTTP without one.
func TestDevBannerOpensTheSampleOverHTTPS(t *testing.T) {
	r := sampleConfigResult{status: "current", config: sampleConfigFor(&url.URL{Scheme: "https", Host: "localhost:8443", Path: "/"})}
	got := r.describe(devTLSFiles{ca: "/v/tls/ca.pem", appCert: "/v/tls/localhost-rsa.pem", appKey: "/v/tls/localhost-rsa-key.pem"})
	for _, want := range []string{"./scripts/sample.sh   (then open https://localhost:3000)",
		"SAMPLE_TLS_CERT=/v/tls/localhost-rsa.pem SAMPLE_TLS_KEY=/v/tls/localhost-rsa-key.pem npm start",
		"APP_ORIGIN=https://localhost:3000 NODE_EXTRA_CA_CERTS=/v/tls/ca.pem npm start"} {
		if !strings.Contains(got, want) {
			t.Errorf("banner lacks %q:\n%s", want, got)
		}
	}
	if got := r.describe(devTLSFiles{}); !strings.Contains(got, "(then open http://localhost:3000)") || strings.Contains(got, "https://localhost:3000") {
		t.Errorf("banner without the dev CA:\n%s", got)
	}
}

func ptr[T any](v T) *T { return &v }
