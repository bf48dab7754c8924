package server

import (
	"crypto/sha256"
	"encoding/base64"
	"html/template"
	"net/http"
	"net/url"
)

// formPostScript submits the form_post page. The page's CSP allows exactly
// this script, by hash, and a form post only to the redirect URI's origin.
const formPostScript = "document.forms[0].submit()"

var formPostScriptHash = func() string {
	sum := sha256.Sum256([]byte(formPostScript))
	return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
}()

// formPostTemplate replaces fosite's, whose inline onload handler no strict
// CSP allows; without script the button still submits.
var formPostTemplate = template.Must(template.New("form_post").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Continue</title></head><body>
<form method="post" action="{{.RedirURL}}">
{{range $key, $values := .Parameters}}{{range $values}}<input type="hidden" name="{{$key}}" value="{{.}}">
{{end}}{{end}}<noscript><button type="submit">Continue</button></noscript>
</form>
<script>` + formPostScript + `</script>
</body></html>
`))

// allowFormPost relaxes the CSP of an authorization response sent with
// response_mode=form_post, which must post cross-origin to the application.
func allowFormPost(w http.ResponseWriter, redirect *url.URL) {
	origin := originOf(redirect)
	if origin == "" {
		return
	}
	w.Header().Set("Content-Security-Policy",
		"default-src 'none'; script-src "+formPostScriptHash+"; form-action "+origin+"; frame-ancestors 'none'; base-uri 'none'")
}
