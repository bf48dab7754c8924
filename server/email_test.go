package server_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	"net"
	"net/http"
	netmail "net/mail"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"golang.org/x/oauth2"

	"github.com/gatehouse-id/gatehouse/account"
	"github.com/gatehouse-id/gatehouse/account/accounttest"
	"github.com/gatehouse-id/gatehouse/i18n"
	"github.com/gatehouse-id/gatehouse/mail"
	"github.com/gatehouse-id/gatehouse/mfa"
	"github.com/gatehouse-id/gatehouse/outbox"
	"github.com/gatehouse-id/gatehouse/password"
	"github.com/gatehouse-id/gatehouse/server"
	"github.com/gatehouse-id/gatehouse/templates"
)

// relay is an SMTP server on loopback that receives what go-mail sends. While
// down it answers MAIL FROM with a temporary error, as a relay in trouble does.
type relay struct {
	addr     string
	received chan received
	down     atomic.Bool
}

type received struct {
	to   string
	text string // the text/plain part, decoded
	html string
}

func newRelay(t testing.TB) *relay {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &relay{addr: l.Addr().String(), received: make(chan received, 20)}
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &relaySession{r: r}, nil }))
	srv.Domain = "localhost"
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	srv.ErrorLog = smtpQuiet{}
	go srv.Serve(l)
	t.Cleanup(func() {
		if err := srv.Close(); err != nil {
			t.Fatal(err)
		}
	})
	return r
}

type smtpQuiet struct{}

func (smtpQuiet) Printf(string, ...any) {}
func (smtpQuiet) Println(...any)        {}

type relaySession struct {
	r  *relay
	to string
}

func (s *relaySession) Reset()        {}
func (s *relaySession) Logout() error { return nil }
func (s *relaySession) Mail(string, *smtp.MailOptions) error {
	if s.r.down.Load() {
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try again later"}
	}
	return nil
}
func (s *relaySession) Rcpt(to string, _ *smtp.RcptOptions) error { s.to = to; return nil }
func (s *relaySession) Data(r io.Reader) error {
	msg, err := netmail.ReadMessage(r)
	if err != nil {
		return err
	}
	got := received{to: s.to}
	_, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil {
		return err
	}
	parts := multipart.NewReader(msg.Body, params["boundary"])
	for {
		p, err := parts.NextPart() // decodes quoted-printable
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		b, err := io.ReadAll(p)
		if err != nil {
			return err
		}
		if strings.HasPrefix(p.Header.Get("Content-Type"), "text/html") {
			got.html = string(b)
		} else {
			got.text = string(b)
		}
	}
	s.r.received <- got
	return nil
}

// withMail wires accounts with verification and reset mails through the real
// outbox, composer and go-mail SMTP sender to a local relay.
func (h *harness) withMail(t testing.TB, deps *server.Deps, issuer *url.URL, params password.Params) {
	h.relay = newRelay(t)
	host, port, err := net.SplitHostPort(h.relay.addr)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := mail.ParseSMTPURL("smtp://" + net.JoinHostPort(host, port) + "?starttls=none")
	if err != nil {
		t.Fatal(err)
	}
	cfg.From, cfg.Timeout = "Gatehouse <login@example.com>", 5*time.Second
	sender, err := mail.NewSMTP(cfg)
	if err != nil {
		t.Fatal(err)
	}
	sealer, err := outbox.NewSealer(testMasterKey)
	if err != nil {
		t.Fatal(err)
	}
	catalog, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	composer, err := mail.NewComposer(templates.FS, catalog, issuer, "Gatehouse")
	if err != nil {
		t.Fatal(err)
	}
	box := outbox.New(h.st.MailOutbox(), sealer, h.clock.Now)
	d := accounttest.Deps(h.st, h.clock, params)
	d.TuneSignups = h.settings.TuneSignups
	d.Email, d.Mailer, d.EmailRules = h.st, testMailer{box, composer}, account.DefaultEmailRules()
	if deps.MFA != nil {
		d.SecondFactors = deps.MFA
	}
	h.accounts = account.NewService(d)
	deps.Accounts = h.accounts
	h.mailDispatcher = outbox.NewMailDispatcher(box, h.st.MailOutbox(), sender,
		outbox.DispatcherOptions{Now: h.clock.Now, Log: slog.New(slog.DiscardHandler)})
}

type testMailer struct {
	box      *outbox.Outbox
	composer *mail.Composer
}

func (m testMailer) Enqueue(ctx context.Context, a account.Mail) error {
	msg, err := m.composer.Compose(a.Purpose, a.To, a.Token, a.ValidFor)
	if a.Purpose == account.MailSecurity {
		msg, err = m.composer.ComposeSecurity(a.To, string(a.Change), a.At, a.From)
	}
	if err == nil {
		_, err = m.box.EnqueueMail(ctx, outbox.MailEnqueued{UserID: a.UserID, Message: msg, ExpiresAt: a.ExpiresAt})
	}
	return err
}

var linkRE = regexp.MustCompile(`http://[^\s"<>]+token=[A-Za-z0-9_-]+`)

// sendMail runs the mail dispatcher once and returns the path and query of
// the link in the one mail the relay received.
func (h *harness) sendMail(t testing.TB, to string) string {
	t.Helper()
	if _, err := h.mailDispatcher.RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	select {
	case m := <-h.relay.received:
		link := linkRE.FindString(m.text)
		if m.to != to || link == "" || !strings.Contains(m.html, `href="`+strings.ReplaceAll(link, "&", "&amp;")+`"`) {
			t.Fatalf("mail to %q with text %q; want one to %s with the link in text and HTML", m.to, m.text, to)
		}
		u, err := url.Parse(link)
		if err != nil {
			t.Fatal(err)
		}
		return u.RequestURI()
	case <-time.After(10 * time.Second):
		t.Fatal("the relay received no mail within 10s")
	}
	return ""
}

// noMail runs the dispatcher and checks that nothing reached the relay.
func (h *harness) noMail(t testing.TB) {
	t.Helper()
	if n, err := h.mailDispatcher.RunOnce(context.Background()); err != nil || n != 0 {
		t.Fatalf("dispatcher sent %d mails (%v), want none", n, err)
	}
	select {
	case m := <-h.relay.received:
		t.Fatalf("relay received a mail to %s, want none", m.to)
	default:
	}
}

func withMail(o *options) { o.mail = true }

func TestSignupVerificationLinkMakesTheClaimTrue(t *testing.T) {
	h := newHarness(t, withMail)
	p := h.newSPA(t)
	b := signedInBrowser(t, h)
	link := h.sendMail(t, "ann@example.com")

	var claims struct {
		Verified bool `json:"email_verified"`
	}
	tok, _ := p.login(t, b)
	if err := p.verifyIDToken(t, tok).Claims(&claims); err != nil || claims.Verified {
		t.Fatalf("before the link: email_verified %v (%v), want false", claims.Verified, err)
	}
	page := h.do(b, "GET", "/account", nil)
	if !strings.Contains(page.body, "Not verified") || !strings.Contains(page.body, "Resend verification email") {
		t.Fatal("account page does not show the address unverified with a resend button")
	}

	h.do(h.browser(), "GET", link, nil).expect(t, 200, "verify-email")
	tok, _ = p.login(t, b)
	if err := p.verifyIDToken(t, tok).Claims(&claims); err != nil || !claims.Verified {
		t.Fatalf("after the link: email_verified %v (%v), want true", claims.Verified, err)
	}
	info, err := p.provider.UserInfo(context.Background(), oauth2.StaticTokenSource(tok))
	if err != nil || !info.EmailVerified {
		t.Fatalf("userinfo: %+v, %v; want email_verified true", info, err)
	}
	again := h.do(h.browser(), "GET", link, nil)
	again.expect(t, 410, "verify-email")
	if !strings.Contains(again.alert(), "already used") {
		t.Fatalf("reused link: alert %q", again.alert())
	}
	if !strings.Contains(h.do(b, "GET", "/account", nil).body, ">Verified<") {
		t.Fatal("account page does not show the address verified")
	}
}

func TestResendVerificationSendsANewLink(t *testing.T) {
	h := newHarness(t, withMail)
	b := signedInBrowser(t, h)
	h.sendMail(t, "ann@example.com")
	h.do(b, "POST", "/account/email/verify", url.Values{}).expect(t, 200, "account")
	link := h.sendMail(t, "ann@example.com")
	h.do(b, "GET", link, nil).expect(t, 200, "verify-email")
}

func TestAdminMarksAnAddressVerifiedAndItIsAudited(t *testing.T) {
	h := newHarness(t, withMail)
	signedInBrowser(t, h)
	u, err := h.st.UserByEmail(context.Background(), "ann@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if got, err := h.accounts.MarkEmailVerified(context.Background(), u.ID, "admin:someone", account.Meta{}); err != nil || !got.EmailVerified {
		t.Fatalf("mark verified: %+v, %v", got, err)
	}
	var by string
	err = h.st.Pool().QueryRow(context.Background(),
		`select details->>'by' from audit_log where event = $1 and user_id = $2`, account.EventEmailVerified, u.ID).Scan(&by)
	if err != nil || by != "admin:someone" {
		t.Fatalf("audit: by %q, %v", by, err)
	}
}

// requestReset asks for a reset link for email and returns the page.
func (h *harness) requestReset(email string) response {
	return h.do(h.browser(), "POST", "/forgot", url.Values{"email": {email}})
}

// followResetLink asks for a reset of email's password and opens the mailed
// link in a new browser, which it returns with the page the link leads to.
func (h *harness) followResetLink(t *testing.T, email string) (*http.Client, response) {
	t.Helper()
	h.requestReset(email)
	link := h.sendMail(t, email)
	r := h.browser()
	h.do(r, "GET", link, nil)
	return r, h.do(r, "GET", "/reset", nil)
}

func TestPasswordResetByLinkEndsEverything(t *testing.T) {
	h := newHarness(t, withMail)
	p := h.newSPA(t)
	b := signedInBrowser(t, h)
	h.sendMail(t, "ann@example.com") // the verification mail
	tok, _ := p.login(t, b)

	login := h.do(h.browser(), "GET", "/login", nil)
	if !strings.Contains(login.body, `href="/forgot"`) {
		t.Fatal("login page has no Forgot password? link")
	}
	h.do(h.browser(), "GET", "/forgot", nil).expect(t, 200, "forgot")
	h.requestReset("ann@example.com").expect(t, 200, "forgot")
	link := h.sendMail(t, "ann@example.com")

	r := h.browser()
	h.do(r, "GET", link, nil).expectRedirect(t, "/reset")
	h.do(r, "GET", "/reset", nil).expect(t, 200, "reset")
	weak := h.do(r, "POST", "/reset", url.Values{"step": {"password"}, "password": {"password1"}})
	weak.expect(t, 400, "reset")
	if weak.alert() == "" {
		t.Fatal("a common password was refused without a message")
	}
	h.do(r, "POST", "/reset", url.Values{"step": {"password"}, "password": {"a brand new phrase"}}).
		expectRedirect(t, "/login?password_reset=1")

	h.logIn(h.browser(), "ann@example.com", goodPassword).expect(t, 401, "login")
	h.logIn(h.browser(), "ann@example.com", "a brand new phrase").expectRedirect(t, "/account")
	h.do(b, "GET", "/account", nil).expectRedirect(t, "/login?return_to=%2Faccount")
	s, body, _ := h.tokenRequest(t, url.Values{"grant_type": {"refresh_token"}, "client_id": {spaID},
		"refresh_token": {tok.RefreshToken}, "redirect_uri": {spaCallback}})
	if s != 400 || body["error"] != "invalid_grant" {
		t.Fatalf("old refresh token after the reset: %d %v, want invalid_grant", s, body)
	}
	var n int
	if err := h.st.Pool().QueryRow(context.Background(), `select count(*) from audit_log where event = $1`, account.EventPasswordReset).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Fatalf("%d password.reset events, want 1", n)
	}
}

func TestResetLinksThatNoLongerWork(t *testing.T) {
	tests := []struct {
		name   string
		spoil  func(h *harness, link string) string
		status int
		alert  string
	}{
		{"expired after 30 minutes", func(h *harness, link string) string {
			h.clock.Advance(30*time.Minute + time.Second)
			return link
		}, 410, "expired"},
		{"used once already", func(h *harness, link string) string {
			b := h.browser()
			h.do(b, "GET", link, nil)
			h.do(b, "POST", "/reset", url.Values{"step": {"password"}, "password": {"a brand new phrase"}})
			return link
		}, 410, "already used"},
		{"tampered", func(h *harness, link string) string { return link[:len(link)-2] + "xx" }, 400, "not valid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, withMail)
			signedInBrowser(t, h)
			h.sendMail(t, "ann@example.com")
			h.requestReset("ann@example.com")
			link := tt.spoil(h, h.sendMail(t, "ann@example.com"))
			b := h.browser()
			h.do(b, "GET", link, nil)
			page := h.do(b, "GET", "/reset", nil)
			page.expect(t, tt.status, "forgot")
			if !strings.Contains(page.alert(), tt.alert) {
				t.Fatalf("alert %q, want it to say %q", page.alert(), tt.alert)
			}
		})
	}
}

func TestForgotAnswersAnUnknownAddressTheSameWithoutMail(t *testing.T) {
	h := newHarness(t, withMail)
	signedInBrowser(t, h)
	h.sendMail(t, "ann@example.com")
	floor := account.DefaultEmailRules().ResetAnswerAfter
	start := time.Now()
	known := h.requestReset("ann@example.com")
	knownTook := time.Since(start)
	h.sendMail(t, "ann@example.com")
	start = time.Now()
	unknown := h.requestReset("nobody@example.com")
	unknownTook := time.Since(start)
	h.noMail(t)
	if knownTook < floor || unknownTook < floor {
		t.Fatalf("answers took %v (account) and %v (none); want both at least %v", knownTook, unknownTook, floor)
	}
	normalize := func(s string) string { return strings.ReplaceAll(s, "nobody@example.com", "ann@example.com") }
	if known.status != unknown.status || known.body != normalize(unknown.body) {
		t.Fatalf("known: %d, unknown: %d; the pages differ", known.status, unknown.status)
	}
}

func TestMailIsSentAfterTheRelayRecovers(t *testing.T) {
	h := newHarness(t, withMail)
	h.relay.down.Store(true)
	signedInBrowser(t, h)
	if n, err := h.mailDispatcher.RunOnce(context.Background()); err != nil || n != 0 {
		t.Fatalf("relay down: sent %d, %v; want the mail kept for a retry", n, err)
	}
	h.relay.down.Store(false)
	h.clock.Advance(time.Minute) // past the backoff
	link := h.sendMail(t, "ann@example.com")
	h.do(h.browser(), "GET", link, nil).expect(t, 200, "verify-email")
}

func TestMailLimitsPerAddressAndPerIP(t *testing.T) {
	for _, email := range []string{"ann@example.com", "nobody@example.com"} {
		t.Run("per address: "+email, func(t *testing.T) {
			h := newHarness(t, withMail)
			signedInBrowser(t, h) // one verification mail to ann
			sent := 0
			if email == "ann@example.com" {
				sent = 1
			}
			for i := sent; i < 3; i++ {
				h.requestReset(email).expect(t, 200, "forgot")
			}
			h.requestReset(email).expect(t, 429, "forgot")
		})
	}
	t.Run("per IP", func(t *testing.T) {
		h := newHarness(t, withMail)
		for i := range 10 {
			h.requestReset("user"+string(rune('a'+i))+"@example.com").expect(t, 200, "forgot")
		}
		h.requestReset("another@example.com").expect(t, 429, "forgot")
	})
}

func TestResetChallengesThePhoneBeforeTheNewPassword(t *testing.T) {
	h := newHarness(t, func(o *options) { o.plivo, o.mail = true, true })
	b := signedInBrowser(t, h)
	h.sendMail(t, "ann@example.com")
	h.enroll(t, b, "/account")

	h.requestReset("ann@example.com")
	link := h.sendMail(t, "ann@example.com")
	r := h.browser()
	h.do(r, "GET", link, nil)
	h.do(r, "GET", "/reset", nil).expect(t, 200, "reset-challenge")
	code := h.sendSMS(t)
	// The password cannot be set before the code.
	early := h.do(r, "POST", "/reset", url.Values{"step": {"password"}, "password": {"a brand new phrase"}})
	early.expect(t, 403, "reset-challenge")
	h.logIn(h.browser(), "ann@example.com", goodPassword).expectRedirect(t, "/account")

	h.do(r, "POST", "/reset", url.Values{"step": {"code"}, "code": {"000000"}}).expect(t, 400, "reset-challenge")
	h.do(r, "POST", "/reset", url.Values{"step": {"code"}, "code": {code}}).expectRedirect(t, "/reset")
	h.do(r, "GET", "/reset", nil).expect(t, 200, "reset")
	h.do(r, "POST", "/reset", url.Values{"step": {"password"}, "password": {"a brand new phrase"}}).
		expectRedirect(t, "/login?password_reset=1")

	// The next login still meets the policy.
	h.setPolicy(t, mfa.PolicyAlways)
	b2 := h.browser()
	h.logIn(b2, "ann@example.com", "a brand new phrase").expectRedirect(t, "/account")
	h.do(b2, "GET", "/account", nil).expectRedirect(t, "/mfa/challenge?return_to=%2Faccount")
}

func TestResetWithOnlyAnAuthenticatorAppAsksForItsCode(t *testing.T) {
	h := newHarness(t, func(o *options) { o.plivo, o.mail = true, true })
	b := signedInBrowser(t, h)
	h.sendMail(t, "ann@example.com")
	secret := h.setUpApp(t, b)

	r, page := h.followResetLink(t, "ann@example.com")
	page.expect(t, 200, "reset-challenge")
	if !strings.Contains(page.body, "authenticator app") || len(h.plivo.Messages()) != 0 {
		t.Fatalf("app-only user: page asks for the app's code %v, %d SMS sent; want the app and no SMS",
			strings.Contains(page.body, "authenticator app"), len(h.plivo.Messages()))
	}
	h.do(r, "POST", "/reset", url.Values{"step": {"code"}, "code": {"000000"}}).expect(t, 400, "reset-challenge")
	code := totpCode(t, secret, h.clock.Now().Add(30*time.Second))
	h.do(r, "POST", "/reset", url.Values{"step": {"code"}, "code": {code}}).expectRedirect(t, "/reset")
	h.do(r, "POST", "/reset", url.Values{"step": {"password"}, "password": {"a brand new phrase"}}).
		expectRedirect(t, "/login?password_reset=1")
}
