// Package server is Gatehouse's HTTP edge: routes, handlers, middleware and the
// rendering of the hosted login pages. Rules live in the domain packages
// (account, assurance, mfa, passkey); this package turns requests into calls on
// them and their answers into pages, status codes and cookies.
//
// The login flow. /authorize is the only place that decides what comes next;
// each step does its one job and sends the browser back to it:
//
//	GET /authorize ──▶ fosite validates client, redirect_uri, PKCE, scopes, audience
//	   │ invalid ────▶ error page (untrusted redirect) or error to redirect_uri
//	   │ prompt=none ▶ login_required when there is no session or a factor is due
//	   ▼ no session, prompt=login, or max_age passed
//	login transaction row ─▶ /login (or /signup) ?return_to=/authorize/resume?tx=…
//	   POST /login ──────────▶ account.Login: limits → password → blocked? ─▶ session (pwd)
//	   POST /login/passkey ──▶ a user-verifying passkey: session (hwk/swk + mfa), no code after
//	GET /authorize/resume?tx ─▶ request validated again ─▶ session ok:
//	   assurance authority (policy: never / adaptive with mfa/risk / always; acr_values step-up)
//	   │ satisfied ─────────▶ code (query, fragment, form_post or web_message); transaction closed
//	   │ no factor yet ─────▶ /mfa/enroll (phone) or /account/totp (app), recovery codes once
//	   │ factor due ────────▶ /mfa/passkey, /mfa/totp (app or recovery code) or /mfa/challenge (SMS)
//	   └ locked / refused ──▶ a page that says why and until when
//	each factor step passes ─▶ session renewed with the factor's amr ─▶ /authorize/resume
//
// The same authority (assurance.go) gates every other route that needs more
// than a session (the account's security page, the admin console, a password
// reset by link), so a rule is written once for all paths. Passing a factor
// with "remember this browser" ticked lets that browser skip the next
// adaptive or always challenge.
package server
