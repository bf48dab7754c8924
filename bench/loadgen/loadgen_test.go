package loadgen

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"testing"
	"time"
)

func TestPercentileIsNearestRank(t *testing.T) {
	var ds []time.Duration
	for i := 1; i <= 100; i++ {
		ds = append(ds, time.Duration(i)*time.Millisecond)
	}
	for p, want := range map[float64]time.Duration{50: 50 * time.Millisecond, 95: 95 * time.Millisecond, 99: 99 * time.Millisecond, 100: 100 * time.Millisecond, 0: time.Millisecond} {
		if got := Percentile(ds, p); got != want {
			t.Errorf("p%v of 1..100 ms = %v, want %v", p, got, want)
		}
	}
	if got := Percentile([]time.Duration{7}, 99); got != 7 {
		t.Errorf("p99 of one value = %v", got)
	}
	if got := Percentile(nil, 50); got != 0 {
		t.Errorf("p50 of nothing = %v", got)
	}
	l := Summarize([]time.Duration{3, 1, 2})
	if l.N != 3 || l.P50 != 2 || l.Max != 3 {
		t.Errorf("Summarize = %+v", l)
	}
	if m := Median([]float64{4, 1, 3, 2}); m != 2.5 {
		t.Errorf("Median = %v, want 2.5", m)
	}
}

func TestParseCallback(t *testing.T) {
	const redirect = "http://localhost/bench/callback"
	tests := []struct {
		loc, code string
		ok        bool
	}{
		{redirect + "?code=abc&state=s1", "abc", true},
		{redirect + "?code=abc&state=s2", "", false},                           // someone else's state
		{redirect + "?error=access_denied&state=s1", "", false},                // an error answer
		{redirect + "?state=s1", "", false},                                    // no code
		{"http://localhost/elsewhere?code=abc&state=s1", "", false},            // not the redirect URI
		{"/mfa/challenge?return_to=%2Fauthorize%2Fresume%3Ftx%3D1", "", false}, // still inside Gatehouse
	}
	for _, tt := range tests {
		code, err := parseCallback(tt.loc, redirect, "s1")
		if (err == nil) != tt.ok || code != tt.code {
			t.Errorf("parseCallback(%q) = %q, %v", tt.loc, code, err)
		}
	}
}

func TestReturnToOf(t *testing.T) {
	rt, err := returnToOf("/login?return_to=%2Fauthorize%2Fresume%3Ftx%3Dabc", "/login")
	if err != nil || rt != "/authorize/resume?tx=abc" {
		t.Errorf("returnToOf = %q, %v", rt, err)
	}
	if _, err := returnToOf("/mfa/challenge?return_to=x", "/login"); err == nil {
		t.Error("a redirect to another page was taken for the login page")
	}
	if _, err := returnToOf("/login", "/login"); err == nil {
		t.Error("a login redirect without return_to was accepted")
	}
}

func TestBrowserSpreadsRequestsOverReplicas(t *testing.T) {
	a, err := url.Parse("http://127.0.0.1:8001/")
	if err != nil {
		t.Fatal(err)
	}
	b, err := url.Parse("http://127.0.0.1:8002/")
	if err != nil {
		t.Fatal(err)
	}
	br := newBrowser(nil, []*url.URL{a, b}, time.Second, 0)
	var got []string
	for _, ref := range []string{"/login?return_to=%2Fx", "http://127.0.0.1:8001/authorize/resume?tx=1", "/token"} {
		u, err := br.resolve(ref)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, u)
	}
	want := []string{"http://127.0.0.1:8001/login?return_to=%2Fx", "http://127.0.0.1:8002/authorize/resume?tx=1", "http://127.0.0.1:8001/token"}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("request %d went to %q, want %q", i, got[i], want[i])
		}
	}
	if _, err := br.resolve("http://example.com/login"); err == nil {
		t.Error("a redirect off the replicas was followed")
	}
}

func TestSignaturesCountsRS256Tokens(t *testing.T) {
	jwt := func(alg string) string {
		return base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"`+alg+`","kid":"k"}`)) + ".e30.c2ln"
	}
	tr := tokenResponse{AccessToken: jwt("RS256"), IDToken: jwt("RS256"), RefreshToken: "ory_rt_opaque.sig"}
	if n := tr.signatures(); n != 2 {
		t.Errorf("signatures = %d, want 2", n)
	}
	tr.AccessToken = jwt("HS256")
	if n := tr.signatures(); n != 1 {
		t.Errorf("signatures with an HS256 token = %d, want 1", n)
	}
}

func TestBounds(t *testing.T) {
	b := Bounds{Argon2PerSec: 50, RSASignPerSec: 1000, Cores: 2, Argon2CPU: 40 * time.Millisecond, RSASignCPU: 2 * time.Millisecond}
	// 20 ms of argon2id and 2 ms of signing per login on the whole machine.
	if got := b.LoginBound(2); got < 45.45 || got > 45.46 {
		t.Errorf("LoginBound(2) = %v, want 1/0.022", got)
	}
	if got := b.RefreshBound(2); got != 500 {
		t.Errorf("RefreshBound(2) = %v", got)
	}
	r := Report{Bounds: b}
	if got := r.cryptoCPU(ModeLogin, 2); got != 44*time.Millisecond {
		t.Errorf("crypto core time of a login = %v, want 44ms", got)
	}
	if got := RSSBound(2, 19456); got != 64<<20+2*19456<<10 {
		t.Errorf("RSSBound = %d", got)
	}
}

func TestFailuresAreCountedByStepAndKind(t *testing.T) {
	d := &Driver{cfg: Config{Log: func(string, ...any) {}}}
	st := newStats()
	d.failed(st, &StepError{Step: StepChallengePost, Kind: "code refused", Err: errors.New("sent to /mfa/challenge")})
	d.failed(st, fmt.Errorf("login before refreshing: %w", &StepError{Step: StepToken, Kind: "HTTP 500", Err: errors.New(`body "…"`)}))
	d.failed(st, &StepError{Step: StepChallengePost, Kind: "code refused"})
	want := map[string]int{"code post: code refused": 2, "login before refreshing: token: HTTP 500": 1}
	if len(st.Errors) != len(want) {
		t.Fatalf("errors %v, want %v", st.Errors, want)
	}
	for k, n := range want {
		if st.Errors[k] != n {
			t.Errorf("errors %v, want %v", st.Errors, want)
		}
	}
	if st.ErrorCount() != 3 || st.ErrorKinds()[0] != "code post: code refused" {
		t.Errorf("ErrorCount %d, kinds %v", st.ErrorCount(), st.ErrorKinds())
	}
}
