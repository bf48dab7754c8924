package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/gatehouse-id/gatehouse/account"
	"github.com/gatehouse-id/gatehouse/clients"
	"github.com/gatehouse-id/gatehouse/store"
)

// These tests attack the token endpoint from outside, knowing only what
// docs/oidc.md and docs/security.md promise. They pin behaviour, not the
// statements behind it: each case says what an attacker tries and what the
// documentation says must come of it.

const (
	atkWebID       = "atk-web"
	atkWebCallback = "http://localhost:4000/callback"
)

// atkAnswer is one token endpoint answer, read without failing the test so
// that goroutines can collect it.
type atkAnswer struct {
	status int
	body   map[string]any
	err    error
}

func (a atkAnswer) String() string {
	if a.err != nil {
		return a.err.Error()
	}
	return fmt.Sprintf("%d %v", a.status, a.body)
}

func (a atkAnswer) str(key string) string {
	s, _ := a.body[key].(string)
	return s
}

func (a atkAnswer) ok() bool {
	return a.err == nil && a.status == http.StatusOK && a.str("access_token") != ""
}

func (a atkAnswer) invalidGrant() bool {
	return a.err == nil && a.status == http.StatusBadRequest && a.body["error"] == "invalid_grant" && a.body["access_token"] == nil
}

// atkPost posts a form to the token endpoint; safe in goroutines.
func atkPost(h *harness, form url.Values, header ...string) atkAnswer {
	req, err := http.NewRequest("POST", h.srv.URL+"/oauth/token", strings.NewReader(form.Encode()))
	if err != nil {
		return atkAnswer{err: err}
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return atkAnswer{err: err}
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return atkAnswer{err: err}
	}
	a := atkAnswer{status: resp.StatusCode}
	if err := json.Unmarshal(raw, &a.body); err != nil {
		a.err = fmt.Errorf("non-JSON %d answer %q: %w", resp.StatusCode, raw, err)
	}
	return a
}

// atkAtOnce sends n copies of a request released together by one barrier.
func atkAtOnce(n int, send func(i int) atkAnswer) []atkAnswer {
	out := make([]atkAnswer, n)
	start := make(chan struct{})
	var ready, done sync.WaitGroup
	for i := range out {
		ready.Add(1)
		done.Add(1)
		go func() {
			defer done.Done()
			ready.Done()
			<-start
			out[i] = send(i)
		}()
	}
	ready.Wait()
	close(start)
	done.Wait()
	return out
}

func atkRefresh(h *harness, clientID, rt string, extra ...string) atkAnswer {
	form := url.Values{"grant_type": {"refresh_token"}, "client_id": {clientID}, "refresh_token": {rt}}
	for i := 0; i+1 < len(extra); i += 2 {
		form.Set(extra[i], extra[i+1])
	}
	return atkPost(h, form)
}

func atkExchange(h *harness, code, verifier string) atkAnswer {
	return atkPost(h, url.Values{"grant_type": {"authorization_code"}, "client_id": {spaID},
		"code": {code}, "code_verifier": {verifier}, "redirect_uri": {spaCallback}})
}

// atkUserinfoWorks tells whether /userinfo accepts the access token.
func atkUserinfoWorks(t *testing.T, h *harness, accessToken string) bool {
	t.Helper()
	r := h.do(http.DefaultClient, "GET", "/userinfo", nil, "Authorization", "Bearer "+accessToken)
	switch r.status {
	case http.StatusOK:
		return true
	case http.StatusUnauthorized:
		return false
	}
	t.Fatalf("userinfo answered %d %q, want 200 or 401", r.status, r.body)
	return false
}

// atkIntrospect asks, as the confidential web app, whether a token is active.
func atkIntrospect(t *testing.T, h *harness, secret, token string) bool {
	t.Helper()
	r := h.do(http.DefaultClient, "POST", "/oauth/introspect", url.Values{"token": {token},
		"client_id": {atkWebID}, "client_secret": {secret}})
	var body map[string]any
	if err := json.Unmarshal([]byte(r.body), &body); err != nil || r.status != http.StatusOK {
		t.Fatalf("introspection answered %d %q", r.status, r.body)
	}
	return body["active"] == true
}

// atkNewWebApp registers a confidential web application and returns its secret.
func atkNewWebApp(t *testing.T, h *harness) string {
	t.Helper()
	secret, hash := clients.NewSecret()
	if err := h.st.CreateClient(context.Background(), clients.Client{ID: atkWebID, Name: "Web", Type: clients.Web,
		SecretHash: hash, Callbacks: []string{atkWebCallback}}); err != nil {
		t.Fatal(err)
	}
	return secret
}

// atkWebLogin runs the web app's code flow in a signed-in browser and
// returns the token response.
func atkWebLogin(t *testing.T, h *harness, b *http.Client, secret string, params ...string) atkAnswer {
	t.Helper()
	f := newFlow()
	q := url.Values{"client_id": {atkWebID}, "redirect_uri": {atkWebCallback}, "response_type": {"code"},
		"scope": {"openid profile email offline_access"}, "state": {f.state}, "nonce": {f.nonce},
		"code_challenge": {s256(f.verifier)}, "code_challenge_method": {"S256"}}
	for i := 0; i+1 < len(params); i += 2 {
		q.Set(params[i], params[i+1])
	}
	r := h.do(b, "GET", "/authorize?"+q.Encode(), nil)
	loc, err := url.Parse(r.header.Get("Location"))
	if err != nil || !strings.HasPrefix(loc.String(), atkWebCallback) || loc.Query().Get("code") == "" {
		t.Fatalf("authorize: %d to %q, want a code at the callback", r.status, r.header.Get("Location"))
	}
	a := atkPost(h, url.Values{"grant_type": {"authorization_code"}, "code": {loc.Query().Get("code")},
		"redirect_uri": {atkWebCallback}, "code_verifier": {f.verifier}, "client_id": {atkWebID}, "client_secret": {secret}})
	if !a.ok() || a.str("refresh_token") == "" {
		t.Fatalf("web app's code exchange: %v", a)
	}
	return a
}

// atkSPALogin signs a new user in and returns the SPA's tokens (a JWT
// access token for the API, a refresh token).
func atkSPALogin(t *testing.T, h *harness, p *rp, email string) (*oauth2.Token, *http.Client) {
	t.Helper()
	b := atkSignedIn(t, h, email)
	tok, _ := p.login(t, b)
	if tok.RefreshToken == "" {
		t.Fatal("no refresh token with offline_access")
	}
	return tok, b
}

// atkSignedIn creates a user (as an admin would, so no signup limit
// applies) and returns a browser signed in as them.
func atkSignedIn(t *testing.T, h *harness, email string) *http.Client {
	t.Helper()
	if _, err := h.accounts.CreateUser(context.Background(), email, "", goodPassword, false, account.Meta{}); err != nil {
		t.Fatal(err)
	}
	b := h.browser()
	h.logIn(b, email, goodPassword).expectRedirect(t, "/account")
	return b
}

func atkUserID(t *testing.T, h *harness, email string) string {
	t.Helper()
	u, err := h.st.UserByEmail(context.Background(), email)
	if err != nil {
		t.Fatal(err)
	}
	return u.ID
}

// Concurrent refreshes of one refresh token. Inside the reuse interval the
// old token keeps working (a second tab is not theft), so every copy is
// answered; with no interval exactly one wins and the others are
// invalid_grant. Either way, a use of the old token after the interval
// revokes every token the family holds, including the winners'.
func TestTokenAttacks2ConcurrentRefreshes(t *testing.T) {
	for _, tc := range []struct {
		name     string
		n        int
		interval time.Duration
	}{
		{"two at once with no reuse interval", 2, 0},
		{"sixteen at once with no reuse interval", 16, 0},
		{"two at once inside the reuse interval", 2, store.DefaultRefreshReuseInterval},
		{"sixteen at once inside the reuse interval", 16, store.DefaultRefreshReuseInterval},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, func(o *options) { o.refresh.RefreshReuseInterval = tc.interval })
			p := h.newSPA(t)
			tok, _ := p.login(t, signedInBrowser(t, h))
			answers := atkAtOnce(tc.n, func(int) atkAnswer { return atkRefresh(h, spaID, tok.RefreshToken) })
			var won []atkAnswer
			for _, a := range answers {
				switch {
				case a.ok():
					if a.str("refresh_token") == "" || a.str("refresh_token") == tok.RefreshToken || a.str("id_token") == "" {
						t.Fatalf("a refresh answered without a new refresh token and an ID token: %v", a)
					}
					won = append(won, a)
				case !a.invalidGrant() || !strings.Contains(a.str("error_description"), "Unknown or invalid refresh token"):
					t.Fatalf("a concurrent refresh answered %v, want 200 or invalid_grant, \"Unknown or invalid refresh token.\"", a)
				}
			}
			if tc.interval == 0 && len(won) != 1 {
				t.Fatalf("%d of %d concurrent refreshes won with no reuse interval, want exactly one: %v", len(won), tc.n, answers)
			}
			if tc.interval > 0 && len(won) != tc.n {
				t.Fatalf("%d of %d concurrent refreshes inside the reuse interval were answered, want all: %v", len(won), tc.n, answers)
			}
			seen := map[string]bool{}
			for _, a := range won {
				if seen[a.str("refresh_token")] || seen[a.str("access_token")] {
					t.Fatalf("two refreshes were given the same token: %v", won)
				}
				seen[a.str("refresh_token")], seen[a.str("access_token")] = true, true
			}

			h.clock.Advance(tc.interval + time.Second)
			if a := atkRefresh(h, spaID, tok.RefreshToken); !a.invalidGrant() {
				t.Fatalf("the rotated token after the reuse interval: %v, want invalid_grant", a)
			}
			for _, a := range won {
				if atkUserinfoWorks(t, h, a.str("access_token")) {
					t.Fatal("an access token of the revoked family still works at userinfo")
				}
				if b := atkRefresh(h, spaID, a.str("refresh_token")); !b.invalidGrant() {
					t.Fatalf("a refresh token of the revoked family: %v, want invalid_grant", b)
				}
			}
			if atkUserinfoWorks(t, h, tok.AccessToken) {
				t.Fatal("the family's first access token still works at userinfo")
			}
		})
	}
}

// A rotated refresh token replayed after the reuse interval is refused with
// the words the Auth0 SDK looks for and ends the family: the newest refresh
// token, and every access token of the family, at userinfo and
// introspection alike.
func TestTokenAttacks2ReplayAfterTheReuseIntervalEndsTheFamily(t *testing.T) {
	for _, tc := range []struct {
		name   string
		params []string
	}{
		{"JWT access tokens (audience)", []string{"audience", apiAudience}},
		{"opaque access tokens (no audience)", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			h.newSPA(t)
			secret := atkNewWebApp(t, h)
			first := atkWebLogin(t, h, signedInBrowser(t, h), secret, tc.params...)
			refresh := func(rt string) atkAnswer {
				return atkPost(h, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt},
					"client_id": {atkWebID}, "client_secret": {secret}})
			}
			second := refresh(first.str("refresh_token"))
			if !second.ok() {
				t.Fatalf("refresh: %v", second)
			}
			third := refresh(second.str("refresh_token"))
			if !third.ok() {
				t.Fatalf("second refresh: %v", third)
			}
			if !atkIntrospect(t, h, secret, third.str("access_token")) || !atkIntrospect(t, h, secret, third.str("refresh_token")) {
				t.Fatal("the newest tokens introspect inactive before any replay")
			}
			if atkUserinfoWorks(t, h, first.str("access_token")) {
				t.Fatal("a refresh did not retire the access token it replaced")
			}

			h.clock.Advance(store.DefaultRefreshReuseInterval + time.Second)
			replay := refresh(first.str("refresh_token"))
			if !replay.invalidGrant() || !strings.Contains(replay.str("error_description"), "Unknown or invalid refresh token") {
				t.Fatalf("replay of the first refresh token: %v, want invalid_grant, \"Unknown or invalid refresh token.\"", replay)
			}
			if a := refresh(third.str("refresh_token")); !a.invalidGrant() {
				t.Fatalf("the newest refresh token after the replay: %v, want invalid_grant", a)
			}
			for name, at := range map[string]string{"second": second.str("access_token"), "newest": third.str("access_token")} {
				if atkUserinfoWorks(t, h, at) {
					t.Errorf("the %s access token still works at userinfo after the replay", name)
				}
				if atkIntrospect(t, h, secret, at) {
					t.Errorf("the %s access token introspects active after the replay", name)
				}
			}
			if atkIntrospect(t, h, secret, third.str("refresh_token")) {
				t.Error("the newest refresh token introspects active after the replay")
			}
		})
	}
}

// Sixteen redemptions of one code at once: exactly one gets tokens, the
// others invalid_grant, and a replay afterwards is invalid_grant too.
func TestTokenAttacks2SixteenConcurrentCodeExchanges(t *testing.T) {
	h := newHarness(t)
	p := h.newSPA(t)
	code, f := p.code(t, signedInBrowser(t, h))
	answers := atkAtOnce(16, func(int) atkAnswer { return atkExchange(h, code, f.verifier) })
	wins := 0
	for _, a := range answers {
		switch {
		case a.ok():
			wins++
		case !a.invalidGrant():
			t.Fatalf("a concurrent exchange answered %v, want 200 or invalid_grant", a)
		}
	}
	if wins != 1 {
		t.Fatalf("%d of 16 concurrent exchanges of one code got tokens, want exactly one: %v", wins, answers)
	}
	if a := atkExchange(h, code, f.verifier); !a.invalidGrant() {
		t.Fatalf("replay of the redeemed code: %v, want invalid_grant", a)
	}
	var winner atkAnswer
	for _, a := range answers {
		if a.ok() {
			winner = a
		}
	}
	expectRevokedByReplay(t, h, winner)
}

// expectRevokedByReplay fails t unless the tokens of got, issued for a code
// since replayed, are revoked: refused at userinfo and for a refresh.
func expectRevokedByReplay(t *testing.T, h *harness, got atkAnswer) {
	t.Helper()
	if atkUserinfoWorks(t, h, got.str("access_token")) {
		t.Fatal("the access token issued for the code still works after the code was replayed")
	}
	if a := atkRefresh(h, spaID, got.str("refresh_token")); !a.invalidGrant() {
		t.Fatalf("the refresh token issued for the code after the code was replayed: %v, want invalid_grant", a)
	}
}

// A code presented a second time means it leaked: the tokens issued for it
// are revoked (RFC 6749 §4.1.2), so a thief who redeems it first does not
// keep them once the application tries its own copy.
func TestTokenAttacks2AReplayedCodeRevokesItsTokens(t *testing.T) {
	h := newHarness(t)
	p := h.newSPA(t)
	code, f := p.code(t, signedInBrowser(t, h))
	stolen := atkExchange(h, code, f.verifier)
	if !stolen.ok() {
		t.Fatalf("first exchange: %v", stolen)
	}
	if !atkUserinfoWorks(t, h, stolen.str("access_token")) {
		t.Fatal("the fresh access token does not work at userinfo")
	}
	if a := atkExchange(h, code, f.verifier); !a.invalidGrant() {
		t.Fatalf("the code a second time: %v, want invalid_grant", a)
	}
	expectRevokedByReplay(t, h, stolen)
}

// Sixteen replays at once of a token rotated longer ago than the reuse
// interval: every one is invalid_grant, none is a server error or a
// "please retry", and the family is gone.
func TestTokenAttacks2SixteenConcurrentReplaysAfterTheReuseInterval(t *testing.T) {
	h := newHarness(t)
	p := h.newSPA(t)
	tok, _ := p.login(t, signedInBrowser(t, h))
	next := atkRefresh(h, spaID, tok.RefreshToken)
	if !next.ok() {
		t.Fatalf("refresh: %v", next)
	}
	h.clock.Advance(store.DefaultRefreshReuseInterval + time.Second)
	for _, a := range atkAtOnce(16, func(int) atkAnswer { return atkRefresh(h, spaID, tok.RefreshToken) }) {
		if !a.invalidGrant() {
			t.Fatalf("a concurrent replay: %v, want invalid_grant", a)
		}
	}
	if a := atkRefresh(h, spaID, next.str("refresh_token")); !a.invalidGrant() {
		t.Fatalf("the newest refresh token after the replays: %v, want invalid_grant", a)
	}
	if atkUserinfoWorks(t, h, next.str("access_token")) {
		t.Fatal("the newest access token still works after the replays")
	}
}

// A refresh token is good only for its own client, with that client's
// credentials, for the grant it was issued in, and only while the user and
// the application still stand as they were.
func TestTokenAttacks2RefreshTokenMisuse(t *testing.T) {
	h := newHarness(t)
	p := h.newSPA(t)
	ctx := context.Background()
	secret := atkNewWebApp(t, h)
	if err := h.st.CreateClient(ctx, clients.Client{ID: "atk-other-spa", Name: "Other", Type: clients.SPA,
		Callbacks: []string{spaCallback}}); err != nil {
		t.Fatal(err)
	}
	by := account.Actor{Name: "test"}
	users := 0
	login := func(t *testing.T) (*oauth2.Token, *http.Client, string) {
		t.Helper()
		users++
		email := fmt.Sprintf("misuse%d@example.com", users)
		tok, b := atkSPALogin(t, h, p, email)
		return tok, b, email
	}

	refused := func(t *testing.T, a atkAnswer, wantStatus int, wantError string) {
		t.Helper()
		if a.err != nil || a.status != wantStatus || a.body["error"] != wantError || a.body["access_token"] != nil || a.body["refresh_token"] != nil {
			t.Fatalf("got %v, want %d %s and no token", a, wantStatus, wantError)
		}
	}
	tests := []struct {
		name string
		run  func(t *testing.T)
	}{
		{"another client presents the token", func(t *testing.T) {
			tok, _, _ := login(t)
			refused(t, atkRefresh(h, "atk-other-spa", tok.RefreshToken), 400, "invalid_grant")
		}},
		{"an unknown client presents the token", func(t *testing.T) {
			tok, _, _ := login(t)
			refused(t, atkRefresh(h, "no-such-client", tok.RefreshToken), 401, "invalid_client")
		}},
		{"the web app with a wrong secret", func(t *testing.T) {
			users++
			b := atkSignedIn(t, h, fmt.Sprintf("misuse%d@example.com", users))
			rt := atkWebLogin(t, h, b, secret).str("refresh_token")
			refused(t, atkPost(h, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt},
				"client_id": {atkWebID}, "client_secret": {secret + "x"}}), 401, "invalid_client")
			refused(t, atkPost(h, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt},
				"client_id": {atkWebID}}), 401, "invalid_client")
			if a := atkPost(h, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt},
				"client_id": {atkWebID}, "client_secret": {secret}}); !a.ok() {
				t.Fatalf("the right secret after wrong ones: %v, want tokens", a)
			}
		}},
		{"the web app's token presented by a public client", func(t *testing.T) {
			users++
			b := atkSignedIn(t, h, fmt.Sprintf("misuse%d@example.com", users))
			rt := atkWebLogin(t, h, b, secret).str("refresh_token")
			refused(t, atkRefresh(h, spaID, rt), 400, "invalid_grant")
		}},
		{"after the user changes the password", func(t *testing.T) {
			tok, b, _ := login(t)
			h.do(b, "POST", "/account/password", url.Values{"current_password": {goodPassword},
				"new_password": {"a brand new phrase"}}).expect(t, 200, "account")
			refused(t, atkRefresh(h, spaID, tok.RefreshToken), 400, "invalid_grant")
		}},
		{"after the user is logged out everywhere", func(t *testing.T) {
			tok, _, email := login(t)
			if _, err := h.accounts.EndAllSessions(ctx, atkUserID(t, h, email), by, account.Meta{}); err != nil {
				t.Fatal(err)
			}
			refused(t, atkRefresh(h, spaID, tok.RefreshToken), 400, "invalid_grant")
			if atkUserinfoWorks(t, h, tok.AccessToken) {
				t.Fatal("the access token still works at userinfo")
			}
		}},
		{"after the user is blocked", func(t *testing.T) {
			tok, _, email := login(t)
			if err := h.accounts.SetBlocked(ctx, atkUserID(t, h, email), true, by, account.Meta{}); err != nil {
				t.Fatal(err)
			}
			refused(t, atkRefresh(h, spaID, tok.RefreshToken), 400, "invalid_grant")
		}},
		{"after the user is blocked and unblocked", func(t *testing.T) {
			tok, _, email := login(t)
			id := atkUserID(t, h, email)
			if err := h.accounts.SetBlocked(ctx, id, true, by, account.Meta{}); err != nil {
				t.Fatal(err)
			}
			if err := h.accounts.SetBlocked(ctx, id, false, by, account.Meta{}); err != nil {
				t.Fatal(err)
			}
			refused(t, atkRefresh(h, spaID, tok.RefreshToken), 400, "invalid_grant")
		}},
		{"after the user is deleted", func(t *testing.T) {
			tok, _, email := login(t)
			if err := h.accounts.DeleteUser(ctx, atkUserID(t, h, email), by, account.Meta{}); err != nil {
				t.Fatal(err)
			}
			refused(t, atkRefresh(h, spaID, tok.RefreshToken), 400, "invalid_grant")
			if atkUserinfoWorks(t, h, tok.AccessToken) {
				t.Fatal("the access token of a deleted user still works at userinfo")
			}
		}},
		{"the access token presented as a refresh token", func(t *testing.T) {
			tok, _, _ := login(t)
			refused(t, atkRefresh(h, spaID, tok.AccessToken), 400, "invalid_grant")
		}},
		{"an authorization code presented as a refresh token", func(t *testing.T) {
			users++
			b := atkSignedIn(t, h, fmt.Sprintf("misuse%d@example.com", users))
			code, _ := p.code(t, b)
			refused(t, atkRefresh(h, spaID, code), 400, "invalid_grant")
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, tc.run)
	}

	// Altered tokens: every change to the token's characters is refused,
	// and none of them burns the genuine token (it still refreshes).
	tok, _, _ := login(t)
	other, _, _ := login(t)
	rt := tok.RefreshToken
	key, sig, found := strings.Cut(strings.TrimPrefix(rt, "ory_rt_"), ".")
	okey, osig, ofound := strings.Cut(strings.TrimPrefix(other.RefreshToken, "ory_rt_"), ".")
	if !strings.HasPrefix(rt, "ory_rt_") || !found || !ofound {
		t.Fatalf("refresh token %q is not the documented HMAC token shape", rt)
	}
	flip := func(s string, i int) string {
		c := byte('A')
		if s[i] == 'A' {
			c = 'B'
		}
		return s[:i] + string(c) + s[i+1:]
	}
	for name, forged := range map[string]string{
		"first character of the key altered":       "ory_rt_" + flip(key, 0) + "." + sig,
		"last character of the signature altered":  "ory_rt_" + key + "." + flip(sig, len(sig)-1),
		"first character of the signature altered": "ory_rt_" + key + "." + flip(sig, 0),
		"truncated by one character":               rt[:len(rt)-1],
		"truncated to the key":                     "ory_rt_" + key,
		"truncated to the signature":               sig,
		"a character appended":                     rt + "A",
		"upper-cased":                              strings.ToUpper(rt),
		"this key with another family's signature": "ory_rt_" + key + "." + osig,
		"another family's key with this signature": "ory_rt_" + okey + "." + sig,
		"empty": "",
	} {
		t.Run(name, func(t *testing.T) {
			a := atkRefresh(h, spaID, forged)
			if a.err != nil || a.status != 400 || (a.body["error"] != "invalid_grant" && a.body["error"] != "invalid_request") || a.body["access_token"] != nil {
				t.Fatalf("forged token %q: %v, want invalid_grant (or invalid_request when missing)", forged, a)
			}
		})
	}
	t.Run("the genuine tokens still refresh after the forgeries", func(t *testing.T) {
		for _, rt := range []string{tok.RefreshToken, other.RefreshToken} {
			if a := atkRefresh(h, spaID, rt); !a.ok() {
				t.Fatalf("genuine refresh token after forgeries of it: %v, want tokens", a)
			}
		}
	})

	t.Run("after the client is deleted", func(t *testing.T) {
		users++
		b := atkSignedIn(t, h, fmt.Sprintf("misuse%d@example.com", users))
		web := atkWebLogin(t, h, b, secret)
		if err := h.st.DeleteClient(ctx, atkWebID); err != nil {
			t.Fatal(err)
		}
		a := atkPost(h, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {web.str("refresh_token")},
			"client_id": {atkWebID}, "client_secret": {secret}})
		if a.err != nil || a.status < 400 || a.body["access_token"] != nil {
			t.Fatalf("refresh for a deleted client: %v, want a refusal", a)
		}
		if atkUserinfoWorks(t, h, web.str("access_token")) {
			t.Fatal("the access token of a deleted client still works at userinfo")
		}
		// A client registered again under the same id is a new application:
		// the old one's tokens stay dead.
		secret2, hash := clients.NewSecret()
		if err := h.st.CreateClient(ctx, clients.Client{ID: atkWebID, Name: "Web again", Type: clients.Web,
			SecretHash: hash, Callbacks: []string{atkWebCallback}}); err != nil {
			t.Fatal(err)
		}
		a = atkPost(h, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {web.str("refresh_token")},
			"client_id": {atkWebID}, "client_secret": {secret2}})
		if a.status == 200 || a.body["access_token"] != nil {
			t.Fatalf("the deleted client's refresh token under a recreated client: %v, want a refusal", a)
		}
	})
}

// A refresh cannot widen what the grant holds: neither scopes the user
// never granted (RFC 6749 §6) nor an API the grant was not issued for.
func TestTokenAttacks2RefreshCannotWidenTheGrant(t *testing.T) {
	h := newHarness(t)
	h.newSPA(t)
	ctx := context.Background()
	const otherAPI = "https://other-api.example.com"
	if _, err := h.st.CreateAPI(ctx, clients.API{Identifier: otherAPI, Name: "Other API", TokenLifetime: apiTokenLifetime}); err != nil {
		t.Fatal(err)
	}
	b := signedInBrowser(t, h)
	// A narrow grant: openid and offline_access only, no profile or email.
	narrow := func(t *testing.T, audience string) atkAnswer {
		t.Helper()
		f := newFlow()
		q := url.Values{"client_id": {spaID}, "redirect_uri": {spaCallback}, "response_type": {"code"},
			"scope": {"openid offline_access"}, "state": {f.state}, "nonce": {f.nonce},
			"code_challenge": {s256(f.verifier)}, "code_challenge_method": {"S256"}}
		if audience != "" {
			q.Set("audience", audience)
		}
		code := callback(t, h.do(b, "GET", "/authorize?"+q.Encode(), nil)).Get("code")
		a := atkExchange(h, code, f.verifier)
		if !a.ok() || a.str("refresh_token") == "" {
			t.Fatalf("narrow login: %v", a)
		}
		return a
	}
	granted := func(a atkAnswer) []string { return strings.Fields(a.str("scope")) }
	widened := func(t *testing.T, a atkAnswer) {
		t.Helper()
		for _, s := range granted(a) {
			if s != "openid" && s != "offline_access" {
				t.Fatalf("refresh granted %q, never granted in the login: %v", s, a)
			}
		}
		if raw := a.str("id_token"); raw != "" {
			if c := jwtPart(t, raw, 1); c["email"] != nil || c["name"] != nil {
				t.Fatalf("the refreshed ID token carries claims of scopes never granted: %v", c)
			}
		}
	}

	for name, scope := range map[string]string{
		"scope asking for profile and email": "openid offline_access profile email",
		"scope asking for an unknown scope":  "openid offline_access admin",
		"scope asking for an API's scope":    "openid offline_access read:everything",
	} {
		t.Run(name, func(t *testing.T) {
			a := atkRefresh(h, spaID, narrow(t, apiAudience).str("refresh_token"), "scope", scope)
			if a.ok() {
				widened(t, a)
			} else if a.status != 400 {
				t.Fatalf("widened scope: %v, want a refusal or no more than granted", a)
			}
		})
	}
	t.Run("audience of another API", func(t *testing.T) {
		a := atkRefresh(h, spaID, narrow(t, apiAudience).str("refresh_token"), "audience", otherAPI)
		if a.ok() {
			aud, _ := jwtPart(t, a.str("access_token"), 1)["aud"].([]any)
			for _, v := range aud {
				if v == otherAPI {
					t.Fatalf("refresh added an API the grant was not issued for: aud %v", aud)
				}
			}
		} else if a.status != 400 {
			t.Fatalf("another audience: %v, want a refusal or the grant's own audience", a)
		}
	})
	t.Run("audience on an opaque grant", func(t *testing.T) {
		a := atkRefresh(h, spaID, narrow(t, "").str("refresh_token"), "audience", apiAudience)
		if a.ok() && strings.Count(a.str("access_token"), ".") == 2 {
			t.Fatalf("an opaque grant's refresh turned into a JWT for an API: %v", a)
		} else if !a.ok() && a.status != 400 {
			t.Fatalf("audience on an opaque grant: %v, want a refusal or an opaque token", a)
		}
	})
}

// PKCE at the exchange: the code is bound to its challenge and redirect URI.
func TestTokenAttacks2PKCEAtTheExchange(t *testing.T) {
	h := newHarness(t)
	p := h.newSPA(t)
	b := signedInBrowser(t, h)

	t.Run("the verifier of another code", func(t *testing.T) {
		c1, _ := p.code(t, b)
		c2, f2 := p.code(t, b)
		if a := atkExchange(h, c1, f2.verifier); !a.invalidGrant() {
			t.Fatalf("code 1 with code 2's verifier: %v, want invalid_grant", a)
		}
		if a := atkExchange(h, c2, f2.verifier); !a.ok() {
			t.Fatalf("code 2 with its own verifier: %v", a)
		}
	})
	t.Run("no verifier", func(t *testing.T) {
		c, _ := p.code(t, b)
		a := atkPost(h, url.Values{"grant_type": {"authorization_code"}, "client_id": {spaID},
			"code": {c}, "redirect_uri": {spaCallback}})
		if a.ok() || a.status != 400 {
			t.Fatalf("exchange without a verifier: %v, want a refusal", a)
		}
	})
	t.Run("the challenge sent as a plain verifier", func(t *testing.T) {
		c, f := p.code(t, b)
		if a := atkExchange(h, c, s256(f.verifier)); !a.invalidGrant() {
			t.Fatalf("the challenge as the verifier: %v, want invalid_grant", a)
		}
	})
	t.Run("plain method at authorize", func(t *testing.T) {
		f := newFlow()
		q := url.Values{"client_id": {spaID}, "redirect_uri": {spaCallback}, "response_type": {"code"},
			"scope": {"openid"}, "state": {f.state}, "nonce": {f.nonce},
			"code_challenge": {f.verifier}, "code_challenge_method": {"plain"}}
		cb := callback(t, h.do(b, "GET", "/authorize?"+q.Encode(), nil))
		if cb.Get("error") != "invalid_request" || cb.Get("code") != "" || cb.Get("state") != f.state {
			t.Fatalf("plain PKCE: %v, want invalid_request with the state and no code", cb)
		}
	})
	t.Run("a verifier shorter than RFC 7636 allows", func(t *testing.T) {
		// The challenge is a well-formed S256 value, but of a 3-character
		// verifier that anyone can enumerate.
		const short = "abc"
		q := url.Values{"client_id": {spaID}, "redirect_uri": {spaCallback}, "response_type": {"code"},
			"scope": {"openid"}, "state": {"some-state-value"}, "nonce": {"some-nonce-value"},
			"code_challenge": {s256(short)}, "code_challenge_method": {"S256"}}
		cb := callback(t, h.do(b, "GET", "/authorize?"+q.Encode(), nil))
		if cb.Get("code") == "" {
			return // refused before a code: fine too
		}
		if a := atkExchange(h, cb.Get("code"), short); a.ok() {
			t.Fatalf("a 3-character verifier redeemed a code: %v", a)
		}
	})
	t.Run("redirect_uri other than the authorization's", func(t *testing.T) {
		c, f := p.code(t, b)
		for _, uri := range []string{"http://localhost:3000/other", spaCallback + "/", spaCallback + "?x=1", ""} {
			a := atkPost(h, url.Values{"grant_type": {"authorization_code"}, "client_id": {spaID},
				"code": {c}, "code_verifier": {f.verifier}, "redirect_uri": {uri}})
			if a.ok() || a.status != 400 {
				t.Fatalf("redirect_uri %q at the exchange: %v, want a refusal", uri, a)
			}
		}
	})
}

// What a failed exchange does to the code: the documentation promises
// nothing either way, so this records that after a wrong verifier the code
// is either still good for its own verifier or refused, never handed to the
// wrong one, and that a code is never good twice.
func TestTokenAttacks2AFailedExchangeNeverHelpsAnAttacker(t *testing.T) {
	h := newHarness(t)
	p := h.newSPA(t)
	b := signedInBrowser(t, h)
	c, f := p.code(t, b)
	for range 3 {
		if a := atkExchange(h, c, newFlow().verifier); !a.invalidGrant() {
			t.Fatalf("wrong verifier: %v, want invalid_grant", a)
		}
	}
	first := atkExchange(h, c, f.verifier)
	if !first.ok() && !first.invalidGrant() {
		t.Fatalf("the right verifier after wrong ones: %v, want tokens or invalid_grant", first)
	}
	if a := atkExchange(h, c, f.verifier); !a.invalidGrant() {
		t.Fatalf("the code a second time: %v, want invalid_grant", a)
	}
}

// A code exchange racing the end of the user's access (a block, "log out
// everywhere", a password change): the token issued at that moment is
// either refused or ended with the rest, never left working.
func TestTokenAttacks2CodeExchangeRacingTheEndOfAccess(t *testing.T) {
	raceTheEndOfAccess(t, "exchange", func(t *testing.T, h *harness, p *rp, b *http.Client) func() atkAnswer {
		code, f := p.code(t, b)
		return func() atkAnswer { return atkExchange(h, code, f.verifier) }
	}, atkAnswer.invalidGrant)
}

// A refresh racing the end of the user's access: it is refused with
// invalid_grant (the words the Auth0 SDK falls back on), or the tokens it got
// are ended with the rest; never a server error or a "please retry".
func TestTokenAttacks2RefreshRacingTheEndOfAccess(t *testing.T) {
	raceTheEndOfAccess(t, "refresh", func(t *testing.T, h *harness, p *rp, b *http.Client) func() atkAnswer {
		tok, _ := p.login(t, b)
		return func() atkAnswer { return atkRefresh(h, spaID, tok.RefreshToken) }
	}, func(a atkAnswer) bool {
		return a.invalidGrant() && strings.Contains(a.str("error_description"), "Unknown or invalid refresh token")
	})
}

// raceTheEndOfAccess runs, for each way a user's access ends, six rounds of
// a fresh sign-in, then the request prepare readies, sent at the same moment
// as the end. The request must be refused as refused says, or get tokens
// that were ended with the rest: they neither refresh nor work at userinfo.
func raceTheEndOfAccess(t *testing.T, what string, prepare func(t *testing.T, h *harness, p *rp, b *http.Client) func() atkAnswer, refused func(atkAnswer) bool) {
	const rounds = 6
	by := account.Actor{Name: "test"}
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		end  func(h *harness, userID string) error
		undo func(h *harness, userID string) error
	}{
		{"block", func(h *harness, id string) error {
			return h.accounts.SetBlocked(ctx, id, true, by, account.Meta{})
		}, func(h *harness, id string) error {
			return h.accounts.SetBlocked(ctx, id, false, by, account.Meta{})
		}},
		{"log out everywhere", func(h *harness, id string) error {
			_, err := h.accounts.EndAllSessions(ctx, id, by, account.Meta{})
			return err
		}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			p := h.newSPA(t)
			b := signedInBrowser(t, h)
			id := atkUserID(t, h, "ann@example.com")
			for round := range rounds {
				if round > 0 {
					if tc.undo != nil {
						if err := tc.undo(h, id); err != nil {
							t.Fatal(err)
						}
					}
					b = h.browser()
					h.logIn(b, "ann@example.com", goodPassword).expectRedirect(t, "/account")
				}
				use := prepare(t, h, p, b)
				var endErr error
				answers := atkAtOnce(2, func(i int) atkAnswer {
					if i == 0 {
						return use()
					}
					endErr = tc.end(h, id)
					return atkAnswer{}
				})
				if endErr != nil {
					t.Fatal(endErr)
				}
				a := answers[0]
				if !a.ok() {
					if !refused(a) {
						t.Fatalf("round %d: %s racing the %s: %v, want tokens or a refusal", round, what, tc.name, a)
					}
					continue
				}
				if r := atkRefresh(h, spaID, a.str("refresh_token")); r.ok() {
					t.Fatalf("round %d: a refresh token issued in a race with the %s still refreshes: %v", round, tc.name, r)
				}
				if atkUserinfoWorks(t, h, a.str("access_token")) {
					t.Fatalf("round %d: an access token issued in a race with the %s still works at userinfo", round, tc.name)
				}
			}
		})
	}
}

// A refresh family ends 30 days after login however often it is refreshed.
// (The 15-day idle lifetime is fosite's, checked against the wall clock and
// rounded to the second, so no test clock can step over it.)
func TestTokenAttacks2AFamilyEnds30DaysAfterLogin(t *testing.T) {
	h := newHarness(t)
	p := h.newSPA(t)
	tok, _ := p.login(t, signedInBrowser(t, h))
	rt := tok.RefreshToken
	for _, days := range []int{10, 20} {
		h.clock.Advance(10 * 24 * time.Hour)
		a := atkRefresh(h, spaID, rt)
		if !a.ok() {
			t.Fatalf("a refresh %d days after login: %v, want tokens", days, a)
		}
		rt = a.str("refresh_token")
	}
	h.clock.Advance(10*24*time.Hour + time.Minute)
	if a := atkRefresh(h, spaID, rt); !a.invalidGrant() {
		t.Fatalf("a refresh 30 days after login: %v, want invalid_grant", a)
	}
}

// Wrong verifiers racing the right one for a code: none of them gets
// tokens, whichever request comes first.
func TestTokenAttacks2WrongVerifiersRacingTheRightOne(t *testing.T) {
	h := newHarness(t)
	p := h.newSPA(t)
	code, f := p.code(t, signedInBrowser(t, h))
	answers := atkAtOnce(9, func(i int) atkAnswer {
		if i == 0 {
			return atkExchange(h, code, f.verifier)
		}
		return atkExchange(h, code, newFlow().verifier)
	})
	for i, a := range answers {
		if i > 0 && !a.invalidGrant() {
			t.Fatalf("a wrong verifier racing the right one: %v, want invalid_grant", a)
		}
	}
	if a := answers[0]; !a.ok() && !a.invalidGrant() {
		t.Fatalf("the right verifier racing wrong ones: %v, want tokens or invalid_grant", a)
	}
}

// The plain browser logout (/v2/logout) ends the session; a code issued
// before it was issued to an application that already holds the user's
// consent, so the docs do not promise its refusal. What must hold: the
// logged-out browser gets no new code without signing in again.
func TestTokenAttacks2LogoutLeavesNoSilentCode(t *testing.T) {
	h := newHarness(t)
	p := h.newSPA(t)
	b := signedInBrowser(t, h)
	h.do(b, "GET", "/v2/logout?"+url.Values{"client_id": {spaID}, "returnTo": {spaOrigin + "/"}}.Encode(), nil)
	f := newFlow()
	r := h.do(b, "GET", p.authURL(f, oauth2.SetAuthURLParam("prompt", "none")), nil)
	q := callback(t, r)
	if q.Get("code") != "" || q.Get("error") != "login_required" {
		t.Fatalf("prompt=none after logout: %v, want login_required", q)
	}
}
