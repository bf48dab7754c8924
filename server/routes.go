package server

import (
	"net/http"

	"github.com/gatehouse-id/gatehouse/assurance"
)

// routes lists every endpoint, and returns the router with the list of what
// it serves. Patterns carry the issuer path so that route labels in logs and
// metrics are the real paths.
func (s *Server) routes() (http.Handler, []Route) {
	mux := http.NewServeMux()
	var list []Route
	handle := func(method, path string, h http.Handler) {
		list = append(list, Route{Method: method, Path: path})
		if method == "" {
			mux.Handle(s.base+path, h)
			return
		}
		mux.Handle(method+" "+s.base+path, h)
	}

	handle("GET", "{$}", s.handleHome())
	handle("GET", "login", keepOpener(s.handleLoginForm()))
	handle("POST", "login", keepOpener(s.handleLogin()))
	handle("GET", "signup", keepOpener(s.handleSignupForm()))
	handle("POST", "signup", keepOpener(s.handleSignup()))
	handle("GET", "logout", s.handleLogoutForm())
	handle("POST", "logout", s.handleLogout())
	handle("GET", "account", s.requireSession(s.handleAccount()))
	handle("POST", "account/password", s.require(purpose(assurance.ChangePassword), s.handleChangePassword()))
	handle("GET", "account/security", s.requireSession(s.handleSecurity()))
	handle("POST", "account/sessions/end", s.require(purpose(assurance.ChangeFactors), s.handleEndSession()))
	handle("POST", "account/sessions/end-others", s.require(purpose(assurance.ChangeFactors), s.handleEndOtherSessions()))
	handle("POST", "account/email/verify", s.requireSession(s.handleResendVerification()))
	handle("POST", "account/language", s.requireSession(s.handleChooseLanguage()))
	handle("GET", "email/verify", s.handleVerifyEmail())
	handle("GET", "forgot", keepOpener(s.handleForgotForm()))
	handle("POST", "forgot", keepOpener(s.handleForgot()))
	handle("GET", "reset", s.handleResetForm())
	handle("POST", "reset", s.handleReset())

	handle("GET", ".well-known/openid-configuration", s.handleDiscovery())
	handle("GET", ".well-known/oauth-authorization-server", s.handleDiscovery())
	handle("GET", ".well-known/jwks.json", s.handleJWKS())
	handle("GET", "authorize", keepOpener(s.handleAuthorize()))
	handle("GET", "authorize/resume", keepOpener(s.handleAuthorizeResume()))
	handle("POST", "oauth/token", s.handleToken())
	handle("OPTIONS", "oauth/token", s.handlePreflight())
	handle("POST", "oauth/revoke", s.handleRevoke())
	handle("OPTIONS", "oauth/revoke", s.handlePreflight())
	handle("POST", "oauth/introspect", s.handleIntrospect())
	handle("GET", "userinfo", s.handleUserinfo())
	handle("POST", "userinfo", s.handleUserinfo())
	handle("OPTIONS", "userinfo", s.handlePreflight())
	handle("GET", "v2/logout", s.handleAuth0Logout())
	handle("GET", "oidc/logout", s.handleOIDCLogout())
	handle("GET", "avatar/{file}", s.handleAvatar())
	handle("GET", "branding/style.css", s.handleBrandStyle())
	handle("GET", "branding/logo/{client}", s.handleBrandLogo())

	if s.mfa != nil {
		phone, app, recovery := assurance.KindPhone, assurance.KindApp, assurance.KindRecovery
		handle("GET", "mfa/enroll", keepOpener(s.require(enrolling(phone), s.handleEnrollForm())))
		handle("POST", "mfa/enroll", keepOpener(s.require(enrolling(phone), s.handleEnroll())))
		handle("POST", "mfa/recovery", keepOpener(s.requirePassword(s.handleRecoveryConfirm())))
		handle("GET", "mfa/challenge", keepOpener(s.require(proving(phone), s.handleChallengeForm())))
		handle("POST", "mfa/challenge", keepOpener(s.require(proving(phone), s.handleChallenge())))
		handle("GET", "mfa/totp", keepOpener(s.require(proving(app, recovery), s.handleTOTPForm())))
		handle("POST", "mfa/totp", keepOpener(s.require(proving(app, recovery), s.handleTOTP())))
		handle("POST", "account/browsers/forget", s.require(purpose(assurance.ChangeFactors), s.handleForgetBrowser()))
		handle("POST", "account/browsers/forget-all", s.require(purpose(assurance.ChangeFactors), s.handleForgetAllBrowsers()))
		handle("POST", "account/phone/remove", s.require(purpose(assurance.ChangeFactors), s.handleRemovePhone()))
		handle("POST", "account/recovery-codes", s.require(purpose(assurance.ChangeFactors), s.handleRegenerateRecoveryCodes()))
		handle("GET", "account/totp", keepOpener(s.require(enrolling(app), s.handleTOTPSetupForm())))
		handle("GET", "account/totp/qr.png", s.require(enrolling(app), s.handleTOTPQRCode()))
		handle("POST", "account/totp", keepOpener(s.require(enrolling(app), s.handleTOTPConfirm())))
		handle("POST", "account/totp/remove", s.require(purpose(assurance.ChangeFactors), s.handleTOTPRemove()))
	}
	if s.passkeys != nil {
		passkey := assurance.KindPasskey
		handle("GET", "mfa/passkey", keepOpener(s.require(proving(passkey), s.handlePasskeyForm())))
		handle("POST", "mfa/passkey", keepOpener(s.require(proving(passkey), s.handlePasskey())))
		handle("GET", "account/passkeys/new", keepOpener(s.require(enrolling(passkey), s.handlePasskeyRegisterForm())))
		handle("POST", "account/passkeys", keepOpener(s.require(enrolling(passkey), s.handlePasskeyRegister())))
		handle("POST", "account/passkeys/rename", s.require(purpose(assurance.ChangeFactors), s.handlePasskeyRename()))
		handle("POST", "account/passkeys/remove", s.require(purpose(assurance.ChangeFactors), s.handlePasskeyRemove()))
		handle("POST", "login/passkey/options", keepOpener(s.handlePasskeyLoginOptions()))
		handle("POST", "login/passkey", keepOpener(s.handlePasskeyLogin()))
	}
	if s.sms != nil {
		handle("POST", "hooks/plivo/status", s.handlePlivoStatus())
	}
	if s.devOutbox != nil || s.devMail != nil {
		handle("GET", "dev/outbox", s.handleDevOutbox())
	}

	s.adminRoutes(handle)
	s.apiRoutes(handle)
	s.managementRoutes(handle)

	handle("GET", "static/", s.handleStatic())
	handle("GET", "healthz", s.handleHealthz())
	handle("GET", "readyz", s.handleReadyz())

	mux.Handle("/", s.handleNotFound())
	return mux, list
}

// Route is one registered endpoint: its method ("" for any) and its path
// pattern below the issuer.
type Route struct{ Method, Path string }

// Routes lists every endpoint Handler serves, so a test can hold each one to
// the access rules.
func (s *Server) Routes() []Route {
	_, list := s.routes()
	return list
}
