// Package templates holds Gatehouse's server-rendered user interface: the
// html/template sources for the hosted login pages and their stylesheet.
//
// The files are embedded in FS:
//
//   - layout.html defines the template "layout", a complete HTML5 document
//     (header, alerts, footer) that calls {{template "content" .}}, and the
//     shared block "resend" (the inside of a "send a new code" form).
//   - pages/P.html defines only "content" for page P (login, signup,
//     account, logout, error, and the SMS multi-factor pages enroll,
//     challenge, recovery). Each page is parsed together with layout.html
//     into its own template set and executed as "layout".
//
// The multi-factor pages read these fields besides the common ones:
//
//   - enroll (Screen "enroll"): Step "phone" shows the country and number
//     form (Countries, each with Code, Name, Dial and Selected; Phone as
//     typed); Step "code" asks for the texted code (MaskedPhone, ResendIn).
//     Both POST to mfa/enroll with a hidden step (phone, code or resend).
//   - challenge (Screen "challenge"): MaskedPhone, ResendIn, AttemptsLeft
//     (0 hides the line); POSTs to mfa/challenge with step code, resend or
//     recovery (field recovery_code).
//   - recovery (Screen "recovery"): RecoveryCodes; POSTs to mfa/recovery
//     with the checkbox saved=1.
//
// ResendIn is the number of seconds until a new code may be sent (0 = now).
// While it is positive the Resend button is disabled; for waits up to 30
// seconds an enabled copy appears by CSS alone once the wait is over (the
// template rounds ResendIn up to 5, 10, 15, 20, 25 or 30 and picks the class
// reveal-after-N; see style.css). Longer waits need a page reload. The
// server must enforce the cooldown itself either way.
//   - admin.html holds the admin console's partials ("admin-nav", which
//     replaces the layout's empty block, and "csrf", the form token); each
//     pages/admin-*.html is parsed with layout.html and admin.html and
//     receives the server's adminView (the common fields, Wide, Section,
//     CSRF, the page's Data, and Fields: a message per refused form field).
//   - static/ holds assets (style.css) served verbatim under {{.Base}}static/.
//   - mail/K.txt and mail/K.html are the account mails (K is verify or
//     reset): the text file defines "subject" and "text", the HTML file
//     "html"; they read AppName, To, Link and ValidFor (package mail).
//
// Every page may receive Brand (nil for Gatehouse's own look): StyleURL, a
// stylesheet of the application's colours linked after style.css, and
// LogoURL, an image drawn in a fixed 160×48 box in place of the shield, with
// AppName (then the application's display name) as its alt text.
//
// The markup carries no inline scripts, style attributes or <style> elements,
// so it works under a strict Content-Security-Policy (style-src 'self').
package templates

import "embed"

// FS contains layout.html, admin.html, pages/*.html, static/ and mail/.
//
//go:embed layout.html admin.html pages/*.html static mail
var FS embed.FS
