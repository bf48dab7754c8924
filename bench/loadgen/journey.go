package loadgen

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gatehouse-id/gatehouse/mfa/sms/plivotest"
)

// Client is the OAuth client the journeys log in to: a public SPA client
// (authorization code with PKCE, no secret).
type Client struct {
	ID          string
	RedirectURI string // registered with the client; never fetched
	Scope       string // e.g. "openid profile email offline_access"
}

// User is a seeded account with a verified phone.
type User struct {
	Email    string
	Password string
	Phone    string // E.164, where the fake Plivo receives the codes
}

// Steps of a login journey, in order, as the report names them.
const (
	StepAuthorize     = "authorize"
	StepLoginPage     = "login page"
	StepLoginPost     = "login post"
	StepResume        = "resume"
	StepChallengePage = "challenge page"
	StepSMS           = "sms wait"
	StepChallengePost = "code post"
	StepCallback      = "callback"
	StepToken         = "token"
	StepRefresh       = "refresh"
)

// LoginSteps lists the steps of a full login in order.
var LoginSteps = []string{StepAuthorize, StepLoginPage, StepLoginPost, StepResume, StepChallengePage,
	StepSMS, StepChallengePost, StepCallback, StepToken}

// journeys runs the login journeys of one virtual user.
type journeys struct {
	client     Client
	sms        *plivotest.Server
	smsTimeout time.Duration
}

// flow is one authorization request's secrets.
type flow struct {
	state, nonce, verifier string
}

func newFlow() flow {
	return flow{state: random(), nonce: random(), verifier: random() + random()}
}

func random() string {
	b := make([]byte, 16)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func (f flow) authorizePath(c Client) string {
	sum := sha256.Sum256([]byte(f.verifier))
	q := url.Values{
		"response_type":         {"code"},
		"client_id":             {c.ID},
		"redirect_uri":          {c.RedirectURI},
		"scope":                 {c.Scope},
		"state":                 {f.state},
		"nonce":                 {f.nonce},
		"code_challenge":        {base64.RawURLEncoding.EncodeToString(sum[:])},
		"code_challenge_method": {"S256"},
	}
	return "/authorize?" + q.Encode()
}

// password runs a new visitor's authorization request up to the accepted
// password and returns the resume URL it was sent back to.
func (j *journeys) password(ctx context.Context, b *browser, st *Stats, u User, f flow) (string, error) {
	b.reset()
	r, err := b.do(ctx, st, StepAuthorize, "GET", f.authorizePath(j.client), nil, http.StatusFound, http.StatusSeeOther)
	if err != nil {
		return "", err
	}
	returnTo, err := returnToOf(r.location, "/login")
	if err != nil {
		return "", &StepError{Step: StepAuthorize, Kind: "unexpected redirect", Err: err}
	}
	if r, err = b.do(ctx, st, StepLoginPage, "GET", r.location, nil, http.StatusOK); err != nil {
		return "", err
	}
	if err := expectScreen(r.body, "login"); err != nil {
		return "", &StepError{Step: StepLoginPage, Kind: "wrong screen", Err: err}
	}
	form := url.Values{"email": {u.Email}, "password": {u.Password}, "return_to": {returnTo}}
	if r, err = b.do(ctx, st, StepLoginPost, "POST", "/login", form, http.StatusFound, http.StatusSeeOther); err != nil {
		return "", err
	}
	if r.location != returnTo {
		return "", &StepError{Step: StepLoginPost, Kind: "unexpected redirect", Err: fmt.Errorf("to %q, want %q", r.location, returnTo)}
	}
	return returnTo, nil
}

// login runs a whole login with the SMS challenge and the code exchange, and
// returns the token response.
func (j *journeys) login(ctx context.Context, b *browser, st *Stats, u User) (tokenResponse, error) {
	f := newFlow()
	resume, err := j.password(ctx, b, st, u, f)
	if err != nil {
		return tokenResponse{}, err
	}
	r, err := b.do(ctx, st, StepResume, "GET", resume, nil, http.StatusFound, http.StatusSeeOther)
	if err != nil {
		return tokenResponse{}, err
	}
	if _, err := returnToOf(r.location, "/mfa/challenge"); err != nil {
		return tokenResponse{}, &StepError{Step: StepResume, Kind: "not sent to the challenge", Err: err}
	}
	seen := j.sms.CountTo(u.Phone)
	if r, err = b.do(ctx, st, StepChallengePage, "GET", r.location, nil, http.StatusOK); err != nil {
		return tokenResponse{}, err
	}
	if err := expectScreen(r.body, "challenge"); err != nil {
		return tokenResponse{}, &StepError{Step: StepChallengePage, Kind: "wrong screen", Err: err}
	}
	start := time.Now()
	wait, cancel := context.WithTimeout(ctx, j.smsTimeout)
	m, err := j.sms.WaitMessage(wait, u.Phone, seen)
	cancel()
	if err != nil {
		return tokenResponse{}, &StepError{Step: StepSMS, Kind: classify(err), Err: err}
	}
	st.step(StepSMS, time.Since(start))
	code := plivotest.Code(m.Text)
	if code == "" {
		return tokenResponse{}, &StepError{Step: StepSMS, Kind: "no code in the SMS", Err: fmt.Errorf("text %q", m.Text)}
	}
	form := url.Values{"step": {"code"}, "code": {code}, "return_to": {resume}}
	if r, err = b.do(ctx, st, StepChallengePost, "POST", "/mfa/challenge", form, http.StatusFound, http.StatusSeeOther); err != nil {
		return tokenResponse{}, err
	}
	if r.location != resume {
		return tokenResponse{}, &StepError{Step: StepChallengePost, Kind: "code refused", Err: fmt.Errorf("sent to %q", r.location)}
	}
	if r, err = b.do(ctx, st, StepCallback, "GET", resume, nil, http.StatusFound, http.StatusSeeOther); err != nil {
		return tokenResponse{}, err
	}
	authCode, err := parseCallback(r.location, j.client.RedirectURI, f.state)
	if err != nil {
		return tokenResponse{}, &StepError{Step: StepCallback, Kind: "bad callback", Err: err}
	}
	return j.token(ctx, b, st, StepToken, url.Values{
		"grant_type": {"authorization_code"}, "client_id": {j.client.ID}, "code": {authCode},
		"redirect_uri": {j.client.RedirectURI}, "code_verifier": {f.verifier},
	})
}

// refresh redeems a refresh token for new tokens.
func (j *journeys) refresh(ctx context.Context, b *browser, st *Stats, refreshToken string) (tokenResponse, error) {
	return j.token(ctx, b, st, StepRefresh, url.Values{
		"grant_type": {"refresh_token"}, "client_id": {j.client.ID}, "refresh_token": {refreshToken},
	})
}

func (j *journeys) token(ctx context.Context, b *browser, st *Stats, step string, form url.Values) (tokenResponse, error) {
	r, err := b.do(ctx, st, step, "POST", "/oauth/token", form, http.StatusOK)
	if err != nil {
		return tokenResponse{}, err
	}
	var t tokenResponse
	if err := json.Unmarshal(r.body, &t); err != nil || t.AccessToken == "" {
		return tokenResponse{}, &StepError{Step: step, Kind: "bad token response", Err: fmt.Errorf("%.200q", r.body)}
	}
	st.Sigs += t.signatures()
	st.Tokens++
	return t, nil
}

type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	IDToken      string `json:"id_token"`
	RefreshToken string `json:"refresh_token"`
}

// signatures counts the RS256-signed JWTs among the tokens: what the server
// had to sign to answer.
func (t tokenResponse) signatures() int {
	n := 0
	for _, tok := range []string{t.AccessToken, t.IDToken, t.RefreshToken} {
		if isRS256JWT(tok) {
			n++
		}
	}
	return n
}

func isRS256JWT(tok string) bool {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return false
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil {
		return false
	}
	var h struct {
		Alg string `json:"alg"`
	}
	return json.Unmarshal(raw, &h) == nil && h.Alg == "RS256"
}

// returnToOf checks that loc is a redirect to path on the server and returns
// its return_to parameter.
func returnToOf(loc, path string) (string, error) {
	u, err := url.Parse(loc)
	if err != nil {
		return "", err
	}
	if u.Path != path {
		return "", fmt.Errorf("redirect to %q, want %s", loc, path)
	}
	rt := u.Query().Get("return_to")
	if rt == "" {
		return "", fmt.Errorf("redirect to %q has no return_to", loc)
	}
	return rt, nil
}

// parseCallback checks that loc is the client's redirect URI carrying the
// request's state and no error, and returns the authorization code.
func parseCallback(loc, redirectURI, state string) (string, error) {
	u, err := url.Parse(loc)
	if err != nil {
		return "", err
	}
	want, err := url.Parse(redirectURI)
	if err != nil {
		return "", err
	}
	if u.Scheme != want.Scheme || u.Host != want.Host || u.Path != want.Path {
		return "", fmt.Errorf("redirect to %q, want the redirect URI %s", loc, redirectURI)
	}
	q := u.Query()
	if e := q.Get("error"); e != "" {
		return "", fmt.Errorf("authorization error %s: %s", e, q.Get("error_description"))
	}
	if q.Get("state") != state {
		return "", fmt.Errorf("state came back as %q, want %q", q.Get("state"), state)
	}
	code := q.Get("code")
	if code == "" {
		return "", errors.New("no code in the callback")
	}
	return code, nil
}

// expectScreen checks that a page is the screen named, by its <main
// data-screen="…"> marker.
func expectScreen(body []byte, screen string) error {
	if !bytes.Contains(body, []byte(`data-screen="`+screen+`"`)) {
		return fmt.Errorf("page is not the %s screen", screen)
	}
	return nil
}
