package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/gatehouse-id/gatehouse/clients"
	"github.com/gatehouse-id/gatehouse/store"
)

// The sample app (examples/react-spa) and its API (examples/api), as `gatehouse
// dev` registers them. The client id is fixed so the sample's config, the docs
// and browser tests can name it.
const (
	sampleClientID = "gatehouse-sample-spa"
	sampleOrigin   = "http://localhost:3000"
	// sampleHTTPSOrigin is where scripts/sample.sh serves the app with the
	// dev CA's certificate: the same site as Gatehouse on https://localhost,
	// so the browser sends Gatehouse's session cookie to silent login.
	sampleHTTPSOrigin = "https://localhost:3000"
	sampleAudience    = "https://gatehouse-sample-api"
	// sampleConfigPath is the sample's config file, relative to the
	// repository root where scripts/dev.sh runs dev.
	sampleConfigPath = "examples/react-spa/src/auth_config.json"
)

// sampleOrigins are the app's origins dev registers: over HTTPS both, since
// the app runs on plain HTTP where the developer has no dev certificate.
func sampleOrigins(useTLS bool) []string {
	if useTLS {
		return []string{sampleOrigin, sampleHTTPSOrigin}
	}
	return []string{sampleOrigin}
}

// seedSample registers the sample's client for origins and its API unless
// they exist. An existing client is left as it is, since a developer may
// have changed it, unless it is exactly what an older dev registered, which
// gains the origins it lacks.
func seedSample(ctx context.Context, st *store.Store, origins []string) error {
	c := sampleClient(origins)
	if err := st.CreateClient(ctx, c); errors.Is(err, clients.ErrDuplicate) {
		if err := widenSampleClient(ctx, st, c); err != nil {
			return fmt.Errorf("update the sample client: %w", err)
		}
	} else if err != nil {
		return fmt.Errorf("seed the sample client: %w", err)
	}
	if _, err := st.APIByIdentifier(ctx, sampleAudience); errors.Is(err, clients.ErrNotFound) {
		_, err = st.CreateAPI(ctx, clients.API{Identifier: sampleAudience, Name: "Sample API", TokenLifetime: 24 * time.Hour})
		if err != nil && !errors.Is(err, clients.ErrDuplicate) {
			return fmt.Errorf("seed the sample API: %w", err)
		}
	} else if err != nil {
		return fmt.Errorf("look up the sample API: %w", err)
	}
	return nil
}

func sampleClient(origins []string) clients.Client {
	// The app passes window.location.origin as redirect_uri and returnTo;
	// with and without the slash, as the SDK versions differ.
	var urls []string
	for _, o := range origins {
		urls = append(urls, o, o+"/")
	}
	return clients.Client{ID: sampleClientID, Name: "Sample SPA", Type: clients.SPA,
		Callbacks: urls, LogoutURLs: urls, WebOrigins: origins}
}

func widenSampleClient(ctx context.Context, st *store.Store, want clients.Client) error {
	c, err := st.ClientByID(ctx, sampleClientID)
	if err != nil {
		return err
	}
	older := sampleClient(sampleOrigins(false))
	if !slices.Equal(c.Callbacks, older.Callbacks) || !slices.Equal(c.LogoutURLs, older.LogoutURLs) ||
		!slices.Equal(c.WebOrigins, older.WebOrigins) || slices.Equal(want.WebOrigins, older.WebOrigins) {
		return nil
	}
	c.Callbacks, c.LogoutURLs, c.WebOrigins = want.Callbacks, want.LogoutURLs, want.WebOrigins
	return st.UpdateClient(ctx, c)
}

// sampleConfig is the sample's src/auth_config.json: the three fields of
// Auth0's React sample and two of the SDK's options.
type sampleConfig struct {
	Domain   string `json:"domain"`
	ClientID string `json:"clientId"`
	Audience string `json:"audience"`
	// The app on http://localhost:3000 and Gatehouse on https://localhost:8443
	// are different sites, so a browser that blocks third-party cookies sends
	// no session cookie to the SDK's silent-login iframe. A rotating refresh
	// token kept in localStorage survives a reload without that iframe;
	// docs/development.md weighs what keeping it there costs.
	CacheLocation    string `json:"cacheLocation"`
	UseRefreshTokens bool   `json:"useRefreshTokens"`
}

// sampleConfigFor is the config that points the sample at issuer. An https
// issuer at the root of its origin is a bare host:port, as Auth0 domains are
// (Auth0's sample API prefixes https:// itself); any other issuer keeps its
// scheme, which the SDK accepts.
func sampleConfigFor(issuer *url.URL) sampleConfig {
	domain := strings.TrimSuffix(issuer.String(), "/")
	if issuer.Scheme == "https" && issuer.Path == "/" {
		domain = issuer.Host
	}
	return sampleConfig{Domain: domain, ClientID: sampleClientID, Audience: sampleAudience,
		CacheLocation: "localstorage", UseRefreshTokens: true}
}

func (c sampleConfig) JSON() []byte {
	b, _ := json.MarshalIndent(c, "", "  ")
	return append(b, '\n')
}

// sampleConfigResult says what writeSampleConfig did, for the banner.
type sampleConfigResult struct {
	path   string
	status string // written, current, updated (an older dev's), kept (differs; left alone), absent (no sample here), failed
	err    error
	config sampleConfig
}

// writeSampleConfig writes the sample's config when the sample is in the
// working directory and has no config yet, or has the one an older dev wrote
// before refresh tokens. A config that says something else is the
// developer's and is kept; the banner shows what this server expects.
func writeSampleConfig(cfg sampleConfig, path string) sampleConfigResult {
	r := sampleConfigResult{path: path, config: cfg}
	if _, err := os.Stat(filepath.Join(filepath.Dir(path), "..", "package.json")); err != nil {
		r.status = "absent"
		return r
	}
	old, err := os.ReadFile(path)
	switch {
	case err == nil && bytes.Equal(bytes.TrimSpace(old), bytes.TrimSpace(cfg.JSON())):
		r.status = "current"
	case err == nil && writtenBeforeRefreshTokens(old, cfg):
		r.status = "updated"
	case err == nil:
		r.status = "kept"
	case errors.Is(err, os.ErrNotExist):
		r.status = "written"
	default:
		r.status, r.err = "failed", err
	}
	if r.status == "written" || r.status == "updated" {
		if err := os.WriteFile(path, cfg.JSON(), 0o644); err != nil {
			r.status, r.err = "failed", err
		}
	}
	return r
}

// writtenBeforeRefreshTokens reports whether old is exactly the three fields
// an older dev wrote for this server, which nobody chose to keep as they are.
func writtenBeforeRefreshTokens(old []byte, cfg sampleConfig) bool {
	var fields map[string]any
	if json.Unmarshal(old, &fields) != nil || len(fields) != 3 {
		return false
	}
	return fields["domain"] == cfg.Domain && fields["clientId"] == cfg.ClientID && fields["audience"] == cfg.Audience
}

// describe is the banner's paragraph about the sample app.
func (r sampleConfigResult) describe(tls devTLSFiles) string {
	var b strings.Builder
	fmt.Fprintf(&b, "  Sample app: client %s, API audience %s.\n", r.config.ClientID, r.config.Audience)
	switch r.status {
	case "written":
		fmt.Fprintf(&b, "    Wrote %s.\n", r.path)
	case "current":
		fmt.Fprintf(&b, "    %s matches this server.\n", r.path)
	case "updated":
		fmt.Fprintf(&b, "    Updated %s: the app now keeps users signed in with refresh tokens.\n", r.path)
	case "kept":
		fmt.Fprintf(&b, "    %s differs from this server's settings and was left as it is. This server expects:\n%s", r.path, indent(r.config.JSON(), "      "))
	case "failed":
		fmt.Fprintf(&b, "    Could not write %s (%v). Put this in it:\n%s", r.path, r.err, indent(r.config.JSON(), "      "))
	default:
		fmt.Fprintf(&b, "    Its src/auth_config.json:\n%s", indent(r.config.JSON(), "      "))
	}
	if tls.appCert != "" {
		fmt.Fprintf(&b, "    Start both: ./scripts/sample.sh   (then open %s)\n", sampleHTTPSOrigin)
		fmt.Fprintf(&b, "    Or the app: cd examples/react-spa && npm ci && SAMPLE_TLS_CERT=%s SAMPLE_TLS_KEY=%s npm start\n", tls.appCert, tls.appKey)
		fmt.Fprintf(&b, "    Its API:    cd examples/api && npm ci && APP_ORIGIN=%s NODE_EXTRA_CA_CERTS=%s npm start\n", sampleHTTPSOrigin, tls.ca)
		return b.String()
	}
	fmt.Fprintf(&b, "    Start it:  cd examples/react-spa && npm ci && npm start   (then open %s)\n", sampleOrigin)
	fmt.Fprintf(&b, "    Its API:   cd examples/api && npm ci && npm start\n")
	return b.String()
}

func indent(text []byte, prefix string) string {
	var b strings.Builder
	for line := range strings.SplitSeq(strings.TrimRight(string(text), "\n"), "\n") {
		b.WriteString(prefix + line + "\n")
	}
	return b.String()
}
