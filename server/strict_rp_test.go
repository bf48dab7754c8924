package server_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/clients"
	"github.com/gatehouse-id/gatehouse/store"
)

// strictRPDir holds the Node harness that runs oauth4webapi and openid-client
// in their strict modes (see its check.mjs); scripts/test.sh installs its
// packages.
const strictRPDir = "../e2e/strict-rp"

// strictRPChecks are the checks check.mjs makes, in its order. Each is a
// subtest; one the script never reached fails.
var strictRPChecks = []string{
	"oauth4webapi discovery",
	"openid-client discovery",
	"oauth4webapi code flow with PKCE and nonce",
	"oauth4webapi userinfo",
	"oauth4webapi validateJwtAccessToken for the API",
	"openid-client code flow with PKCE, nonce and ID token signature",
	"openid-client userinfo",
	"without an audience the access token is opaque, for userinfo only",
	"a revoked opaque access token stops working at userinfo",
	"openid-client refresh rotation",
	"refresh token retried within the reuse interval",
	"refresh token reused after the reuse interval is refused",
	"reuse revokes the whole family",
	"openid-client client credentials for an m2m application",
	"introspection shows a client its own token",
	"introspection hides other applications' tokens",
	"token revocation",
	"unknown grant type is unsupported_grant_type",
	"missing PKCE is refused before the login screen",
	"RP-initiated logout",
}

// strictRPPrerequisites says why the harness cannot run, if it cannot.
func strictRPPrerequisites() error {
	if _, err := exec.LookPath("node"); err != nil {
		return errors.New("node is not on PATH: the strict relying-party harness needs Node.js 20 or later")
	}
	for _, pkg := range []string{"oauth4webapi", "openid-client"} {
		if _, err := os.Stat(filepath.Join(strictRPDir, "node_modules", pkg)); err != nil {
			return errors.New("e2e/strict-rp has no node_modules: run `npm ci --prefix e2e/strict-rp` (scripts/test.sh does)")
		}
	}
	return nil
}

// TestStrictRelyingPartyLibraries runs e2e/strict-rp/check.mjs against a
// Gatehouse served over HTTPS, so that neither library needs its checks
// relaxed, not even the one refusing plain http. Each check is a subtest.
// Under GATEHOUSE_E2E=required (scripts/test.sh) a missing Node or package
// fails the test instead of skipping it.
func TestStrictRelyingPartyLibraries(t *testing.T) {
	if err := strictRPPrerequisites(); err != nil {
		if os.Getenv("GATEHOUSE_E2E") == "required" {
			t.Fatalf("GATEHOUSE_E2E=required, but %v", err)
		}
		t.Skip(err)
	}
	const reuse = 3 * time.Second
	h := newHarness(t, func(o *options) {
		o.tls = true
		o.refresh = store.DefaultOAuth2Config()
		o.refresh.RefreshReuseInterval = reuse
	})
	err := h.st.CreateClient(context.Background(), clients.Client{ID: spaID, Name: "Sample SPA", Type: clients.SPA,
		Callbacks: []string{spaCallback}, LogoutURLs: []string{spaOrigin + "/"}, WebOrigins: []string{spaOrigin}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.st.CreateAPI(context.Background(), clients.API{Identifier: apiAudience, Name: "Example API", TokenLifetime: apiTokenLifetime}); err != nil {
		t.Fatal(err)
	}
	m2mSecret := h.newMachineClient(t, "m2m")
	otherSecret := h.newMachineClient(t, "other-m2m")
	b := tlsBrowser(t, h)
	h.do(b, "POST", "/signup", url.Values{"email": {"ann@example.com"}, "password": {goodPassword}}).expectRedirect(t, "/account")

	caFile := filepath.Join(t.TempDir(), "ca.pem")
	caPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: h.srv.Certificate().Raw})
	if err := os.WriteFile(caFile, caPEM, 0o600); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", "check.mjs")
	cmd.Dir = strictRPDir
	cmd.Env = append(os.Environ(),
		"NODE_EXTRA_CA_CERTS="+caFile,
		"ISSUER="+h.issuer,
		"SPA_CLIENT_ID="+spaID,
		"REDIRECT_URI="+spaCallback,
		"LOGOUT_URI="+spaOrigin+"/",
		"API_AUDIENCE="+apiAudience,
		"EMAIL=ann@example.com",
		"PASSWORD="+goodPassword,
		"M2M_CLIENT_ID=m2m",
		"M2M_CLIENT_SECRET="+m2mSecret,
		"OTHER_CLIENT_ID=other-m2m",
		"OTHER_CLIENT_SECRET="+otherSecret,
	)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting node: %v", err)
	}

	results := map[string]string{} // check → "" when it passed, else why not
	lines := bufio.NewScanner(stdout)
	for lines.Scan() {
		var line struct {
			Check   string `json:"check"`
			OK      bool   `json:"ok"`
			Error   string `json:"error"`
			Advance string `json:"advance"`
		}
		if err := json.Unmarshal(lines.Bytes(), &line); err != nil {
			t.Errorf("check.mjs printed %q: %v", lines.Text(), err)
			continue
		}
		if line.Advance == "reuse-interval" {
			h.clock.Advance(reuse + time.Second)
			if _, err := io.WriteString(stdin, "\n"); err != nil {
				t.Errorf("telling check.mjs the clock has advanced: %v", err)
				break
			}
			continue
		}
		results[line.Check] = line.Error
		if !line.OK && line.Error == "" {
			results[line.Check] = "failed without saying why"
		}
	}
	if err := stdin.Close(); err != nil {
		t.Errorf("closing check.mjs's standard input: %v", err)
	}
	waitErr := cmd.Wait()
	if ctx.Err() != nil {
		t.Fatalf("check.mjs did not finish within 2 minutes; stderr:\n%s", stderr.String())
	}
	for _, name := range strictRPChecks {
		t.Run(name, func(t *testing.T) {
			why, ran := results[name]
			switch {
			case !ran:
				t.Fatalf("check.mjs stopped before this check (standard error: %q)", stderr.String())
			case why != "":
				t.Fatal(why)
			}
		})
	}
	for name := range results {
		if !slices.Contains(strictRPChecks, name) {
			t.Errorf("check.mjs made a check %q this test does not list", name)
		}
	}
	if waitErr != nil && !t.Failed() {
		t.Fatalf("check.mjs: %v; stderr:\n%s", waitErr, stderr.String())
	}
}

// tlsBrowser is a browser (see harness.browser) that trusts the harness's
// HTTPS certificate.
func tlsBrowser(t *testing.T, h *harness) *http.Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Transport: h.srv.Client().Transport, Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}
}
