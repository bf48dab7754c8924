package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// spaJSDir holds the Node harness that drives the real @auth0/auth0-spa-js
// bundle (see its login.mjs); scripts/test.sh installs its packages.
const spaJSDir = "../e2e/spa-js"

// sdkLogin is what login.mjs prints when the SDK has logged in, refreshed
// its token and logged out.
type sdkLogin struct {
	User                    map[string]any `json:"user"`
	Claims                  map[string]any `json:"claims"`
	AccessToken             string         `json:"accessToken"`
	AccessTokenAfterRefresh string         `json:"accessTokenAfterRefresh"`
	TokenGrants             []string       `json:"tokenGrants"`
	LogoutLocation          string         `json:"logoutLocation"`
}

// skipWithoutSPASDK skips the test when Node or the harness's packages are
// missing, or fails it under GATEHOUSE_E2E=required (scripts/test.sh, which
// installs them).
func skipWithoutSPASDK(t *testing.T) {
	t.Helper()
	missing := ""
	if _, err := exec.LookPath("node"); err != nil {
		missing = "node is not on PATH: the Auth0 SPA SDK test needs Node.js 18 or later"
	} else if _, err := os.Stat(filepath.Join(spaJSDir, "node_modules", "@auth0", "auth0-spa-js")); err != nil {
		missing = "e2e/spa-js has no node_modules: run `npm ci --prefix e2e/spa-js` (scripts/test.sh does)"
	}
	if missing == "" {
		return
	}
	if os.Getenv("GATEHOUSE_E2E") == "required" {
		t.Fatalf("GATEHOUSE_E2E=required, but %s", missing)
	}
	t.Skip(missing)
}

// runSPASDK runs login.mjs against h as ann@example.com on the SPA, with env
// entries ("NAME=value") overriding its settings, and returns its standard
// output and error, and whether it exited 0.
func runSPASDK(t *testing.T, h *harness, env ...string) (stdout, stderr string, ok bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", "login.mjs")
	cmd.Dir = spaJSDir
	cmd.Env = append(os.Environ(),
		"GATEHOUSE_URL="+h.srv.URL,
		"CLIENT_ID="+spaID,
		"REDIRECT_URI="+spaCallback,
		"AUDIENCE="+apiAudience,
		"EMAIL=ann@example.com",
		"PASSWORD="+goodPassword,
		"ISSUER=",
	)
	cmd.Env = append(cmd.Env, env...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("login.mjs did not finish within 60 s; stderr:\n%s", errOut.String())
	}
	if _, exited := err.(*exec.ExitError); err != nil && !exited {
		t.Fatalf("running node: %v", err)
	}
	return out.String(), errOut.String(), err == nil
}

// TestAuth0SPASDKLogsIn logs in with the published @auth0/auth0-spa-js 2.1.0
// (the version Auth0's React sample pins), unmodified, in jsdom: the SDK
// builds the /authorize URL, exchanges the code, validates the ID token,
// refreshes with the refresh-token grant and builds the /v2/logout URL; the
// script plays the browser's redirects and enforces CORS as a browser would.
func TestAuth0SPASDKLogsIn(t *testing.T) {
	skipWithoutSPASDK(t)
	h := newHarness(t)
	h.newSPA(t)
	h.signUp(h.browser(), "ann@example.com").expectRedirect(t, "/account")

	stdout, stderr, ok := runSPASDK(t, h)
	if !ok {
		t.Fatalf("the Auth0 SPA SDK did not log in:\n%s", stderr)
	}
	var got sdkLogin
	if err := json.Unmarshal([]byte(stdout), &got); err != nil {
		t.Fatalf("login.mjs printed %q: %v", stdout, err)
	}
	if got.User["email"] != "ann@example.com" || got.User["sub"] == nil || got.User["sub"] == "" {
		t.Errorf("getUser() = %v, want ann@example.com with a sub", got.User)
	}
	if got.Claims["iss"] != h.issuer || got.Claims["aud"] != spaID || got.Claims["sub"] != got.User["sub"] {
		t.Errorf("getIdTokenClaims() iss %v aud %v sub %v, want %s, %s, %v",
			got.Claims["iss"], got.Claims["aud"], got.Claims["sub"], h.issuer, spaID, got.User["sub"])
	}
	if raw, _ := got.Claims["__raw"].(string); strings.Count(raw, ".") != 2 {
		t.Errorf("getIdTokenClaims() carries no raw ID token: %q", raw)
	}
	if strings.Join(got.TokenGrants, ",") != "authorization_code,refresh_token" {
		t.Errorf("the SDK made token requests %v, want the code exchange then a refresh", got.TokenGrants)
	}
	if got.AccessToken == "" || got.AccessTokenAfterRefresh == "" || got.AccessTokenAfterRefresh == got.AccessToken {
		t.Errorf("access tokens before and after the refresh: %.20q, %.20q; want two different ones", got.AccessToken, got.AccessTokenAfterRefresh)
	}
	if got.LogoutLocation != spaOrigin+"/" {
		t.Errorf("logout redirected to %q, want %s/", got.LogoutLocation, spaOrigin)
	}
}

// TestAuth0SPASDKFailsLoudly checks that the harness above can fail: a wrong
// password, an unknown client and an ID token from another issuer than the
// SDK expects each stop it with the reason.
func TestAuth0SPASDKFailsLoudly(t *testing.T) {
	skipWithoutSPASDK(t)
	h := newHarness(t)
	h.newSPA(t)
	h.signUp(h.browser(), "ann@example.com").expectRedirect(t, "/account")

	for _, c := range []struct{ name, env, want string }{
		{"wrong password", "PASSWORD=not the password", `screen "login", alert "Wrong email or password."`},
		{"unknown client", "CLIENT_ID=no-such-client", `screen "error", title "This login link is not valid"`},
		{"foreign issuer", "ISSUER=https://login.example.com/", `Issuer (iss) claim mismatch`},
	} {
		t.Run(c.name, func(t *testing.T) {
			stdout, stderr, ok := runSPASDK(t, h, c.env)
			if ok || stdout != "" || !strings.Contains(stderr, c.want) {
				t.Fatalf("exit 0: %v, stdout %q, stderr %q; want exit 1 naming %s", ok, stdout, stderr, c.want)
			}
			t.Logf("%s", stderr)
		})
	}
}
