package server_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/account"
	"github.com/gatehouse-id/gatehouse/mfa"
	"github.com/gatehouse-id/gatehouse/server"
)

// The access matrix holds every route the router serves to the assurance
// rules, for every kind of session, under the Always and the Never policy. A
// route without a row fails the test: a new door needs its answer written
// down here.

// outcome is what a route answered, as far as the rules are concerned.
type outcome string

const (
	allowed outcome = "allowed" // past every gate (it may still refuse the form)
	toLogin outcome = "login"   // sent to log in
	toMFA   outcome = "mfa"     // sent to pass or set up a second factor
	locked  outcome = "locked"  // the MFA lock explained
	refused outcome = "refused" // 401 or 403
)

// access names a route's rule; expect gives its outcome per session state
// and policy.
type access string

const (
	public       access = "public"        // no session needed; no gate may send anyone anywhere
	accountPage  access = "account"       // a complete session under the tenant's policy
	sudo         access = "sudo"          // changes factors or the password: a recent second factor
	proveFactor  access = "prove"         // a factor's own screen: a session of a user who holds it
	proveUnheld  access = "prove-unheld"  // the screen of a factor the users here do not hold: sent to their own
	passwordOnly access = "password-only" // any signed-in session
	adminOnly    access = "admin"         // an admin past a second factor
	apiToken     access = "api"           // a bearer token, never a browser session
)

type sessionState string

const (
	anonymous     sessionState = "anonymous"
	passwordState sessionState = "password only"
	mfaState      sessionState = "password + second factor"
	mfaOldState   sessionState = "password + second factor long ago"
	lockedState   sessionState = "MFA-locked"
	blockedState  sessionState = "blocked"
	adminPassword sessionState = "admin without second factor"
	adminMFA      sessionState = "admin + second factor"
)

var sessionStates = []sessionState{anonymous, passwordState, mfaState, mfaOldState, lockedState, blockedState, adminPassword, adminMFA}

func expect(a access, st sessionState, policy mfa.Policy) outcome {
	if a == public {
		return allowed // or any answer but a server error: see the test
	}
	if a == apiToken {
		return refused
	}
	switch st {
	case anonymous, blockedState:
		return toLogin
	case lockedState:
		if a == passwordOnly {
			return allowed
		}
		return locked
	}
	full := st == mfaState || st == adminMFA
	switch a {
	case proveUnheld:
		return toMFA
	case passwordOnly, proveFactor:
		return allowed
	case accountPage:
		if full || st == mfaOldState || policy == mfa.PolicyNever {
			return allowed
		}
		return toMFA
	case sudo:
		if full {
			return allowed
		}
		return toMFA
	case adminOnly:
		switch st {
		case adminMFA:
			return allowed
		case adminPassword:
			return toMFA
		}
		return refused
	}
	panic("unknown access " + string(a))
}

// accessMatrix is every route's rule, keyed "METHOD path" as routes.go
// registers it.
var accessMatrix = map[string]access{
	"GET {$}":                              public, // redirects to the account page, which decides
	"GET login":                            public,
	"POST login":                           public,
	"GET signup":                           public,
	"POST signup":                          public,
	"GET logout":                           public,
	"POST logout":                          public,
	"GET account":                          accountPage,
	"POST account/password":                sudo,
	"GET account/security":                 accountPage,
	"POST account/sessions/end":            sudo,
	"POST account/sessions/end-others":     sudo,
	"POST account/email/verify":            accountPage,
	"POST account/language":                accountPage,
	"GET email/verify":                     public,
	"GET forgot":                           public,
	"POST forgot":                          public,
	"GET reset":                            public, // the mailed link's own state decides (TestPhoneMessageOff…, email_test.go)
	"POST reset":                           public,
	"GET .well-known/openid-configuration": public,
	"GET .well-known/jwks.json":            public,
	"GET authorize":                        public, // the dispatcher asks the authority (assurance_test.go)
	"GET authorize/resume":                 public,
	"POST oauth/token":                     public,
	"OPTIONS oauth/token":                  public,
	"POST oauth/revoke":                    public,
	"OPTIONS oauth/revoke":                 public,
	"POST oauth/introspect":                public,
	"GET userinfo":                         public,
	"POST userinfo":                        public,
	"OPTIONS userinfo":                     public,
	"GET v2/logout":                        public,
	"GET oidc/logout":                      public,
	"GET avatar/{file}":                    public,
	"GET branding/style.css":               public, // colours from its own query, nothing stored
	"GET branding/logo/{client}":           public, // the login card shows it before anyone logs in

	"GET .well-known/oauth-authorization-server": public, // the discovery document again, as RFC 8414 names it

	"GET mfa/enroll":                   sudo, // the user holds a phone: replacing it
	"POST mfa/enroll":                  sudo,
	"POST mfa/recovery":                passwordOnly,
	"GET mfa/challenge":                proveFactor,
	"POST mfa/challenge":               proveFactor,
	"GET mfa/totp":                     proveFactor, // recovery codes
	"POST mfa/totp":                    proveFactor,
	"POST account/browsers/forget":     sudo,
	"POST account/browsers/forget-all": sudo,
	"POST account/phone/remove":        sudo, // a stale form: the harmless one names no phone
	"POST account/recovery-codes":      sudo,
	"GET account/totp":                 sudo,
	"GET account/totp/qr.png":          sudo,
	"POST account/totp":                sudo,
	"POST account/totp/remove":         sudo,
	"GET mfa/passkey":                  proveUnheld,
	"POST mfa/passkey":                 proveUnheld,
	"GET account/passkeys/new":         sudo, // beside the phone the users hold
	"POST account/passkeys":            sudo,
	"POST account/passkeys/rename":     sudo,
	"POST account/passkeys/remove":     sudo,
	"POST login/passkey/options":       public,
	"POST login/passkey":               public, // answers only a ceremony this browser began
	"POST hooks/plivo/status":          public,

	"GET admin/{$}":                              adminOnly,
	"GET admin/mfa":                              adminOnly,
	"POST admin/mfa":                             adminOnly,
	"POST admin/mfa/test":                        adminOnly,
	"GET admin/users":                            adminOnly,
	"GET admin/users/{id}":                       adminOnly,
	"POST admin/users/{id}/delete":               adminOnly,
	"POST admin/users/{id}/metadata":             adminOnly,
	"POST admin/users/{id}/{action}":             adminOnly, // remove-passkey too: TestEveryAdminRouteIsForAdminsPastTheirSecondFactor
	"GET admin/logs":                             adminOnly,
	"POST admin/logs":                            adminOnly,
	"GET admin/applications":                     adminOnly,
	"POST admin/applications":                    adminOnly,
	"GET admin/applications/{id}":                adminOnly,
	"POST admin/applications/{id}":               adminOnly,
	"POST admin/applications/{id}/rotate-secret": adminOnly,
	"POST admin/applications/{id}/delete":        adminOnly,
	"GET admin/applications/{id}/branding":       adminOnly,
	"POST admin/applications/{id}/branding":      adminOnly,
	"GET admin/apis":                             adminOnly,
	"POST admin/apis":                            adminOnly,
	"GET admin/apis/{id}":                        adminOnly,
	"POST admin/apis/{id}":                       adminOnly,
	"POST admin/apis/{id}/scopes":                adminOnly,
	"POST admin/apis/{id}/grants":                adminOnly,
	"POST admin/apis/{id}/delete":                adminOnly,
	"GET admin/applications/{id}/claims":         adminOnly,
	"POST admin/applications/{id}/claims":        adminOnly,
	"POST admin/apis/{id}/rbac":                  adminOnly,
	"GET admin/roles":                            adminOnly,
	"POST admin/roles":                           adminOnly,
	"GET admin/roles/{id}":                       adminOnly,
	"POST admin/roles/{id}":                      adminOnly,
	"POST admin/roles/{id}/permissions":          adminOnly,
	"POST admin/roles/{id}/delete":               adminOnly,
	"GET admin/users/{id}/roles":                 adminOnly,
	"POST admin/users/{id}/roles":                adminOnly,
	"GET admin/try":                              adminOnly,
	"POST admin/try":                             adminOnly,
	"GET admin/try/callback":                     public, // admitted by the try cookie (admin_try_test.go)

	"GET api/admin/settings":                            apiToken,
	"PATCH api/admin/settings":                          apiToken,
	"GET api/admin/logs":                                apiToken,
	"GET api/admin/clients":                             apiToken,
	"POST api/admin/clients":                            apiToken,
	"GET api/admin/clients/{id}":                        apiToken,
	"PATCH api/admin/clients/{id}":                      apiToken,
	"DELETE api/admin/clients/{id}":                     apiToken,
	"POST api/admin/clients/{id}/rotate-secret":         apiToken,
	"GET api/admin/clients/{id}/grants":                 apiToken,
	"PUT api/admin/clients/{id}/grants":                 apiToken,
	"DELETE api/admin/clients/{id}/grants":              apiToken,
	"GET api/admin/apis":                                apiToken,
	"POST api/admin/apis":                               apiToken,
	"GET api/admin/apis/{id}":                           apiToken,
	"PATCH api/admin/apis/{id}":                         apiToken,
	"DELETE api/admin/apis/{id}":                        apiToken,
	"PUT api/admin/apis/{id}/scopes":                    apiToken,
	"GET api/admin/users":                               apiToken,
	"GET api/admin/users/{id}":                          apiToken,
	"PATCH api/admin/users/{id}":                        apiToken,
	"DELETE api/admin/users/{id}":                       apiToken,
	"DELETE api/admin/users/{id}/passkeys/{credential}": apiToken,
	"POST api/admin/users/{id}/reset-mfa":               apiToken,
	"POST api/admin/users/{id}/revoke-sessions":         apiToken,
	"GET api/admin/stats":                               apiToken,
	"GET api/admin/clients/{id}/claims":                 apiToken,
	"PUT api/admin/clients/{id}/claims":                 apiToken,
	"GET api/admin/roles":                               apiToken,
	"POST api/admin/roles":                              apiToken,
	"GET api/admin/roles/{id}":                          apiToken,
	"PATCH api/admin/roles/{id}":                        apiToken,
	"DELETE api/admin/roles/{id}":                       apiToken,
	"PUT api/admin/roles/{id}/permissions":              apiToken,
	"GET api/admin/users/{id}/roles":                    apiToken,
	"POST api/admin/users/{id}/roles":                   apiToken,
	"DELETE api/admin/users/{id}/roles":                 apiToken,
	"GET api/admin/apis/{id}/rbac":                      apiToken,
	"PUT api/admin/apis/{id}/rbac":                      apiToken,
	"GET api/admin/clients/{id}/branding":               apiToken,
	"PATCH api/admin/clients/{id}/branding":             apiToken,
	"PUT api/admin/clients/{id}/branding/logo":          apiToken,
	"DELETE api/admin/clients/{id}/branding/logo":       apiToken,
	" api/admin/":                                       public, // any other admin API path: 404 for everyone
	"GET api/v2/users":                                  apiToken,
	"GET api/v2/users/{id}":                             apiToken,
	"PATCH api/v2/users/{id}":                           apiToken,
	"GET api/v2/users-by-email":                         apiToken,
	" api/v2/":                                          public, // any other Management API path: 404 for everyone

	"GET static/": public,
	"GET healthz": public,
	"GET readyz":  public,
}

func TestAccessMatrixCoversEveryRouteForEverySession(t *testing.T) {
	h := newHarness(t, func(o *options) { o.plivo, o.localhost = true, true })
	ctx := context.Background()
	users := map[sessionState]account.User{}
	newUser := func(email string, admin bool) account.User {
		u, err := h.accounts.CreateUser(ctx, email, "", goodPassword, admin, account.Meta{})
		if err != nil {
			t.Fatal(err)
		}
		phone, err := mfa.ParsePhone(mobile, "", nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := h.mfaSvc.EnrollByOperator(ctx, u.ID, phone); err != nil {
			t.Fatal(err)
		}
		if _, err := h.mfaSvc.IssueRecoveryCodes(ctx, u.ID); err != nil {
			t.Fatal(err)
		}
		return u
	}
	ann := newUser("ann@example.com", false)
	for _, st := range []sessionState{passwordState, mfaState, mfaOldState} {
		users[st] = ann
	}
	users[lockedState] = newUser("lou@example.com", false)
	if _, err := h.st.AddMFAFailure(ctx, users[lockedState].ID, time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := h.st.LockMFA(ctx, users[lockedState].ID, time.Time{}, true); err != nil {
		t.Fatal(err)
	}
	users[blockedState] = newUser("bob@example.com", false)
	ada := newUser("ada@example.com", true)
	users[adminPassword], users[adminMFA] = ada, ada
	if _, err := h.st.Pool().Exec(ctx, `update users set blocked = true where id = $1`, users[blockedState].ID); err != nil {
		t.Fatal(err)
	}

	srvURL, err := url.Parse(h.srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	cookie := "gatehouse_session"
	// browserIn is a browser holding a fresh session in state st, and the
	// admin form token that session's pages carry.
	browserIn := func(t *testing.T, st sessionState) (*http.Client, string) {
		b := h.browser()
		if st == anonymous {
			return b, ""
		}
		token, sess, err := h.accounts.StartSession(ctx, users[st], []string{"pwd"}, account.Meta{})
		if err != nil {
			t.Fatal(err)
		}
		switch st {
		case mfaState, mfaOldState, adminMFA, blockedState:
			if token, sess, err = h.accounts.PassSecondFactor(ctx, sess, "sms", "mfa"); err != nil {
				t.Fatal(err)
			}
		}
		if st == mfaOldState {
			if _, err := h.st.Pool().Exec(ctx, `update sessions set second_factor_at = second_factor_at - interval '1 hour' where id_hash = $1`,
				sess.IDHash()); err != nil {
				t.Fatal(err)
			}
		}
		b.Jar.SetCookies(srvURL, []*http.Cookie{{Name: cookie, Value: token, Path: "/"}})
		var csrf string
		if st == adminMFA {
			page := h.do(b, "GET", "/admin/mfa", nil)
			m := csrfRE.FindStringSubmatch(page.body)
			if m == nil {
				t.Fatalf("no admin form token: %d to %q", page.status, page.header.Get("Location"))
			}
			csrf = m[1]
		}
		return b, csrf
	}

	routes := h.server.Routes()
	seen := map[string]bool{}
	for _, r := range routes {
		key := r.Method + " " + r.Path
		seen[key] = true
		if _, ok := accessMatrix[key]; !ok {
			t.Errorf("route %q has no row in the access matrix: decide who may reach it and add one", key)
		}
	}
	for key := range accessMatrix {
		if !seen[key] {
			t.Errorf("the access matrix has a row for %q, which the router no longer serves", key)
		}
	}
	if t.Failed() {
		return
	}

	for _, policy := range []mfa.Policy{mfa.PolicyAlways, mfa.PolicyNever} {
		h.setPolicy(t, policy)
		for _, st := range sessionStates {
			t.Run(fmt.Sprintf("%s/%s", policy, st), func(t *testing.T) {
				for _, r := range routes {
					key := r.Method + " " + r.Path
					want := expect(accessMatrix[key], st, policy)
					b, csrf := browserIn(t, st)
					got, detail := h.accessOutcome(b, r, csrf)
					if got != want && !(accessMatrix[key] == public && got != "error") {
						t.Errorf("%s: %s, want %s", key, detail, want)
					}
				}
			})
		}
	}
}

var pathParams = strings.NewReplacer("{$}", "", "{id}", "00000000-0000-4000-8000-000000000000", "{action}", "block", "{file}", "none.png", "{credential}", "AAAA")

// accessOutcome requests route r with a harmless form and says what the
// answer means for the rules.
func (h *harness) accessOutcome(b *http.Client, r server.Route, csrf string) (outcome, string) {
	method := r.Method
	if method == "" {
		method = "GET"
	}
	var form url.Values
	if method != "GET" {
		form = url.Values{"step": {"none"}, "csrf": {csrf}}
	}
	resp := h.do(b, method, "/"+pathParams.Replace(r.Path), form)
	loc := resp.header.Get("Location")
	detail := fmt.Sprintf("%d to %q (%s)", resp.status, loc, resp.alert())
	switch {
	case resp.status >= 500:
		return "error", detail
	case resp.status >= 300 && resp.status < 400 && strings.HasPrefix(loc, "/login"):
		return toLogin, detail
	case resp.status >= 300 && resp.status < 400 && strings.Contains(loc, "return_to=") &&
		(strings.HasPrefix(loc, "/mfa/") || strings.HasPrefix(loc, "/account/totp")):
		return toMFA, detail
	case strings.Contains(resp.body, "Verification is locked"):
		return locked, detail
	case resp.status == http.StatusUnauthorized || resp.status == http.StatusForbidden:
		return refused, detail
	}
	return allowed, detail
}
