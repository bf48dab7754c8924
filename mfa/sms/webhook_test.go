package sms_test

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/mfa/sms"
)

const webhookSecret = "whsec-0123456789abcdef"

// received is what a receiver saw of one webhook request.
type received struct {
	header    http.Header
	payload   sms.WebhookPayload
	verifyErr error
}

// receiver verifies each request as docs/sms-webhook.md tells receivers to,
// reports it on the returned channel, and answers status and body.
func receiver(t *testing.T, status int, body string) (url string, got <-chan received) {
	t.Helper()
	ch := make(chan received, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, err := io.ReadAll(r.Body)
		if err != nil {
			t.Error(err)
		}
		rc := received{header: r.Header.Clone()}
		rc.verifyErr = sms.VerifyWebhookSignature(r.Header.Get(sms.SignatureHeader), raw, webhookSecret, time.Now(), 0)
		if err := json.Unmarshal(raw, &rc.payload); err != nil && rc.verifyErr == nil {
			rc.verifyErr = err
		}
		ch <- rc
		if status == http.StatusFound {
			w.Header().Set("Location", "/elsewhere")
		}
		w.WriteHeader(status)
		if _, err := io.WriteString(w, body); err != nil {
			t.Error(err)
		}
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/sms", ch
}

func newWebhook(t *testing.T, url string, change func(*sms.WebhookConfig)) *sms.Webhook {
	t.Helper()
	cfg := sms.WebhookConfig{URL: url, Secret: webhookSecret, Timeout: loopbackBound}
	if change != nil {
		change(&cfg)
	}
	w, err := sms.NewWebhook(cfg)
	if err != nil {
		t.Fatalf("NewWebhook: %v", err)
	}
	return w
}

func TestWebhookSend(t *testing.T) {
	tests := []struct {
		name   string
		status int
		body   string
		wantID string
	}{
		{"receiver names the message", 200, `{"message_id":"twilio-SM123"}`, "twilio-SM123"},
		{"empty answer", 204, "", "msg-1"},
		{"answer not json", 202, "ok", "msg-1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			url, got := receiver(t, tt.status, tt.body)
			rec, err := newWebhook(t, url, nil).Send(t.Context(), message())
			if err != nil {
				t.Fatalf("Send: %v", err)
			}
			if rec.ProviderMessageID != tt.wantID {
				t.Errorf("ProviderMessageID = %q, want %q", rec.ProviderMessageID, tt.wantID)
			}
			r := <-got
			if r.verifyErr != nil {
				t.Fatalf("receiver: %v", r.verifyErr)
			}
			want := sms.WebhookPayload{
				To: "+447700900123", Code: "123456", Text: message().Text,
				Locale: "en", Purpose: "challenge", MessageID: "msg-1", Channel: "sms",
			}
			if r.payload != want {
				t.Errorf("payload %+v, want %+v", r.payload, want)
			}
			for k, v := range map[string]string{"Content-Type": "application/json", "User-Agent": "Gatehouse"} {
				if got := r.header.Get(k); got != v {
					t.Errorf("%s = %q, want %q", k, got, v)
				}
			}
		})
	}
}

func TestWebhookSendRefused(t *testing.T) {
	tests := []struct {
		status    int
		permanent bool
	}{
		{400, true}, {401, true}, {403, true}, {404, true}, {422, true},
		{302, true}, // not followed: the signed body goes to the configured URL only
		{408, false}, {429, false}, {500, false}, {502, false}, {503, false},
	}
	for _, tt := range tests {
		t.Run(http.StatusText(tt.status), func(t *testing.T) {
			url, got := receiver(t, tt.status, `{"error":"nope"}`)
			_, err := newWebhook(t, url, nil).Send(t.Context(), message())
			<-got
			if err == nil {
				t.Fatal("Send succeeded")
			}
			if sms.IsPermanent(err) != tt.permanent {
				t.Errorf("IsPermanent(%v) = %v, want %v", err, !tt.permanent, tt.permanent)
			}
		})
	}
}

func TestWebhookSendUnanswered(t *testing.T) {
	h := blackHole(t)
	_, err := newWebhook(t, h.url, func(c *sms.WebhookConfig) { c.Timeout = 50 * time.Millisecond }).Send(t.Context(), message())
	if err == nil || sms.IsPermanent(err) || !strings.Contains(err.Error(), "no answer within 50ms") {
		t.Errorf("Send = %v, want a temporary timeout", err)
	}
}

func TestVerifyWebhookSignature(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	body := []byte(`{"to":"+447700900123","code":"123456"}`)

	// Sign through the sender itself, with its clock set to now.
	var header string
	var raw []byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		header = r.Header.Get(sms.SignatureHeader)
		var err error
		if raw, err = io.ReadAll(r.Body); err != nil {
			t.Error(err)
		}
	}))
	t.Cleanup(srv.Close)
	if _, err := newWebhook(t, srv.URL, func(c *sms.WebhookConfig) { c.Now = func() time.Time { return now } }).Send(t.Context(), message()); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(header, "t=1800000000,v1=") {
		t.Fatalf("header %q", header)
	}
	v1 := strings.TrimPrefix(header, "t=1800000000,")

	tests := []struct {
		name   string
		header string
		body   []byte
		secret string
		at     time.Time
		want   error // nil, sms.ErrSignature or sms.ErrSignatureExpired
	}{
		{"as sent", header, raw, webhookSecret, now, nil},
		{"within tolerance", header, raw, webhookSecret, now.Add(4 * time.Minute), nil},
		{"clock slightly behind", header, raw, webhookSecret, now.Add(-4 * time.Minute), nil},
		{"spaces after commas", strings.ReplaceAll(header, ",", ", "), raw, webhookSecret, now, nil},
		{"one of two v1 matches", "t=1800000000,v1=00ff," + v1, raw, webhookSecret, now, nil},

		{"stale", header, raw, webhookSecret, now.Add(6 * time.Minute), sms.ErrSignatureExpired},
		{"from the future", header, raw, webhookSecret, now.Add(-6 * time.Minute), sms.ErrSignatureExpired},
		{"tampered body", header, body, webhookSecret, now, sms.ErrSignature},
		{"wrong secret", header, raw, "another-secret-0123456", now, sms.ErrSignature},
		{"timestamp moved", "t=1800000100," + v1, raw, webhookSecret, now, sms.ErrSignature},
		{"no header", "", raw, webhookSecret, now, sms.ErrSignature},
		{"no v1", "t=1800000000", raw, webhookSecret, now, sms.ErrSignature},
		{"no timestamp", v1, raw, webhookSecret, now, sms.ErrSignature},
		{"bad timestamp", "t=soon," + v1, raw, webhookSecret, now, sms.ErrSignature},
		{"v0 only", strings.Replace(header, "v1=", "v0=", 1), raw, webhookSecret, now, sms.ErrSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := sms.VerifyWebhookSignature(tt.header, tt.body, tt.secret, tt.at, 5*time.Minute)
			if tt.want == nil && err != nil {
				t.Errorf("VerifyWebhookSignature: %v", err)
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("VerifyWebhookSignature = %v, want %v", err, tt.want)
			}
		})
	}
	if err := sms.VerifyWebhookSignature(header, raw, webhookSecret, now.Add(10*time.Minute), 0); !errors.Is(err, sms.ErrSignatureExpired) {
		t.Errorf("with the default tolerance, 10 minutes late = %v, want ErrSignatureExpired", err)
	}
}

func TestNewWebhook(t *testing.T) {
	tests := []struct {
		name   string
		cfg    sms.WebhookConfig
		errHas string
	}{
		{"valid", sms.WebhookConfig{URL: "https://sms.example.com/send", Secret: webhookSecret}, ""},
		{"no URL", sms.WebhookConfig{Secret: webhookSecret}, "URL"},
		{"relative URL", sms.WebhookConfig{URL: "/send", Secret: webhookSecret}, "URL"},
		{"no secret", sms.WebhookConfig{URL: "https://sms.example.com/send"}, "at least 16 bytes"},
		{"short secret", sms.WebhookConfig{URL: "https://sms.example.com/send", Secret: "short"}, "at least 16 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, err := sms.NewWebhook(tt.cfg)
			switch {
			case tt.errHas == "" && err != nil:
				t.Errorf("NewWebhook: %v", err)
			case tt.errHas == "" && w.Name() != "webhook":
				t.Errorf("Name = %q", w.Name())
			case tt.errHas != "" && (err == nil || !strings.Contains(err.Error(), tt.errHas)):
				t.Errorf("NewWebhook error %v, want one mentioning %q", err, tt.errHas)
			}
		})
	}
}
