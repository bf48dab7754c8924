package server

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"time"

	"github.com/gatehouse-id/gatehouse/mfa/risk"
)

// assessmentRecord is how an assessment reads in the audit log and on the
// login transaction.
func assessmentRecord(a risk.Assessment) map[string]any {
	findings := make([]map[string]any, 0, len(a.Findings))
	for _, f := range a.Findings {
		findings = append(findings, map[string]any{"signal": f.Signal, "risk": f.Risk.String(), "reason": f.Reason, "unavailable": f.Unavailable})
	}
	decision := "allow"
	if a.Challenge {
		decision = "challenge"
	}
	return map[string]any{"confidence": string(a.Confidence), "decision": decision, "summary": a.Summary, "findings": findings}
}

// deviceIDCookie identifies a browser across logins for the new-device
// signal; the server keeps only its hash.
const deviceIDCookie = "gatehouse_did"

func deviceHash(r *http.Request) []byte {
	c, err := r.Cookie(deviceIDCookie)
	if err != nil || len(c.Value) < 32 {
		return nil
	}
	sum := sha256.Sum256([]byte(c.Value))
	return sum[:]
}

// ensureDeviceID gives the browser a device id if it has none.
func (s *Server) ensureDeviceID(w http.ResponseWriter, r *http.Request) {
	if deviceHash(r) != nil {
		return
	}
	raw := make([]byte, 32)
	rand.Read(raw)
	http.SetCookie(w, &http.Cookie{Name: deviceIDCookie, Value: base64.RawURLEncoding.EncodeToString(raw), Path: "/",
		Expires: s.now().Add(400 * 24 * time.Hour), HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteLaxMode})
}
