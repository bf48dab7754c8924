package outbox_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/mfa/sms"
	"github.com/gatehouse-id/gatehouse/outbox"
	"github.com/gatehouse-id/gatehouse/store"
	"github.com/gatehouse-id/gatehouse/store/storetest"
)

func TestMain(m *testing.M) { os.Exit(storetest.Main(m)) }

var (
	ctxB   = context.Background()
	t0     = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	master = bytes.Repeat([]byte{7}, 32)
	quiet  = slog.New(slog.DiscardHandler)
)

var _ outbox.Store = (*store.Store)(nil)

// clock is the injected time: tests move it past leases and backoffs.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// fakeSender stands in for a provider: it records what it accepted and fails
// the next calls on demand.
type fakeSender struct {
	mu       sync.Mutex
	failNext []error
	calls    int
	accepted []sms.Message
	notify   chan sms.Message // when set, receives each accepted message
}

func (s *fakeSender) Name() string { return "fake" }

func (s *fakeSender) Send(ctx context.Context, m sms.Message) (sms.Receipt, error) {
	s.mu.Lock()
	s.calls++
	if len(s.failNext) > 0 {
		err := s.failNext[0]
		s.failNext = s.failNext[1:]
		s.mu.Unlock()
		return sms.Receipt{}, err
	}
	s.accepted = append(s.accepted, m)
	s.mu.Unlock()
	if s.notify != nil {
		s.notify <- m
	}
	return sms.Receipt{ProviderMessageID: "fake-" + m.ID}, nil
}

func (s *fakeSender) failWith(errs ...error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failNext = append(s.failNext, errs...)
}

func (s *fakeSender) counts() (calls, accepted int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls, len(s.accepted)
}

type fixture struct {
	st     *store.Store
	clock  *clock
	ob     *outbox.Outbox
	sender *fakeSender
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	sealer, err := outbox.NewSealer(master)
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{st: storetest.NewStore(t), clock: &clock{now: t0}, sender: &fakeSender{}}
	f.ob = outbox.New(f.st, sealer, f.clock.Now)
	return f
}

func (f *fixture) dispatcher(owner string, opts outbox.DispatcherOptions) *outbox.Dispatcher {
	opts.Owner, opts.Now, opts.Log = owner, f.clock.Now, quiet
	return outbox.NewDispatcher(f.ob, f.st, f.sender, opts)
}

func message(code string) outbox.Enqueued {
	return outbox.Enqueued{
		ChallengeID: "ch-" + code,
		Purpose:     "challenge",
		CountryCode: 44,
		Message: sms.Message{
			ID:     "ignored",
			To:     "+447700900123",
			Text:   sms.Text("Gatehouse", code, "id.example.com"),
			Code:   code,
			Locale: "en",
		},
		ExpiresAt: t0.Add(5 * time.Minute),
	}
}

func (f *fixture) enqueue(t *testing.T, e outbox.Enqueued) string {
	t.Helper()
	id, err := f.ob.Enqueue(ctxB, e)
	if err != nil {
		t.Fatalf("enqueue: %v", err)
	}
	return id
}

func (f *fixture) row(t *testing.T, id string) outbox.Row {
	t.Helper()
	rows, err := f.st.RecentOutbox(ctxB, 1000)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if r.ID == id {
			return r
		}
	}
	t.Fatalf("no outbox row %s", id)
	return outbox.Row{}
}

func runOnce(t *testing.T, d *outbox.Dispatcher) int {
	t.Helper()
	sent, err := d.RunOnce(ctxB)
	if err != nil {
		t.Fatalf("RunOnce: %v", err)
	}
	return sent
}

func TestEnqueuedMessageIsSentOnceAndMarkedSent(t *testing.T) {
	f := newFixture(t)
	id := f.enqueue(t, message("493817"))
	d := f.dispatcher("a", outbox.DispatcherOptions{})

	if sent := runOnce(t, d); sent != 1 {
		t.Fatalf("first round sent %d, want 1", sent)
	}
	if sent := runOnce(t, d); sent != 0 {
		t.Fatalf("second round sent %d, want 0", sent)
	}
	if calls, _ := f.sender.counts(); calls != 1 {
		t.Fatalf("sender called %d times, want 1", calls)
	}
	got := f.sender.accepted[0]
	want := sms.Message{ID: id, To: "+447700900123", Text: sms.Text("Gatehouse", "493817", "id.example.com"),
		Code: "493817", Purpose: "challenge", Locale: "en"}
	if got != want {
		t.Fatalf("sender got %+v\nwant %+v", got, want)
	}
	r := f.row(t, id)
	if r.Status != outbox.Sent || r.Provider != "fake" || r.ProviderMessageID != "fake-"+id ||
		r.Attempts != 1 || !r.SentAt.Equal(t0) || r.ChallengeID != "ch-493817" || r.CountryCode != 44 {
		t.Fatalf("row after sending: %+v", r)
	}
}

func TestSealedMessageHoldsNoPlaintextAndOpensOnlyOnItsRow(t *testing.T) {
	f := newFixture(t)
	id := f.enqueue(t, message("493817"))
	other := f.enqueue(t, message("111111"))
	r := f.row(t, id)
	if len(r.Sealed) == 0 {
		t.Fatal("sealed column is empty")
	}
	for _, clear := range []string{"493817", "+447700900123", "7700900123", "Gatehouse", "id.example.com"} {
		if bytes.Contains(r.Sealed, []byte(clear)) {
			t.Errorf("sealed column contains %q in the clear", clear)
		}
	}
	if m, err := f.ob.Open(r); err != nil || m.Code != "493817" || m.ID != id {
		t.Fatalf("open own row = %+v, %v", m, err)
	}

	moved := f.row(t, other)
	moved.Sealed = r.Sealed
	if _, err := f.ob.Open(moved); !errors.Is(err, outbox.ErrUndecryptable) {
		t.Errorf("ciphertext moved onto another row: err = %v, want ErrUndecryptable", err)
	}
	otherKey, err := outbox.NewSealer(bytes.Repeat([]byte{8}, 32))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := outbox.New(f.st, otherKey, nil).Open(r); !errors.Is(err, outbox.ErrUndecryptable) {
		t.Errorf("another master key: err = %v, want ErrUndecryptable", err)
	}
	if _, err := outbox.NewSealer(master[:16]); err == nil {
		t.Error("a 16-byte master key was accepted")
	}
}

func TestTemporaryFailuresAreRetriedAfterBackoffUntilSent(t *testing.T) {
	f := newFixture(t)
	f.sender.failWith(errors.New("503 from provider"), errors.New("timeout"), errors.New("connection reset"))
	id := f.enqueue(t, message("493817"))
	d := f.dispatcher("a", outbox.DispatcherOptions{})

	for attempt := 1; attempt <= 3; attempt++ {
		if sent := runOnce(t, d); sent != 0 {
			t.Fatalf("attempt %d sent %d, want a failure", attempt, sent)
		}
		r := f.row(t, id)
		if r.Status != outbox.Queued || r.Attempts != attempt || !r.NextAttemptAt.After(f.clock.Now()) {
			t.Fatalf("after failed attempt %d: status %s attempts %d next %v (now %v)",
				attempt, r.Status, r.Attempts, r.NextAttemptAt, f.clock.Now())
		}
		// Not due before its backoff has passed.
		runOnce(t, d)
		if calls, _ := f.sender.counts(); calls != attempt {
			t.Fatalf("sender called %d times before the backoff passed, want %d", calls, attempt)
		}
		f.clock.Advance(r.NextAttemptAt.Sub(f.clock.Now()))
	}
	if sent := runOnce(t, d); sent != 1 {
		t.Fatalf("fourth attempt sent %d, want 1", sent)
	}
	f.clock.Advance(time.Hour)
	runOnce(t, d)
	if calls, accepted := f.sender.counts(); calls != 4 || accepted != 1 {
		t.Fatalf("sender calls %d accepted %d, want 4 and 1", calls, accepted)
	}
	r := f.row(t, id)
	if r.Status != outbox.Sent || r.Attempts != 4 || r.LastError != "connection reset" {
		t.Fatalf("row: status %s attempts %d last error %q", r.Status, r.Attempts, r.LastError)
	}
}

func TestDefaultBackoffDoublesUpToAMinute(t *testing.T) {
	for attempt, max := range map[int]time.Duration{1: time.Second, 2: 2 * time.Second, 3: 4 * time.Second, 7: time.Minute, 30: time.Minute} {
		for range 50 {
			if d := outbox.DefaultBackoff(attempt); d <= max*3/4 || d > max {
				t.Fatalf("backoff after attempt %d = %v, want in (%v, %v]", attempt, d, max*3/4, max)
			}
		}
	}
}

func TestPermanentErrorFailsAtOnce(t *testing.T) {
	f := newFixture(t)
	f.sender.failWith(&sms.PermanentError{Err: errors.New("invalid destination number")})
	id := f.enqueue(t, message("493817"))
	var results []string
	d := f.dispatcher("a", outbox.DispatcherOptions{OnResult: func(_ outbox.Row, provider, status string) {
		results = append(results, provider+":"+status)
	}})

	runOnce(t, d)
	f.clock.Advance(time.Hour)
	runOnce(t, d)
	if calls, _ := f.sender.counts(); calls != 1 {
		t.Fatalf("sender called %d times, want 1", calls)
	}
	if r := f.row(t, id); r.Status != outbox.Failed || r.LastError != "invalid destination number" {
		t.Fatalf("row: status %s last error %q, want failed", r.Status, r.LastError)
	}
	if fmt.Sprint(results) != "[fake:failed]" {
		t.Fatalf("results %v, want [fake:failed]", results)
	}
}

func TestRowFailsWhenOutOfAttempts(t *testing.T) {
	f := newFixture(t)
	f.sender.failWith(errors.New("down"), errors.New("down"), errors.New("down"))
	id := f.enqueue(t, message("493817"))
	d := f.dispatcher("a", outbox.DispatcherOptions{MaxAttempts: 2, Backoff: func(int) time.Duration { return time.Second }})

	for range 3 {
		runOnce(t, d)
		f.clock.Advance(time.Second)
	}
	if calls, _ := f.sender.counts(); calls != 2 {
		t.Fatalf("sender called %d times, want 2", calls)
	}
	if r := f.row(t, id); r.Status != outbox.Failed || r.Attempts != 2 {
		t.Fatalf("row: status %s attempts %d, want failed after 2", r.Status, r.Attempts)
	}
}

func TestExpiredMessageIsNeverSent(t *testing.T) {
	f := newFixture(t)
	id := f.enqueue(t, message("493817"))
	f.clock.Advance(5 * time.Minute)
	if sent := runOnce(t, f.dispatcher("a", outbox.DispatcherOptions{})); sent != 0 {
		t.Fatalf("sent %d, want 0", sent)
	}
	if calls, _ := f.sender.counts(); calls != 0 {
		t.Fatalf("sender called %d times for an expired message", calls)
	}
	if r := f.row(t, id); r.Status != outbox.Expired {
		t.Fatalf("status %s, want expired", r.Status)
	}
}

func TestRetryThatWouldComeAfterExpiryExpiresTheRow(t *testing.T) {
	f := newFixture(t)
	f.sender.failWith(errors.New("down"))
	id := f.enqueue(t, message("493817"))
	d := f.dispatcher("a", outbox.DispatcherOptions{Backoff: func(int) time.Duration { return 5 * time.Minute }})
	runOnce(t, d)
	if r := f.row(t, id); r.Status != outbox.Expired || r.Attempts != 1 {
		t.Fatalf("status %s attempts %d, want expired after 1", r.Status, r.Attempts)
	}
}

func TestEnqueueRefusesAMessageAlreadyExpired(t *testing.T) {
	f := newFixture(t)
	e := message("493817")
	e.ExpiresAt = t0
	if _, err := f.ob.Enqueue(ctxB, e); err == nil {
		t.Fatal("enqueued a message that expires now")
	}
}

// hangingSender never answers: only the send timeout ends its calls.
type hangingSender struct{}

func (hangingSender) Name() string { return "hanging" }
func (hangingSender) Send(ctx context.Context, _ sms.Message) (sms.Receipt, error) {
	<-ctx.Done()
	return sms.Receipt{}, ctx.Err()
}

func TestHangingSendIsCutOffAndRetried(t *testing.T) {
	f := newFixture(t)
	id := f.enqueue(t, message("493817"))
	d := outbox.NewDispatcher(f.ob, f.st, hangingSender{}, outbox.DispatcherOptions{
		Owner: "a", Now: f.clock.Now, Log: quiet, SendTimeout: 50 * time.Millisecond,
	})
	runOnce(t, d)
	if r := f.row(t, id); r.Status != outbox.Queued || r.Attempts != 1 || r.LastError != context.DeadlineExceeded.Error() {
		t.Fatalf("row: status %s attempts %d last error %q, want queued for retry", r.Status, r.Attempts, r.LastError)
	}
}

func TestTwoDispatchersSendEachRowExactlyOnce(t *testing.T) {
	f := newFixture(t)
	ids := map[string]bool{}
	for i := range 50 {
		ids[f.enqueue(t, message(fmt.Sprintf("%06d", i)))] = true
	}
	var wg sync.WaitGroup
	for _, owner := range []string{"replica-a", "replica-b"} {
		d := f.dispatcher(owner, outbox.DispatcherOptions{Batch: 3})
		wg.Go(func() {
			for range 100 {
				if _, err := d.RunOnce(ctxB); err != nil {
					t.Errorf("%s: %v", owner, err)
					return
				}
				if _, accepted := f.sender.counts(); accepted == len(ids) {
					return
				}
			}
		})
	}
	wg.Wait()

	seen := map[string]int{}
	for _, m := range f.sender.accepted {
		seen[m.ID]++
	}
	for id := range ids {
		if seen[id] != 1 {
			t.Errorf("message %s sent %d times", id, seen[id])
		}
		if r := f.row(t, id); r.Status != outbox.Sent || r.Attempts != 1 {
			t.Errorf("message %s: status %s attempts %d", id, r.Status, r.Attempts)
		}
	}
	if calls, accepted := f.sender.counts(); calls != 50 || accepted != 50 {
		t.Fatalf("sender calls %d accepted %d, want 50 and 50", calls, accepted)
	}
}

func TestRowOfADeadDispatcherIsSentByAnotherAfterItsLease(t *testing.T) {
	f := newFixture(t)
	id := f.enqueue(t, message("493817"))
	// The dead replica claimed the row and never said what became of it.
	claimed, err := f.st.ClaimOutbox(ctxB, "dead", f.clock.Now(), 30*time.Second, 10)
	if err != nil || len(claimed) != 1 {
		t.Fatalf("claim = %d rows, %v", len(claimed), err)
	}
	d := f.dispatcher("alive", outbox.DispatcherOptions{Lease: 30 * time.Second})

	f.clock.Advance(29 * time.Second)
	runOnce(t, d)
	if calls, _ := f.sender.counts(); calls != 0 {
		t.Fatalf("row sent while the dead dispatcher's lease held")
	}
	f.clock.Advance(time.Second)
	if sent := runOnce(t, d); sent != 1 {
		t.Fatalf("after the lease ran out: sent %d, want 1", sent)
	}
	now := f.clock.Now()
	for name, late := range map[string]error{
		"complete": f.st.CompleteOutbox(ctxB, id, "dead", "fake", "late-id", now),
		"retry":    f.st.RetryOutbox(ctxB, id, "dead", "late", now),
		"fail":     f.st.FailOutbox(ctxB, id, "dead", outbox.Failed, "late", now),
	} {
		if !errors.Is(late, outbox.ErrLeaseLost) {
			t.Errorf("dead dispatcher's late %s: err = %v, want ErrLeaseLost", name, late)
		}
	}
	if r := f.row(t, id); r.Status != outbox.Sent || r.ProviderMessageID != "fake-"+id || r.Attempts != 2 {
		t.Fatalf("row: status %s provider id %s attempts %d", r.Status, r.ProviderMessageID, r.Attempts)
	}
}

func TestDeliveryReportsNeverMoveARowBackwards(t *testing.T) {
	f := newFixture(t)
	a := f.enqueue(t, message("111111"))
	b := f.enqueue(t, message("222222"))
	runOnce(t, f.dispatcher("a", outbox.DispatcherOptions{}))

	report := func(id, status, code string) {
		t.Helper()
		f.clock.Advance(time.Second)
		found, err := f.st.UpdateDelivery(ctxB, "fake", "fake-"+id, status, code, f.clock.Now())
		if err != nil || !found {
			t.Fatalf("report %s for %s: found %v, err %v", status, id, found, err)
		}
	}
	report(a, outbox.Delivered, "")
	deliveredAt := f.clock.Now()
	report(a, outbox.Sent, "")
	report(a, outbox.Undelivered, "30")
	if r := f.row(t, a); r.Status != outbox.Delivered || !r.DeliveredAt.Equal(deliveredAt) || r.ErrorCode != "" {
		t.Fatalf("a: status %s delivered at %v error code %q, want delivered at %v", r.Status, r.DeliveredAt, r.ErrorCode, deliveredAt)
	}

	report(b, outbox.Undelivered, "30")
	report(b, outbox.Sent, "")
	if r := f.row(t, b); r.Status != outbox.Undelivered || r.ErrorCode != "30" {
		t.Fatalf("b: status %s error code %q, want undelivered 30", r.Status, r.ErrorCode)
	}
	report(b, outbox.Delivered, "")
	if r := f.row(t, b); r.Status != outbox.Delivered {
		t.Fatalf("b: status %s after a late delivered report, want delivered", r.Status)
	}

	if found, err := f.st.UpdateDelivery(ctxB, "fake", "unknown", outbox.Delivered, "", t0); found || err != nil {
		t.Fatalf("unknown message: found %v err %v", found, err)
	}
	if found, err := f.st.UpdateDelivery(ctxB, "other-provider", "fake-"+a, outbox.Failed, "", t0); found || err != nil {
		t.Fatalf("another provider's id: found %v err %v", found, err)
	}
}

func TestEnqueueCommitsOrRollsBackWithItsTransaction(t *testing.T) {
	f := newFixture(t)
	errRollback := errors.New("challenge insert failed")
	err := f.st.InTx(ctxB, func(ctx context.Context) error {
		if _, err := f.ob.Enqueue(ctx, message("111111")); err != nil {
			return err
		}
		return errRollback
	})
	if !errors.Is(err, errRollback) {
		t.Fatal(err)
	}
	if rows, err := f.st.RecentOutbox(ctxB, 10); err != nil || len(rows) != 0 {
		t.Fatalf("after rollback: %d rows, %v; want none", len(rows), err)
	}

	var id string
	err = f.st.InTx(ctxB, func(ctx context.Context) error {
		id, err = f.ob.Enqueue(ctx, message("222222"))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	runOnce(t, f.dispatcher("a", outbox.DispatcherOptions{}))
	if _, accepted := f.sender.counts(); accepted != 1 || f.sender.accepted[0].ID != id {
		t.Fatalf("sent %v, want only the committed message %s", f.sender.accepted, id)
	}
}

func TestRunSendsOnWakeAndStopsWithItsContext(t *testing.T) {
	f := newFixture(t)
	f.sender.notify = make(chan sms.Message, 10)
	// Poll is far longer than the test: only Wake can start the second round.
	d := f.dispatcher("a", outbox.DispatcherOptions{Poll: time.Hour})
	first := f.enqueue(t, message("111111"))

	ctx, cancel := context.WithCancel(ctxB)
	defer cancel()
	done := make(chan struct{})
	go func() {
		defer close(done)
		d.Run(ctx)
	}()
	waitFor := func(id string) {
		t.Helper()
		select {
		case m := <-f.sender.notify:
			if m.ID != id {
				t.Fatalf("sent %s, want %s", m.ID, id)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("message %s not sent within 10s", id)
		}
	}
	waitFor(first)

	second := f.enqueue(t, message("222222"))
	d.Wake()
	waitFor(second)

	cancel()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return within 10s of its context ending")
	}
}

// unreachableStore is the real store seen through a connection that breaks:
// its next outcome writes fail as they do while the database fails over.
type unreachableStore struct {
	*store.Store
	mu        sync.Mutex
	failsLeft int
}

var errConnectionLost = errors.New("failed to receive message: unexpected EOF")

func (s *unreachableStore) fail() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failsLeft > 0 {
		s.failsLeft--
		return errConnectionLost
	}
	return nil
}

func (s *unreachableStore) CompleteOutbox(ctx context.Context, id, owner, provider, providerMessageID string, now time.Time) error {
	if err := s.fail(); err != nil {
		return err
	}
	return s.Store.CompleteOutbox(ctx, id, owner, provider, providerMessageID, now)
}

func TestASentMessageIsRecordedOnceTheDatabaseIsBackWithinTheLease(t *testing.T) {
	f := newFixture(t)
	id := f.enqueue(t, message("493817"))
	st := &unreachableStore{Store: f.st, failsLeft: 3}
	d := outbox.NewDispatcher(f.ob, st, f.sender, outbox.DispatcherOptions{Owner: "a", Now: f.clock.Now, Log: quiet, Lease: 30 * time.Second})

	if sent := runOnce(t, d); sent != 1 {
		t.Fatalf("sent %d, want 1", sent)
	}
	if r := f.row(t, id); r.Status != outbox.Sent || r.ProviderMessageID != "fake-"+id {
		t.Fatalf("row after the database came back: status %s, provider id %q; want sent", r.Status, r.ProviderMessageID)
	}
	f.clock.Advance(time.Minute) // past the lease: a row left sending would be sent again
	runOnce(t, d)
	if calls, _ := f.sender.counts(); calls != 1 {
		t.Fatalf("sender called %d times, want 1", calls)
	}
}
