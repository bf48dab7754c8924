package sms

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/plivo/plivo-go/v7"
)

// PlivoConfig configures delivery through Plivo's Message API.
type PlivoConfig struct {
	AuthID    string
	AuthToken string
	Src       string // sender: a Plivo number in E.164 or an alphanumeric sender ID
	// APIURL replaces https://api.plivo.com/ (PLIVO_API_URL). The SDK keeps only
	// its scheme and host and rebuilds the path, so a path is refused.
	APIURL string
	// StatusURL is where Plivo POSTs delivery reports, the exact public URL
	// (e.g. https://id.example.com/hooks/plivo/status). Empty asks for none.
	StatusURL string
	Timeout   time.Duration // bound on one Send; default 10s
	// HTTPClient is optional. Its Transport, Jar and CheckRedirect are used;
	// its Timeout counts only if shorter than Timeout.
	HTTPClient *http.Client
}

// messageExpiry is how long Plivo keeps trying to hand a message to the
// carrier, in seconds: a code is worth nothing after its five minutes.
const messageExpiry = 300

const defaultTimeout = 10 * time.Second

// Plivo sends messages through Plivo. It is safe for concurrent use.
type Plivo struct {
	cfg       PlivoConfig
	apiURL    *url.URL // nil keeps the SDK's default
	client    http.Client
	transport http.RoundTripper
	timeout   time.Duration
}

var _ Sender = (*Plivo)(nil)

// NewPlivo checks cfg and returns a sender. It makes no network call.
func NewPlivo(cfg PlivoConfig) (*Plivo, error) {
	// The SDK would fall back to $PLIVO_AUTH_ID and $PLIVO_AUTH_TOKEN; Gatehouse
	// reads its configuration in one place, so empty values are refused here.
	if cfg.AuthID == "" || cfg.AuthToken == "" {
		return nil, errors.New("plivo: auth id and auth token are required")
	}
	if cfg.Src == "" {
		return nil, errors.New("plivo: a sender (src) is required")
	}
	p := &Plivo{cfg: cfg, timeout: cfg.Timeout}
	if p.timeout <= 0 {
		p.timeout = defaultTimeout
	}
	if cfg.APIURL != "" {
		u, err := parseHTTPURL(cfg.APIURL)
		if err != nil {
			return nil, fmt.Errorf("plivo: API URL: %w", err)
		}
		if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
			return nil, fmt.Errorf("plivo: API URL %q: only scheme, host and port are used, give no path, query or credentials", cfg.APIURL)
		}
		p.apiURL = u
	}
	if cfg.StatusURL != "" {
		if _, err := parseHTTPURL(cfg.StatusURL); err != nil {
			return nil, fmt.Errorf("plivo: status URL: %w", err)
		}
	}
	if cfg.HTTPClient != nil {
		p.client = *cfg.HTTPClient
		if t := p.client.Timeout; t > 0 && t < p.timeout {
			p.timeout = t
		}
		p.client.Timeout = 0 // the per-Send context carries the bound
	}
	p.transport = p.client.Transport
	if p.transport == nil {
		p.transport = http.DefaultTransport
	}
	return p, nil
}

func (p *Plivo) Name() string { return "plivo" }

// Send asks Plivo to deliver m and returns Plivo's message UUID.
//
// The SDK takes no context. Send hands each of the SDK's requests the caller's
// context, bounded by Timeout, through the HTTP transport, so when ctx ends the
// request is aborted and Send returns ctx.Err() at once; no call is left
// running in the background. Plivo may still have accepted a message whose
// answer never arrived: the caller retries, and the phone gets two texts.
//
// Plivo's API has no idempotency key for messages, so m.ID is not sent; the
// returned UUID is what delivery reports carry. Log is false so that Plivo
// does not keep the text, which holds the code.
//
// The SDK retries 5xx only for voice requests; a message create is one HTTP
// request, and a 5xx comes back as a temporary error.
func (p *Plivo) Send(ctx context.Context, m Message) (Receipt, error) {
	if m.To == "" || m.Text == "" {
		return Receipt{}, permanent(errors.New("plivo: a message needs a recipient and a text"))
	}
	callCtx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	rt := &callTransport{ctx: callCtx, base: p.transport}
	hc := p.client
	hc.Transport = rt
	client, err := plivo.NewClient(p.cfg.AuthID, p.cfg.AuthToken, &plivo.ClientOptions{HttpClient: &hc})
	if err != nil {
		return Receipt{}, fmt.Errorf("plivo: %w", err)
	}
	if p.apiURL != nil {
		u := *p.apiURL
		client.BaseUrl = &u
	}
	params := plivo.MessageCreateParams{
		Src:           p.cfg.Src,
		Dst:           m.To,
		Text:          m.Text,
		Type:          "sms",
		Log:           false,
		MessageExpiry: messageExpiry,
	}
	if p.cfg.StatusURL != "" {
		params.URL, params.Method = p.cfg.StatusURL, http.MethodPost
	}
	resp, err := client.Messages.Create(params)
	ok := rt.status >= 200 && rt.status < 300
	if err == nil && ok && resp != nil && len(resp.MessageUUID) > 0 && resp.MessageUUID[0] != "" {
		return Receipt{ProviderMessageID: resp.MessageUUID[0]}, nil
	}
	switch {
	case ctx.Err() != nil:
		return Receipt{}, fmt.Errorf("plivo: %w", ctx.Err())
	case err != nil && rt.status == 0 && callCtx.Err() != nil:
		return Receipt{}, fmt.Errorf("plivo: no answer within %v", p.timeout)
	case err != nil && (rt.status == 0 || ok):
		// No answer (network), or a 2xx whose body could not be read or decoded.
		return Receipt{}, fmt.Errorf("plivo: %w", err)
	case err != nil:
		// For a non-2xx answer the SDK's error text is the response body.
		return Receipt{}, apiError("plivo", rt.status, plivoErrorText(err.Error()))
	case !ok:
		// A non-2xx answer with an empty body, which the SDK reports as success.
		return Receipt{}, apiError("plivo", rt.status, "")
	}
	return Receipt{}, fmt.Errorf("plivo: HTTP %d without a message uuid", rt.status)
}

// callTransport ties the SDK's context-free requests to one Send: each request
// gets the Send's context, and the last status is kept, which the SDK's errors
// do not carry. A Send runs its requests one after another, so no lock is needed.
type callTransport struct {
	ctx    context.Context
	base   http.RoundTripper
	status int
}

func (t *callTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(req.WithContext(t.ctx))
	if err == nil {
		t.status = resp.StatusCode
	}
	return resp, err
}

// plivoErrorText picks the message out of a Plivo error body such as
// {"api_id":"…","error":"invalid 'dst' parameter"}.
func plivoErrorText(body string) string {
	var b struct {
		Error   json.RawMessage `json:"error"`
		Message string          `json:"message"`
	}
	if err := json.Unmarshal([]byte(body), &b); err != nil {
		return body
	}
	var s string
	switch {
	case json.Unmarshal(b.Error, &s) == nil && s != "":
		return s
	case len(b.Error) > 0 && string(b.Error) != "null":
		return string(b.Error)
	case b.Message != "":
		return b.Message
	}
	return body
}

// apiError describes a refusal by a provider's HTTP API and decides whether
// it is permanent: every 4xx except 408 (timeout) and 429 (rate limit).
func apiError(provider string, status int, detail string) error {
	detail = snippet(detail)
	if detail == "" {
		detail = http.StatusText(status)
	}
	err := fmt.Errorf("%s: HTTP %d: %s", provider, status, detail)
	if status >= 400 && status < 500 && status != http.StatusRequestTimeout && status != http.StatusTooManyRequests {
		return permanent(err)
	}
	return err
}

// snippet makes a response body fit for an error message: one line, valid
// UTF-8, at most 200 bytes.
func snippet(s string) string {
	s = strings.Join(strings.Fields(strings.ToValidUTF8(s, "?")), " ")
	if len(s) <= 200 {
		return s
	}
	s = s[:200]
	for !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s + "…"
}

func parseHTTPURL(s string) (*url.URL, error) {
	u, err := url.Parse(s)
	if err != nil {
		return nil, err
	}
	if (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("%q is not an absolute http(s) URL", s)
	}
	return u, nil
}
