package loadgen

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"time"
)

// StepError is a journey step that failed; Kind is what the report counts
// ("HTTP 500", "timeout", "wrong screen", …).
type StepError struct {
	Step string
	Kind string
	Err  error // detail for the log, may be nil
}

func (e *StepError) Error() string {
	if e.Err != nil {
		return e.Step + ": " + e.Kind + ": " + e.Err.Error()
	}
	return e.Step + ": " + e.Kind
}

// browser is one virtual user's HTTP client. It has its own cookie jar, which
// reset empties as for a new visitor; it follows no redirect by itself, so
// that every step is timed and checked on its own; and it sends each request
// to the next replica in turn, as a round-robin load balancer would. Cookies
// are not isolated by port, so a session set by one loopback replica is sent
// to the others.
type browser struct {
	http    *http.Client
	targets []*url.URL
	next    int
}

func newBrowser(transport http.RoundTripper, targets []*url.URL, timeout time.Duration, first int) *browser {
	b := &browser{
		http: &http.Client{Transport: transport, Timeout: timeout,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }},
		targets: targets,
		next:    first,
	}
	b.reset()
	return b
}

func (b *browser) reset() {
	jar, _ := cookiejar.New(nil) // never fails without options
	b.http.Jar = jar
}

// resolve turns ref, an absolute path with its query or a URL on one of the
// replicas, into a URL on the next replica.
func (b *browser) resolve(ref string) (string, error) {
	u, err := url.Parse(ref)
	if err != nil {
		return "", err
	}
	t := b.targets[b.next%len(b.targets)]
	b.next++
	if u.IsAbs() && !b.isTarget(u) {
		return "", fmt.Errorf("%q is not on a replica", ref)
	}
	if !strings.HasPrefix(u.Path, "/") {
		return "", fmt.Errorf("%q is not an absolute path", ref)
	}
	out := *t
	out.Path, out.RawPath, out.RawQuery = u.Path, u.RawPath, u.RawQuery
	return out.String(), nil
}

func (b *browser) isTarget(u *url.URL) bool {
	for _, t := range b.targets {
		if t.Host == u.Host {
			return true
		}
	}
	return false
}

// response is what a step keeps of an HTTP response.
type response struct {
	status   int
	location string
	body     []byte
}

// maxBody bounds what a step reads of a response.
const maxBody = 1 << 20

// do sends one request of step to ref on the next replica, form as its POST
// body when not nil, and records its latency in st when the status is one of
// want.
func (b *browser) do(ctx context.Context, st *Stats, step, method, ref string, form url.Values, want ...int) (response, error) {
	target, err := b.resolve(ref)
	if err != nil {
		return response{}, &StepError{Step: step, Kind: "bad redirect", Err: err}
	}
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(ctx, method, target, body)
	if err != nil {
		return response{}, &StepError{Step: step, Kind: "bad request", Err: err}
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	start := time.Now()
	resp, err := b.http.Do(req)
	if err != nil {
		return response{}, &StepError{Step: step, Kind: classify(err), Err: err}
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	resp.Body.Close()
	took := time.Since(start)
	if err != nil {
		return response{}, &StepError{Step: step, Kind: classify(err), Err: err}
	}
	r := response{status: resp.StatusCode, location: resp.Header.Get("Location"), body: data}
	for _, w := range want {
		if r.status == w {
			st.step(step, took)
			return r, nil
		}
	}
	return r, &StepError{Step: step, Kind: fmt.Sprintf("HTTP %d", r.status), Err: fmt.Errorf("body %.200q", data)}
}

// classify names a transport error for the report.
func classify(err error) string {
	var ne net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	case errors.Is(err, context.Canceled):
		return "canceled"
	}
	return "network error"
}
