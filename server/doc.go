// Package server is Gatehouse's HTTP edge: routes, handlers, middleware and the
// rendering of the hosted login pages. Rules live in the domain packages
// (account, assurance, mfa); this package turns requests into calls on them
// and their answers into pages, status codes and cookies.
//
// The login flow. /authorize is the only place that decides what comes next;
// each step does its one job and sends the browser back to it:
//
//	GET /authorize ──▶ fosite validates client, redirect_uri, PKCE, scopes, audience
//	   │ invalid ────▶ error page (untrusted redirect) or error to redirect_uri
//	   │ session ok ─▶ code (query, fragment, form_post or web_message)
//	   │ prompt=none ▶ login_required
//	   ▼ no session, prompt=login, or max_age passed
//	login transaction row ─▶ /login (or /signup) ?return_to=/authorize/resume?tx=…
//	POST /login ──▶ account.Login: limits → password → blocked? ─▶ session + cookie
//	GET /authorize/resume?tx ─▶ request validated again ─▶ the dispatcher above,
//	                            transaction closed when the code is issued
//
// Between "session ok" and "code" the dispatcher asks the assurance authority
// (assurance.go), as every other gated route does; its answer sends the
// browser to enroll a factor (/mfa/enroll, /account/totp), to pass one
// (/mfa/challenge, /mfa/totp), or shows a lock or refusal. Those screens
// return to /authorize/resume when their step is done.
package server
