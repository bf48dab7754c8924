package server

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ory/fosite"

	"github.com/gatehouse-id/gatehouse/account"
	"github.com/gatehouse-id/gatehouse/assurance"
	"github.com/gatehouse-id/gatehouse/claims"
	"github.com/gatehouse-id/gatehouse/mfa/risk"
	"github.com/gatehouse-id/gatehouse/store"
)

// handleAuthorize is the OAuth authorization endpoint and the login flow's
// dispatcher. It validates the request (client, redirect URI, PKCE, scopes,
// audience) before any screen, then decides the next step from the browser's
// session: answer at once, or park the request in a login transaction and
// send the browser to the login (or signup) screen, which comes back to
// handleAuthorizeResume.
func (s *Server) handleAuthorize() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.authorize(w, r, "", s.now())
	})
}

// handleAuthorizeResume continues a parked authorization request once a step
// is done. The request is validated again from its stored parameters.
func (s *Server) handleAuthorizeResume() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		txID := r.URL.Query().Get("tx")
		tx, err := s.store.LoginTransaction(r.Context(), txID, s.now())
		if errors.Is(err, store.ErrTransactionNotFound) {
			s.renderMessage(w, r, http.StatusBadRequest, "authorize.expired.title", "authorize.expired.message")
			return
		}
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		replay := r.Clone(r.Context())
		replay.URL.RawQuery = tx.RequestForm
		replay.Form, replay.PostForm = nil, nil
		s.authorize(w, replay, txID, tx.CreatedAt)
	})
}

func (s *Server) authorize(w http.ResponseWriter, r *http.Request, txID string, requestedAt time.Time) {
	ctx := r.Context()
	ar, err := s.oauth.NewAuthorizeRequest(ctx, r)
	if err == nil && !trustedRedirect(ar) {
		err = errRedirectNotRegistered
	}
	if err == nil {
		err = checkPKCE(ar)
	}
	if trustedRedirect(ar) && ar.GetResponseMode() == fosite.ResponseModeFormPost {
		allowFormPost(w, ar.GetRedirectURI())
	}
	if err != nil {
		s.authorizeError(w, r, ar, err)
		return
	}
	si, signedIn, err := s.currentSession(r)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	form := ar.GetRequestForm()
	prompts := strings.Fields(form.Get("prompt"))
	hadSession := signedIn
	if signedIn && !s.sessionSatisfies(si, form, prompts, requestedAt) {
		signedIn = false
	}
	if !signedIn {
		if slices.Contains(prompts, "none") {
			s.oauth.WriteAuthorizeError(ctx, w, ar, fosite.ErrLoginRequired)
			return
		}
		s.sendToLogin(w, r, ar, txID, requestedAt, hadSession)
		return
	}
	p := signInPurpose(form.Get("acr_values"), ar.GetClient())
	d, err := s.decide(r, si, p)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	if d.Step != assurance.Done {
		// Without its second factor the session does not count as logged in,
		// and prompt=none may show no screen to get one.
		if slices.Contains(prompts, "none") {
			s.oauth.WriteAuthorizeError(ctx, w, ar, fosite.ErrLoginRequired)
			return
		}
		if path := stepPath(d); path != "" {
			s.sendToStep(w, r, ar, txID, requestedAt, path, url.Values{}, d.Assessment)
			return
		}
		s.renderDecision(w, r, d, "")
		return
	}
	if txID != "" {
		if err := s.store.CompleteLoginTransaction(ctx, txID, s.now()); err != nil {
			if errors.Is(err, store.ErrTransactionNotFound) {
				s.renderMessage(w, r, http.StatusBadRequest, "authorize.expired.title", "authorize.expired.message")
				return
			}
			s.serverError(w, r, err)
			return
		}
	}
	s.issueCode(w, r, ar, si, requestedAt)
}

// sessionSatisfies applies prompt=login and max_age: a session from before
// this request, or older than max_age, must log in again. A login made during
// this request's own flow (auth_time after requestedAt) always counts, which
// is what keeps prompt=login from looping.
func (s *Server) sessionSatisfies(si signedIn, form url.Values, prompts []string, requestedAt time.Time) bool {
	loggedInDuringFlow := !si.session.AuthTime.Before(requestedAt.Truncate(time.Second))
	if slices.Contains(prompts, "login") && !loggedInDuringFlow {
		return false
	}
	if raw := form.Get("max_age"); raw != "" {
		maxAge, err := strconv.ParseInt(raw, 10, 64)
		if err == nil && maxAge >= 0 && s.now().Sub(si.session.AuthTime) > time.Duration(maxAge)*time.Second && !loggedInDuringFlow {
			return false
		}
	}
	return true
}

// sendToLogin parks the request in a login transaction (once) and sends the
// browser to the login or signup screen, which returns to the dispatcher.
func (s *Server) sendToLogin(w http.ResponseWriter, r *http.Request, ar fosite.AuthorizeRequester, txID string, requestedAt time.Time, fresh bool) {
	screen := "login"
	if ar.GetRequestForm().Get("screen_hint") == "signup" {
		screen = "signup"
	}
	q := url.Values{}
	if hint := ar.GetRequestForm().Get("login_hint"); hint != "" {
		q.Set("login_hint", hint)
	}
	if fresh {
		q.Set("prompt", "login")
	}
	s.sendToStep(w, r, ar, txID, requestedAt, screen, q, nil)
}

// sendToStep parks the request in a login transaction (once) and sends the
// browser to a step's screen, whose return_to brings it back here.
func (s *Server) sendToStep(w http.ResponseWriter, r *http.Request, ar fosite.AuthorizeRequester, txID string, requestedAt time.Time, step string, q url.Values, assessment *risk.Assessment) {
	ctx := r.Context()
	if txID == "" {
		var err error
		txID, err = s.store.CreateLoginTransaction(ctx, store.LoginTransaction{
			ClientID:    ar.GetClient().GetID(),
			RequestForm: r.URL.RawQuery,
			CreatedAt:   requestedAt,
			ExpiresAt:   requestedAt.Add(s.lifetimes.LoginFlow),
		})
		if err != nil {
			s.serverError(w, r, err)
			return
		}
	}
	if assessment != nil {
		// The transaction keeps why the dispatcher asked for a second factor.
		if err := s.store.SetTransactionAssessment(ctx, txID, assessmentRecord(*assessment)); err != nil {
			s.serverError(w, r, err)
			return
		}
	}
	s.carryUILocales(w, ar.GetRequestForm().Get("ui_locales"))
	q.Set("return_to", s.base+"authorize/resume?tx="+txID)
	http.Redirect(w, r, s.base+step+"?"+q.Encode(), http.StatusFound)
}

// issueCode answers the authorization request for the signed-in user.
func (s *Server) issueCode(w http.ResponseWriter, r *http.Request, ar fosite.AuthorizeRequester, si signedIn, requestedAt time.Time) {
	ctx := r.Context()
	for _, scope := range ar.GetRequestedScopes() {
		if slices.Contains(scopesSupported, scope) {
			ar.GrantScope(scope)
		}
	}
	for _, aud := range ar.GetRequestedAudience() {
		ar.GrantAudience(aud)
	}
	if err := s.grantRoleScopes(ctx, ar, si.user.ID); err != nil {
		s.oauth.WriteAuthorizeError(ctx, w, ar, err)
		return
	}
	sess := s.newUserSession(si, ar.GetClient().GetID(), ar.GetGrantedScopes(), requestedAt)
	sess.Audiences = ar.GetGrantedAudience()
	custom, err := s.customClaims(ctx, ar.GetClient().GetID(), func() (account.User, error) { return si.user, nil }, sess.Audiences, claims.IDToken)
	if err != nil {
		s.oauth.WriteAuthorizeError(ctx, w, ar, fosite.ErrServerError.WithWrap(err))
		return
	}
	for k, v := range custom {
		sess.Claims.Extra[k] = v
	}
	// The code's rows go to Postgres in one round trip, before the browser
	// is sent on with the code.
	ctx = store.WithDeferredWrites(ctx)
	resp, err := s.oauth.NewAuthorizeResponse(ctx, ar, sess)
	if err == nil {
		err = s.store.FlushWrites(ctx)
	}
	if err != nil {
		s.oauth.WriteAuthorizeError(ctx, w, ar, err)
		return
	}
	s.oauth.WriteAuthorizeResponse(ctx, w, ar, resp)
}

// authorizeError answers an invalid authorization request. When the redirect
// URI cannot be trusted (unknown client, unregistered redirect_uri) the error
// is shown here and never sent anywhere.
func (s *Server) authorizeError(w http.ResponseWriter, r *http.Request, ar fosite.AuthorizeRequester, err error) {
	if store.IsUnavailable(err) { // fosite calls a failed client lookup an unknown client
		s.serverError(w, r, err)
		return
	}
	if trustedRedirect(ar) {
		s.oauth.WriteAuthorizeError(r.Context(), w, ar, err)
		return
	}
	rfc := fosite.ErrorToRFC6749Error(err)
	s.logger(r.Context()).Info("authorization request refused", "error", rfc.ErrorField, "hint", rfc.HintField)
	s.renderMessage(w, r, http.StatusBadRequest, "authorize.invalid.title",
		s.localizer(r).T("authorize.invalid.message", "Error", rfc.ErrorField+": "+rfc.GetDescription()))
}
