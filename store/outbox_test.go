package store_test

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/mfa/sms"
	"github.com/gatehouse-id/gatehouse/outbox"
	"github.com/gatehouse-id/gatehouse/store"
	"github.com/gatehouse-id/gatehouse/store/storetest"
)

var _ outbox.Store = (*store.Store)(nil)

func newOutbox(t *testing.T, st *store.Store) *outbox.Outbox {
	t.Helper()
	sealer, err := outbox.NewSealer(bytes.Repeat([]byte{1}, 32))
	if err != nil {
		t.Fatal(err)
	}
	return outbox.New(st, sealer, func() time.Time { return t0 })
}

func enqueueSMS(t *testing.T, ob *outbox.Outbox, userID string) string {
	t.Helper()
	id, err := ob.Enqueue(ctxB, outbox.Enqueued{
		UserID:    userID,
		Purpose:   "enroll",
		Message:   sms.Message{To: "+15555550100", Text: "code 123456", Code: "123456"},
		ExpiresAt: t0.Add(5 * time.Minute),
	})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func outboxRows(t *testing.T, st *store.Store) map[string]outbox.Row {
	t.Helper()
	rows, err := st.RecentOutbox(ctxB, 100)
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]outbox.Row{}
	for _, r := range rows {
		byID[r.ID] = r
	}
	return byID
}

func TestOutboxRowKeepsItsUserUntilTheUserIsDeleted(t *testing.T) {
	st := storetest.NewStore(t)
	u := newUser(t, st, "ann@example.com")
	id := enqueueSMS(t, newOutbox(t, st), u.ID)
	if r := outboxRows(t, st)[id]; r.UserID != u.ID || r.Status != outbox.Queued || !r.NextAttemptAt.Equal(t0) {
		t.Fatalf("row %+v, want user %s, queued, due at %v", r, u.ID, t0)
	}
	if _, err := st.Pool().Exec(ctxB, `delete from users where id = $1`, u.ID); err != nil {
		t.Fatal(err)
	}
	if r, ok := outboxRows(t, st)[id]; !ok || r.UserID != "" {
		t.Fatalf("after deleting the user: row present %v, user %q; want the row without user", ok, r.UserID)
	}
}

func TestCompleteOutboxWithAProviderIDAlreadyTakenStillMarksSent(t *testing.T) {
	st := storetest.NewStore(t)
	ob := newOutbox(t, st)
	a, b := enqueueSMS(t, ob, ""), enqueueSMS(t, ob, "")
	if _, err := st.ClaimOutbox(ctxB, "w", t0, time.Minute, 10); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{a, b} {
		if err := st.CompleteOutbox(ctxB, id, "w", "webhook", "ok", t0); err != nil {
			t.Fatalf("complete %s: %v", id, err)
		}
	}
	rows := outboxRows(t, st)
	if rows[a].Status != outbox.Sent || rows[a].ProviderMessageID != "ok" {
		t.Fatalf("first: %+v", rows[a])
	}
	if rows[b].Status != outbox.Sent || rows[b].ProviderMessageID != "" || rows[b].LastError == "" {
		t.Fatalf("second: status %s provider id %q last error %q; want sent, no id, a note", rows[b].Status, rows[b].ProviderMessageID, rows[b].LastError)
	}
}

func TestOutboxUpdatesRefuseWhatTheyCannotApply(t *testing.T) {
	st := storetest.NewStore(t)
	id := enqueueSMS(t, newOutbox(t, st), "")
	for name, err := range map[string]error{
		"complete a row never claimed": st.CompleteOutbox(ctxB, id, "w", "p", "x", t0),
		"retry a malformed id":         st.RetryOutbox(ctxB, "nope", "w", "e", t0),
		"fail an unknown id":           st.FailOutbox(ctxB, "6f1c1e2a-0000-4000-8000-000000000000", "w", outbox.Failed, "e", t0),
	} {
		if !errors.Is(err, outbox.ErrLeaseLost) {
			t.Errorf("%s: err = %v, want ErrLeaseLost", name, err)
		}
	}
	if err := st.FailOutbox(ctxB, id, "w", outbox.Sent, "e", t0); err == nil {
		t.Error("FailOutbox accepted status sent")
	}
	if _, err := st.UpdateDelivery(ctxB, "p", "x", "queued", "", t0); err == nil {
		t.Error("UpdateDelivery accepted status queued")
	}
	if found, err := st.UpdateDelivery(ctxB, "p", "x\x00", outbox.Delivered, "", t0); found || err != nil {
		t.Errorf("report with a NUL in the id: found %v err %v, want not found", found, err)
	}
}

func TestDeleteOldOutboxWipesFinishedMessagesAndDeletesOldRows(t *testing.T) {
	st := storetest.NewStore(t)
	ob := newOutbox(t, st)
	sent, queued := enqueueSMS(t, ob, ""), enqueueSMS(t, ob, "")
	if _, err := st.ClaimOutbox(ctxB, "w", t0, time.Minute, 10); err != nil {
		t.Fatal(err)
	}
	if err := st.CompleteOutbox(ctxB, sent, "w", "p", "m1", t0); err != nil {
		t.Fatal(err)
	}
	if err := st.RetryOutbox(ctxB, queued, "w", "busy", t0.Add(time.Second)); err != nil {
		t.Fatal(err)
	}

	n, err := st.DeleteOldOutbox(ctxB, t0)
	if err != nil || n != 0 {
		t.Fatalf("delete before t0 = %d, %v; want 0", n, err)
	}
	rows := outboxRows(t, st)
	if len(rows[sent].Sealed) != 0 {
		t.Error("a sent row kept its sealed message")
	}
	if len(rows[queued].Sealed) == 0 {
		t.Error("a queued row lost its sealed message")
	}
	if found, err := st.UpdateDelivery(ctxB, "p", "m1", outbox.Delivered, "", t0); !found || err != nil {
		t.Errorf("delivery report after wiping: found %v err %v", found, err)
	}

	n, err = st.DeleteOldOutbox(ctxB, t0.Add(time.Second))
	if err != nil || n != 2 {
		t.Fatalf("delete before t0+1s = %d, %v; want 2", n, err)
	}
}
