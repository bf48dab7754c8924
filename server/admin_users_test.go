package server_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/gatehouse-id/gatehouse/account"
	"github.com/gatehouse-id/gatehouse/mfa"
	"github.com/gatehouse-id/gatehouse/store"
)

// adminRoutes are every page and form of the console, for the access rules
// that hold for all of them.
var adminRoutes = []struct{ method, path string }{
	{"GET", "/admin/"},
	{"GET", "/admin/mfa"},
	{"POST", "/admin/mfa"},
	{"POST", "/admin/mfa/test"},
	{"GET", "/admin/users"},
	{"GET", "/admin/users/%s"},
	{"POST", "/admin/users/%s/block"},
	{"POST", "/admin/users/%s/unblock"},
	{"POST", "/admin/users/%s/reset-mfa"},
	{"POST", "/admin/users/%s/remove-passkey"},
	{"POST", "/admin/users/%s/revoke-sessions"},
	{"POST", "/admin/users/%s/promote"},
	{"POST", "/admin/users/%s/demote"},
	{"POST", "/admin/users/%s/verify-email"},
	{"POST", "/admin/users/%s/delete"},
	{"POST", "/admin/users/%s/metadata"},
	{"GET", "/admin/logs"},
}

func TestEveryAdminRouteIsForAdminsPastTheirSecondFactor(t *testing.T) {
	h := newAdminHarness(t)
	user := h.browser()
	h.signUp(user, "ann@example.com")
	ann, err := h.st.UserByEmail(withContext(), "ann@example.com")
	if err != nil {
		t.Fatal(err)
	}
	pwOnly := h.browser()
	h.logIn(pwOnly, adminEmail, goodPassword)
	for _, rt := range adminRoutes {
		path := strings.ReplaceAll(rt.path, "%s", ann.ID)
		t.Run(rt.method+" "+rt.path, func(t *testing.T) {
			var form url.Values
			if rt.method == "POST" {
				form = url.Values{"confirm_email": {"ann@example.com"}}
			}
			h.do(user, rt.method, path, form).expect(t, http.StatusForbidden, "error")
			want := "/mfa/challenge?return_to=" + url.QueryEscape(path)
			if rt.method == "POST" {
				want = "/mfa/challenge?return_to=%2Fadmin%2F"
			}
			h.do(pwOnly, rt.method, path, form).expectRedirect(t, want)
		})
	}
	if u, err := h.st.UserByEmail(withContext(), "ann@example.com"); err != nil || u.Blocked || u.Admin {
		t.Fatalf("a refused request changed the user: %+v", u)
	}
}

// adminUserFixture is the admin's console and a user, Ann, logged in on
// her own browser.
type adminUserFixture struct {
	h     *harness
	admin *http.Client
	annB  *http.Client
	ann   account.User
}

func newAdminUserFixture(t *testing.T, opts ...func(*options)) adminUserFixture {
	h := newAdminHarness(t, opts...)
	f := adminUserFixture{h: h, annB: h.browser()}
	h.signUp(f.annB, "ann@example.com")
	var err error
	if f.ann, err = h.st.UserByEmail(withContext(), "ann@example.com"); err != nil {
		t.Fatal(err)
	}
	f.admin = h.adminBrowser(t)
	return f
}

func (f adminUserFixture) act(t *testing.T, action string, form url.Values) response {
	t.Helper()
	if form == nil {
		form = url.Values{}
	}
	page := "/admin/users/" + f.ann.ID
	return f.h.adminPost(t, f.admin, page, page+"/"+action, form)
}

// lastAudit is the newest entry of the event type.
func (h *harness) lastAudit(t *testing.T, event string) store.AuditEntry {
	t.Helper()
	events, err := h.st.AuditEvents(withContext(), store.AuditFilter{Type: event, Limit: 1})
	if err != nil || len(events) != 1 {
		t.Fatalf("no %s in the audit log (%v)", event, err)
	}
	return events[0]
}

func TestAdminBlocksAUserWhoseSessionEndsAndWhoseLoginIsRefused(t *testing.T) {
	f := newAdminUserFixture(t)
	f.h.do(f.annB, "GET", "/account", nil).expect(t, http.StatusOK, "account")

	f.act(t, "block", nil).expectRedirect(t, "/admin/users/"+f.ann.ID)
	f.h.do(f.annB, "GET", "/account", nil).expectRedirect(t, "/login?return_to=%2Faccount")
	f.h.logIn(f.h.browser(), "ann@example.com", goodPassword).expect(t, http.StatusForbidden, "login")
	if list, err := f.h.accounts.Sessions(withContext(), f.ann.ID); err != nil || len(list) != 0 {
		t.Fatalf("%d sessions left", len(list))
	}
	e := f.h.lastAudit(t, account.EventUserBlocked)
	if e.UserID != f.ann.ID || !strings.Contains(e.Details, `"by": "admin:admin@example.com"`) {
		t.Fatalf("audit: %+v", e)
	}
	page := f.h.do(f.admin, "GET", "/admin/users/"+f.ann.ID, nil)
	if !strings.Contains(page.body, "Blocked. Their sessions ended") || !strings.Contains(page.body, "/unblock") {
		t.Error("the user page shows no notice or no Unblock")
	}

	f.act(t, "unblock", nil).expectRedirect(t, "/admin/users/"+f.ann.ID)
	f.h.logIn(f.h.browser(), "ann@example.com", goodPassword).expectRedirect(t, "/account")
}

func TestEachUserActionIsAuditedWithTheAdmin(t *testing.T) {
	f := newAdminUserFixture(t)
	phone, err := mfa.ParsePhone("+447911123499", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.h.mfaSvc.EnrollByOperator(withContext(), f.ann.ID, phone); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		action, event string
		check         func(t *testing.T)
	}{
		{"promote", account.EventUserPromoted, func(t *testing.T) {
			if u, err := f.h.accounts.User(withContext(), f.ann.ID); err != nil || !u.Admin {
				t.Error("not an admin")
			}
		}},
		{"demote", account.EventUserDemoted, func(t *testing.T) {
			if u, err := f.h.accounts.User(withContext(), f.ann.ID); err != nil || u.Admin {
				t.Error("still an admin")
			}
		}},
		{"reset-mfa", mfa.EventReset, func(t *testing.T) {
			if _, enrolled, err := f.h.mfaSvc.Factor(withContext(), f.ann.ID); err != nil || enrolled {
				t.Error("phone kept")
			}
		}},
		{"revoke-sessions", account.EventSessionsRevoked, func(t *testing.T) {
			f.h.do(f.annB, "GET", "/account", nil).expectRedirect(t, "/login?return_to=%2Faccount")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.action, func(t *testing.T) {
			f.act(t, tt.action, nil).expectRedirect(t, "/admin/users/"+f.ann.ID)
			tt.check(t)
			e := f.h.lastAudit(t, tt.event)
			if e.UserID != f.ann.ID || !strings.Contains(e.Details, `"by": "admin:admin@example.com"`) {
				t.Fatalf("audit: %+v", e)
			}
		})
	}
}

func TestAdminMarksAnAddressVerified(t *testing.T) {
	f := newAdminUserFixture(t, func(o *options) { o.mail = true })
	if page := f.h.do(f.admin, "GET", "/admin/users/"+f.ann.ID, nil); !strings.Contains(page.body, "Mark email verified") {
		t.Fatal("no button for an unverified address")
	}
	f.act(t, "verify-email", nil).expectRedirect(t, "/admin/users/"+f.ann.ID)
	if u, err := f.h.accounts.User(withContext(), f.ann.ID); err != nil || !u.EmailVerified {
		t.Error("address not verified")
	}
	if e := f.h.lastAudit(t, account.EventEmailVerified); e.UserID != f.ann.ID || !strings.Contains(e.Details, `"by": "admin:admin@example.com"`) {
		t.Fatalf("audit: %+v", e)
	}
	if page := f.h.do(f.admin, "GET", "/admin/users/"+f.ann.ID, nil); strings.Contains(page.body, "Mark email verified") {
		t.Error("the button stays once the address is verified")
	}
}

func TestDeletingAUserNeedsTheirEmailTypedAndKeepsTheLogs(t *testing.T) {
	f := newAdminUserFixture(t)
	for _, typed := range []string{"", "bob@example.com"} {
		r := f.act(t, "delete", url.Values{"confirm_email": {typed}})
		r.expect(t, http.StatusBadRequest, "admin-users")
		if !strings.Contains(r.body, `id="confirm_email-error"`) || !strings.Contains(r.alert(), "Nothing was deleted") {
			t.Errorf("confirmation %q: no field error or alert", typed)
		}
	}
	if _, err := f.h.accounts.User(withContext(), f.ann.ID); err != nil {
		t.Fatalf("deleted without confirmation: %v", err)
	}
	f.act(t, "delete", url.Values{"confirm_email": {"ANN@example.com"}}).expectRedirect(t, "/admin/users")
	f.h.do(f.admin, "GET", "/admin/users/"+f.ann.ID, nil).expect(t, http.StatusNotFound, "error")
	f.h.do(f.annB, "GET", "/account", nil).expectRedirect(t, "/login?return_to=%2Faccount")
	events, err := f.h.st.AuditEvents(withContext(), store.AuditFilter{UserID: f.ann.ID})
	if err != nil {
		t.Fatal(err)
	}
	if len(events) < 2 || events[0].Type != account.EventUserDeleted || !strings.Contains(events[0].Details, `"by": "admin:admin@example.com"`) {
		t.Fatalf("audit after delete: %+v", events)
	}
}

func TestAnAdminCannotDemoteOrDeleteThemself(t *testing.T) {
	h := newAdminHarness(t)
	admin := h.adminBrowser(t)
	me, err := h.st.UserByEmail(withContext(), adminEmail)
	if err != nil {
		t.Fatal(err)
	}
	page := "/admin/users/" + me.ID
	for _, tt := range []struct {
		action string
		form   url.Values
	}{
		{"demote", url.Values{}}, {"block", url.Values{}}, {"delete", url.Values{"confirm_email": {adminEmail}}},
	} {
		t.Run(tt.action, func(t *testing.T) {
			r := h.adminPost(t, admin, page, page+"/"+tt.action, tt.form)
			r.expect(t, http.StatusBadRequest, "admin-users")
			if !strings.Contains(r.alert(), "your own account") {
				t.Errorf("alert = %q", r.alert())
			}
		})
	}
	if u, err := h.st.UserByID(withContext(), me.ID); err != nil || !u.Admin || u.Blocked {
		t.Fatalf("admin after refused actions: %+v", u)
	}
}

func TestUserPagesRefuseBadIDsInWords(t *testing.T) {
	h := newAdminHarness(t)
	admin := h.adminBrowser(t)
	me, err := h.st.UserByEmail(withContext(), adminEmail)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, path string
		status     int
		words      string
	}{
		{"malformed id", "/admin/users/not-a-uuid", http.StatusBadRequest, "Not a user id"},
		{"unknown id", "/admin/users/3f2b8c1e-6a4d-4b7e-9c3a-1d2e3f4a5b6c", http.StatusNotFound, "No such user"},
		{"unknown action", "/admin/users/" + me.ID + "/explode", http.StatusNotFound, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name+" GET", func(t *testing.T) {
			if strings.HasSuffix(tt.path, "explode") {
				t.Skip("actions are POSTs")
			}
			r := h.do(admin, "GET", tt.path, nil)
			r.expect(t, tt.status, "error")
			if !strings.Contains(r.body, tt.words) {
				t.Errorf("page lacks %q", tt.words)
			}
		})
		t.Run(tt.name+" POST", func(t *testing.T) {
			path := tt.path
			if !strings.HasSuffix(path, "explode") {
				path += "/block"
			}
			h.adminPost(t, admin, "/admin/users/"+me.ID, path, url.Values{}).expect(t, tt.status, "error")
		})
	}
}

var userLinkRE = regexp.MustCompile(`href="/admin/users/([0-9a-f-]{36})">([^<]+)</a>`)

func TestAdminFindsUsersByEmailOrByPhone(t *testing.T) {
	h := newAdminHarness(t)
	for _, e := range []string{"ann@example.com", "Bob@Example.com", "carol@other.org"} {
		h.signUp(h.browser(), e)
	}
	carol, err := h.st.UserByEmail(withContext(), "carol@other.org")
	if err != nil {
		t.Fatal(err)
	}
	phone, err := mfa.ParsePhone("+447911123499", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.mfaSvc.EnrollByOperator(context.Background(), carol.ID, phone); err != nil {
		t.Fatal(err)
	}
	admin := h.adminBrowser(t)
	tests := []struct {
		q    string
		want []string
	}{
		{"", []string{adminEmail, "ann@example.com", "Bob@Example.com", "carol@other.org"}},
		{"EXAMPLE.COM", []string{adminEmail, "ann@example.com", "Bob@Example.com"}},
		{"bo", []string{"Bob@Example.com"}},
		{"+44 7911 123499", []string{"carol@other.org"}},
		{"+447911123498", nil},
	}
	for _, tt := range tests {
		t.Run(tt.q, func(t *testing.T) {
			r := h.do(admin, "GET", "/admin/users?q="+url.QueryEscape(tt.q), nil)
			r.expect(t, http.StatusOK, "admin-users")
			var got []string
			for _, m := range userLinkRE.FindAllStringSubmatch(r.body, -1) {
				got = append(got, m[2])
			}
			if strings.Join(got, ",") != strings.Join(tt.want, ",") {
				t.Fatalf("found %v, want %v", got, tt.want)
			}
		})
	}
	page := h.do(admin, "GET", "/admin/users/"+carol.ID, nil)
	page.expect(t, http.StatusOK, "admin-users")
	if strings.Contains(page.body, "7911123499") || !strings.Contains(page.body, phone.Masked()) {
		t.Error("the user page shows the phone unmasked, or not at all")
	}
}
