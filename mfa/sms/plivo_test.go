package sms_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/mfa/sms"
	"github.com/gatehouse-id/gatehouse/mfa/sms/plivotest"
)

const (
	authID    = "MAXXXXXXXXXXXXXXXXXX"
	authToken = "plivo-test-auth-token"
	statusURL = "https://id.example.com/hooks/plivo/status"
)

// loopbackBound bounds waits for things on loopback that should take
// milliseconds, so a bug fails the test instead of hanging it.
const loopbackBound = 10 * time.Second

func newPlivo(t *testing.T, apiURL string, change func(*sms.PlivoConfig)) *sms.Plivo {
	t.Helper()
	cfg := sms.PlivoConfig{
		AuthID: authID, AuthToken: authToken, Src: "+15551112222",
		APIURL: apiURL, StatusURL: statusURL, Timeout: loopbackBound,
	}
	if change != nil {
		change(&cfg)
	}
	p, err := sms.NewPlivo(cfg)
	if err != nil {
		t.Fatalf("NewPlivo: %v", err)
	}
	return p
}

func message() sms.Message {
	return sms.Message{
		ID: "msg-1", To: "+447700900123", Code: "123456", Purpose: "challenge", Locale: "en",
		Text: sms.Text("Acme", "123456", "id.example.com"),
	}
}

func TestPlivoSend(t *testing.T) {
	fake := plivotest.New(t, authID, authToken)
	p := newPlivo(t, fake.URL(), nil)

	rec, err := p.Send(t.Context(), message())
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	got := fake.Messages()
	if len(got) != 1 {
		t.Fatalf("fake recorded %d messages, want 1", len(got))
	}
	m := got[0]
	if rec.ProviderMessageID != m.UUID || m.UUID == "" {
		t.Errorf("receipt id %q, fake uuid %q", rec.ProviderMessageID, m.UUID)
	}
	checks := []struct{ field, got, want string }{
		{"src", m.Src, "+15551112222"},
		{"dst", m.Dst, "+447700900123"},
		{"text", m.Text, message().Text},
		{"type", m.Type, "sms"},
		{"url", m.URL, statusURL},
		{"method", m.Method, "POST"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.field, c.got, c.want)
		}
	}
	if m.Log != false {
		t.Errorf("log = %v, want false so Plivo does not keep the code", m.Log)
	}
	if m.MessageExpiry != 300 {
		t.Errorf("message_expiry = %d, want 300", m.MessageExpiry)
	}
	if code := fake.LastCode(); code != "123456" {
		t.Errorf("LastCode = %q", code)
	}
}

func TestPlivoSendWithoutStatusURL(t *testing.T) {
	fake := plivotest.New(t, authID, authToken)
	p := newPlivo(t, fake.URL(), func(c *sms.PlivoConfig) { c.StatusURL = "" })
	if _, err := p.Send(t.Context(), message()); err != nil {
		t.Fatalf("Send: %v", err)
	}
	if m := fake.Messages()[0]; m.URL != "" || m.Method != "" {
		t.Errorf("url %q method %q, want none", m.URL, m.Method)
	}
}

// TestPlivoSendRefused runs the real SDK against the fake's refusals. A 5xx
// reaches the fake exactly once: the SDK (ExecuteRequest) retries 5xx only for
// voice requests, never for messages.
func TestPlivoSendRefused(t *testing.T) {
	tests := []struct {
		name      string
		token     string
		to        string
		failNext  int // status of one injected failure, 0 for none
		permanent bool
		errHas    string
	}{
		{"wrong credentials", "wrong-token", "", 0, true, "HTTP 401: Authentication failed"},
		{"invalid destination", "", "12", 0, true, "HTTP 400: invalid 'dst' parameter"},
		{"server error", "", "", 500, false, "HTTP 500: Internal Server Error"},
		{"unavailable", "", "", 503, false, "HTTP 503"},
		{"rate limited", "", "", 429, false, "HTTP 429"},
		{"forbidden", "", "", 403, true, "HTTP 403"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := plivotest.New(t, authID, authToken)
			p := newPlivo(t, fake.URL(), func(c *sms.PlivoConfig) {
				if tt.token != "" {
					c.AuthToken = tt.token
				}
			})
			if tt.failNext != 0 {
				fake.FailNext(1, tt.failNext)
			}
			m := message()
			if tt.to != "" {
				m.To = tt.to
			}
			_, err := p.Send(t.Context(), m)
			if err == nil {
				t.Fatal("Send succeeded")
			}
			if sms.IsPermanent(err) != tt.permanent {
				t.Errorf("IsPermanent(%v) = %v, want %v", err, !tt.permanent, tt.permanent)
			}
			if !strings.Contains(err.Error(), tt.errHas) {
				t.Errorf("error %q does not contain %q", err, tt.errHas)
			}
			if n := fake.Requests(); n != 1 {
				t.Errorf("fake got %d requests, want 1 (no SDK retry)", n)
			}
			if n := len(fake.Messages()); n != 0 {
				t.Errorf("fake recorded %d messages", n)
			}
			if tt.failNext != 0 {
				if _, err := p.Send(t.Context(), message()); err != nil {
					t.Errorf("the send after the injected failure: %v", err)
				}
			}
		})
	}
}

// TestPlivoSendAnswers covers answers the fake does not give: the SDK reports
// a non-2xx answer with an empty body as success, and its errors carry no
// status, which Send recovers.
func TestPlivoSendAnswers(t *testing.T) {
	tests := []struct {
		name      string
		status    int
		body      string
		permanent bool
		errHas    string
	}{
		{"503 with empty body", 503, "", false, "HTTP 503: Service Unavailable"},
		{"401 with empty body", 401, "", true, "HTTP 401"},
		{"202 without uuid", 202, `{"api_id":"x","message":"message(s) queued","message_uuid":[]}`, false, "without a message uuid"},
		{"202 not json", 202, `<html>`, false, "plivo:"},
		{"404 with {}", 404, `{}`, true, "HTTP 404"},
		{"400 with error object", 400, `{"api_id":"x","error":{"dst":"invalid"}}`, true, `{"dst":"invalid"}`},
		{"502 html page", 502, "<html>\n<body>Bad gateway</body>\n</html>", false, "HTTP 502: <html> <body>Bad gateway"},
		{"408", 408, `{"error":"timeout"}`, false, "HTTP 408: timeout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(tt.status)
				if _, err := io.WriteString(w, tt.body); err != nil {
					t.Error(err)
				}
			}))
			t.Cleanup(srv.Close)
			_, err := newPlivo(t, srv.URL, nil).Send(t.Context(), message())
			if err == nil {
				t.Fatal("Send succeeded")
			}
			if sms.IsPermanent(err) != tt.permanent {
				t.Errorf("IsPermanent(%v) = %v, want %v", err, !tt.permanent, tt.permanent)
			}
			if !strings.Contains(err.Error(), tt.errHas) {
				t.Errorf("error %q does not contain %q", err, tt.errHas)
			}
		})
	}
}

// hole is a server that accepts connections and never answers.
type hole struct {
	url       string
	requested chan struct{} // a request started arriving
	requests  atomic.Int32
	closed    chan struct{} // the client closed a connection that carried a request
}

// blackHole starts a hole. A closed connection shows that a request was
// aborted rather than left running. Only connections that carried a request
// count: one whose dial outlives its request goes to the transport's idle pool.
func blackHole(t *testing.T) *hole {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	h := &hole{url: "http://" + ln.Addr().String(), requested: make(chan struct{}, 16), closed: make(chan struct{}, 16)}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			wg.Go(func() {
				if _, err := c.Read(make([]byte, 1)); err != nil {
					return
				}
				h.requests.Add(1)
				h.requested <- struct{}{}
				io.Copy(io.Discard, c) // returns when the client closes
				h.closed <- struct{}{}
			})
		}
	})
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return h
}

func TestPlivoSendUnanswered(t *testing.T) {
	tests := []struct {
		name    string
		timeout time.Duration
		ctx     func(t *testing.T, requested <-chan struct{}) context.Context
		ctxErr  error // the context error Send must wrap, nil when Timeout ends it
	}{
		{"timeout", 50 * time.Millisecond, func(t *testing.T, _ <-chan struct{}) context.Context {
			return t.Context()
		}, nil},
		{"context deadline", loopbackBound, func(t *testing.T, _ <-chan struct{}) context.Context {
			ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
			t.Cleanup(cancel)
			return ctx
		}, context.DeadlineExceeded},
		{"context cancelled once the request is out", loopbackBound, func(t *testing.T, requested <-chan struct{}) context.Context {
			ctx, cancel := context.WithCancel(t.Context())
			go func() {
				<-requested
				cancel()
			}()
			t.Cleanup(cancel)
			return ctx
		}, context.Canceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := blackHole(t)
			p := newPlivo(t, h.url, func(c *sms.PlivoConfig) { c.Timeout = tt.timeout })
			start := time.Now()
			_, err := p.Send(tt.ctx(t, h.requested), message())
			if err == nil {
				t.Fatal("Send succeeded")
			}
			if took := time.Since(start); took > loopbackBound/2 {
				t.Errorf("Send took %v", took)
			}
			if sms.IsPermanent(err) {
				t.Errorf("IsPermanent(%v) = true, want a temporary error", err)
			}
			if tt.ctxErr != nil && !errors.Is(err, tt.ctxErr) {
				t.Errorf("error %v, want one wrapping %v", err, tt.ctxErr)
			}
			if tt.ctxErr == nil && !strings.Contains(err.Error(), "no answer within 50ms") {
				t.Errorf("error %q does not say it timed out", err)
			}
			if h.requests.Load() == 0 {
				return // Send ended before the request arrived: nothing to abort
			}
			select {
			case <-h.closed: // the SDK's request was aborted, not left in the background
			case <-time.After(loopbackBound):
				t.Error("the connection stayed open after Send returned")
			}
		})
	}
}

func TestPlivoSendHTTPClientTimeoutWins(t *testing.T) {
	p := newPlivo(t, blackHole(t).url, func(c *sms.PlivoConfig) {
		c.Timeout = loopbackBound
		c.HTTPClient = &http.Client{Timeout: 50 * time.Millisecond}
	})
	_, err := p.Send(t.Context(), message())
	if err == nil || !strings.Contains(err.Error(), "no answer within 50ms") {
		t.Errorf("Send error %v, want the HTTP client's 50ms timeout", err)
	}
}

func TestNewPlivo(t *testing.T) {
	tests := []struct {
		name   string
		change func(*sms.PlivoConfig)
		errHas string // "" when valid
	}{
		{"valid", func(*sms.PlivoConfig) {}, ""},
		{"default API URL", func(c *sms.PlivoConfig) { c.APIURL = "" }, ""},
		{"API URL with slash", func(c *sms.PlivoConfig) { c.APIURL = "https://api.plivo.com/" }, ""},
		{"no auth id", func(c *sms.PlivoConfig) { c.AuthID = "" }, "auth id"},
		{"no auth token", func(c *sms.PlivoConfig) { c.AuthToken = "" }, "auth token"},
		{"no src", func(c *sms.PlivoConfig) { c.Src = "" }, "src"},
		{"API URL relative", func(c *sms.PlivoConfig) { c.APIURL = "api.plivo.com" }, "absolute"},
		{"API URL bad scheme", func(c *sms.PlivoConfig) { c.APIURL = "ftp://api.plivo.com" }, "absolute"},
		{"API URL unparsable", func(c *sms.PlivoConfig) { c.APIURL = "http://[::1" }, "API URL"},
		{"API URL with path", func(c *sms.PlivoConfig) { c.APIURL = "https://proxy.example.com/plivo" }, "no path"},
		{"status URL relative", func(c *sms.PlivoConfig) { c.StatusURL = "/hooks/plivo/status" }, "status URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := sms.PlivoConfig{AuthID: authID, AuthToken: authToken, Src: "Acme", APIURL: "https://api.plivo.com", StatusURL: statusURL}
			tt.change(&cfg)
			p, err := sms.NewPlivo(cfg)
			switch {
			case tt.errHas == "" && err != nil:
				t.Errorf("NewPlivo: %v", err)
			case tt.errHas == "" && p.Name() != "plivo":
				t.Errorf("Name = %q", p.Name())
			case tt.errHas != "" && (err == nil || !strings.Contains(err.Error(), tt.errHas)):
				t.Errorf("NewPlivo error %v, want one mentioning %q", err, tt.errHas)
			}
		})
	}
}
