// Package server is Gatehouse's HTTP edge: routes, handlers, middleware and the
// rendering of the hosted login pages. Rules live in the domain packages
// (account, later mfa); this package turns requests into calls on them and
// their answers into pages, status codes and cookies.
//
// The login flow, as it stands:
//
//	GET  /login ─────────▶ login form (already logged in? straight to return_to)
//	POST /login ─────────▶ account.Login: limits → password → blocked?
//	     │ fail            └─▶ form again with one message for every cause
//	     ▼ ok
//	session row + cookie ─▶ 303 to return_to (a local path) or /account
//	POST /logout ────────▶ session row deleted, cookie cleared ─▶ /login
//
// Later steps (the OIDC authorize dispatcher, MFA enrolment and challenge) slot
// in between "password ok" and "session": the /authorize handler will be the
// only place that decides what comes next, each step sending the browser back.
package server
