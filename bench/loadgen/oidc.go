package loadgen

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// ModePasswordOnly is the provider-neutral login: any OpenID provider, any
// client, users from a list, no second factor.
const ModePasswordOnly = "password-only"

// Steps of a password-only login, as the report names them.
const (
	StepOIDCAuthorize = "authorize"   // the authorization request and its redirects to the login form
	StepOIDCPassword  = "password"    // the filled login form
	StepOIDCAfter     = "after login" // redirects and any approval form until the callback
	StepOIDCToken     = "token"       // code exchange with the PKCE verifier
	StepOIDCVerify    = "verify"      // the ID token's signature, issuer, audience, expiry and nonce (driver only)
)

// OIDCConfig is what the provider-neutral driver needs: nothing of the
// server but its issuer, a client registered there and users who can log in
// with a password alone.
type OIDCConfig struct {
	Issuer       string // exactly as the discovery document names it
	ClientID     string
	ClientSecret string // empty for a public client
	RedirectURI  string // registered with the client; never fetched
	Scope        []string
	Users        []User // Email is what goes into the form's user name field
	ServerPIDs   []int  // the server's processes, for their CPU time (optional)
	DBPIDs       []int  // the database's processes (optional)
	Timeout      time.Duration
	Log          func(format string, args ...any)
	Transport    http.RoundTripper // nil: a pooled transport of its own
}

// OIDCDriver logs users in as a browser does: authorize with PKCE (S256),
// follow the redirects to the page with a password field, fill and post that
// form, follow the redirects (submitting an approval form if the server shows
// one) to the redirect URI, exchange the code and verify the ID token.
type OIDCDriver struct {
	cfg      OIDCConfig
	oauth    oauth2.Config
	verifier *oidc.IDTokenVerifier
	client   *http.Client // token endpoint and keys: no cookies
	redirect *url.URL
}

// NewOIDCDriver reads the issuer's discovery document.
func NewOIDCDriver(ctx context.Context, cfg OIDCConfig) (*OIDCDriver, error) {
	if cfg.ClientID == "" || cfg.RedirectURI == "" || len(cfg.Users) == 0 {
		return nil, errors.New("loadgen: a client id, a redirect URI and at least one user are needed")
	}
	if cfg.Log == nil {
		cfg.Log = func(string, ...any) {}
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 10 * time.Second
	}
	redirect, err := url.Parse(cfg.RedirectURI)
	if err != nil || !redirect.IsAbs() {
		return nil, fmt.Errorf("loadgen: redirect URI %q is not an absolute URL", cfg.RedirectURI)
	}
	transport := cfg.Transport
	if transport == nil {
		transport = &http.Transport{MaxIdleConns: 1024, MaxIdleConnsPerHost: 1024, IdleConnTimeout: time.Minute, DisableCompression: true}
	}
	client := &http.Client{Transport: transport, Timeout: cfg.Timeout}
	provider, err := oidc.NewProvider(oidc.ClientContext(ctx, client), cfg.Issuer)
	if err != nil {
		return nil, fmt.Errorf("loadgen: discovery: %w", err)
	}
	style := oauth2.AuthStyleInHeader
	if cfg.ClientSecret == "" {
		style = oauth2.AuthStyleInParams
	}
	ep := provider.Endpoint()
	ep.AuthStyle = style
	return &OIDCDriver{
		cfg: cfg,
		oauth: oauth2.Config{ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret, Endpoint: ep,
			RedirectURL: cfg.RedirectURI, Scopes: cfg.Scope},
		verifier: provider.VerifierContext(oidc.ClientContext(context.WithoutCancel(ctx), client), &oidc.Config{ClientID: cfg.ClientID}),
		client:   client,
		redirect: redirect,
	}, nil
}

// Close releases the idle connections.
func (d *OIDCDriver) Close() { d.client.CloseIdleConnections() }

// Run logs in with concurrency virtual users for about duration, user i%n
// for virtual user i.
func (d *OIDCDriver) Run(ctx context.Context, concurrency int, duration time.Duration) (Result, error) {
	if concurrency < 1 {
		return Result{}, fmt.Errorf("loadgen: concurrency %d", concurrency)
	}
	return measure(ctx, ModePasswordOnly, concurrency, duration, d.cfg.ServerPIDs, d.cfg.DBPIDs,
		func(ctx context.Context, vu int, st *Stats, until time.Time) int {
			u := d.cfg.Users[vu%len(d.cfg.Users)]
			n, logged := 0, 0
			for ctx.Err() == nil && time.Now().Before(until) {
				start := time.Now()
				if err := d.Login(ctx, st, u); err != nil {
					st.fail(errorKind(err))
					if logged++; logged <= 2 {
						d.cfg.Log("virtual user %d: %v", vu, err)
					}
					continue
				}
				st.Journeys = append(st.Journeys, time.Since(start))
				n++
			}
			return n
		})
}

// maxHops bounds the redirects and forms of one login.
const maxHops = 16

// Login runs one login of u as a new visitor and verifies the ID token it
// ends with.
func (d *OIDCDriver) Login(ctx context.Context, st *Stats, u User) error {
	jar, _ := cookiejar.New(nil) // never fails without options
	browser := &http.Client{Transport: d.client.Transport, Jar: jar, Timeout: d.cfg.Timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	state, nonce, verifier := random(), random(), oauth2.GenerateVerifier()
	next, err := url.Parse(d.oauth.AuthCodeURL(state, oidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier)))
	if err != nil {
		return &StepError{Step: StepOIDCAuthorize, Kind: "bad authorization URL", Err: err}
	}
	method, step, posted := "GET", StepOIDCAuthorize, false
	var body url.Values
	var code string
	for hop := 0; code == ""; hop++ {
		if hop == maxHops {
			return &StepError{Step: step, Kind: "too many redirects or forms", Err: fmt.Errorf("last at %s", next)}
		}
		r, err := d.send(ctx, browser, st, step, method, next, body)
		if err != nil {
			return err
		}
		switch {
		case r.status >= 300 && r.status < 400:
			loc, err := next.Parse(r.location)
			if err != nil || r.location == "" {
				return &StepError{Step: step, Kind: "bad redirect", Err: fmt.Errorf("Location %q", r.location)}
			}
			if sameEndpoint(loc, d.redirect) {
				if code, err = parseCallback(loc.String(), d.cfg.RedirectURI, state); err != nil {
					return &StepError{Step: step, Kind: "bad callback", Err: err}
				}
				continue
			}
			method, body, next = "GET", nil, loc
		case r.status == http.StatusOK:
			forms, err := parseForms(r.body, next)
			if err != nil {
				return &StepError{Step: step, Kind: "unreadable page", Err: err}
			}
			f, ok := pickForm(forms)
			switch {
			case !ok:
				return &StepError{Step: step, Kind: "page without a form", Err: fmt.Errorf("at %s: %.200q", next, r.body)}
			case f.password != "" && posted:
				return &StepError{Step: StepOIDCPassword, Kind: "password refused", Err: fmt.Errorf("the login form came back at %s", next)}
			case f.password != "":
				if f.username == "" {
					return &StepError{Step: step, Kind: "login form without a user name field", Err: fmt.Errorf("at %s", next)}
				}
				body = f.values(map[string]string{f.username: u.Email, f.password: u.Password})
				step, posted = StepOIDCPassword, true
			default: // an approval or "continue" page
				if !posted {
					return &StepError{Step: step, Kind: "form before the login form", Err: fmt.Errorf("at %s", next)}
				}
				body = f.values(nil)
				step = StepOIDCAfter
			}
			method, next = f.method, f.action
			if method == "GET" {
				q := next.Query()
				for k, v := range body {
					q[k] = v
				}
				u := *next
				u.RawQuery = q.Encode()
				next, body = &u, nil
			}
			continue
		default:
			return &StepError{Step: step, Kind: fmt.Sprintf("HTTP %d", r.status), Err: fmt.Errorf("at %s: %.200q", next, r.body)}
		}
		if posted {
			step = StepOIDCAfter
		}
	}

	start := time.Now()
	tok, err := d.oauth.Exchange(oidc.ClientContext(ctx, d.client), code, oauth2.VerifierOption(verifier))
	if err != nil {
		return &StepError{Step: StepOIDCToken, Kind: tokenErrorKind(err), Err: err}
	}
	st.step(StepOIDCToken, time.Since(start))
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return &StepError{Step: StepOIDCToken, Kind: "no ID token"}
	}
	st.Tokens++
	if isRS256JWT(tok.AccessToken) {
		st.Sigs++
	}
	if isRS256JWT(raw) {
		st.Sigs++
	}
	start = time.Now()
	idt, err := d.verifier.Verify(ctx, raw)
	if err != nil {
		return &StepError{Step: StepOIDCVerify, Kind: "ID token refused", Err: err}
	}
	if idt.Nonce != nonce {
		return &StepError{Step: StepOIDCVerify, Kind: "wrong nonce", Err: fmt.Errorf("%q", idt.Nonce)}
	}
	st.step(StepOIDCVerify, time.Since(start))
	return nil
}

// send makes one browser request and records its latency under step.
func (d *OIDCDriver) send(ctx context.Context, browser *http.Client, st *Stats, step, method string, target *url.URL, form url.Values) (response, error) {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(ctx, method, target.String(), body)
	if err != nil {
		return response{}, &StepError{Step: step, Kind: "bad request", Err: err}
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		// A same-origin form post, as a browser sends it; servers that refuse
		// cross-origin posts look at these.
		req.Header.Set("Origin", target.Scheme+"://"+target.Host)
		req.Header.Set("Sec-Fetch-Site", "same-origin")
	}
	start := time.Now()
	resp, err := browser.Do(req)
	if err != nil {
		return response{}, &StepError{Step: step, Kind: classify(err), Err: err}
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	resp.Body.Close()
	if err != nil {
		return response{}, &StepError{Step: step, Kind: classify(err), Err: err}
	}
	st.step(step, time.Since(start))
	return response{status: resp.StatusCode, location: resp.Header.Get("Location"), body: data}, nil
}

// pickForm chooses the form a person would fill: the one with a password
// field, else the only form with a submit button or hidden fields (an
// approval page).
func pickForm(forms []htmlForm) (htmlForm, bool) {
	for _, f := range forms {
		if f.password != "" {
			return f, true
		}
	}
	var found []htmlForm
	for _, f := range forms {
		if f.method == "POST" && (f.submit[0] != "" || len(f.hidden) > 0) {
			found = append(found, f)
		}
	}
	if len(found) == 0 {
		return htmlForm{}, false
	}
	return found[0], true
}

func sameEndpoint(a, b *url.URL) bool {
	return a.Scheme == b.Scheme && a.Host == b.Host && a.Path == b.Path
}

func tokenErrorKind(err error) string {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		if re.ErrorCode != "" {
			return "token error " + re.ErrorCode
		}
		if re.Response != nil {
			return fmt.Sprintf("HTTP %d", re.Response.StatusCode)
		}
	}
	return classify(err)
}

func errorKind(err error) string {
	var se *StepError
	if errors.As(err, &se) {
		return se.Step + ": " + se.Kind
	}
	return err.Error()
}

// ReadUsers reads a user list: one "email,password" per line; blank lines
// and lines starting with # are skipped. The password is everything after
// the first comma.
func ReadUsers(path string) ([]User, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var users []User
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimRight(sc.Text(), "\r")
		if strings.TrimSpace(text) == "" || strings.HasPrefix(text, "#") {
			continue
		}
		email, password, ok := strings.Cut(text, ",")
		if !ok || strings.TrimSpace(email) == "" || password == "" {
			return nil, fmt.Errorf("%s:%d: want email,password", path, line)
		}
		users = append(users, User{Email: strings.TrimSpace(email), Password: password})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(users) == 0 {
		return nil, fmt.Errorf("%s: no users", path)
	}
	return users, nil
}
