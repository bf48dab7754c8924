package plivotest_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/plivo/plivo-go/v7"

	"github.com/gatehouse-id/gatehouse/mfa/sms/plivotest"
)

func client(t *testing.T, fake *plivotest.Server, token string) *plivo.Client {
	t.Helper()
	c, err := plivo.NewClient("MAFAKE", token, &plivo.ClientOptions{HttpClient: &http.Client{Timeout: 10 * time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	if c.BaseUrl, err = url.Parse(fake.URL()); err != nil {
		t.Fatal(err)
	}
	return c
}

func TestStateFollowsReports(t *testing.T) {
	reports := make(chan url.Values, 1)
	rec := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			t.Error(err)
		}
		reports <- r.PostForm
	}))
	t.Cleanup(rec.Close)

	fake := plivotest.New(t, "MAFAKE", "token")
	c := client(t, fake, "token")
	resp, err := c.Messages.Create(plivo.MessageCreateParams{
		Src: "+15551112222", Dst: "+447700900123", Text: "code 654321", URL: rec.URL, Method: "POST",
	})
	if err != nil || len(resp.MessageUUID) != 1 {
		t.Fatalf("Create = %+v, %v", resp, err)
	}
	uuid := resp.MessageUUID[0]
	if got := fake.LastCode(); got != "654321" {
		t.Errorf("LastCode = %q", got)
	}

	m, err := c.Messages.Get(uuid)
	if err != nil || m.MessageState != "queued" || m.ToNumber != "+447700900123" {
		t.Fatalf("Get = %+v, %v", m, err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if err := fake.DeliverReport(ctx, uuid, "undelivered", "30007"); err != nil {
		t.Fatalf("DeliverReport: %v", err)
	}
	form := <-reports
	for k, want := range map[string]string{"MessageUUID": uuid, "Status": "undelivered", "ErrorCode": "30007", "To": "+447700900123", "From": "+15551112222", "Type": "sms"} {
		if got := form.Get(k); got != want {
			t.Errorf("callback %s = %q, want %q", k, got, want)
		}
	}
	m, err = c.Messages.Get(uuid)
	if err != nil || m.MessageState != "undelivered" || m.ErrorCode != "30007" {
		t.Errorf("Get after report = %+v, %v", m, err)
	}
}

func TestRefusals(t *testing.T) {
	fake := plivotest.New(t, "MAFAKE", "token")
	if _, err := client(t, fake, "wrong").Messages.Create(plivo.MessageCreateParams{Src: "+15551112222", Dst: "+447700900123", Text: "x"}); err == nil {
		t.Error("Create with a wrong token succeeded")
	}
	c := client(t, fake, "token")
	resp, err := c.Messages.Create(plivo.MessageCreateParams{Src: "+15551112222", Dst: "+447700900123", Text: "no callback"})
	if err != nil {
		t.Fatal(err)
	}
	if err := fake.DeliverReport(t.Context(), resp.MessageUUID[0], "sent", ""); err == nil {
		t.Error("DeliverReport for a message without a url succeeded")
	}
	if err := fake.DeliverReport(t.Context(), "no-such-uuid", "sent", ""); err == nil {
		t.Error("DeliverReport for an unknown message succeeded")
	}
	if _, err := c.Messages.Get("no-such-uuid"); err == nil {
		t.Error("Get of an unknown message succeeded")
	}
	if n := fake.Requests(); n != 2 {
		t.Errorf("Requests = %d, want 2", n)
	}
}

func TestConcurrentSends(t *testing.T) {
	fake := plivotest.New(t, "MAFAKE", "token")
	c := client(t, fake, "token")
	fake.FailNext(3, http.StatusInternalServerError)
	var wg sync.WaitGroup
	var mu sync.Mutex
	failed := 0
	for range 20 {
		wg.Go(func() {
			_, err := c.Messages.Create(plivo.MessageCreateParams{Src: "+15551112222", Dst: "+447700900123", Text: "123456"})
			if err != nil {
				mu.Lock()
				failed++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if got := len(fake.Messages()); failed != 3 || got != 17 {
		t.Errorf("%d failed and %d recorded, want 3 and 17", failed, got)
	}
}

func TestWaitMessageCountsPerDestination(t *testing.T) {
	fake, err := plivotest.Start("MAFAKE", "token", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer fake.Close()
	c := client(t, fake, "token")
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	got := make(chan plivotest.Sent, 1)
	go func() {
		m, err := fake.WaitMessage(ctx, "+447700900123", 1)
		if err != nil {
			t.Error(err)
		}
		got <- m
	}()
	for _, m := range []struct{ dst, text string }{
		{"+447700900123", "first 111111"}, {"+447700900999", "other 222222"}, {"447700900123", "second 333333"},
	} {
		if _, err := c.Messages.Create(plivo.MessageCreateParams{Src: "+15551112222", Dst: m.dst, Text: m.text}); err != nil {
			t.Fatal(err)
		}
	}
	if m := <-got; plivotest.Code(m.Text) != "333333" {
		t.Errorf("second message to the number = %q, want the one with 333333", m.Text)
	}
	short, stop := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer stop()
	if _, err := fake.WaitMessage(short, "447700900999", 1); err == nil {
		t.Error("WaitMessage for a message never sent returned no error")
	}
}
