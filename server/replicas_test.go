package server_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/gatehouse-id/gatehouse/account"
	"github.com/gatehouse-id/gatehouse/account/accounttest"
	"github.com/gatehouse-id/gatehouse/mfa"
	"github.com/gatehouse-id/gatehouse/mfa/sms/plivotest"
	"github.com/gatehouse-id/gatehouse/store/storetest"
)

// cluster is several Gatehouse replicas on one database behind a round-robin
// load balancer that skips replicas marked down, as a real one's health
// checks would.
type cluster struct {
	replicas []*harness
	up       []atomic.Bool
	front    *harness // the replicas' shared face: requests go through the balancer
}

func newCluster(t *testing.T, n int, opts ...func(*options)) *cluster {
	t.Helper()
	dbURL := storetest.NewDatabase(t)
	lb := httptest.NewUnstartedServer(nil)
	host := lb.Listener.Addr().String()
	c := &cluster{up: make([]atomic.Bool, n)}
	proxies := make([]*httputil.ReverseProxy, n)
	clock := accounttest.NewClock(time.Now())
	for i := range n {
		r := newHarness(t, func(o *options) {
			o.dbURL, o.plivo, o.issuerHost, o.clock = dbURL, true, host, clock
			o.refresh.RefreshReuseInterval = 0 // so that a second use of a refresh token is refused outright
			for _, f := range opts {
				f(o)
			}
		})
		c.replicas = append(c.replicas, r)
		c.up[i].Store(true)
		target, err := url.Parse(r.srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		proxies[i] = httputil.NewSingleHostReverseProxy(target)
	}
	var next atomic.Int64
	lb.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		for range n {
			i := int(next.Add(1)) % n
			if c.up[i].Load() {
				proxies[i].ServeHTTP(w, req)
				return
			}
		}
		http.Error(w, "no replica up", http.StatusBadGateway)
	})
	lb.Start()
	t.Cleanup(lb.Close)
	front := *c.replicas[0]
	front.srv = lb
	c.front = &front
	return c
}

// kill stops replica i as a crash would, and takes it out of the balancer.
func (c *cluster) kill(i int) {
	c.up[i].Store(false)
	c.replicas[i].srv.CloseClientConnections()
	c.replicas[i].srv.Close()
}

func TestAJourneyContinuesWhenItsReplicaDies(t *testing.T) {
	c := newCluster(t, 3)
	h := c.front
	h.setPolicy(t, mfa.PolicyAlways)
	p := h.newSPA(t)
	h.signUp(h.browser(), "ann@example.com").expectRedirect(t, "/account")
	u, err := h.st.UserByEmail(context.Background(), "ann@example.com")
	if err != nil {
		t.Fatal(err)
	}
	phone, err := mfa.ParsePhone(mobile, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.mfaSvc.EnrollByOperator(context.Background(), u.ID, phone); err != nil {
		t.Fatal(err)
	}

	// Each step lands on another replica; the first one dies mid-journey.
	b := h.browser()
	f := newFlow()
	loc, err := url.Parse(h.do(b, "GET", p.authURL(f), nil).header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	resume := loc.Query().Get("return_to")
	h.do(b, "POST", "/login", url.Values{"email": {"ann@example.com"}, "password": {goodPassword}, "return_to": {resume}}).
		expectRedirect(t, resume)
	challenge := "/mfa/challenge?return_to=" + url.QueryEscape(resume)
	if r := h.do(b, "GET", resume, nil); r.header.Get("Location") != challenge {
		t.Fatalf("the dispatcher sent the browser to %q, want the challenge", r.header.Get("Location"))
	}
	h.do(b, "GET", challenge, nil).expect(t, http.StatusOK, "challenge")
	c.kill(0)

	// Whichever replica served the challenge wrote the code to the outbox; a
	// surviving replica's dispatcher delivers it.
	code := c.replicas[1].sendSMS(t)
	h.do(b, "POST", "/mfa/challenge", url.Values{"step": {"code"}, "code": {code}, "return_to": {resume}}).expectRedirect(t, resume)
	q := callback(t, h.do(b, "GET", resume, nil))
	tok, err := p.cfg.Exchange(context.Background(), q.Get("code"), oauth2.VerifierOption(f.verifier))
	if err != nil {
		t.Fatalf("code exchange after the replica died: %v", err)
	}
	var claims struct{ AMR []string }
	if err := p.verifyIDToken(t, tok).Claims(&claims); err != nil || !slices.Contains(claims.AMR, "mfa") {
		t.Fatalf("ID token amr %v (%v), want mfa", claims.AMR, err)
	}

	// The refresh token, sent to both surviving replicas at once, rotates once.
	form := url.Values{"grant_type": {"refresh_token"}, "client_id": {spaID}, "refresh_token": {tok.RefreshToken}}
	statuses := make([]int, 4)
	var wg sync.WaitGroup
	for i := range statuses {
		wg.Go(func() {
			resp, err := http.PostForm(c.replicas[1+i%2].srv.URL+"/oauth/token", form)
			if err == nil {
				statuses[i] = resp.StatusCode
				if err := resp.Body.Close(); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
	wg.Wait()
	if wins := slices.Index(statuses, 200); wins < 0 || slices.Index(statuses[wins+1:], 200) >= 0 {
		t.Fatalf("refresh across replicas: statuses %v, want exactly one 200", statuses)
	}
}

// loadJourney is one complete login through the balancer as a fresh browser
// would make it: authorize, password, SMS code, callback, code exchange. It
// returns an error instead of failing the test, so that journeys caught by a
// replica's death can be told from those that began after it.
func (c *cluster) loadJourney(ctx context.Context, p *rp, email, phone string) error {
	jar, err := cookiejar.New(nil)
	if err != nil {
		return err
	}
	b := &http.Client{Jar: jar, Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	base := c.front.srv.URL
	step := func(method, path string, form url.Values) (*http.Response, error) {
		var body io.Reader
		if form != nil {
			body = strings.NewReader(form.Encode())
		}
		req, err := http.NewRequestWithContext(ctx, method, base+path, body)
		if err != nil {
			return nil, err
		}
		if form != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		resp, err := b.Do(req)
		if err != nil {
			return nil, fmt.Errorf("%s %s: %w", method, path, err)
		}
		_, err = io.Copy(io.Discard, resp.Body)
		if cerr := resp.Body.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return nil, fmt.Errorf("%s %s: read the body: %w", method, path, err)
		}
		if resp.StatusCode >= 400 {
			return resp, fmt.Errorf("%s %s: %d", method, path, resp.StatusCode)
		}
		return resp, nil
	}
	f := newFlow()
	resp, err := step("GET", p.authURL(f), nil)
	if err != nil {
		return err
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		return err
	}
	resume := loc.Query().Get("return_to")
	if _, err := step("POST", "/login", url.Values{"email": {email}, "password": {goodPassword}, "return_to": {resume}}); err != nil {
		return err
	}
	if _, err := step("GET", resume, nil); err != nil {
		return err
	}
	survivor := c.replicas[len(c.replicas)-1]
	seen := survivor.plivo.CountTo(phone)
	if _, err := step("GET", "/mfa/challenge?return_to="+url.QueryEscape(resume), nil); err != nil {
		return err
	}
	if _, err := survivor.dispatcher.RunOnce(ctx); err != nil {
		return fmt.Errorf("dispatch: %w", err)
	}
	waitCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	msg, err := survivor.plivo.WaitMessage(waitCtx, phone, seen)
	if err != nil {
		return err
	}
	code := plivotest.Code(msg.Text)
	if _, err := step("POST", "/mfa/challenge", url.Values{"step": {"code"}, "code": {code}, "return_to": {resume}}); err != nil {
		return err
	}
	resp, err = step("GET", resume, nil)
	if err != nil {
		return err
	}
	cb, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || cb.Query().Get("code") == "" {
		return fmt.Errorf("no code at the callback: %q", resp.Header.Get("Location"))
	}
	_, err = p.cfg.Exchange(ctx, cb.Query().Get("code"), oauth2.VerifierOption(f.verifier))
	return err
}

// A load of concurrent login journeys runs while one replica of three is
// killed: journeys that begin after the kill all succeed on the others.
func TestJourneysBegunAfterAReplicaDiesAllSucceed(t *testing.T) {
	rules := mfa.DefaultRules()
	rules.IPLimits, rules.PhoneLimits, rules.UserLimits = nil, nil, nil // every journey comes from 127.0.0.1
	c := newCluster(t, 3, func(o *options) { o.mfaRules = rules })
	h := c.front
	h.setPolicy(t, mfa.PolicyAlways)
	p := h.newSPA(t)
	const workers, perWorker = 4, 4
	ctx := context.Background()
	for w := range workers {
		email, phone := fmt.Sprintf("user%d@example.com", w), fmt.Sprintf("+4479111234%02d", w)
		if _, err := h.accounts.CreateUser(ctx, email, "", goodPassword, false, account.Meta{}); err != nil {
			t.Fatal(err)
		}
		u, err := h.st.UserByEmail(ctx, email)
		if err != nil {
			t.Fatal(err)
		}
		ph, err := mfa.ParsePhone(phone, "", nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := h.mfaSvc.EnrollByOperator(ctx, u.ID, ph); err != nil {
			t.Fatal(err)
		}
	}

	var done atomic.Int64
	var killed atomic.Bool
	var mu sync.Mutex
	var afterKill, afterKillFailed, duringKillFailed int
	var failures []string
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			email, phone := fmt.Sprintf("user%d@example.com", w), fmt.Sprintf("+4479111234%02d", w)
			for range perWorker {
				begunAfterKill := killed.Load()
				err := c.loadJourney(ctx, p, email, phone)
				if n := done.Add(1); n == workers && killed.CompareAndSwap(false, true) {
					c.kill(0)
				}
				mu.Lock()
				switch {
				case begunAfterKill:
					afterKill++
					if err != nil {
						afterKillFailed++
						failures = append(failures, err.Error())
					}
				case err != nil:
					duringKillFailed++
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if afterKill == 0 {
		t.Fatal("no journey began after the kill")
	}
	if afterKillFailed > 0 {
		t.Fatalf("%d of %d journeys begun after the kill failed: %v", afterKillFailed, afterKill, failures)
	}
	t.Logf("%d journeys, %d begun after the kill (all succeeded), %d caught by it failed", workers*perWorker, afterKill, duringKillFailed)
}
