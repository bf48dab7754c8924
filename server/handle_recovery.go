package server

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"html/template"
	"net/http"
	"net/url"
	"strings"

	"github.com/gatehouse-id/gatehouse/masterkey"
)

// Recovery codes are known only when they are issued: the server keeps
// their HMACs. The page that shows them carries them twice more, so that
// nothing has to keep them server-side: as a data: URL the download link
// saves (a download, not a navigation, so no Content-Security-Policy
// directive applies), and in the confirm form, MACed for the session, so
// that a confirm without the box ticked can show the same codes again and
// no one can make the page show codes the server did not issue.

// renderRecovery shows codes just issued to the user of si.
func (s *Server) renderRecovery(w http.ResponseWriter, r *http.Request, si signedIn, v view, codes []string, status int) {
	v.RecoveryCodes = codes
	file := strings.Join(codes, "\r\n") + "\r\n"
	v.RecoveryFile = template.URL("data:text/plain;charset=utf-8," + url.PathEscape(file))
	v.RecoveryMAC = s.recoveryMAC(si, codes)
	s.render(w, r, status, "recovery", v)
}

func (s *Server) recoveryMAC(si signedIn, codes []string) string {
	m := hmac.New(sha256.New, masterkey.Derive(s.cfg.SecretKey, "gatehouse recovery codes page v1"))
	m.Write(si.session.IDHash())
	m.Write([]byte{0})
	m.Write([]byte(strings.Join(codes, "\x00")))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// handleRecoveryConfirm continues after the recovery codes were shown, once
// the user says they saved them; the box is required here as in the page.
func (s *Server) handleRecoveryConfirm() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.parseForm(w, r) {
			return
		}
		if r.PostForm.Get("saved") != "" {
			http.Redirect(w, r, s.afterLogin(r.PostForm.Get("return_to")), http.StatusSeeOther)
			return
		}
		si := mustSession(r)
		codes := r.PostForm["code"]
		if len(codes) == 0 || !hmac.Equal([]byte(r.PostForm.Get("codes_mac")), []byte(s.recoveryMAC(si, codes))) {
			s.renderError(w, r, http.StatusBadRequest)
			return
		}
		v := s.mfaView(r, "recovery", "Save your recovery codes")
		v.Error = "recovery.not_saved"
		s.renderRecovery(w, r, si, v, codes, http.StatusBadRequest)
	})
}
