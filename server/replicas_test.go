package server_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/gatehouse-id/gatehouse/account/accounttest"
	"github.com/gatehouse-id/gatehouse/mfa"
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

func newCluster(t *testing.T, n int) *cluster {
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
		})
		c.replicas = append(c.replicas, r)
		c.up[i].Store(true)
		target, _ := url.Parse(r.srv.URL)
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
	u, _ := h.st.UserByEmail(context.Background(), "ann@example.com")
	phone, _ := mfa.ParsePhone(mobile, "", nil)
	if _, err := h.mfaSvc.EnrollByOperator(context.Background(), u.ID, phone); err != nil {
		t.Fatal(err)
	}

	// Each step lands on another replica; the first one dies mid-journey.
	b := h.browser()
	f := newFlow()
	loc, _ := url.Parse(h.do(b, "GET", p.authURL(f), nil).header.Get("Location"))
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
				resp.Body.Close()
			}
		})
	}
	wg.Wait()
	if wins := slices.Index(statuses, 200); wins < 0 || slices.Index(statuses[wins+1:], 200) >= 0 {
		t.Fatalf("refresh across replicas: statuses %v, want exactly one 200", statuses)
	}
}
