package account_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/gatehouse-id/gatehouse/account"
	"github.com/gatehouse-id/gatehouse/store"
)

func (f fixture) lastEvent(t *testing.T, event string) store.AuditEntry {
	t.Helper()
	events, err := f.st.AuditEvents(ctx, store.AuditFilter{Type: event, Limit: 1})
	if err != nil || len(events) != 1 {
		t.Fatalf("audit %s: %v, %v", event, events, err)
	}
	return events[0]
}

func TestBlockingEndsSessionsRefusesLoginAndIsAudited(t *testing.T) {
	f := newFixture(t)
	ann := f.signUp(t, "ann@example.com")
	token, _, err := f.svc.StartSession(ctx, ann, []string{"pwd"}, home)
	if err != nil {
		t.Fatal(err)
	}
	admin := account.Actor{UserID: "00000000-0000-4000-8000-000000000001", Name: "admin:root@example.com"}
	if err := f.svc.SetBlocked(ctx, ann.ID, true, admin, home); err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.svc.Resume(ctx, token); !errors.Is(err, account.ErrNoSession) {
		t.Fatalf("session after block: %v", err)
	}
	if list, err := f.svc.Sessions(ctx, ann.ID); err != nil || len(list) != 0 {
		t.Fatalf("%d sessions left after block", len(list))
	}
	if _, err := f.svc.Login(ctx, "ann@example.com", goodPassword, home); !errors.Is(err, account.ErrBlocked) {
		t.Fatalf("login after block: %v", err)
	}
	if e := f.lastEvent(t, account.EventUserBlocked); e.UserID != ann.ID || !strings.Contains(e.Details, `"by": "admin:root@example.com"`) ||
		!strings.Contains(e.Details, `"sessions": 1`) {
		t.Fatalf("audit: %+v", e)
	}
	if err := f.svc.SetBlocked(ctx, ann.ID, false, admin, home); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Login(ctx, "ann@example.com", goodPassword, home); err != nil {
		t.Fatalf("login after unblock: %v", err)
	}
	if e := f.lastEvent(t, account.EventUserUnblocked); !strings.Contains(e.Details, `"by": "admin:root@example.com"`) {
		t.Fatalf("audit: %+v", e)
	}
}

func TestAnAdminCannotTakeAwayTheirOwnAccount(t *testing.T) {
	f := newFixture(t)
	ann := f.signUp(t, "ann@example.com")
	bob := f.signUp(t, "bob@example.com")
	for _, u := range []account.User{ann, bob} {
		if err := f.svc.SetAdmin(ctx, u.ID, true, account.Actor{Name: "cli:root"}, home); err != nil {
			t.Fatal(err)
		}
	}
	self := account.Actor{UserID: ann.ID, Name: "admin:ann@example.com"}
	for name, act := range map[string]func() error{
		"block":  func() error { return f.svc.SetBlocked(ctx, ann.ID, true, self, home) },
		"demote": func() error { return f.svc.SetAdmin(ctx, ann.ID, false, self, home) },
		"delete": func() error { return f.svc.DeleteUser(ctx, ann.ID, self, home) },
	} {
		if err := act(); !errors.Is(err, account.ErrSelf) {
			t.Errorf("%s yourself: %v, want ErrSelf", name, err)
		}
	}
	if err := f.svc.SetAdmin(ctx, bob.ID, false, self, home); err != nil {
		t.Fatalf("demoting another admin: %v", err)
	}
	if err := f.svc.SetAdmin(ctx, ann.ID, false, account.Actor{Name: "cli:root"}, home); !errors.Is(err, account.ErrLastAdmin) {
		t.Fatalf("demoting the last admin from the command line: %v", err)
	}
	if e := f.lastEvent(t, account.EventUserDemoted); e.UserID != bob.ID || !strings.Contains(e.Details, `"by": "admin:ann@example.com"`) {
		t.Fatalf("audit: %+v", e)
	}
}

func TestDeleteUserAndEndAllSessionsAreAudited(t *testing.T) {
	f := newFixture(t)
	ann := f.signUp(t, "ann@example.com")
	if _, _, err := f.svc.StartSession(ctx, ann, []string{"pwd"}, home); err != nil {
		t.Fatal(err)
	}
	by := account.Actor{Name: "cli:root"}
	ended, err := f.svc.EndAllSessions(ctx, ann.ID, by, home)
	if err != nil || ended.Sessions != 1 {
		t.Fatalf("end all sessions: %+v, %v", ended, err)
	}
	if err := f.svc.DeleteUser(ctx, ann.ID, by, home); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.User(ctx, ann.ID); !errors.Is(err, account.ErrNotFound) {
		t.Fatalf("user after delete: %v", err)
	}
	if err := f.svc.DeleteUser(ctx, ann.ID, by, home); !errors.Is(err, account.ErrNotFound) {
		t.Fatalf("deleting again: %v, want ErrNotFound", err)
	}
	for _, ev := range []string{account.EventSessionsRevoked, account.EventUserDeleted} {
		if e := f.lastEvent(t, ev); e.UserID != ann.ID || !strings.Contains(e.Details, `"by": "cli:root"`) {
			t.Errorf("audit %s: %+v", ev, e)
		}
	}
}
