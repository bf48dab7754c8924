package server

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/gatehouse-id/gatehouse/account"
	"github.com/gatehouse-id/gatehouse/assurance"
	"github.com/gatehouse-id/gatehouse/mfa"
	"github.com/gatehouse-id/gatehouse/mfa/risk"
)

// Every door asks the assurance authority what the session must prove before
// it may go on; this file turns the question into an assurance.Request and
// the answer into a redirect or a page. No handler decides on its own.

// newAuthority builds the authority on the server's collaborators: with no
// MFA service there are no factors and the policy is never.
func (s *Server) newAuthority(assessor *risk.Engine) *assurance.Authority {
	d := assurance.Deps{Policies: tenantPolicy{s, s.mfa != nil}, Recorder: recorder{s}, Now: s.now}
	if s.mfa != nil {
		d.Factors = assurance.Standard(s.mfa, func(ctx context.Context) (bool, error) {
			t, err := s.tenant(ctx)
			return t.PhoneEnabled(), err
		})
		if s.passkeys != nil {
			d.Factors = assurance.WithPasskeys(s.passkeys, func(ctx context.Context) (bool, error) {
				t, err := s.tenant(ctx)
				return t.PasskeysEnabled(), err
			}, d.Factors)
		}
		d.Enrollment = []assurance.Kind{assurance.KindPhone, assurance.KindApp, assurance.KindPasskey}
		d.Locks = s.mfa
	}
	if assessor != nil {
		d.Assessor = assessor
	}
	return assurance.New(d)
}

type tenantPolicy struct {
	s   *Server
	mfa bool
}

func (p tenantPolicy) Policy(ctx context.Context) (mfa.Policy, error) {
	if !p.mfa {
		return mfa.PolicyNever, nil
	}
	t, err := p.s.tenant(ctx)
	return t.Policy(), err
}

// decide asks the authority about this browser's session.
func (s *Server) decide(r *http.Request, si signedIn, p assurance.Purpose) (assurance.Decision, error) {
	ctx := r.Context()
	req := assurance.Request{
		User: assurance.User{ID: si.user.ID, Admin: si.user.Admin, Blocked: si.user.Blocked},
		Session: assurance.Session{Methods: si.session.AMR, SecondFactorAt: si.session.SecondFactorAt, PasskeyAt: si.session.PasskeyAt,
			RiskDecision: si.session.RiskDecision},
		Purpose: p,
		Attempt: risk.Attempt{UserID: si.user.ID, IP: clientIP(ctx), DeviceHash: deviceHash(r), At: s.now()},
		Caller:  caller{si, r},
	}
	if s.mfa != nil {
		req.RememberedBrowser = func() (bool, error) { return s.rememberedBrowser(r, si) }
	}
	return s.authority.Decide(ctx, req)
}

// stepPath is the screen of a step the authority asked for: the one place
// that knows which screen serves which factor.
func stepPath(d assurance.Decision) string {
	if len(d.Factors) == 0 {
		return ""
	}
	switch d.Step {
	case assurance.Enroll:
		switch d.Factors[0] {
		case assurance.KindPhone:
			return "mfa/enroll"
		case assurance.KindPasskey:
			return "account/passkeys/new"
		}
		return "account/totp"
	case assurance.Challenge:
		switch d.Factors[0] {
		case assurance.KindPhone:
			return "mfa/challenge"
		case assurance.KindPasskey:
			return "mfa/passkey"
		}
		return "mfa/totp"
	}
	return ""
}

// require admits a signed-in browser once the authority says the purpose
// may go on; otherwise it sends the browser to the step (coming back to
// returnTo, or to this page for a GET) or shows why not.
func (s *Server) require(purpose func(r *http.Request) assurance.Purpose, next http.Handler) http.Handler {
	return s.requirePassword(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		si := mustSession(r)
		d, err := s.decide(r, si, purpose(r))
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		if d.Step == assurance.Done {
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), decisionKey{}, d)))
			return
		}
		returnTo := r.URL.RequestURI()
		if r.Method != http.MethodGet {
			// A form cannot be replayed after the step; come back to the
			// page it belongs to.
			returnTo = s.formPage(r.URL.Path)
		}
		s.renderDecision(w, r, d, returnTo)
	}))
}

// formPage is the page a form posted to path lives on.
func (s *Server) formPage(path string) string {
	switch {
	case strings.HasPrefix(path, s.base+"admin/"):
		return s.base + "admin/"
	case path == s.base+"account/password", path == s.base+"account/email/verify",
		!strings.HasPrefix(path, s.base+"account/"):
		return s.base + "account"
	}
	return s.base + securityPath
}

// renderDecision answers a decision other than Done.
func (s *Server) renderDecision(w http.ResponseWriter, r *http.Request, d assurance.Decision, returnTo string) {
	switch d.Step {
	case assurance.Enroll, assurance.Challenge:
		if path := stepPath(d); path != "" {
			q := "?return_to=" + urlQueryEscape(returnTo)
			if d.Reauthenticate {
				q += "&reauth=1"
			}
			http.Redirect(w, r, s.base+path+q, http.StatusSeeOther)
			return
		}
	case assurance.Locked:
		msg, status := s.mfaMessage(s.localizer(r), d.Lock)
		s.renderMessage(w, r, status, "assurance.locked.title", msg)
		return
	}
	title, msg := refusalText(d.Refusal)
	s.renderMessage(w, r, http.StatusForbidden, title, msg)
}

func refusalText(r assurance.Refusal) (string, string) {
	switch r {
	case assurance.RefusedNotAdmin:
		return "assurance.admins_only.title", "assurance.admins_only.message"
	case assurance.RefusedFactorDisabled:
		return "assurance.factor_disabled.title", "assurance.factor_disabled.message"
	case assurance.RefusedNoUsableFactor:
		return "assurance.no_usable_factor.title", "assurance.no_usable_factor.message"
	case assurance.RefusedNoFactorOffered:
		return "assurance.no_factor_offered.title", "assurance.no_factor_offered.message"
	}
	return "assurance.not_allowed.title", "assurance.not_allowed.message"
}

type decisionKey struct{}

// decision is the authority's answer that admitted this request.
func decision(r *http.Request) assurance.Decision {
	d, _ := r.Context().Value(decisionKey{}).(assurance.Decision)
	return d
}

// purpose helpers for routes.go.
func purpose(a assurance.Action) func(*http.Request) assurance.Purpose {
	return func(*http.Request) assurance.Purpose { return assurance.Purpose{Action: a} }
}

func enrolling(k assurance.Kind) func(*http.Request) assurance.Purpose {
	return func(*http.Request) assurance.Purpose {
		return assurance.Purpose{Action: assurance.EnrollFactor, Factor: k}
	}
}

func proving(kinds ...assurance.Kind) func(*http.Request) assurance.Purpose {
	return func(*http.Request) assurance.Purpose {
		return assurance.Purpose{Action: assurance.ProveFactor, Screen: kinds}
	}
}

// secondFactorPassed records a passed second factor: the session is renewed
// (a new cookie) with the methods, and the login counts in the device
// history.
func (s *Server) secondFactorPassed(w http.ResponseWriter, r *http.Request, si signedIn, methods ...string) (signedIn, error) {
	token, sess, err := s.accounts.PassSecondFactor(r.Context(), si.session, append(methods, "mfa")...)
	if err != nil {
		return si, err
	}
	s.setSessionCookie(w, token, sess.ExpiresAt)
	si.session = sess
	return si, s.notePassed(r, si)
}

// notePassed tells the authority a second factor passed in the session.
func (s *Server) notePassed(r *http.Request, si signedIn) error {
	req := assurance.Request{User: assurance.User{ID: si.user.ID},
		Attempt: risk.Attempt{UserID: si.user.ID, IP: clientIP(r.Context()), DeviceHash: deviceHash(r), At: s.now()},
		Caller:  caller{si, r}}
	return s.authority.Passed(r.Context(), req)
}

// recorder keeps what the authority's decisions leave behind.
type recorder struct{ s *Server }

// caller is the server's handle on a request the authority decides about,
// which the recorder needs to write on the session.
type caller struct {
	si signedIn
	r  *http.Request
}

func (rec recorder) from(req assurance.Request) (caller, error) {
	c, ok := req.Caller.(caller)
	if !ok {
		return c, errors.New("record: the request names no session")
	}
	return c, nil
}

func (rec recorder) RecordAssessment(ctx context.Context, req assurance.Request, a risk.Assessment) error {
	rc, err := rec.from(req)
	if err != nil {
		return err
	}
	s := rec.s
	m := meta(rc.r)
	if err := s.store.Record(ctx, account.Event{At: s.now(), Type: "mfa.risk_assessed", UserID: rc.si.user.ID, Subject: a.Summary,
		IP: m.IP, UserAgent: m.UserAgent, RequestID: m.RequestID, Details: assessmentRecord(a)}); err != nil {
		s.logger(ctx).Error("audit log write failed", "event", "mfa.risk_assessed", "err", err)
	}
	decision := "allow"
	if a.Challenge {
		decision = "challenge"
	}
	_, err = s.accounts.SetRiskDecision(ctx, rc.si.session, decision)
	return err
}

// NoteLogin adds a login the policy accepted (a passed second factor, a
// remembered browser, an adaptive "allow") to the user's history, which the
// risk signals compare new logins with, once per session.
func (rec recorder) NoteLogin(ctx context.Context, req assurance.Request) error {
	rc, err := rec.from(req)
	if err != nil {
		return err
	}
	if rc.si.session.RiskDecision == "allow" {
		return nil
	}
	s := rec.s
	ip := req.Attempt.IP
	var country string
	if s.locator != nil {
		if place, ok := s.locator.Locate(ip); ok {
			country = place.Country
		}
	}
	if err := s.store.AddLogin(ctx, risk.Login{UserID: req.Attempt.UserID, At: req.Attempt.At, IP: ip, Country: country,
		DeviceHash: req.Attempt.DeviceHash}); err != nil {
		return err
	}
	_, err = s.accounts.SetRiskDecision(ctx, rc.si.session, "allow")
	return err
}
