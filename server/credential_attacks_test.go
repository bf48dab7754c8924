package server_test

import (
	"net/url"
	"testing"
)

// A reset link mailed before the password changed was asked for under the old
// password. Whoever saw that mail (a shared inbox, a forwarded message, a
// mailbox the user has just taken back) must not be able to set a password
// of their own after the user changed it on the account page: the change
// ends everything the old password opened, and an open reset link is one.
func TestAPasswordChangeEndsOutstandingResetLinks(t *testing.T) {
	h := newHarness(t, withMail)
	b := signedInBrowser(t, h)
	h.sendMail(t, "ann@example.com") // the verification mail
	h.requestReset("ann@example.com").expect(t, 200, "forgot")
	link := h.sendMail(t, "ann@example.com")

	h.do(b, "POST", "/account/password", url.Values{"current_password": {goodPassword},
		"new_password": {"a brand new phrase"}}).expect(t, 200, "account")

	r := h.browser()
	h.do(r, "GET", link, nil)
	page := h.do(r, "GET", "/reset", nil)
	if page.screen() == "reset" {
		set := h.do(r, "POST", "/reset", url.Values{"step": {"password"}, "password": {"attacker owns this now"}})
		t.Fatalf("a reset link mailed before the password change still opens the new-password form (%d); setting one answered %d to %q",
			page.status, set.status, set.header.Get("Location"))
	}
}

// Of two reset links, completing one ends the other: the user who asked
// twice and used the newer mail must not leave the older one working for its
// remaining half hour.
func TestAResetEndsTheOtherOutstandingResetLinks(t *testing.T) {
	h := newHarness(t, withMail)
	signedInBrowser(t, h)
	h.sendMail(t, "ann@example.com") // the verification mail
	h.requestReset("ann@example.com").expect(t, 200, "forgot")
	older := h.sendMail(t, "ann@example.com")
	h.requestReset("ann@example.com").expect(t, 200, "forgot")
	newer := h.sendMail(t, "ann@example.com")

	u := h.browser()
	h.do(u, "GET", newer, nil)
	h.do(u, "POST", "/reset", url.Values{"step": {"password"}, "password": {"a brand new phrase"}}).
		expectRedirect(t, "/login?password_reset=1")

	r := h.browser()
	h.do(r, "GET", older, nil)
	if page := h.do(r, "GET", "/reset", nil); page.screen() == "reset" {
		t.Fatalf("the older reset link still opens the new-password form after the newer one was used (%d)", page.status)
	}
}
