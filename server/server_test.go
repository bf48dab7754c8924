package server_test

import (
	"cmp"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/gatehouse-id/gatehouse/account"
	"github.com/gatehouse-id/gatehouse/account/accounttest"
	"github.com/gatehouse-id/gatehouse/clients"
	"github.com/gatehouse-id/gatehouse/keys"
	"github.com/gatehouse-id/gatehouse/mfa"
	"github.com/gatehouse-id/gatehouse/mfa/sms/plivotest"
	"github.com/gatehouse-id/gatehouse/outbox"
	"github.com/gatehouse-id/gatehouse/password"
	"github.com/gatehouse-id/gatehouse/server"
	"github.com/gatehouse-id/gatehouse/settings"
	"github.com/gatehouse-id/gatehouse/store"
	"github.com/gatehouse-id/gatehouse/store/storetest"
)

func TestMain(m *testing.M) { os.Exit(storetest.Main(m)) }

// harness is a Gatehouse on a real database behind a real HTTP listener.
type harness struct {
	t        testing.TB
	srv      *httptest.Server
	st       *store.Store
	accounts *account.Service
	clock    *accounttest.Clock
	keys     *keys.Manager
	settings *settings.Service
	server   *server.Server
	issuer   string

	// With options.plivo: the fake Plivo and the outbox dispatcher that
	// sends to it (run by sendSMS, so tests decide when messages go out).
	plivo      *plivotest.Server
	dispatcher *outbox.Dispatcher
	mfaSvc     *mfa.Service

	// With options.mail: the local SMTP relay and the mail dispatcher
	// (run by sendMail).
	relay          *relay
	mailDispatcher *outbox.Dispatcher
}

var testMasterKey = []byte("0123456789abcdef0123456789abcdef")

type options struct {
	issuerPath string
	scheme     string
	maxBody    int64
	dbURL      string       // empty: a fresh database on the shared test server
	store      *store.Store // when set, the store the server uses (dbURL is ignored)
	params     password.Params
	lifetimes  server.TokenLifetimes
	refresh    store.OAuth2Config
	plivo      bool      // SMS MFA delivered through the real plivo-go SDK to a fake Plivo
	mfaRules   mfa.Rules // with plivo; zero means mfa.DefaultRules()
	adaptive   *bool     // with plivo: the risk engine, challenging medium confidence when true
	proxies    []netip.Prefix
	issuerHost string             // the issuer's host:port when a load balancer fronts this replica; default its own
	localhost  bool               // the issuer and the test's requests use localhost, a name passkeys accept
	clock      *accounttest.Clock // shared by replicas; default a clock of its own
	mail       bool               // verification and reset mails over real SMTP to a local relay (email_test.go)
	tls        bool               // serve HTTPS with httptest's certificate, under an https issuer
	// clients, when set, is what the server reads clients through, given the store.
	clients func(clients.Store) clients.Store
}

const goodPassword = "violet tractor meadow"

func newHarness(t testing.TB, opts ...func(*options)) *harness {
	t.Helper()
	o := options{issuerPath: "/", scheme: "http", params: accounttest.CheapParams, refresh: store.DefaultOAuth2Config()}
	for _, f := range opts {
		f(&o)
	}
	st := o.store
	switch {
	case st != nil:
	case o.dbURL == "":
		st = storetest.NewStore(t)
	default:
		var err error
		if st, err = store.Open(context.Background(), o.dbURL, store.PoolOptions{}); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(st.Close)
	}
	c := o.clock
	if c == nil {
		c = accounttest.NewClock(time.Now())
	}
	tenant, err := settings.NewService(st, st, testMasterKey, c.Now)
	if err != nil {
		t.Fatal(err)
	}
	ad := accounttest.Deps(st, c, o.params)
	ad.TuneSignups = tenant.TuneSignups
	ad.SubjectStyle = tenant.SubjectStyle
	accounts := account.NewService(ad)
	km, err := keys.NewManager(st, testMasterKey, keys.Options{Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	if err := km.Init(context.Background()); err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, st: st, accounts: accounts, clock: c, keys: km, settings: tenant}
	h.srv = httptest.NewUnstartedServer(nil)
	if o.tls {
		o.scheme = "https"
	}
	if o.localhost {
		o.issuerHost = "localhost:" + strconv.Itoa(h.srv.Listener.Addr().(*net.TCPAddr).Port)
	}
	issuer := &url.URL{Scheme: o.scheme, Host: cmp.Or(o.issuerHost, h.srv.Listener.Addr().String()), Path: o.issuerPath}
	h.issuer = issuer.String()
	var cs clients.Store = st
	if o.clients != nil {
		cs = o.clients(st)
	}
	deps := server.Deps{Accounts: accounts, Store: st, Clients: cs, Keys: km, Log: slog.New(slog.DiscardHandler),
		Registry: prometheus.NewRegistry(), Now: c.Now, Settings: h.settings}
	if o.plivo {
		if o.mfaRules.CodeTTL == 0 {
			o.mfaRules = mfa.DefaultRules()
		}
		h.withPlivo(t, &deps, issuer, o.mfaRules)
		if o.adaptive != nil {
			h.withRisk(t, &deps, *o.adaptive)
		}
	}
	if o.mail {
		h.withMail(t, &deps, issuer, o.params)
	}
	s, err := server.New(
		server.Config{Issuer: issuer, MaxBodyBytes: o.maxBody, SecretKey: testMasterKey, Lifetimes: o.lifetimes, Refresh: o.refresh,
			TrustedProxies: o.proxies},
		deps)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.EnsureAdminAPI(context.Background()); err != nil {
		t.Fatal(err)
	}
	h.server = s
	h.srv.Config.Handler = s.Handler()
	if o.tls {
		h.srv.StartTLS()
	} else {
		h.srv.Start()
	}
	t.Cleanup(h.srv.Close)
	if o.localhost {
		h.srv.URL = "http://" + o.issuerHost
	}
	return h
}

// browser is a client with a cookie jar that does not follow redirects, so
// tests see each step.
func (h *harness) browser() *http.Client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		h.t.Fatal(err)
	}
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}
}

type response struct {
	status int
	header http.Header
	body   string
}

func (h *harness) do(c *http.Client, method, path string, form url.Values, header ...string) response {
	h.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, h.srv.URL+path, body)
	if err != nil {
		h.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := c.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		h.t.Fatal(err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: string(b)}
}

func (h *harness) signUp(c *http.Client, email string) response {
	return h.do(c, "POST", "/signup", url.Values{"email": {email}, "password": {goodPassword}})
}

func (h *harness) logIn(c *http.Client, email, pw string) response {
	return h.do(c, "POST", "/login", url.Values{"email": {email}, "password": {pw}})
}

var screenRE = regexp.MustCompile(`data-screen="([a-z-]+)"`)

func (r response) screen() string {
	m := screenRE.FindStringSubmatch(r.body)
	if m == nil {
		return ""
	}
	return m[1]
}

var alertRE = regexp.MustCompile(`role="alert"[^>]*>([^<]*)<`)

func (r response) alert() string {
	m := alertRE.FindStringSubmatch(r.body)
	if m == nil {
		return ""
	}
	return m[1]
}

var noticeRE = regexp.MustCompile(`role="status"[^>]*>([^<]*)<`)

func (r response) notice() string {
	m := noticeRE.FindStringSubmatch(r.body)
	if m == nil {
		return ""
	}
	return m[1]
}

func (r response) expect(t *testing.T, status int, screen string) {
	t.Helper()
	if r.status != status || (screen != "" && r.screen() != screen) {
		t.Fatalf("got %d on screen %q (alert %q), want %d on %q", r.status, r.screen(), r.alert(), status, screen)
	}
}

func (r response) expectRedirect(t *testing.T, location string) {
	t.Helper()
	if r.status != http.StatusSeeOther || r.header.Get("Location") != location {
		t.Fatalf("got %d to %q (alert %q), want 303 to %q", r.status, r.header.Get("Location"), r.alert(), location)
	}
}

func withContext() context.Context { return context.Background() }
