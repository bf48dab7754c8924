package main

import (
	"context"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/passkey"
	"github.com/gatehouse-id/gatehouse/store"
	"github.com/gatehouse-id/gatehouse/store/storetest"
)

func TestUsersPasskeysListsAndRemovePasskeyRemovesOne(t *testing.T) {
	vars := map[string]string{"DATABASE_URL": storetest.NewDatabase(t), "GATEHOUSE_SECRET_KEY": testKey}
	ctx := context.Background()
	if r := gatehouse(ctx, vars, "violet tractor meadow\n", "users", "create", "--password-stdin", "--email", "ann@example.com"); r.code != 0 {
		t.Fatalf("create: %d %s", r.code, r.stderr)
	}
	st := openTestStore(t, vars["DATABASE_URL"])
	ann, err := st.UserByEmail(ctx, "ann@example.com")
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	keys := []passkey.Credential{
		{ID: []byte("security-key-1"), Name: "YubiKey", Attachment: "cross-platform", CreatedAt: at},
		{ID: []byte("synced-passkey"), Name: "Phone", Attachment: "platform", BackupEligible: true, CreatedAt: at.Add(time.Hour)},
	}
	for _, k := range keys {
		k.UserID, k.PublicKey = ann.ID, []byte{1}
		if err := st.AddPasskey(ctx, k, passkey.MaxPerUser); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := st.UsePasskey(ctx, ann.ID, keys[0].ID, passkey.Use{SignCount: 5, At: at.Add(2 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	yubikey, phone := base64.RawURLEncoding.EncodeToString(keys[0].ID), base64.RawURLEncoding.EncodeToString(keys[1].ID)

	r := gatehouse(ctx, vars, "", "users", "passkeys", "--email", "ann@example.com")
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if r.code != 0 || len(lines) != 3 || !strings.HasPrefix(lines[0], "ID ") {
		t.Fatalf("passkeys: %d %q %q", r.code, r.stdout, r.stderr)
	}
	for i, want := range [][]string{
		{phone, "Phone", "Passkey", "yes", "2026-03-01T13:00:00Z", "never", "no"},
		{yubikey, "YubiKey", "Security", "key", "no", "2026-03-01T12:00:00Z", "2026-03-01T14:00:00Z", "no"},
	} {
		if got := strings.Fields(lines[i+1]); strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("line %d: %q, want %q", i+1, got, want)
		}
	}

	steps := []struct {
		args   []string
		code   int
		output string
	}{
		{[]string{"remove-passkey", "--email", "ann@example.com"}, 2, "--id is required"},
		{[]string{"remove-passkey", "--email", "ann@example.com", "--id", "not base64!"}, 2, "--id is required"},
		{[]string{"remove-passkey", "--email", "ann@example.com", "--id", "AAAA"}, 1, "ann@example.com has no passkey with the id AAAA"},
		{[]string{"remove-passkey", "--email", "nobody@example.com", "--id", yubikey}, 1, `no user has the email address "nobody@example.com"`},
		{[]string{"remove-passkey", "--email", "ann@example.com", "--id", yubikey}, 0, `passkey "YubiKey" removed from ann@example.com`},
		{[]string{"remove-passkey", "--email", "ann@example.com", "--id", yubikey}, 1, "has no passkey with the id"},
		{[]string{"passkeys"}, 2, "--email is required"},
	}
	for _, s := range steps {
		r := gatehouse(ctx, vars, "", append([]string{"users"}, s.args...)...)
		out := r.stdout
		if s.code != 0 {
			out = r.stderr
		}
		if r.code != s.code || !strings.Contains(out, s.output) {
			t.Fatalf("users %v: %d %q %q; want %d and %q", s.args, r.code, r.stdout, r.stderr, s.code, s.output)
		}
	}
	left, err := st.Passkeys(ctx, ann.ID)
	if err != nil || len(left) != 1 || left[0].Name != "Phone" {
		t.Fatalf("passkeys left: %+v (%v), want the phone's", left, err)
	}
	events, err := st.AuditEvents(ctx, store.AuditFilter{UserID: ann.ID, Type: "mfa.passkey_removed"})
	if err != nil || len(events) != 1 || !strings.Contains(events[0].Details, `"by": "cli`) || !strings.Contains(events[0].Details, `"passkey": "YubiKey"`) {
		t.Fatalf("audit: %+v (%v), want one removal by the operator", events, err)
	}
}
