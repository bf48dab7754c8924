package sms

import (
	"bytes"
	"cmp"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// WebhookConfig configures the custom provider: Gatehouse POSTs each message
// as signed JSON to a URL the operator runs, which sends it on however it
// likes (see docs/sms-webhook.md).
type WebhookConfig struct {
	URL string // https outside development
	// Secret is the HMAC key shared with the receiver, at least 16 bytes;
	// generate 32 random bytes.
	Secret  string
	Timeout time.Duration // bound on one Send; default 10s
	// HTTPClient is optional; its Timeout counts only if shorter than Timeout.
	// Redirects are never followed: the signed body goes to URL or nowhere.
	HTTPClient *http.Client
	Now        func() time.Time // the signature's timestamp; default time.Now
}

// SignatureHeader carries the webhook signature: t=<unix seconds>,v1=<hex
// HMAC-SHA256(secret, "<unix seconds>.<body>")>, as Stripe signs its webhooks.
const SignatureHeader = "Gatehouse-Signature"

// DefaultSignatureTolerance is how far a webhook timestamp may be from the
// receiver's clock when VerifyWebhookSignature is given no tolerance.
const DefaultSignatureTolerance = 5 * time.Minute

// ErrSignatureExpired says a webhook signature is valid but its timestamp is
// outside the tolerance: a replay, or clocks far apart.
var ErrSignatureExpired = errors.New("signature timestamp outside tolerance")

// WebhookPayload is the JSON body of a webhook request.
type WebhookPayload struct {
	To        string `json:"to"`         // E.164
	Code      string `json:"code"`       // the bare code
	Text      string `json:"text"`       // the full text, WebOTP line included
	Locale    string `json:"locale"`     // e.g. "en"
	Purpose   string `json:"purpose"`    // "enroll" or "challenge"
	MessageID string `json:"message_id"` // the same on every retry of one message
	Channel   string `json:"channel"`    // "sms", or "voice" when the admin chose voice delivery
}

// maxWebhookResponse bounds how much of a receiver's answer is read.
const maxWebhookResponse = 64 << 10

// Webhook sends messages to the operator's URL. It is safe for concurrent use.
type Webhook struct {
	url     string
	secret  []byte
	timeout time.Duration
	client  http.Client
	now     func() time.Time
}

var _ Sender = (*Webhook)(nil)

// NewWebhook checks cfg and returns a sender. It makes no network call.
func NewWebhook(cfg WebhookConfig) (*Webhook, error) {
	if _, err := parseHTTPURL(cfg.URL); err != nil {
		return nil, fmt.Errorf("sms webhook: URL: %w", err)
	}
	if len(cfg.Secret) < 16 {
		return nil, errors.New("sms webhook: the secret must be at least 16 bytes")
	}
	w := &Webhook{url: cfg.URL, secret: []byte(cfg.Secret), timeout: cfg.Timeout, now: cfg.Now}
	if w.timeout <= 0 {
		w.timeout = defaultTimeout
	}
	if cfg.HTTPClient != nil {
		w.client = *cfg.HTTPClient
		if t := w.client.Timeout; t > 0 && t < w.timeout {
			w.timeout = t
		}
		w.client.Timeout = 0
	}
	w.client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	if w.now == nil {
		w.now = time.Now
	}
	return w, nil
}

func (w *Webhook) Name() string { return "webhook" }

// Send POSTs m as a WebhookPayload and expects a 2xx answer. The answer may
// be JSON {"message_id": "…"}, which becomes the ProviderMessageID; otherwise
// it is m.ID. A 3xx (not followed) or a 4xx other than 408 and 429 is a
// permanent failure; anything else may be retried.
func (w *Webhook) Send(ctx context.Context, m Message) (Receipt, error) {
	body, err := json.Marshal(WebhookPayload{
		To: m.To, Code: m.Code, Text: m.Text, Locale: m.Locale, Purpose: m.Purpose, MessageID: m.ID,
		Channel: cmp.Or(m.Channel, "sms"),
	})
	if err != nil {
		return Receipt{}, permanent(fmt.Errorf("sms webhook: %w", err))
	}
	callCtx, cancel := context.WithTimeout(ctx, w.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(callCtx, http.MethodPost, w.url, bytes.NewReader(body))
	if err != nil {
		return Receipt{}, permanent(fmt.Errorf("sms webhook: %w", err))
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Gatehouse")
	req.Header.Set(SignatureHeader, signWebhook(w.secret, w.now().Unix(), body))

	resp, err := w.client.Do(req)
	switch {
	case err == nil:
	case ctx.Err() != nil:
		return Receipt{}, fmt.Errorf("sms webhook: %w", ctx.Err())
	case callCtx.Err() != nil:
		return Receipt{}, fmt.Errorf("sms webhook: no answer within %v", w.timeout)
	default:
		return Receipt{}, fmt.Errorf("sms webhook: %w", err)
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, maxWebhookResponse))

	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		var a struct {
			MessageID string `json:"message_id"`
		}
		if json.Unmarshal(answer, &a) == nil && a.MessageID != "" {
			return Receipt{ProviderMessageID: a.MessageID}, nil
		}
		return Receipt{ProviderMessageID: m.ID}, nil
	case resp.StatusCode >= 300 && resp.StatusCode < 400:
		return Receipt{}, permanent(fmt.Errorf("sms webhook: HTTP %d: redirects are not followed, configure the final URL", resp.StatusCode))
	}
	return Receipt{}, apiError("sms webhook", resp.StatusCode, string(answer))
}

func signWebhook(secret []byte, unix int64, body []byte) string {
	return "t=" + strconv.FormatInt(unix, 10) + ",v1=" + hex.EncodeToString(webhookMAC(secret, unix, body))
}

func webhookMAC(secret []byte, unix int64, body []byte) []byte {
	mac := hmac.New(sha256.New, secret)
	mac.Write(strconv.AppendInt(nil, unix, 10))
	mac.Write([]byte{'.'})
	mac.Write(body)
	return mac.Sum(nil)
}

// VerifyWebhookSignature checks a Gatehouse-Signature header against the raw
// request body, as a receiver must before trusting a webhook request. The
// header may carry several v1 signatures (one per secret during a rotation);
// one must match. A matching signature whose timestamp is more than tolerance
// (DefaultSignatureTolerance if zero) away from now is refused with
// ErrSignatureExpired; anything else wrong with ErrSignature.
func VerifyWebhookSignature(header string, body []byte, secret string, now time.Time, tolerance time.Duration) error {
	if secret == "" {
		return errors.New("sms webhook: no secret to verify with")
	}
	if tolerance <= 0 {
		tolerance = DefaultSignatureTolerance
	}
	var (
		unix   int64
		haveTS bool
		sigs   [][]byte
	)
	for part := range strings.SplitSeq(header, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "t":
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return fmt.Errorf("sms webhook: %w: bad timestamp", ErrSignature)
			}
			unix, haveTS = n, true
		case "v1":
			if sig, err := hex.DecodeString(v); err == nil {
				sigs = append(sigs, sig)
			}
		}
	}
	if !haveTS || len(sigs) == 0 {
		return fmt.Errorf("sms webhook: %w: want t=<unix>,v1=<hex>", ErrSignature)
	}
	want := webhookMAC([]byte(secret), unix, body)
	matched := false
	for _, sig := range sigs {
		matched = matched || hmac.Equal(sig, want)
	}
	if !matched {
		return fmt.Errorf("sms webhook: %w", ErrSignature)
	}
	if age := now.Sub(time.Unix(unix, 0)); age > tolerance || age < -tolerance {
		return fmt.Errorf("sms webhook: %w: timestamp %v from now", ErrSignatureExpired, age.Abs().Round(time.Second))
	}
	return nil
}
