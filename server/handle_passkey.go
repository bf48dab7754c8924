package server

import (
	"cmp"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/gatehouse-id/gatehouse/account"
	"github.com/gatehouse-id/gatehouse/assurance"
	"github.com/gatehouse-id/gatehouse/mfa"
	"github.com/gatehouse-id/gatehouse/passkey"
)

// Passkeys: set up from the security page (or as the enrollment a policy
// asks for), passed as a second factor, or used to sign in without a
// password. Each ceremony is begun by one request and finished by the form
// post that carries the browser's answer; the passkey package keeps the
// challenge in Postgres, bound to this browser, for one use.

// passkeyCeremony is what a page hands passkey.js.
type passkeyCeremony struct {
	Mode       string // register, get or discoverable
	Ceremony   string
	Options    string // the JSON the browser's WebAuthn call takes
	OptionsURL string // discoverable: where fresh options are fetched
}

// passkeyView is one of the user's passkeys on the security page.
type passkeyView struct {
	ID            string
	Name          string
	Authenticator string
	Synced        bool
	Created       string
	LastUsed      string
	CloneWarning  bool
}

// sessionBinding ties a ceremony to the browser session that began it.
func sessionBinding(si signedIn) string { return "session:" + sessionID(si.session) }

// passkeyLoginCookie holds a random value that ties a passwordless ceremony
// to the browser that asked for its options.
const passkeyLoginCookie = "gatehouse_passkey"

func (s *Server) loginBinding(w http.ResponseWriter, r *http.Request) string {
	var raw string
	if c, err := r.Cookie(passkeyLoginCookie); err == nil && len(c.Value) >= 26 && len(c.Value) <= 64 {
		raw = c.Value
	} else if w != nil {
		raw = rand.Text()
		http.SetCookie(w, &http.Cookie{Name: passkeyLoginCookie, Value: raw, Path: s.base + "login", MaxAge: 900,
			HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteStrictMode})
	}
	if raw == "" {
		return ""
	}
	sum := sha256.Sum256([]byte(raw))
	return "login:" + base64.RawURLEncoding.EncodeToString(sum[:])
}

// passkeyMessage is what a person reads when a ceremony fails, and the
// status; "" for an error that is the server's.
func passkeyMessage(err error) (string, int) {
	switch {
	case errors.Is(err, passkey.ErrCeremonyNotFound):
		return "passkey.expired", http.StatusBadRequest
	case errors.Is(err, passkey.ErrUserVerificationRequired):
		return "passkey.no_user_verification", http.StatusUnauthorized
	case errors.Is(err, passkey.ErrCloned):
		return "passkey.cloned", http.StatusUnauthorized
	case errors.Is(err, passkey.ErrUnknownCredential), errors.Is(err, passkey.ErrVerification):
		return "passkey.not_accepted", http.StatusUnauthorized
	case errors.Is(err, passkey.ErrAlreadyRegistered):
		return "passkey.already_registered", http.StatusConflict
	case errors.Is(err, passkey.ErrTooMany):
		return "passkey.too_many", http.StatusConflict
	case errors.Is(err, passkey.ErrBadName):
		return "passkey.bad_name", http.StatusBadRequest
	case errors.Is(err, passkey.ErrNoCredentials):
		return "passkey.none", http.StatusBadRequest
	}
	return "", 0
}

// passkeyRegisterView is the page that creates a passkey: from the security
// page, or as the enrollment the authority asked for.
func (s *Server) passkeyRegisterView(r *http.Request, si signedIn) (view, error) {
	v := s.newView(r, "passkey-enroll", "title.passkey_enroll")
	v.ReturnTo = s.safeReturnTo(r.URL.Query().Get("return_to"))
	if r.Method == http.MethodPost {
		v.ReturnTo = s.safeReturnTo(r.PostForm.Get("return_to"))
	}
	id, options, err := s.passkeys.BeginRegistration(r.Context(), passkeyUser(si.user), sessionBinding(si))
	if err != nil {
		return v, err
	}
	v.Passkey = &passkeyCeremony{Mode: "register", Ceremony: id, Options: string(options)}
	v.Name = describeUserAgent(r.UserAgent())
	return v, nil
}

func passkeyUser(u account.User) passkey.User {
	return passkey.User{ID: u.ID, Name: u.Email, DisplayName: cmp.Or(u.Name, u.Email)}
}

func (s *Server) handlePasskeyRegisterForm() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v, err := s.passkeyRegisterView(r, mustSession(r))
		if errors.Is(err, passkey.ErrTooMany) {
			s.toSecurity(w, r, "passkey-too-many")
			return
		}
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		s.render(w, r, http.StatusOK, "passkey-enroll", v)
	})
}

// handlePasskeyRegister stores the passkey the browser created.
func (s *Server) handlePasskeyRegister() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.parseForm(w, r) {
			return
		}
		ctx := r.Context()
		si := mustSession(r)
		returnTo := s.safeReturnTo(r.PostForm.Get("return_to"))
		first := decision(r).FirstEnrollment
		var cred passkey.Credential
		finish := func(ctx context.Context) (err error) {
			cred, err = s.passkeys.FinishRegistration(ctx, passkeyUser(si.user), sessionBinding(si),
				r.PostForm.Get("ceremony"), r.PostForm.Get("name"), []byte(r.PostForm.Get("response")))
			return err
		}
		var err error
		if first {
			// Admitted with no factor: under the user's lock, one added
			// meanwhile by another session refuses this one, which would
			// otherwise be a second factor added unproved.
			err = s.mfa.EnrollAlongside(ctx, si.user.ID, true, finish)
		} else {
			err = finish(ctx)
		}
		if errors.Is(err, mfa.ErrFactorExists) {
			http.Redirect(w, r, s.base+"account/passkeys/new"+returnQuery(returnTo), http.StatusSeeOther)
			return
		}
		if err != nil {
			msg, status := passkeyMessage(err)
			if msg == "" {
				s.serverError(w, r, err)
				return
			}
			v, verr := s.passkeyRegisterView(r, si)
			if errors.Is(verr, passkey.ErrTooMany) {
				s.toSecurity(w, r, "passkey-too-many")
				return
			}
			if verr != nil {
				s.serverError(w, r, verr)
				return
			}
			v.Error = msg
			v.Name = r.PostForm.Get("name")
			s.render(w, r, status, "passkey-enroll", v)
			return
		}
		s.securityChanged(r, si, account.ChangePasskeyAdded, map[string]any{"passkey": cred.Name, "authenticator": cred.Authenticator})
		if first {
			// A first factor set up counts as one passed, as a verified
			// phone does. Not as a passkey passed: only an assertion by a
			// passkey the user already held proves phishing resistance, so
			// a policy that asks for it asks once more.
			if _, err := s.secondFactorPassed(w, r, si); err != nil {
				s.serverError(w, r, err)
				return
			}
		}
		if returnTo == "" {
			returnTo = s.base + securityPath + "?done=passkey-added"
		}
		http.Redirect(w, r, returnTo, http.StatusSeeOther)
	})
}

// passkeyProveView is the second-factor screen of a user's passkeys.
func (s *Server) passkeyProveView(r *http.Request, si signedIn) (view, error) {
	v := s.mfaView(r, "passkey", "Use your passkey")
	d := decision(r)
	v.HasTOTP = slices.Contains(d.Usable, assurance.KindApp)
	v.HasPhone = slices.Contains(d.Usable, assurance.KindPhone)
	v.RecoveryAction = "mfa/totp"
	id, options, err := s.passkeys.BeginLogin(r.Context(), si.user.ID, sessionBinding(si))
	if err != nil {
		return v, err
	}
	v.Passkey = &passkeyCeremony{Mode: "get", Ceremony: id, Options: string(options)}
	return v, nil
}

func (s *Server) handlePasskeyForm() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v, err := s.passkeyProveView(r, mustSession(r))
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		s.render(w, r, http.StatusOK, "passkey", v)
	})
}

// handlePasskey checks the browser's assertion as the session's second
// factor.
func (s *Server) handlePasskey() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.parseForm(w, r) {
			return
		}
		si := mustSession(r)
		a, err := s.passkeys.FinishLogin(r.Context(), si.user.ID, sessionBinding(si), r.PostForm.Get("ceremony"),
			[]byte(r.PostForm.Get("response")))
		if err != nil {
			msg, status := passkeyMessage(err)
			if msg == "" {
				s.serverError(w, r, err)
				return
			}
			s.metrics.challenge("failed")
			s.audit(r, account.Event{Type: "mfa.passkey_failed", UserID: si.user.ID, Subject: si.user.Email,
				Details: map[string]any{"reason": passkeyReason(err)}})
			v, verr := s.passkeyProveView(r, si)
			if verr != nil {
				s.serverError(w, r, verr)
				return
			}
			v.Error = msg
			s.render(w, r, status, "passkey", v)
			return
		}
		s.metrics.challenge("passed")
		s.audit(r, account.Event{Type: "mfa.passkey_passed", UserID: si.user.ID, Subject: si.user.Email,
			Details: map[string]any{"passkey": a.Credential.Name, "amr": a.Credential.Method()}})
		if _, err := s.secondFactorPassed(w, r, si, a.Credential.Method()); err != nil {
			s.serverError(w, r, err)
			return
		}
		http.Redirect(w, r, s.afterLogin(r.PostForm.Get("return_to")), http.StatusSeeOther)
	})
}

// passkeyReason names a refused ceremony for the audit log.
func passkeyReason(err error) string {
	for _, e := range []struct {
		err    error
		reason string
	}{{passkey.ErrCeremonyNotFound, "ceremony_not_found"}, {passkey.ErrCloned, "cloned"},
		{passkey.ErrUnknownCredential, "unknown_credential"}, {passkey.ErrUserVerificationRequired, "no_user_verification"},
		{passkey.ErrVerification, "verification"}} {
		if errors.Is(err, e.err) {
			return e.reason
		}
	}
	return "error"
}

// handlePasskeyLoginOptions begins a passwordless ceremony for the login
// page's script. Anyone may ask, so each answer costs one short-lived row
// and the options carry no account's credentials.
func (s *Server) handlePasskeyLoginOptions() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.passkeysOn(r) {
			http.Error(w, `{"error":"passkeys are turned off"}`, http.StatusNotFound)
			return
		}
		id, options, err := s.passkeys.BeginDiscoverable(r.Context(), s.loginBinding(w, r), clientIP(r.Context()))
		if errors.Is(err, passkey.ErrTooManyCeremonies) {
			w.Header().Set("Retry-After", "60")
			http.Error(w, `{"error":"too many passkey sign-ins from your network; wait a minute"}`, http.StatusTooManyRequests)
			return
		}
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		json.NewEncoder(w).Encode(map[string]any{"ceremony": id, "options": json.RawMessage(options)})
	})
}

// handlePasskeyLogin signs in with a discoverable, user-verifying passkey:
// two factors at once, so the session needs no code after it.
func (s *Server) handlePasskeyLogin() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.parseForm(w, r) {
			return
		}
		v := s.loginView(r)
		v.ReturnTo = s.safeReturnTo(r.PostForm.Get("return_to"))
		if !s.passkeysOn(r) {
			v.Error = "passkey.off"
			s.render(w, r, http.StatusBadRequest, "login", v)
			return
		}
		binding := s.loginBinding(nil, r)
		if binding == "" {
			v.Error, _ = passkeyMessage(passkey.ErrCeremonyNotFound)
			s.render(w, r, http.StatusBadRequest, "login", v)
			return
		}
		a, err := s.passkeys.FinishDiscoverable(r.Context(), binding, r.PostForm.Get("ceremony"), []byte(r.PostForm.Get("response")))
		if err != nil {
			msg, status := passkeyMessage(err)
			if msg == "" {
				s.serverError(w, r, err)
				return
			}
			s.metrics.login("passkey_refused")
			s.audit(r, account.Event{Type: account.EventLoginFailed, UserID: a.UserID,
				Details: map[string]any{"passkey": true, "reason": passkeyReason(err)}})
			v.Error = msg
			s.render(w, r, status, "login", v)
			return
		}
		user, err := s.accounts.LoginWithPasskey(r.Context(), a.UserID, a.Credential.Method(), meta(r))
		if err != nil {
			s.loginRefused(w, r, v, err)
			return
		}
		s.metrics.login("success")
		s.startSessionWith(w, r, user, []string{a.Credential.Method(), "mfa"}, v.ReturnTo)
	})
}

// passkeysOn reports whether the admin lets passkeys be used now.
func (s *Server) passkeysOn(r *http.Request) bool {
	if s.passkeys == nil {
		return false
	}
	t, err := s.tenant(r.Context())
	return err == nil && t.PasskeysEnabled()
}

// userPasskeys lists a user's passkeys for a page.
func (s *Server) userPasskeys(r *http.Request, userID string) ([]passkeyView, error) {
	if s.passkeys == nil {
		return nil, nil
	}
	creds, err := s.passkeys.List(r.Context(), userID)
	if err != nil {
		return nil, err
	}
	now, loc := s.now(), s.localizer(r)
	out := make([]passkeyView, 0, len(creds))
	for _, c := range creds {
		pv := passkeyView{ID: base64.RawURLEncoding.EncodeToString(c.ID), Name: c.Name, Authenticator: c.Authenticator,
			Synced: c.BackupEligible, Created: longDate(loc, c.CreatedAt), CloneWarning: c.CloneWarning}
		if !c.LastUsedAt.IsZero() {
			pv.LastUsed = agoIn(loc, now, c.LastUsedAt)
		}
		out = append(out, pv)
	}
	return out, nil
}

// securityChanged audits a change the user made to their passkeys and
// mails them about it.
func (s *Server) securityChanged(r *http.Request, si signedIn, change account.SecurityChange, details map[string]any) {
	s.audit(r, account.Event{Type: "mfa." + string(change), UserID: si.user.ID, Subject: si.user.Email, Details: details})
	s.announce(r, si.user, change)
}

// passkeyID reads a passkey id a form posted.
func passkeyID(v string) []byte {
	id, err := base64.RawURLEncoding.DecodeString(strings.TrimSpace(v))
	if err != nil || len(id) == 0 || len(id) > 1023 {
		return nil
	}
	return id
}

// handlePasskeyRename names one of the user's passkeys.
func (s *Server) handlePasskeyRename() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.parseForm(w, r) {
			return
		}
		si := mustSession(r)
		err := s.passkeys.Rename(r.Context(), si.user.ID, passkeyID(r.PostForm.Get("id")), r.PostForm.Get("name"))
		switch {
		case err == nil:
			s.toSecurity(w, r, "passkey-renamed")
		case errors.Is(err, passkey.ErrBadName):
			s.toSecurity(w, r, "passkey-bad-name")
		case errors.Is(err, passkey.ErrUnknownCredential):
			s.toSecurity(w, r, "stale")
		default:
			s.serverError(w, r, err)
		}
	})
}

// handlePasskeyRemove removes one of the user's passkeys.
func (s *Server) handlePasskeyRemove() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.parseForm(w, r) {
			return
		}
		si := mustSession(r)
		cred, err := s.removePasskey(r, si.user.ID, passkeyID(r.PostForm.Get("id")))
		switch {
		case err == nil:
			s.securityChanged(r, si, account.ChangePasskeyRemoved, map[string]any{"passkey": cred.Name})
			s.toSecurity(w, r, "passkey-removed")
		case errors.Is(err, passkey.ErrUnknownCredential):
			s.toSecurity(w, r, "stale")
		default:
			s.serverError(w, r, err)
		}
	})
}
