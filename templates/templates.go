// Package templates holds Gatehouse's server-rendered user interface: the
// html/template sources for the hosted login pages and their stylesheet.
//
// The files are embedded in FS:
//
//   - layout.html defines the template "layout", a complete HTML5 document
//     (header, alerts, footer) that calls {{template "content" .}}.
//   - pages/P.html defines only "content" for page P (login, signup,
//     account, logout, error). Each page is parsed together with layout.html
//     into its own template set and executed as "layout".
//   - static/ holds assets (style.css) served verbatim under {{.Base}}static/.
//
// The markup carries no inline scripts, style attributes or <style> elements,
// so it works under a strict Content-Security-Policy (style-src 'self').
package templates

import "embed"

// FS contains layout.html, pages/*.html and static/.
//
//go:embed layout.html pages/*.html static
var FS embed.FS
