package account_test

import (
	"crypto/sha256"
	"errors"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/account"
	"github.com/gatehouse-id/gatehouse/mfa"
)

// passwordPath is one way a password changes; both must end the same things.
type passwordPath struct {
	name string
	// change sets next as ann's password from the session sess.
	change func(t *testing.T, f fixture, box *mailbox, sess account.Session, next string) error
	event  string
	// keepsCurrent: the session that asked stays signed in.
	keepsCurrent bool
}

var passwordPaths = []passwordPath{
	{"change on the account page", func(t *testing.T, f fixture, _ *mailbox, sess account.Session, next string) error {
		return f.svc.ChangePassword(ctx, sess, goodPassword, next, home)
	}, account.EventPasswordChanged, true},
	{"reset by link", func(t *testing.T, f fixture, box *mailbox, _ account.Session, next string) error {
		if err := f.svc.RequestPasswordReset(ctx, "ann@example.com", home); err != nil {
			t.Fatal(err)
		}
		link := box.mails[len(box.mails)-1]
		if link.Purpose != account.MailReset {
			t.Fatalf("last mail %+v, want the reset link", link)
		}
		_, err := f.svc.CompletePasswordReset(ctx, link.Token, next, home)
		return err
	}, account.EventPasswordReset, false},
}

// passwordFixture is ann, verified, with two sessions and a remembered
// browser: what a new password must end.
type passwordFixture struct {
	fixture
	box          *mailbox
	ann          account.User
	here, other  string // session tokens
	sess         account.Session
	browserToken []byte
}

func newPasswordFixture(t *testing.T) passwordFixture {
	t.Helper()
	f, box := newMailFixture(t)
	ann := f.signUp(t, "ann@example.com")
	ann, err := f.svc.MarkEmailVerified(ctx, ann.ID, "operator", home)
	if err != nil {
		t.Fatal(err)
	}
	here, sess, err := f.svc.StartSession(ctx, ann, []string{"pwd"}, home)
	if err != nil {
		t.Fatal(err)
	}
	other, _, err := f.svc.StartSession(ctx, ann, []string{"pwd"}, elsewhere)
	if err != nil {
		t.Fatal(err)
	}
	token := sha256.Sum256([]byte("remembered browser"))
	p := passwordFixture{fixture: f, box: box, ann: ann, here: here, other: other, sess: sess, browserToken: token[:]}
	now := f.clock.Now()
	if err := f.st.CreateTrustedBrowser(ctx, p.browserToken, mfa.TrustedBrowser{ID: "0b6a1f0e-8f0a-4c55-9a51-2d1c4f2e7a10",
		UserID: ann.ID, CreatedAt: now, ExpiresAt: now.Add(30 * 24 * time.Hour), LastUsedAt: now}); err != nil {
		t.Fatal(err)
	}
	box.mails = nil
	f.clock.Advance(time.Hour) // past the mail windows of the verification
	return p
}

func (p passwordFixture) browserRemembered(t *testing.T) bool {
	t.Helper()
	_, err := p.st.TrustedBrowserByHash(ctx, p.browserToken, p.clock.Now())
	if err != nil && !errors.Is(err, mfa.ErrNotTrusted) {
		t.Fatal(err)
	}
	return err == nil
}

func (p passwordFixture) securityMails(change account.SecurityChange) int {
	n := 0
	for _, m := range p.box.mails {
		if m.Purpose == account.MailSecurity && m.Change == change {
			n++
		}
	}
	return n
}

func TestANewPasswordEndsWhatTheOldOneOpened(t *testing.T) {
	for _, path := range passwordPaths {
		t.Run(path.name, func(t *testing.T) {
			p := newPasswordFixture(t)
			if err := path.change(t, p.fixture, p.box, p.sess, "a brand new phrase"); err != nil {
				t.Fatal(err)
			}
			if _, _, err := p.svc.Resume(ctx, p.other); !errors.Is(err, account.ErrNoSession) {
				t.Errorf("another session after the new password: %v, want ended", err)
			}
			if _, _, err := p.svc.Resume(ctx, p.here); (err == nil) != path.keepsCurrent {
				t.Errorf("the session that asked after the new password: %v, want kept: %v", err, path.keepsCurrent)
			}
			if p.browserRemembered(t) {
				t.Error("the remembered browser is still trusted: whoever knew the old password skips the second factor")
			}
			if n := p.securityMails(account.ChangePasswordChanged); n != 1 {
				t.Errorf("%d password-changed notices queued, want 1", n)
			}
			var forgotten string
			if err := p.st.Pool().QueryRow(ctx, `select details->>'browsers_forgotten' from audit_log where event = $1`,
				path.event).Scan(&forgotten); err != nil {
				t.Fatalf("%s not audited: %v", path.event, err)
			}
			if forgotten != "1" {
				t.Errorf("%s audits %s browsers forgotten, want 1", path.event, forgotten)
			}
			if _, err := p.svc.Login(ctx, "ann@example.com", "a brand new phrase", home); err != nil {
				t.Errorf("new password: %v", err)
			}
		})
	}
}

// An attacker who changed the password must not keep a remembered browser
// because a later step failed; and an owner whose change failed keeps their
// password. Either everything a new password does happens, or nothing.
func TestAPasswordChangeThatFailsMidwayChangesNothing(t *testing.T) {
	failures := []struct {
		name  string
		spoil func(t *testing.T, p passwordFixture)
	}{
		{"forgetting the browsers fails", func(t *testing.T, p passwordFixture) {
			if _, err := p.st.Pool().Exec(ctx, `
				create function refuse() returns trigger language plpgsql as $$
				begin raise exception 'refused by the test'; end $$;
				create trigger refuse before delete on mfa_trusted_browsers for each statement execute function refuse()`); err != nil {
				t.Fatal(err)
			}
		}},
		{"the notice cannot be queued", func(t *testing.T, p passwordFixture) {
			p.box.refuse = account.MailSecurity
		}},
	}
	for _, path := range passwordPaths {
		for _, failure := range failures {
			t.Run(path.name+": "+failure.name, func(t *testing.T) {
				p := newPasswordFixture(t)
				failure.spoil(t, p)
				if err := path.change(t, p.fixture, p.box, p.sess, "a brand new phrase"); err == nil {
					t.Fatal("the change succeeded")
				}
				if _, err := p.svc.Login(ctx, "ann@example.com", goodPassword, home); err != nil {
					t.Errorf("old password after a failed change: %v, want it to work", err)
				}
				if _, _, err := p.svc.Resume(ctx, p.other); err != nil {
					t.Errorf("another session after a failed change: %v, want kept", err)
				}
				if !p.browserRemembered(t) {
					t.Error("the remembered browser was forgotten by a change that did not happen")
				}
				if n := p.auditCount(t, path.event); n != 0 {
					t.Errorf("%d %s events for a change that did not happen", n, path.event)
				}
			})
		}
	}
}

// A mail limit refuses the notice, never the change: the password is the
// owner's way out of an attack that also floods their mailbox.
func TestAMailLimitDoesNotStopAPasswordChange(t *testing.T) {
	p := newPasswordFixture(t)
	for range account.DefaultEmailRules().PerAddress[0].Max {
		if err := p.svc.AnnounceSecurityChange(ctx, p.ann, account.ChangeRecoveryRegenerate, home); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.svc.ChangePassword(ctx, p.sess, goodPassword, "a brand new phrase", home); err != nil {
		t.Fatal(err)
	}
	if n := p.securityMails(account.ChangePasswordChanged); n != 0 {
		t.Errorf("%d notices past the limit", n)
	}
	if p.browserRemembered(t) {
		t.Error("the remembered browser is still trusted")
	}
	if n := p.auditCount(t, account.EventMailLimitHit); n != 1 {
		t.Errorf("%d mail.limit_hit events, want 1", n)
	}
}
