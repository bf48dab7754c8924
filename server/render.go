package server

import (
	"bytes"
	"errors"
	"html/template"
	"net/http"

	"github.com/gatehouse-id/gatehouse/account"
	"github.com/gatehouse-id/gatehouse/i18n"
	"github.com/gatehouse-id/gatehouse/password"
)

var pageNames = []string{"login", "signup", "account", "security", "logout", "error", "enroll", "challenge", "recovery", "totp", "totp-setup", "passkey", "passkey-enroll",
	"forgot", "reset", "verify-email"}

// view is the data every page template receives; each page reads the fields
// it needs.
type view struct {
	Title     string
	AppName   string
	Screen    string
	Base      string
	Error     string
	Notice    string
	RequestID string
	User      *viewUser
	Brand     *brandView // the application's or the tenant's look; nil: Gatehouse's

	// Admin console pages: a wide page with the console's navigation.
	Wide    bool
	Section string
	CSRF    string

	Email       string
	Name        string
	ReturnTo    string
	MinLength   int
	MaxLength   int
	MemberSince string
	Message     string

	// MFA screens.
	Countries      []country
	Phone          string
	PhoneExample   string // a mobile number of the selected country, for the hint
	MaskedPhone    string
	Step           string // enroll: "phone" or "code"
	ResendIn       int    // seconds until a new code may be sent
	RecoveryCodes  []string
	RecoveryFile   template.URL // the codes as a text file, for the download link
	RecoveryMAC    string       // vouches for the codes the confirm form posts back
	AttemptsLeft   int
	RememberDays   int    // 0: the "remember this browser" box is not offered
	RecoveryAction string // where the code screen's recovery-code form posts
	NoCode         bool   // no code can be typed: none was sent, or the challenge took its last
	SendBlocked    bool   // a limit or lock refuses new codes for now; the error says until when

	// Security page.
	Sessions          []deviceView
	Browsers          []deviceView
	PhoneAvailable    bool   // the admin allows phones: one may be added
	PasskeysAvailable bool   // the admin allows passkeys: one may be added
	PhoneID           string // the enrolled phone's factor, which its remove form names
	RecoveryCodesLeft int

	// Passkeys: the ceremony a page runs (its script is loaded only then),
	// and the user's passkeys.
	Passkey    *passkeyCeremony
	HasPasskey bool
	Passkeys   []passkeyView

	// TOTP.
	TOTPAvailable bool
	HasTOTP       bool
	HasPhone      bool
	TOTPSecret    string

	// Account page: whether a verification link can be mailed, and was
	// for the present address.
	SendsVerification bool
	VerificationSent  bool
	Languages         []languageOption // the language menu; none selected: automatic

	// Password reset.
	Sent bool // forgot: the "check your email" answer

	// loc is the request's language. Title, Error, Notice and Message may
	// hold message keys; render writes them out in this language.
	loc *i18n.Localizer
}

type viewUser struct {
	Email         string
	EmailVerified bool
	Name          string
}

func (s *Server) newView(r *http.Request, screen, title string) view {
	return view{
		Title:     title,
		AppName:   s.cfg.AppName,
		Screen:    screen,
		Base:      s.base,
		RequestID: requestID(r.Context()),
		MinLength: password.MinLength,
		MaxLength: password.MaxLength,
		loc:       s.localizer(r),
	}
}

func userView(u account.User) *viewUser {
	return &viewUser{Email: u.Email, EmailVerified: u.EmailVerified, Name: u.Name}
}

// render writes a page.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, page string, v view) {
	s.applyLook(r, &v, status)
	loc := v.loc
	if loc == nil {
		loc = s.english()
	}
	v.Title, v.Error, v.Notice, v.Message = loc.Text(v.Title), loc.Text(v.Error), loc.Text(v.Notice), loc.Text(v.Message)
	t, err := s.pages.page(loc.Lang(), page)
	if err != nil {
		s.logger(r.Context()).Error("render page", "page", page, "err", err)
		http.Error(w, "Internal Server Error", http.StatusInternalServerError)
		return
	}
	s.execute(w, r, status, page, t, v)
}

// T renders a message key in the page's language.
func (v view) T(key string, args ...any) string {
	if v.loc == nil {
		return key
	}
	return v.loc.T(key, args...)
}

// execute renders a page's template set into a buffer first, so that a
// template error becomes a clean 500 instead of half a page.
func (s *Server) execute(w http.ResponseWriter, r *http.Request, status int, page string, t *template.Template, data any) {
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", data); err != nil {
		s.logger(r.Context()).Error("render page", "page", page, "err", err)
		http.Error(w, "Internal Server Error", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	if csp := pagePolicy(data); csp != contentSecurityPolicy {
		h.Set("Content-Security-Policy", csp)
	}
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// runsScript reports whether a page runs a passkey ceremony, the only
// script the hosted pages have.
func runsScript(data any) bool {
	switch v := data.(type) {
	case view:
		return v.Passkey != nil
	case adminView:
		return v.Passkey != nil
	}
	return false
}

// errorTexts are the message keys of what a person reads for each status on
// the error page.
var errorTexts = map[int][2]string{
	http.StatusBadRequest:            {"error.400.title", "error.400.message"},
	http.StatusForbidden:             {"error.403.title", "error.403.message"},
	http.StatusNotFound:              {"error.404.title", "error.404.message"},
	http.StatusRequestEntityTooLarge: {"error.413.title", "error.413.message"},
	http.StatusServiceUnavailable:    {"error.503.title", "error.503.message"},
	http.StatusInternalServerError:   {"error.500.title", "error.500.message"},
}

// renderError shows the error page for status, in words a person understands
// and with the request id to quote to support.
func (s *Server) renderError(w http.ResponseWriter, r *http.Request, status int) {
	text, ok := errorTexts[status]
	if !ok {
		text = errorTexts[http.StatusInternalServerError]
	}
	v := s.newView(r, "error", text[0])
	v.Message = text[1]
	s.render(w, r, status, "error", v)
}

// renderMessage shows the error page with a specific title and explanation.
func (s *Server) renderMessage(w http.ResponseWriter, r *http.Request, status int, title, message string) {
	v := s.newView(r, "error", title)
	v.Message = message
	s.render(w, r, status, "error", v)
}

// serverError logs err and shows the error page. When the database does not
// answer, the failure is an outage rather than a bug: the person gets 503 and
// a "try again in a moment", and a load balancer a Retry-After.
func (s *Server) serverError(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, account.ErrNoSession) {
		// The session ended under this request: a logout elsewhere, or a
		// second request that passed the same second factor and renewed it
		// first. Log in again, as for any ended session.
		s.clearSessionCookie(w)
		http.Redirect(w, r, s.base+"login?return_to="+urlQueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
		return
	}
	if s.unavailable(r.Context(), err) {
		s.logger(r.Context()).Warn("database unavailable", "path", r.URL.Path, "err", err)
		w.Header().Set("Retry-After", retryAfterOutage)
		s.renderError(w, r, http.StatusServiceUnavailable)
		return
	}
	s.logger(r.Context()).Error("request failed", "path", r.URL.Path, "err", err)
	s.renderError(w, r, http.StatusInternalServerError)
}
