package sms_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/plivo/plivo-go/v7"

	"github.com/gatehouse-id/gatehouse/mfa/sms"
	"github.com/gatehouse-id/gatehouse/mfa/sms/plivotest"
)

// callback is one request as it arrived at a status URL.
type callback struct {
	method string
	header http.Header
	body   []byte
}

// request rebuilds the callback for publicURL, as a proxy would hand it on.
func (c callback) request(publicURL string) *http.Request {
	r := httptest.NewRequest(c.method, publicURL, bytes.NewReader(c.body))
	r.Header = c.header.Clone()
	return r
}

// captureReport sends a message through the fake with its status URL pointing
// at a recorder and has the fake report it delivered. It returns the public
// URL Plivo called, the callback, and the message's UUID.
func captureReport(t *testing.T, status, errorCode string) (publicURL string, cb callback, uuid string) {
	t.Helper()
	got := make(chan callback, 1)
	rec := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			t.Error(err)
		}
		got <- callback{method: r.Method, header: r.Header.Clone(), body: body}
	}))
	t.Cleanup(rec.Close)
	publicURL = rec.URL + "/hooks/plivo/status"

	fake := plivotest.New(t, authID, authToken)
	p := newPlivo(t, fake.URL(), func(c *sms.PlivoConfig) { c.StatusURL = publicURL })
	receipt, err := p.Send(t.Context(), message())
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), loopbackBound)
	defer cancel()
	if err := fake.DeliverReport(ctx, receipt.ProviderMessageID, status, errorCode); err != nil {
		t.Fatalf("DeliverReport: %v", err)
	}
	return publicURL, <-got, receipt.ProviderMessageID
}

func TestVerifyCallback(t *testing.T) {
	publicURL, cb, _ := captureReport(t, "delivered", "")
	p := newPlivo(t, "", nil)

	withHeader := func(name, value string) func(*callback) {
		return func(c *callback) {
			if value == "" {
				c.header.Del(name)
			} else {
				c.header.Set(name, value)
			}
		}
	}
	v2Only := func(c *callback) { c.header.Del("X-Plivo-Signature-V3") }
	tests := []struct {
		name      string
		change    func(*callback)
		url       string // "" for publicURL
		token     string // "" for authToken
		wantValid bool
	}{
		{"as Plivo sent it", func(*callback) {}, "", "", true},
		{"V2 only", v2Only, "", "", true},
		{"V3 among several signatures", withHeader("X-Plivo-Signature-V3", "bm90IGl0, "+cb.header.Get("X-Plivo-Signature-V3")), "", "", true},

		{"no signature", func(c *callback) { v2Only(c); c.header.Del("X-Plivo-Signature-V2") }, "", "", false},
		{"tampered body", func(c *callback) { c.body = bytes.Replace(c.body, []byte("delivered"), []byte("failed"), 1) }, "", "", false},
		{"tampered V3 signature", withHeader("X-Plivo-Signature-V3", "AAAA"+cb.header.Get("X-Plivo-Signature-V3")[4:]), "", "", false},
		{"other V3 nonce", withHeader("X-Plivo-Signature-V3-Nonce", "12345678901234567890"), "", "", false},
		{"V3 without nonce", withHeader("X-Plivo-Signature-V3-Nonce", ""), "", "", false},
		{"tampered V2 signature", func(c *callback) {
			v2Only(c)
			c.header.Set("X-Plivo-Signature-V2", "AAAA"+c.header.Get("X-Plivo-Signature-V2")[4:])
		}, "", "", false},
		{"V2 without nonce", func(c *callback) { v2Only(c); c.header.Del("X-Plivo-Signature-V2-Nonce") }, "", "", false},
		{"signed for another URL", func(*callback) {}, "https://id.example.com/hooks/plivo/status", "", false},
		{"V2 signed for another URL", v2Only, "https://id.example.com/hooks/plivo/status", "", false},
		{"another account's token", func(*callback) {}, "", "another-token", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := callback{method: cb.method, header: cb.header.Clone(), body: bytes.Clone(cb.body)}
			tt.change(&c)
			u := publicURL
			if tt.url != "" {
				u = tt.url
			}
			verifier := p
			if tt.token != "" {
				verifier = newPlivo(t, "", func(c *sms.PlivoConfig) { c.AuthToken = tt.token })
			}
			err := verifier.VerifyCallback(c.request(publicURL), u)
			if tt.wantValid && err != nil {
				t.Errorf("VerifyCallback: %v", err)
			}
			if !tt.wantValid && !errors.Is(err, sms.ErrSignature) {
				t.Errorf("VerifyCallback = %v, want ErrSignature", err)
			}
		})
	}
}

// A V2 signature covers the URL and nonce only: Plivo's messaging callbacks
// can be altered in transit without breaking it. TLS is what protects them.
func TestVerifyCallbackV2DoesNotCoverTheBody(t *testing.T) {
	publicURL, cb, _ := captureReport(t, "delivered", "")
	cb.header.Del("X-Plivo-Signature-V3")
	cb.body = bytes.Replace(cb.body, []byte("delivered"), []byte("failed"), 1)
	if err := newPlivo(t, "", nil).VerifyCallback(cb.request(publicURL), publicURL); err != nil {
		t.Errorf("VerifyCallback: %v", err)
	}
}

func TestVerifyCallbackGET(t *testing.T) {
	const publicURL = "https://id.example.com/hooks/plivo/status"
	params := map[string]string{"MessageUUID": "u-1", "Status": "sent", "ErrorCode": ""}
	q := url.Values{}
	for k, v := range params {
		q.Set(k, v)
	}
	sig := plivo.ComputeSignatureV3(authToken, publicURL, "GET", "42", params)
	p := newPlivo(t, "", nil)
	for _, tt := range []struct {
		name  string
		query string
		valid bool
	}{
		{"as signed", q.Encode(), true},
		{"query changed", strings.Replace(q.Encode(), "sent", "delivered", 1), false},
	} {
		r := httptest.NewRequest("GET", publicURL+"?"+tt.query, nil)
		r.Header.Set("X-Plivo-Signature-V3", sig)
		r.Header.Set("X-Plivo-Signature-V3-Nonce", "42")
		if err := p.VerifyCallback(r, publicURL); (err == nil) != tt.valid {
			t.Errorf("%s: VerifyCallback = %v, want valid %v", tt.name, err, tt.valid)
		}
	}
}

func TestVerifyCallbackBadPublicURL(t *testing.T) {
	r := httptest.NewRequest("POST", "/hooks/plivo/status", strings.NewReader(""))
	r.Header.Set("X-Plivo-Signature-V2", "x")
	r.Header.Set("X-Plivo-Signature-V2-Nonce", "1")
	err := newPlivo(t, "", nil).VerifyCallback(r, "/hooks/plivo/status")
	if err == nil || errors.Is(err, sms.ErrSignature) {
		t.Errorf("VerifyCallback with a relative public URL = %v, want a configuration error", err)
	}
}

func TestParseDeliveryReport(t *testing.T) {
	publicURL, cb, uuid := captureReport(t, "undelivered", "30007")
	p := newPlivo(t, "", nil)
	r := cb.request(publicURL)
	if err := p.VerifyCallback(r, publicURL); err != nil {
		t.Fatalf("VerifyCallback: %v", err)
	}
	rep, err := sms.ParseDeliveryReport(r)
	if err != nil {
		t.Fatalf("ParseDeliveryReport: %v", err)
	}
	want := sms.DeliveryReport{ProviderMessageID: uuid, Status: sms.StatusUndelivered, ErrorCode: "30007"}
	if rep != want {
		t.Errorf("report %+v, want %+v", rep, want)
	}

	tests := []struct {
		name   string
		method string
		form   string
		want   sms.DeliveryReport
		errHas string
	}{
		{"each status: queued", "POST", "MessageUUID=u&Status=queued", sms.DeliveryReport{"u", "queued", ""}, ""},
		{"each status: sent", "POST", "MessageUUID=u&Status=sent", sms.DeliveryReport{"u", "sent", ""}, ""},
		{"each status: delivered", "POST", "MessageUUID=u&Status=delivered&ErrorCode=", sms.DeliveryReport{"u", "delivered", ""}, ""},
		{"each status: failed", "POST", "MessageUUID=u&Status=failed&ErrorCode=200", sms.DeliveryReport{"u", "failed", "200"}, ""},
		{"GET query", "GET", "MessageUUID=u&Status=sent", sms.DeliveryReport{"u", "sent", ""}, ""},
		{"no uuid", "POST", "Status=sent", sms.DeliveryReport{}, "no MessageUUID"},
		{"unknown status", "POST", "MessageUUID=u&Status=read", sms.DeliveryReport{}, `unknown status "read"`},
		{"status case matters", "POST", "MessageUUID=u&Status=Delivered", sms.DeliveryReport{}, "unknown status"},
		{"no status", "POST", "MessageUUID=u", sms.DeliveryReport{}, "unknown status"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r *http.Request
			if tt.method == "GET" {
				r = httptest.NewRequest("GET", "/hooks/plivo/status?"+tt.form, nil)
			} else {
				r = httptest.NewRequest("POST", "/hooks/plivo/status", strings.NewReader(tt.form))
				r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			}
			got, err := sms.ParseDeliveryReport(r)
			if tt.errHas == "" && (err != nil || got != tt.want) {
				t.Errorf("ParseDeliveryReport = %+v, %v; want %+v", got, err, tt.want)
			}
			if tt.errHas != "" && (err == nil || !strings.Contains(err.Error(), tt.errHas)) {
				t.Errorf("ParseDeliveryReport error %v, want one containing %q", err, tt.errHas)
			}
		})
	}
}
