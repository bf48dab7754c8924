package server_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/gatehouse-id/gatehouse/account"
	"github.com/gatehouse-id/gatehouse/clients"
	"github.com/gatehouse-id/gatehouse/roles"
)

const billingAudience = "https://billing.example.com"

// rbacWorld is the SPA's API with two scopes and RBAC on, a billing API,
// and ann holding the role "reader": read:messages of the API and
// read:invoices of billing.
type rbacWorld struct {
	h     *harness
	spa   *rp
	roles *roles.Service
	b     *http.Client
	ann   account.User
	api   clients.API
	role  roles.Role
}

func newRBACWorld(t *testing.T) rbacWorld {
	t.Helper()
	ctx := context.Background()
	h := newHarness(t)
	spa := h.newSPA(t)
	cs := clients.NewService(clients.Deps{Registry: h.st, Audit: h.st})
	api, err := h.st.APIByIdentifier(ctx, apiAudience)
	if err != nil {
		t.Fatal(err)
	}
	if err := cs.SetScopes(ctx, api.ID, []clients.Scope{{Value: "read:messages"}, {Value: "write:messages"}}, account.Actor{Name: "test"}, account.Meta{}); err != nil {
		t.Fatal(err)
	}
	if _, err := cs.CreateAPI(ctx, clients.API{Identifier: billingAudience, Name: "Billing"}, []clients.Scope{{Value: "read:invoices"}, {Value: "read:messages"}}, account.Actor{Name: "test"}, account.Meta{}); err != nil {
		t.Fatal(err)
	}
	rs := roles.NewService(roles.Deps{Store: h.st, APIs: h.st, Audit: h.st})
	by := account.Actor{Name: "test"}
	role, err := rs.CreateRole(ctx, roles.Role{Name: "reader"}, by, account.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rs.SetPermissions(ctx, role.ID, []roles.Permission{{Audience: apiAudience, Value: "read:messages"},
		{Audience: billingAudience, Value: "read:invoices"}}, by, account.Meta{}); err != nil {
		t.Fatal(err)
	}
	b := signedInBrowser(t, h)
	ann, err := h.st.UserByEmail(ctx, "ann@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if err := rs.AddUserRoles(ctx, ann.ID, []string{role.ID}, by, account.Meta{}); err != nil {
		t.Fatal(err)
	}
	return rbacWorld{h: h, spa: spa, roles: rs, b: b, ann: ann, api: api, role: role}
}

func (w rbacWorld) settings(t *testing.T, enforce, perms bool) {
	t.Helper()
	if err := w.roles.SetAPISettings(context.Background(), roles.Settings{APIID: w.api.ID, Enforce: enforce, TokenPermissions: perms}, account.Actor{Name: "test"}, account.Meta{}); err != nil {
		t.Fatal(err)
	}
}

// tokenFor logs ann in asking for the scopes and returns the token and its
// access token's claims.
func (w rbacWorld) tokenFor(t *testing.T, scope string) (*oauth2.Token, map[string]any) {
	t.Helper()
	f := newFlow()
	q := callback(t, w.h.do(w.b, "GET", w.spa.authURL(f, oauth2.SetAuthURLParam("scope", scope)), nil))
	tok, err := w.spa.cfg.Exchange(context.Background(), q.Get("code"), oauth2.VerifierOption(f.verifier))
	if err != nil {
		t.Fatalf("code exchange: %v", err)
	}
	return tok, jwtPayload(t, tok.AccessToken)
}

func permissionsOf(t *testing.T, claims map[string]any) []string {
	t.Helper()
	raw, ok := claims["permissions"].([]any)
	if !ok {
		t.Fatalf("no permissions array in %v", claims)
	}
	out := []string{}
	for _, p := range raw {
		out = append(out, p.(string))
	}
	return out
}

func TestAccessTokensCarryThePermissionsOfTheUsersRoles(t *testing.T) {
	w := newRBACWorld(t)

	t.Run("without RBAC the token has no permissions and no API scope", func(t *testing.T) {
		_, claims := w.tokenFor(t, "openid profile read:messages")
		if _, ok := claims["permissions"]; ok || strings.Contains(claims["scope"].(string), "read:messages") {
			t.Fatalf("claims %v", claims)
		}
	})

	w.settings(t, true, true)
	tok, claims := w.tokenFor(t, "openid profile offline_access read:messages write:messages")
	t.Run("permissions are the user's on this API only, never billing's", func(t *testing.T) {
		if got := permissionsOf(t, claims); !slices.Equal(got, []string{"read:messages"}) {
			t.Fatalf("permissions %v, want [read:messages]", got)
		}
	})
	t.Run("requested scopes are cut to the permissions held", func(t *testing.T) {
		scopes := strings.Fields(claims["scope"].(string))
		if !slices.Contains(scopes, "read:messages") || slices.Contains(scopes, "write:messages") {
			t.Fatalf("scope %v: want read:messages kept and write:messages dropped", scopes)
		}
	})
	t.Run("a role taken away is gone from the next refreshed token", func(t *testing.T) {
		if err := w.roles.RemoveUserRoles(context.Background(), w.ann.ID, []string{w.role.ID}, account.Actor{Name: "test"}, account.Meta{}); err != nil {
			t.Fatal(err)
		}
		status, body, _ := w.h.tokenRequest(t, url.Values{"grant_type": {"refresh_token"}, "client_id": {spaID}, "refresh_token": {tok.RefreshToken}})
		if status != http.StatusOK {
			t.Fatalf("refresh: %d %v", status, body)
		}
		claims := jwtPayload(t, body["access_token"].(string))
		if got := permissionsOf(t, claims); len(got) != 0 {
			t.Errorf("permissions after the role was removed: %v", got)
		}
		if strings.Contains(claims["scope"].(string), "read:messages") {
			t.Errorf("scope after the role was removed: %v", claims["scope"])
		}
	})
}

func TestATokenForTwoAPIsIsRefusedWhenOneUsesRBAC(t *testing.T) {
	w := newRBACWorld(t)
	w.settings(t, true, true)
	f := newFlow()
	r := w.h.do(w.b, "GET", w.spa.authURL(f, oauth2.SetAuthURLParam("audience", apiAudience+" "+billingAudience)), nil)
	q := callback(t, r)
	if q.Get("error") != "invalid_request" || !strings.Contains(q.Get("error_description"), "one API") {
		t.Fatalf("callback %v, want invalid_request naming one API at a time", q)
	}
}

func TestMachineTokensListTheirGrantedScopesAsPermissions(t *testing.T) {
	w := newRBACWorld(t)
	w.settings(t, true, true)
	ctx := context.Background()
	cs := clients.NewService(clients.Deps{Registry: w.h.st, Audit: w.h.st})
	c, secret, err := cs.CreateClient(ctx, clients.Client{Name: "Worker", Type: clients.M2M}, account.Actor{Name: "test"}, account.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cs.SetGrant(ctx, c.ID, apiAudience, []string{"write:messages"}, account.Actor{Name: "test"}, account.Meta{}); err != nil {
		t.Fatal(err)
	}
	status, body, _ := w.h.tokenRequest(t, url.Values{"grant_type": {"client_credentials"}, "client_id": {c.ID},
		"client_secret": {secret}, "audience": {apiAudience}})
	if status != http.StatusOK {
		t.Fatalf("client credentials: %d %v", status, body)
	}
	if got := permissionsOf(t, jwtPayload(t, body["access_token"].(string))); !slices.Equal(got, []string{"write:messages"}) {
		t.Fatalf("permissions %v, want the grant's [write:messages]", got)
	}
}

// jwtPayload decodes a JWT's claims without checking them; other tests
// verify signatures.
func jwtPayload(t *testing.T, token string) map[string]any {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", token)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}
