package sms

import (
	"errors"
	"testing"
	"time"
)

// FuzzVerifyWebhookSignature: no header, however malformed, panics the
// receiver's check or passes it without the secret; a header Gatehouse signed
// passes for exactly the body it signed.
func FuzzVerifyWebhookSignature(f *testing.F) {
	const secret = "receiver-secret-of-at-least-32-bytes"
	now := time.Unix(1_800_000_000, 0)
	f.Add(signWebhook([]byte(secret), now.Unix(), []byte(`{"to":"+447911123456"}`)), []byte(`{"to":"+447911123456"}`))
	f.Add("t=1800000000,v1=00", []byte("{}"))
	f.Add("t=,v1=", []byte(""))
	f.Add("v1=zz,t=-1,v1=", []byte("x"))
	f.Add("t=99999999999999999999,v1=ab", []byte("x"))
	f.Fuzz(func(t *testing.T, header string, body []byte) {
		err := VerifyWebhookSignature(header, body, secret, now, time.Minute)
		if err == nil {
			// What passed must have needed the secret.
			if VerifyWebhookSignature(header, body, "another-secret-of-at-least-32-bytes", now, time.Minute) == nil {
				t.Fatalf("a header passes under any secret: %q", header)
			}
		}
		if err != nil && !errors.Is(err, ErrSignature) && !errors.Is(err, ErrSignatureExpired) {
			t.Fatalf("unexpected error kind: %v", err)
		}
		signed := signWebhook([]byte(secret), now.Unix(), body)
		if err := VerifyWebhookSignature(signed, body, secret, now, time.Minute); err != nil {
			t.Fatalf("own signature refused: %v", err)
		}
		if err := VerifyWebhookSignature(signed, append(body, '!'), secret, now, time.Minute); err == nil {
			t.Fatal("a changed body passed")
		}
	})
}
