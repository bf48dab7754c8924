package store_test

import (
	"bytes"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/passkey"
	"github.com/gatehouse-id/gatehouse/store/storetest"
)

func newPasskey(userID string, id byte) passkey.Credential {
	return passkey.Credential{
		ID: []byte{id}, UserID: userID, Name: "Passkey", PublicKey: []byte{0xa5}, AAGUID: make([]byte, 16),
		AttestationFormat: "none", SignCount: 5, CreatedAt: t0,
	}
}

func TestDeleteExpiredSweepsPasskeyCeremonies(t *testing.T) {
	st := storetest.NewStore(t)
	u := newUser(t, st, "ann@example.com")
	for _, c := range []passkey.Ceremony{
		{ID: "old", Binding: "b", Kind: "login", UserID: u.ID, SessionData: []byte(`{}`), ExpiresAt: t0},
		{ID: "live", Binding: "b", Kind: "discoverable", SessionData: []byte(`{}`), ExpiresAt: t0.Add(time.Hour)},
	} {
		if err := st.PutCeremony(ctxB, c); err != nil {
			t.Fatal(err)
		}
	}
	n, err := st.DeleteExpired(ctxB, t0.Add(time.Minute), time.Hour)
	if err != nil || n != 1 {
		t.Fatalf("swept %d rows, %v; want 1", n, err)
	}
	if _, err := st.TakeCeremony(ctxB, "old", "b"); !errors.Is(err, passkey.ErrCeremonyNotFound) {
		t.Fatalf("expired ceremony still there: %v", err)
	}
	if c, err := st.TakeCeremony(ctxB, "live", "b"); err != nil || c.Kind != "discoverable" || c.UserID != "" {
		t.Fatalf("live ceremony = %+v, %v", c, err)
	}
}

func TestTakeCeremonyGivesItToOneCaller(t *testing.T) {
	st := storetest.NewStore(t)
	u := newUser(t, st, "ann@example.com")
	if err := st.PutCeremony(ctxB, passkey.Ceremony{ID: "c", Binding: "b", Kind: "register", UserID: u.ID, SessionData: []byte(`{"challenge":"x"}`), ExpiresAt: t0}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.TakeCeremony(ctxB, "c", "other"); !errors.Is(err, passkey.ErrCeremonyNotFound) {
		t.Fatalf("taken under another binding: %v", err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	got := 0
	for range 8 {
		wg.Go(func() {
			c, err := st.TakeCeremony(ctxB, "c", "b")
			if err == nil && c.UserID == u.ID && string(c.SessionData) == `{"challenge": "x"}` {
				mu.Lock()
				got++
				mu.Unlock()
			} else if !errors.Is(err, passkey.ErrCeremonyNotFound) {
				t.Errorf("take: %+v, %v", c, err)
			}
		})
	}
	wg.Wait()
	if got != 1 {
		t.Fatalf("%d callers took the ceremony, want 1", got)
	}
}

func TestUsePasskeyLetsOneOfTwoEqualCountersPass(t *testing.T) {
	st := storetest.NewStore(t)
	u := newUser(t, st, "ann@example.com")
	if err := st.AddPasskey(ctxB, newPasskey(u.ID, 1), 20); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i := range errs {
		wg.Go(func() {
			_, errs[i] = st.UsePasskey(ctxB, u.ID, []byte{1}, passkey.Use{SignCount: 6, BackupState: true, At: t0})
		})
	}
	wg.Wait()
	if (errs[0] == nil) == (errs[1] == nil) || !errors.Is(errors.Join(errs...), passkey.ErrCloned) {
		t.Fatalf("errs = %v; want one pass and one ErrCloned", errs)
	}
	c, err := st.PasskeyByID(ctxB, []byte{1})
	if err != nil || !c.CloneWarning || c.SignCount != 6 || !c.BackupState || !c.LastUsedAt.Equal(t0) {
		t.Fatalf("stored %+v, %v", c, err)
	}
	if _, err := st.UsePasskey(ctxB, u.ID, []byte{1}, passkey.Use{SignCount: 100, At: t0.Add(time.Hour)}); !errors.Is(err, passkey.ErrCloned) {
		t.Fatalf("flagged credential used again: %v", err)
	}
	if c, err := st.PasskeyByID(ctxB, []byte{1}); err != nil || c.SignCount != 6 || !c.LastUsedAt.Equal(t0) {
		t.Fatalf("a refused use was recorded: %+v", c)
	}
}

func TestUsePasskeyIsOnlyTheOwners(t *testing.T) {
	st := storetest.NewStore(t)
	ann := newUser(t, st, "ann@example.com")
	bob := newUser(t, st, "bob@example.com")
	if err := st.AddPasskey(ctxB, newPasskey(ann.ID, 1), 20); err != nil {
		t.Fatal(err)
	}
	if _, err := st.UsePasskey(ctxB, bob.ID, []byte{1}, passkey.Use{SignCount: 6, At: t0}); !errors.Is(err, passkey.ErrUnknownCredential) {
		t.Fatalf("err = %v, want ErrUnknownCredential", err)
	}
	if _, err := st.UsePasskey(ctxB, "not-a-uuid", []byte{1}, passkey.Use{At: t0}); !errors.Is(err, passkey.ErrUnknownCredential) {
		t.Fatalf("err = %v, want ErrUnknownCredential", err)
	}
}

func TestAddPasskeyRefusesDuplicatesAndTooMany(t *testing.T) {
	st := storetest.NewStore(t)
	ann := newUser(t, st, "ann@example.com")
	bob := newUser(t, st, "bob@example.com")
	if err := st.AddPasskey(ctxB, newPasskey(ann.ID, 1), 2); err != nil {
		t.Fatal(err)
	}
	if err := st.AddPasskey(ctxB, newPasskey(bob.ID, 1), 2); !errors.Is(err, passkey.ErrAlreadyRegistered) {
		t.Fatalf("same id for another user: err = %v", err)
	}
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Go(func() { errs[i] = st.AddPasskey(ctxB, newPasskey(ann.ID, byte(10+i)), 2) })
	}
	wg.Wait()
	list, err := st.Passkeys(ctxB, ann.ID)
	if err != nil || len(list) != 2 {
		t.Fatalf("Ann has %d passkeys (%v), want the cap of 2; errs %v", len(list), err, errs)
	}
	for _, err := range errs {
		if err != nil && !errors.Is(err, passkey.ErrTooMany) {
			t.Fatalf("err = %v, want nil or ErrTooMany", err)
		}
	}
	if !bytes.Equal(list[1].ID, []byte{1}) && !bytes.Equal(list[0].ID, []byte{1}) {
		t.Fatalf("first passkey lost: %+v", list)
	}
}
