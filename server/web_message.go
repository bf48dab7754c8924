package server

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"html/template"
	"net/http"
	"net/url"

	"github.com/ory/fosite"
)

// responseModeWebMessage is Auth0's response mode for silent authentication
// and popups: the authorization response is posted to the app's window
// instead of redirecting it.
const responseModeWebMessage fosite.ResponseModeType = "web_message"

// webMessageHandler renders the page that posts the authorization response to
// window.opener (popup) or window.parent (iframe), only to the origin of the
// validated redirect URI, and only when that origin is one of the client's
// allowed web origins. It never shows UI.
type webMessageHandler struct{}

func (webMessageHandler) ResponseModes() fosite.ResponseModeTypes {
	return fosite.ResponseModeTypes{responseModeWebMessage}
}

func (h webMessageHandler) WriteAuthorizeResponse(ctx context.Context, w http.ResponseWriter, ar fosite.AuthorizeRequester, resp fosite.AuthorizeResponder) {
	h.write(w, ar, resp.GetParameters())
}

func (h webMessageHandler) WriteAuthorizeError(ctx context.Context, w http.ResponseWriter, ar fosite.AuthorizeRequester, err error) {
	rfc := fosite.ErrorToRFC6749Error(err)
	params := url.Values{"error": {rfc.ErrorField}, "error_description": {rfc.GetDescription()}}
	if state := ar.GetState(); state != "" {
		params.Set("state", state)
	}
	h.write(w, ar, params)
}

var webMessagePage = template.Must(template.New("web_message").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Authorization response</title></head><body>
<script nonce="{{.Nonce}}">
(function () {
  var target = window.opener || window.parent;
  target.postMessage({type: "authorization_response", response: {{.Response}}}, {{.Origin}});
})();
</script></body></html>
`))

func (webMessageHandler) write(w http.ResponseWriter, ar fosite.AuthorizeRequester, params url.Values) {
	origin := originOf(ar.GetRedirectURI())
	c, ok := gatehouseClient(ar.GetClient())
	if origin == "" || !ok || !c.AllowsOrigin(origin) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusBadRequest)
		w.Write([]byte("web_message: the redirect_uri's origin is not an allowed web origin of this application\n"))
		return
	}
	response := make(map[string]string, len(params))
	for k := range params {
		response[k] = params.Get(k)
	}
	nonceBytes := make([]byte, 16)
	rand.Read(nonceBytes)
	nonce := base64.RawStdEncoding.EncodeToString(nonceBytes)
	var buf bytes.Buffer
	if err := webMessagePage.Execute(&buf, map[string]any{"Nonce": nonce, "Response": response, "Origin": origin}); err != nil {
		http.Error(w, "Internal Server Error", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Del("X-Frame-Options")
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'nonce-"+nonce+"'; frame-ancestors "+origin)
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	w.Write(buf.Bytes())
}

// originOf is scheme://host[:port] of an absolute URL, or "".
func originOf(u *url.URL) string {
	if u == nil || u.Scheme == "" || u.Host == "" {
		return ""
	}
	return u.Scheme + "://" + u.Host
}
