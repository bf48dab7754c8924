package account_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/account"
	"github.com/gatehouse-id/gatehouse/account/accounttest"
)

// mailbox stands in for the mail outbox, another package's boundary; it
// fails mails of the purpose refuse names, as an outbox that cannot take them
// would.
type mailbox struct {
	mails  []account.Mail
	refuse string
}

func (b *mailbox) Enqueue(_ context.Context, m account.Mail) error {
	if m.Purpose == b.refuse {
		return errors.New("outbox refused the mail")
	}
	b.mails = append(b.mails, m)
	return nil
}

func newMailFixture(t *testing.T) (fixture, *mailbox) {
	t.Helper()
	f := newFixture(t)
	box := &mailbox{}
	d := accounttest.Deps(f.st, f.clock, accounttest.CheapParams)
	d.Email, d.Mailer, d.EmailRules = f.st, box, account.DefaultEmailRules()
	f.svc = account.NewService(d)
	return f, box
}

func TestSecurityChangesAreAnnouncedToAVerifiedAddressOnly(t *testing.T) {
	f, box := newMailFixture(t)
	ann := f.signUp(t, "ann@example.com")
	box.mails = nil // the verification link

	if err := f.svc.AnnounceSecurityChange(ctx, ann, account.ChangePhoneRemoved, home); err != nil || len(box.mails) != 0 {
		t.Fatalf("an unverified address: %d mails, %v; want none", len(box.mails), err)
	}
	ann, err := f.svc.MarkEmailVerified(ctx, ann.ID, "operator", home)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.svc.AnnounceSecurityChange(ctx, ann, account.ChangePhoneRemoved, home); err != nil {
		t.Fatal(err)
	}
	if len(box.mails) != 1 {
		t.Fatalf("%d mails, want 1", len(box.mails))
	}
	m := box.mails[0]
	if m.Purpose != account.MailSecurity || m.To != "ann@example.com" || m.Change != account.ChangePhoneRemoved ||
		m.From != "198.51.100.7" || !m.At.Equal(f.clock.Now()) || !m.ExpiresAt.After(m.At) {
		t.Fatalf("mail %+v", m)
	}
	if n := f.auditCount(t, account.EventSecurityMailQueued); n != 1 {
		t.Fatalf("announcement audited %d times, want 1", n)
	}
}

func TestAnnouncementsKeepToThePerAddressMailLimit(t *testing.T) {
	f, box := newMailFixture(t)
	ann := f.signUp(t, "ann@example.com")
	ann, err := f.svc.MarkEmailVerified(ctx, ann.ID, "operator", home)
	if err != nil {
		t.Fatal(err)
	}
	box.mails = nil
	f.clock.Advance(15 * time.Minute) // a window of its own, without the verification link
	perQuarter := account.DefaultEmailRules().PerAddress[0].Max
	var refused error
	for range perQuarter + 1 {
		refused = f.svc.AnnounceSecurityChange(ctx, ann, account.ChangeRecoveryRegenerate, home)
	}
	var limit *account.MailLimitError
	if !errors.As(refused, &limit) || len(box.mails) != perQuarter {
		t.Fatalf("%d mails, last %v; want %d and a limit", len(box.mails), refused, perQuarter)
	}
}

func TestEndingOtherSessionsKeepsThisOne(t *testing.T) {
	f := newFixture(t)
	ann, bob := f.signUp(t, "ann@example.com"), f.signUp(t, "bob@example.com")
	token, here, err := f.svc.StartSession(ctx, ann, []string{"pwd"}, home)
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, _, err := f.svc.StartSession(ctx, ann, []string{"pwd"}, home); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := f.svc.StartSession(ctx, bob, []string{"pwd"}, home); err != nil {
		t.Fatal(err)
	}

	n, err := f.svc.EndOtherSessions(ctx, here, home)
	if err != nil || n != 2 {
		t.Fatalf("ended %d, %v; want 2", n, err)
	}
	if _, _, err := f.svc.Resume(ctx, token); err != nil {
		t.Fatalf("this session ended too: %v", err)
	}
	for user, want := range map[string]int{ann.ID: 1, bob.ID: 1} {
		if list, err := f.svc.Sessions(ctx, user); err != nil || len(list) != want {
			t.Fatalf("user %s has %d sessions, want %d", user, len(list), want)
		}
	}
	if n := f.auditCount(t, account.EventLogout); n != 1 {
		t.Fatalf("audited %d times, want once", n)
	}
}
