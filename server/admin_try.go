package server

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/gatehouse-id/gatehouse/account"
	"github.com/gatehouse-id/gatehouse/clients"
	"github.com/gatehouse-id/gatehouse/masterkey"
)

// "Try your login box" runs a real login through the built-in public client
// clients.TryClientID: authorization code with PKCE, state and nonce, then
// the code exchanged in-process through fosite and the ID token verified
// with the published keys, as an application would.
//
// The login is a real one, so whoever logs in becomes this browser's
// session: an admin who tries the box as another user is that user
// afterwards and logs in again to return to the console. For that reason
// the callback is not behind requireAdmin: it is admitted by the try cookie,
// which only an admin's POST to admin/try mints, is MAC'd with the master
// key, lasts ten minutes and is spent on first use.

const (
	tryCookie   = "gatehouse_try"
	tryLifetime = 10 * time.Minute
)

// tryFlow is one test login's secrets, kept in the try cookie.
type tryFlow struct {
	State    string `json:"s"`
	Nonce    string `json:"n"`
	Verifier string `json:"v"`
	Expires  int64  `json:"e"`
}

type adminTryData struct {
	ClientID string
	Callback string
	// The result page.
	Claims  []tryClaim
	IDToken string
	Problem string // the authorize step's error, as the application got it
}

type tryClaim struct{ Name, Value string }

func (s *Server) tryCallback() string { return s.cfg.Issuer.String() + "admin/try/callback" }

func (s *Server) handleAdminTry() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v := s.newAdminView(r, "try", "Try your login box")
		v.Data = &adminTryData{ClientID: clients.TryClientID, Callback: s.tryCallback()}
		s.renderAdmin(w, r, http.StatusOK, "admin-try", v)
	})
}

// handleAdminTryStart sends the browser to authorize as the built-in client
// would, with prompt=login so the login box always shows.
func (s *Server) handleAdminTryStart() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := s.ensureTryClient(r.Context()); err != nil {
			s.serverError(w, r, err)
			return
		}
		f := tryFlow{State: oauth2.GenerateVerifier(), Nonce: oauth2.GenerateVerifier(), Verifier: oauth2.GenerateVerifier(),
			Expires: s.now().Add(tryLifetime).Unix()}
		http.SetCookie(w, &http.Cookie{Name: tryCookie, Value: s.sealTry(f), Path: s.base + "admin/try",
			MaxAge: int(tryLifetime / time.Second), HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteLaxMode})
		q := url.Values{
			"client_id": {clients.TryClientID}, "response_type": {"code"}, "redirect_uri": {s.tryCallback()},
			"scope": {"openid profile email"}, "state": {f.State}, "nonce": {f.Nonce}, "prompt": {"login"},
			"code_challenge": {oauth2.S256ChallengeFromVerifier(f.Verifier)}, "code_challenge_method": {"S256"},
		}
		if r.PostForm.Get("require_mfa") != "" {
			q.Set("acr_values", acrMultiFactor)
		}
		s.audit(r, account.Event{Type: "admin.try_login", Details: map[string]any{
			"by": actor(mustSession(r)), "require_mfa": q.Has("acr_values")}})
		http.Redirect(w, r, s.base+"authorize?"+q.Encode(), http.StatusSeeOther)
	})
}

// ensureTryClient registers the built-in client, or points its callback at
// this issuer if the issuer changed since.
func (s *Server) ensureTryClient(ctx context.Context) error {
	want := []string{s.tryCallback()}
	c, err := s.clients.ClientByID(ctx, clients.TryClientID)
	if errors.Is(err, clients.ErrNotFound) {
		err = s.clients.CreateClient(ctx, clients.Client{ID: clients.TryClientID, Name: "Try your login box",
			Type: clients.SPA, Callbacks: want})
		if errors.Is(err, clients.ErrDuplicate) {
			return nil
		}
		return err
	}
	if err != nil {
		return err
	}
	if !slices.Equal(c.Callbacks, want) {
		c.Callbacks = want
		return s.clients.UpdateClient(ctx, c)
	}
	return nil
}

// handleAdminTryCallback is the built-in client's redirect URI: it checks
// the state, exchanges the code and shows the verified ID token.
func (s *Server) handleAdminTryCallback() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f, ok := s.openTry(r)
		http.SetCookie(w, &http.Cookie{Name: tryCookie, Path: s.base + "admin/try", MaxAge: -1, HttpOnly: true,
			Secure: s.secure, SameSite: http.SameSiteLaxMode})
		q := r.URL.Query()
		if !ok || !hmac.Equal([]byte(q.Get("state")), []byte(f.State)) {
			s.renderMessage(w, r, http.StatusBadRequest, "Test login expired",
				"This test login was not started from this browser, or is more than ten minutes old. Start it again from the admin console.")
			return
		}
		d := &adminTryData{ClientID: clients.TryClientID, Callback: s.tryCallback()}
		if e := q.Get("error"); e != "" {
			d.Problem = e
			if desc := q.Get("error_description"); desc != "" {
				d.Problem += ": " + desc
			}
			s.renderTryResult(w, r, http.StatusBadRequest, d, "The login did not complete. The application got the error below.")
			return
		}
		raw, claims, err := s.tryExchange(r.Context(), q.Get("code"), f)
		if err != nil {
			s.logger(r.Context()).Warn("test login: code exchange failed", "err", err)
			d.Problem = err.Error()
			s.renderTryResult(w, r, http.StatusBadRequest, d, "The login completed, but its code could not be exchanged for a valid ID token.")
			return
		}
		d.IDToken, d.Claims = raw, claims
		s.renderTryResult(w, r, http.StatusOK, d, "")
	})
}

func (s *Server) renderTryResult(w http.ResponseWriter, r *http.Request, status int, d *adminTryData, problem string) {
	title := "It works!"
	if problem != "" {
		title = "The test login failed"
	}
	v := adminView{view: s.newView(r, "admin-try-result", title), Data: d}
	v.Wide, v.Section, v.Error = true, "try", problem
	s.renderAdmin(w, r, status, "admin-try-result", v)
}

// tryExchange redeems the code at the token endpoint's fosite handlers, in
// this process, and verifies the ID token as a relying party would.
func (s *Server) tryExchange(ctx context.Context, code string, f tryFlow) (string, []tryClaim, error) {
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {s.tryCallback()},
		"client_id": {clients.TryClientID}, "code_verifier": {f.Verifier}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.cfg.Issuer.String()+"oauth/token", strings.NewReader(form.Encode()))
	if err != nil {
		return "", nil, fmt.Errorf("token request: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	ar, err := s.oauth.NewAccessRequest(ctx, req, newOIDCSession())
	if err != nil {
		return "", nil, fmt.Errorf("token request refused: %w", err)
	}
	resp, err := s.oauth.NewAccessResponse(ctx, ar)
	if err != nil {
		return "", nil, fmt.Errorf("token response: %w", err)
	}
	raw, _ := resp.GetExtra("id_token").(string)
	if raw == "" {
		return "", nil, errors.New("the token response has no ID token")
	}
	tok, err := s.signer.Decode(ctx, raw)
	if err != nil {
		return "", nil, fmt.Errorf("ID token signature or lifetime: %w", err)
	}
	claims := tok.Claims
	if claims["iss"] != s.cfg.Issuer.String() {
		return "", nil, fmt.Errorf("ID token issuer %v, want %s", claims["iss"], s.cfg.Issuer)
	}
	if !audienceHas(claims["aud"], clients.TryClientID) {
		return "", nil, fmt.Errorf("ID token audience %v lacks %s", claims["aud"], clients.TryClientID)
	}
	if n, _ := claims["nonce"].(string); !hmac.Equal([]byte(n), []byte(f.Nonce)) {
		return "", nil, errors.New("ID token nonce does not match the request's")
	}
	list := make([]tryClaim, 0, len(claims))
	for k, v := range claims {
		text, ok := v.(string)
		if !ok {
			b, _ := json.Marshal(v)
			text = string(b)
		}
		list = append(list, tryClaim{Name: k, Value: text})
	}
	sort.Slice(list, func(i, j int) bool { return list[i].Name < list[j].Name })
	return raw, list, nil
}

func audienceHas(aud any, id string) bool {
	switch a := aud.(type) {
	case string:
		return a == id
	case []any:
		return slices.Contains(a, any(id))
	case []string:
		return slices.Contains(a, id)
	}
	return false
}

// sealTry and openTry keep a tryFlow in a cookie the browser cannot alter.
func (s *Server) sealTry(f tryFlow) string {
	b, _ := json.Marshal(f)
	payload := base64.RawURLEncoding.EncodeToString(b)
	return payload + "." + s.tryMAC(payload)
}

func (s *Server) openTry(r *http.Request) (tryFlow, bool) {
	var f tryFlow
	c, err := r.Cookie(tryCookie)
	if err != nil {
		return f, false
	}
	payload, mac, ok := strings.Cut(c.Value, ".")
	if !ok || !hmac.Equal([]byte(mac), []byte(s.tryMAC(payload))) {
		return f, false
	}
	b, err := base64.RawURLEncoding.DecodeString(payload)
	if err != nil || json.Unmarshal(b, &f) != nil || s.now().Unix() > f.Expires || f.State == "" {
		return tryFlow{}, false
	}
	return f, true
}

func (s *Server) tryMAC(payload string) string {
	m := hmac.New(sha256.New, masterkey.Derive(s.cfg.SecretKey, "gatehouse try login cookie v1"))
	m.Write([]byte(payload))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}
