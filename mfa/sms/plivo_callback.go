package sms

import (
	"crypto/hmac"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/plivo/plivo-go/v7"
)

// ErrSignature says a callback or webhook request carries no signature, or
// none that matches.
var ErrSignature = errors.New("missing or invalid signature")

// Delivery statuses Plivo reports. US and Canadian carriers return no delivery
// receipts, so there StatusSent is the last word.
const (
	StatusQueued      = "queued"
	StatusSent        = "sent"
	StatusDelivered   = "delivered"
	StatusUndelivered = "undelivered"
	StatusFailed      = "failed"
)

var deliveryStatuses = []string{StatusQueued, StatusSent, StatusDelivered, StatusUndelivered, StatusFailed}

// maxCallbackBody bounds the form a callback may post; Plivo's is under 1 KiB.
const maxCallbackBody = 64 << 10

// VerifyCallback checks that r was signed by Plivo with this account's auth
// token for publicURL, the exact URL Plivo was told to call (StatusURL). Take
// it from configuration: behind a TLS-terminating proxy, r.Host and r.TLS do
// not tell it.
//
// A request with X-Plivo-Signature-V3 must carry a valid V3 signature, which
// covers the URL, the nonce and the form parameters; the header may hold
// several comma-separated signatures, one must match. Otherwise
// X-Plivo-Signature-V2, which Plivo's messaging docs promise, must be valid;
// V2 covers the URL and the nonce but not the parameters. Nonces are not
// remembered, so a captured callback can be replayed; a delivery report only
// sets a status, so a replay repeats one.
//
// The signatures are computed with plivo.ComputeSignatureV3/V2 and compared in
// constant time (the SDK's Validate functions compare with ==). VerifyCallback
// parses the form, so ParseDeliveryReport may be called after it.
func (p *Plivo) VerifyCallback(r *http.Request, publicURL string) error {
	if _, err := parseHTTPURL(publicURL); err != nil { // the SDK panics on a bad URL
		return fmt.Errorf("plivo callback: public URL: %w", err)
	}
	if err := parseForm(r); err != nil {
		return fmt.Errorf("plivo callback: %w", err)
	}
	if sigs := r.Header.Get("X-Plivo-Signature-V3"); sigs != "" {
		nonce := r.Header.Get("X-Plivo-Signature-V3-Nonce")
		if nonce == "" {
			return fmt.Errorf("plivo callback: %w: V3 signature without nonce", ErrSignature)
		}
		params := r.PostForm
		if r.Method == http.MethodGet {
			params = r.URL.Query()
		}
		want := []byte(plivo.ComputeSignatureV3(p.cfg.AuthToken, publicURL, r.Method, nonce, firstValues(params)))
		for sig := range strings.SplitSeq(sigs, ",") {
			if hmac.Equal([]byte(strings.TrimSpace(sig)), want) {
				return nil
			}
		}
		return fmt.Errorf("plivo callback: %w: V3 signature does not match", ErrSignature)
	}
	if sig := r.Header.Get("X-Plivo-Signature-V2"); sig != "" {
		nonce := r.Header.Get("X-Plivo-Signature-V2-Nonce")
		if nonce == "" {
			return fmt.Errorf("plivo callback: %w: V2 signature without nonce", ErrSignature)
		}
		want := plivo.ComputeSignatureV2(p.cfg.AuthToken, publicURL, nonce)
		if hmac.Equal([]byte(sig), []byte(want)) {
			return nil
		}
		return fmt.Errorf("plivo callback: %w: V2 signature does not match", ErrSignature)
	}
	return fmt.Errorf("plivo callback: %w: no X-Plivo-Signature-V3 or -V2 header", ErrSignature)
}

// DeliveryReport is what a Plivo status callback says about one message.
type DeliveryReport struct {
	ProviderMessageID string // Plivo's MessageUUID, as in Receipt
	Status            string // one of the Status constants
	ErrorCode         string // Plivo's error code when undelivered or failed, else empty
}

// ParseDeliveryReport reads a status callback (form fields MessageUUID, Status,
// ErrorCode) from a POST body or a GET query. Verify the request first.
func ParseDeliveryReport(r *http.Request) (DeliveryReport, error) {
	if err := parseForm(r); err != nil {
		return DeliveryReport{}, fmt.Errorf("plivo callback: %w", err)
	}
	rep := DeliveryReport{
		ProviderMessageID: r.Form.Get("MessageUUID"),
		Status:            r.Form.Get("Status"),
		ErrorCode:         r.Form.Get("ErrorCode"),
	}
	if rep.ProviderMessageID == "" {
		return DeliveryReport{}, errors.New("plivo callback: no MessageUUID")
	}
	if !slices.Contains(deliveryStatuses, rep.Status) {
		return DeliveryReport{}, fmt.Errorf("plivo callback: unknown status %q", snippet(rep.Status))
	}
	return rep, nil
}

// parseForm is r.ParseForm with the body bounded to maxCallbackBody.
func parseForm(r *http.Request) error {
	if r.PostForm == nil && r.Body != nil {
		r.Body = http.MaxBytesReader(nil, r.Body, maxCallbackBody)
	}
	return r.ParseForm()
}

// firstValues flattens a form the way Plivo's signature does: one value a key.
func firstValues(v url.Values) map[string]string {
	m := make(map[string]string, len(v))
	for k, vs := range v {
		if len(vs) > 0 {
			m[k] = vs[0]
		}
	}
	return m
}
