package server_test

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/mfa"
	"github.com/gatehouse-id/gatehouse/passkey/passkeytest"
)

// passkeyRow is the admin user page's table row of one passkey.
func passkeyRow(t *testing.T, page response, id string) string {
	t.Helper()
	i := strings.Index(page.body, `<tr data-passkey="`+id+`">`)
	if i < 0 {
		t.Fatalf("the user page lists no passkey %s", id)
	}
	row := page.body[i:]
	return row[:strings.Index(row, "</tr>")]
}

func credentialID(a *passkeytest.Authenticator) string {
	return base64.RawURLEncoding.EncodeToString(a.CredentialIDs()[0])
}

func TestAdminSeesAUsersPasskeysAndRemovesOneThatThenCannotSignIn(t *testing.T) {
	h := newAdminHarness(t, func(o *options) { o.localhost, o.mail = true, true })
	annB, copied := passkeyUser(t, h)
	h.passPasskey(t, annB, "/mfa/passkey?return_to=%2Faccount%2Fsecurity", copied).expectRedirect(t, "/account/security")
	synced := passkeytest.New(h.issuerOrigin())
	synced.BackupEligible, synced.BackupState, synced.FixedCounter = true, true, true
	h.addPasskey(t, annB, synced).expectRedirect(t, "/account/security?done=passkey-added")
	h.do(h.browser(), "GET", h.sendMail(t, "ann@example.com"), nil).expect(t, http.StatusOK, "verify-email")
	// A counter that goes backwards gets the first passkey refused as copied.
	h.passwordless(t, h.browser(), copied, "/account").expectRedirect(t, "/account")
	copied.Counter = 0
	h.passwordless(t, h.browser(), copied, "/account").expect(t, http.StatusUnauthorized, "login")

	annID := h.userID(t, "ann@example.com")
	userPage := "/admin/users/" + annID
	admin := h.adminBrowser(t)
	page := h.do(admin, "GET", userPage, nil)
	page.expect(t, http.StatusOK, "admin-users")
	row := passkeyRow(t, page, credentialID(copied))
	for _, want := range []string{"Laptop", "Passkey", "This device only", "just now", "Refused: its signature counter went backwards, it may have been copied"} {
		if !strings.Contains(row, want) {
			t.Errorf("the copied passkey's row lacks %q: %s", want, row)
		}
	}
	row = passkeyRow(t, page, credentialID(synced))
	for _, want := range []string{"Synced", "Never", `name="credential" value="` + credentialID(synced) + `"`} {
		if !strings.Contains(row, want) {
			t.Errorf("the synced passkey's row lacks %q: %s", want, row)
		}
	}
	if strings.Contains(row, "Refused") {
		t.Errorf("the synced passkey is shown refused: %s", row)
	}
	if !strings.Contains(page.body, "Reset MFA removes their phone, authenticator app, passkeys and recovery codes") {
		t.Error("the user page does not say that resetting MFA removes passkeys")
	}

	remove := url.Values{"credential": {credentialID(synced)}}
	h.adminPost(t, admin, userPage, userPage+"/remove-passkey", remove).expectRedirect(t, userPage)
	page = h.do(admin, "GET", userPage, nil)
	if !strings.Contains(page.body, "Passkey &#34;Laptop&#34; removed") || strings.Contains(page.body, credentialID(synced)) {
		t.Errorf("after the removal the page shows no notice or still lists the passkey")
	}
	h.passwordless(t, h.browser(), synced, "/account").expect(t, http.StatusUnauthorized, "login")
	if n := h.passkeyCount(t, "ann@example.com"); n != 1 {
		t.Fatalf("ann has %d passkeys, want the copied one left", n)
	}
	e := h.lastAudit(t, "mfa.passkey_removed")
	if e.UserID != annID || !strings.Contains(e.Details, `"by": "admin:admin@example.com"`) || !strings.Contains(e.Details, `"passkey": "Laptop"`) {
		t.Errorf("audit: %+v", e)
	}
	if got := h.announced(t); !strings.Contains(got, "A passkey was removed from your account") {
		t.Errorf("announcement %q", got)
	}

	// A page gone stale: the passkey is no longer there to remove.
	r := h.adminPost(t, admin, userPage, userPage+"/remove-passkey", remove)
	r.expect(t, http.StatusConflict, "admin-users")
	if !strings.Contains(r.body, "Nothing was removed") {
		t.Errorf("stale removal: %s", r.alert())
	}
}

func TestAnAdminWhoseSecondFactorIsOldProvesItAgainToRemoveAPasskey(t *testing.T) {
	h := newAdminHarness(t, func(o *options) { o.localhost = true })
	_, a := passkeyUser(t, h)
	admin := h.adminBrowser(t)
	h.clock.Advance(time.Hour)
	userPage := "/admin/users/" + h.userID(t, "ann@example.com")
	r := h.adminPost(t, admin, userPage, userPage+"/remove-passkey", url.Values{"credential": {credentialID(a)}})
	if r.status != http.StatusSeeOther || !strings.HasPrefix(r.header.Get("Location"), "/mfa/") {
		t.Fatalf("removing with an old second factor: %d to %q, want the second factor again", r.status, r.header.Get("Location"))
	}
	if n := h.passkeyCount(t, "ann@example.com"); n != 1 {
		t.Fatalf("ann has %d passkeys, want hers kept", n)
	}
}

func TestAdminAPIListsAndRemovesAUsersPasskey(t *testing.T) {
	h := passkeyHarness(t)
	_, a := passkeyUser(t, h)
	annID := h.userID(t, "ann@example.com")
	h.signUp(h.browser(), "bob@example.com").expectRedirect(t, "/account")
	bobID := h.userID(t, "bob@example.com")
	c := h.newAPIClient(t, "support", "read:users", "update:users")
	reader := h.newAPIClient(t, "auditor", "read:users")
	id := credentialID(a)

	r := c.call(t, "GET", "/api/admin/users/"+annID, "")
	r.expect(t, http.StatusOK, "")
	keys, _ := r.body["passkeys"].([]any)
	if len(keys) != 1 {
		t.Fatalf("passkeys: %s", r.raw)
	}
	k := keys[0].(map[string]any)
	if k["id"] != id || k["name"] != "Laptop" || k["authenticator"] != "Passkey" || k["synced"] != false ||
		k["clone_warning"] != false || k["last_used_at"] != nil || k["created_at"] == nil {
		t.Errorf("passkey: %v", k)
	}
	if r := c.call(t, "GET", "/api/admin/users/"+bobID, ""); !noPasskeys(r) {
		t.Errorf("a user without passkeys: %s", r.raw)
	}

	reader.call(t, "DELETE", "/api/admin/users/"+annID+"/passkeys/"+id, "").expect(t, http.StatusForbidden, "insufficient_scope")
	c.call(t, "DELETE", "/api/admin/users/"+bobID+"/passkeys/"+id, "").expect(t, http.StatusNotFound, "not_found")
	c.call(t, "DELETE", "/api/admin/users/"+annID+"/passkeys/AAAA", "").expect(t, http.StatusNotFound, "not_found")
	c.call(t, "DELETE", "/api/admin/users/"+annID+"/passkeys/not%20base64", "").expect(t, http.StatusNotFound, "not_found")
	if n := h.passkeyCount(t, "ann@example.com"); n != 1 {
		t.Fatalf("a refused call removed the passkey (%d left)", n)
	}

	c.call(t, "DELETE", "/api/admin/users/"+annID+"/passkeys/"+id, "").expect(t, http.StatusNoContent, "")
	if r := c.call(t, "GET", "/api/admin/users/"+annID, ""); !noPasskeys(r) {
		t.Errorf("after removal: %s", r.raw)
	}
	h.passwordless(t, h.browser(), a, "/account").expect(t, http.StatusUnauthorized, "login")
	if e := h.lastAudit(t, "mfa.passkey_removed"); e.UserID != annID || !strings.Contains(e.Details, `"by": "api:support"`) {
		t.Errorf("audit: %+v", e)
	}
	c.call(t, "DELETE", "/api/admin/users/"+annID+"/passkeys/"+id, "").expect(t, http.StatusNotFound, "not_found")
}

// noPasskeys tells whether a user's answer lists passkeys, and none.
func noPasskeys(r apiResponse) bool {
	keys, ok := r.body["passkeys"].([]any)
	return ok && len(keys) == 0
}

func TestDashboardCountsPasskeySignIns(t *testing.T) {
	h := newAdminHarness(t, func(o *options) { o.localhost = true })
	_, a := passkeyUser(t, h)
	h.passwordless(t, h.browser(), a, "/account").expectRedirect(t, "/account")
	h.setPolicy(t, mfa.PolicyAlways)
	b := h.browser()
	h.logIn(b, "ann@example.com", goodPassword).expectRedirect(t, "/account")
	r := h.do(b, "GET", "/account", nil)
	h.passPasskey(t, b, r.header.Get("Location"), a).expectRedirect(t, "/account")

	admin := h.adminBrowser(t)
	page := h.do(admin, "GET", "/admin/", nil)
	page.expect(t, http.StatusOK, "admin-dashboard")
	if got := strings.Join(rowCells(t, page.body, `<th scope="row">Passkey sign-ins</th>`), ","); got != "2,2,2" {
		t.Errorf("passkey sign-ins %s, want 2,2,2: one without a password, one as the second factor", got)
	}
	stats := h.newAPIClient(t, "monitor", "read:stats").call(t, "GET", "/api/admin/stats", "")
	stats.expect(t, http.StatusOK, "")
	if p, _ := stats.body["passkey_logins"].(map[string]any); p["last_1h"] != 2.0 || p["last_7d"] != 2.0 {
		t.Errorf("stats passkey_logins: %s", stats.raw)
	}
}
