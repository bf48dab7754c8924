package store_test

import (
	"errors"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/ory/fosite"

	"github.com/gatehouse-id/gatehouse/account"
	"github.com/gatehouse-id/gatehouse/mfa"
	"github.com/gatehouse-id/gatehouse/store"
)

func emails(users []account.User) []string {
	var out []string
	for _, u := range users {
		out = append(out, u.Email)
	}
	return out
}

func TestSearchUsersMatchesPartOfTheEmailIgnoringCaseAndPages(t *testing.T) {
	st := newOAuth2(t, store.DefaultOAuth2Config()).st
	for _, e := range []string{"Ann@Example.com", "bob@example.com", "carol@other.org", "dan@example.com", "Eve@EXAMPLE.com"} {
		newUser(t, st, e)
	}
	tests := []struct {
		name string
		text string
		want []string
	}{
		{"everyone", "", []string{"Ann@Example.com", "bob@example.com", "carol@other.org", "dan@example.com", "Eve@EXAMPLE.com"}},
		{"prefix", "ann", []string{"Ann@Example.com"}},
		{"substring in any case", "example", []string{"Ann@Example.com", "bob@example.com", "dan@example.com", "Eve@EXAMPLE.com"}},
		{"no match", "zed", nil},
		{"like wildcards are literal", "%", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			after := ""
			for range 10 {
				page, err := st.SearchUsers(ctxB, account.UserSearch{Text: tt.text, After: after, Limit: 2})
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, emails(page.Users)...)
				if page.Next == "" {
					break
				}
				after = page.Next
			}
			if !slices.Equal(got, tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestSearchUsersByPhoneLookupFindsOnlyThatPhonesUser(t *testing.T) {
	st := newOAuth2(t, store.DefaultOAuth2Config()).st
	ann, bob := newUser(t, st, "ann@example.com"), newUser(t, st, "bob@example.com")
	for i, u := range []account.User{ann, bob} {
		f := mfa.Factor{ID: "00000000-0000-4000-8000-00000000000" + string(rune('1'+i)), UserID: u.ID,
			PhoneSealed: []byte("sealed"), PhoneLookup: hashOf(byte(i + 1)), Masked: "+44 •••• 0000", VerifiedAt: t0}
		if err := st.PutMFAFactor(ctxB, f); err != nil {
			t.Fatal(err)
		}
	}
	page, err := st.SearchUsers(ctxB, account.UserSearch{PhoneLookup: hashOf(2), Limit: 10})
	if err != nil || !slices.Equal(emails(page.Users), []string{"bob@example.com"}) {
		t.Fatalf("got %v, %v; want bob", emails(page.Users), err)
	}
	page, err = st.SearchUsers(ctxB, account.UserSearch{PhoneLookup: hashOf(9), Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Users) != 0 {
		t.Fatalf("an unknown number found %v", emails(page.Users))
	}
}

func TestTheLastActiveAdminCannotBeTakenAway(t *testing.T) {
	st := newOAuth2(t, store.DefaultOAuth2Config()).st
	ann, bob := newUser(t, st, "ann@example.com"), newUser(t, st, "bob@example.com")
	for _, u := range []account.User{ann, bob} {
		if err := st.SetAdmin(ctxB, u.ID, true); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.SetBlocked(ctxB, bob.ID, true); err != nil {
		t.Fatalf("blocking one of two admins: %v", err)
	}
	// bob is blocked, so ann is the last active admin.
	for name, take := range map[string]func() error{
		"demote": func() error { return st.SetAdmin(ctxB, ann.ID, false) },
		"block":  func() error { return st.SetBlocked(ctxB, ann.ID, true) },
		"delete": func() error { _, err := st.DeleteUser(ctxB, ann.ID); return err },
	} {
		if err := take(); !errors.Is(err, account.ErrLastAdmin) {
			t.Errorf("%s the last active admin: %v, want ErrLastAdmin", name, err)
		}
	}
	if err := st.SetAdmin(ctxB, bob.ID, false); err != nil {
		t.Fatalf("demoting a blocked admin: %v", err)
	}
	if u, err := st.UserByID(ctxB, ann.ID); err != nil || !u.Admin || u.Blocked {
		t.Fatalf("ann after refused changes: %+v", u)
	}
	if err := st.SetAdmin(ctxB, "not-a-uuid", true); !errors.Is(err, account.ErrNotFound) {
		t.Fatalf("malformed id: %v", err)
	}
}

func TestEndUserAccessRevokesSessionsGrantsAndOptionallyBrowsers(t *testing.T) {
	f := newOAuth2(t, store.DefaultOAuth2Config())
	st := f.st
	ann, bob := newUser(t, st, "ann@example.com"), newUser(t, st, "bob@example.com")
	for i, u := range []account.User{ann, bob} {
		if err := st.CreateSession(ctxB, newSession(u.ID, hashOf(byte(10+i)))); err != nil {
			t.Fatal(err)
		}
		if err := f.o.CreateRefreshTokenSession(ctxB, "refresh-"+u.Email, "access-"+u.Email, grantRequest("req-"+u.Email, "spa", u.ID)); err != nil {
			t.Fatal(err)
		}
		if err := st.CreateTrustedBrowser(ctxB, hashOf(byte(20+i)), mfa.TrustedBrowser{ID: "00000000-0000-4000-8000-00000000002" + string(rune('0'+i)),
			UserID: u.ID, CreatedAt: t0, ExpiresAt: t0.Add(24 * time.Hour), LastUsedAt: t0}); err != nil {
			t.Fatal(err)
		}
	}
	ended, err := st.EndUserAccess(ctxB, ann.ID, false)
	if err != nil || ended.Sessions != 1 || ended.Tokens != 1 || ended.Browsers != 0 {
		t.Fatalf("ended %+v, %v; want one session and one token", ended, err)
	}
	if _, err := f.o.GetRefreshTokenSession(ctxB, "refresh-ann@example.com", nil); !errors.Is(err, fosite.ErrNotFound) {
		t.Fatalf("ann's refresh token after: %v, want not found", err)
	}
	if _, err := f.o.GetRefreshTokenSession(ctxB, "refresh-bob@example.com", nil); err != nil {
		t.Fatalf("bob's refresh token went too: %v", err)
	}
	if bs, err := st.ListTrustedBrowsers(ctxB, ann.ID, t0); err != nil || len(bs) != 1 {
		t.Fatalf("browsers kept without browsers=true: %d", len(bs))
	}
	if ended, err = st.EndUserAccess(ctxB, ann.ID, true); err != nil || ended.Browsers != 1 {
		t.Fatalf("ended %+v, %v; want the browser", ended, err)
	}
	if list, err := st.UserSessions(ctxB, bob.ID, t0); err != nil || len(list) != 1 {
		t.Fatal("bob's session went too")
	}
}

func TestDeleteUserKeepsTheAuditTrail(t *testing.T) {
	f := newOAuth2(t, store.DefaultOAuth2Config())
	st := f.st
	ann := newUser(t, st, "ann@example.com")
	if err := st.CreateSession(ctxB, newSession(ann.ID, hashOf(1))); err != nil {
		t.Fatal(err)
	}
	if err := f.o.CreateRefreshTokenSession(ctxB, "refresh", "access", grantRequest("req", "spa", ann.ID)); err != nil {
		t.Fatal(err)
	}
	if err := st.Record(ctxB, account.Event{At: t0, Type: "login.succeeded", UserID: ann.ID}); err != nil {
		t.Fatal(err)
	}
	ended, err := st.DeleteUser(ctxB, ann.ID)
	if err != nil || ended.Sessions != 1 || ended.Tokens != 1 {
		t.Fatalf("delete: %+v, %v", ended, err)
	}
	if _, err := st.UserByID(ctxB, ann.ID); !errors.Is(err, account.ErrNotFound) {
		t.Fatalf("user after delete: %v", err)
	}
	if events, err := st.AuditEvents(ctxB, store.AuditFilter{UserID: ann.ID}); err != nil || len(events) != 1 {
		t.Fatalf("audit entries after delete: %d, want 1", len(events))
	}
	if _, err := st.DeleteUser(ctxB, ann.ID); !errors.Is(err, account.ErrNotFound) {
		t.Fatalf("second delete: %v", err)
	}
}

func TestActivityCountsTheHourTheDayAndTheWeek(t *testing.T) {
	st := newOAuth2(t, store.DefaultOAuth2Config()).st
	now := t0
	events := []struct {
		typ   string
		ago   time.Duration
		limit string
	}{
		{"login.succeeded", time.Hour, ""},
		{"login.succeeded", 3 * 24 * time.Hour, ""},
		{"login.succeeded", 8 * 24 * time.Hour, ""}, // older than the week
		{"login.failed", 2 * time.Hour, ""},
		{"mfa.challenge_passed", 30 * time.Hour, ""},
		{"mfa.limit_hit", time.Hour, "phone"},
		{"mfa.limit_hit", 2 * 24 * time.Hour, "phone"},
		{"mfa.limit_hit", 2 * time.Hour, "global"},
		{"mfa.limit_hit", 10 * time.Minute, "global_enroll"},
		{"mfa.limit_hit", 20 * time.Minute, "global_enroll"},
		{"signup.limit_hit", 5 * time.Minute, ""},
		{"user.signup", time.Hour, ""}, // not counted
	}
	for _, e := range events {
		details := map[string]any{}
		if e.limit != "" {
			details["limit"] = e.limit
		}
		if err := st.Record(ctxB, account.Event{At: now.Add(-e.ago), Type: e.typ, Details: details}); err != nil {
			t.Fatal(err)
		}
	}
	// Logins that passed a passkey: two passwordless, two at the second
	// factor; a login whose details deny a passkey is not one.
	for _, e := range []struct {
		typ     string
		ago     time.Duration
		details map[string]any
	}{
		{"login.succeeded", 10 * time.Minute, map[string]any{"passkey": true, "amr": []string{"swk", "mfa"}}},
		{"login.succeeded", 6 * 24 * time.Hour, map[string]any{"passkey": true, "amr": []string{"hwk", "mfa"}}},
		{"login.succeeded", 2 * time.Hour, map[string]any{"passkey": false}},
		{"mfa.passkey_passed", 5 * time.Hour, map[string]any{"passkey": "Laptop", "amr": "hwk"}},
		{"mfa.passkey_passed", 9 * 24 * time.Hour, nil}, // older than the week
		{"mfa.passkey_failed", time.Minute, nil},
	} {
		if err := st.Record(ctxB, account.Event{At: now.Add(-e.ago), Type: e.typ, Details: e.details}); err != nil {
			t.Fatal(err)
		}
	}
	outbox := []struct {
		cc     int
		status string
		sent   bool
		ago    time.Duration
	}{
		{44, "delivered", true, time.Hour},
		{44, "sent", true, 2 * time.Hour},
		{44, "undelivered", true, 3 * 24 * time.Hour},
		{44, "expired", false, 4 * 24 * time.Hour},
		{1, "failed", false, time.Hour},
		{1, "delivered", true, 10 * 24 * time.Hour}, // older than the week
	}
	for _, o := range outbox {
		at := now.Add(-o.ago)
		var sentAt any
		if o.sent {
			sentAt = at
		}
		_, err := st.Pool().Exec(ctxB, `
			insert into sms_outbox (purpose, country_code, sealed, status, next_attempt_at, created_at, expires_at, updated_at, sent_at)
			values ('challenge', $1, '\x00', $2, $3, $3, $3, $3, $4)`, o.cc, o.status, at, sentAt)
		if err != nil {
			t.Fatal(err)
		}
	}
	a, err := st.Activity(ctxB, now)
	if err != nil {
		t.Fatal(err)
	}
	wantEvents := map[string]store.Counts{
		"login.succeeded": {Hour: 2, Day: 3, Week: 5}, "login.failed": {Day: 1, Week: 1},
		"mfa.challenge_passed": {Day: 0, Week: 1}, "mfa.limit_hit": {Hour: 3, Day: 4, Week: 5},
		"signup.limit_hit": {Hour: 1, Day: 1, Week: 1}, "mfa.passkey_passed": {Day: 1, Week: 1},
	}
	for k, want := range wantEvents {
		if a.Events[k] != want {
			t.Errorf("%s = %+v, want %+v", k, a.Events[k], want)
		}
	}
	if _, ok := a.Events["user.signup"]; ok {
		t.Error("user.signup is counted")
	}
	if want := (store.Counts{Hour: 1, Day: 2, Week: 3}); a.Passkeys != want {
		t.Errorf("passkey logins = %+v, want %+v", a.Passkeys, want)
	}
	wantLimits := map[string]store.Counts{
		"phone": {Hour: 1, Day: 1, Week: 2}, "global": {Day: 1, Week: 1}, "global_enroll": {Hour: 2, Day: 2, Week: 2},
	}
	if !maps.Equal(a.Limits, wantLimits) {
		t.Errorf("limits = %+v, want %+v", a.Limits, wantLimits)
	}
	want := []store.CountrySMS{
		{CountryCode: 44, Sent: store.Counts{Hour: 1, Day: 2, Week: 3}, Delivered: store.Counts{Hour: 1, Day: 1, Week: 1}, Failed: store.Counts{Day: 0, Week: 2}},
		{CountryCode: 1, Sent: store.Counts{}, Delivered: store.Counts{}, Failed: store.Counts{Hour: 1, Day: 1, Week: 1}},
	}
	if !slices.Equal(a.SMS, want) {
		t.Errorf("sms = %+v, want %+v", a.SMS, want)
	}
}
