package server

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"time"

	"github.com/gatehouse-id/gatehouse/account"
	"github.com/gatehouse-id/gatehouse/mfa"
	"github.com/gatehouse-id/gatehouse/mfa/risk"
)

// policyAllows applies the MFA policy (the application's, else the
// tenant's) to a password-only session: whether it may go on without a second
// factor, and under "adaptive" the assessment that decided it. A session is
// assessed once; its decision is kept on it.
func (s *Server) policyAllows(r *http.Request, si signedIn, appPolicy string) (bool, *risk.Assessment, error) {
	ctx := r.Context()
	tenant, err := s.tenant(ctx)
	if err != nil {
		return false, nil, err
	}
	policy := tenant.Policy()
	if appPolicy != "" {
		policy = mfa.Policy(appPolicy)
	}
	if policy == mfa.PolicyNever {
		return true, nil, s.noteLogin(r, si)
	}
	if trusted, err := s.rememberedBrowser(r, si); err != nil || trusted {
		if err == nil {
			err = s.noteLogin(r, si)
		}
		return trusted, nil, err
	}
	if policy != mfa.PolicyAdaptive || s.risk == nil {
		return false, nil, nil
	}
	switch si.session.RiskDecision {
	case "allow":
		return true, nil, nil
	case "challenge":
		return false, nil, nil
	}
	a := s.risk.Assess(ctx, risk.Attempt{UserID: si.user.ID, IP: clientIP(ctx), DeviceHash: deviceHash(r), At: s.now()})
	s.recordAssessment(r, si, a)
	if a.Challenge {
		_, err := s.accounts.SetRiskDecision(ctx, si.session, "challenge")
		return false, &a, err
	}
	return true, &a, s.noteLogin(r, si)
}

// noteLogin adds this login to the user's history, which the risk signals
// compare new logins with, once per session.
func (s *Server) noteLogin(r *http.Request, si signedIn) error {
	if si.session.RiskDecision == "allow" {
		return nil
	}
	ctx := r.Context()
	ip := clientIP(ctx)
	var country string
	if s.locator != nil {
		if place, ok := s.locator.Locate(ip); ok {
			country = place.Country
		}
	}
	if err := s.store.AddLogin(ctx, risk.Login{UserID: si.user.ID, At: s.now(), IP: ip, Country: country, DeviceHash: deviceHash(r)}); err != nil {
		return err
	}
	_, err := s.accounts.SetRiskDecision(ctx, si.session, "allow")
	return err
}

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

func (s *Server) recordAssessment(r *http.Request, si signedIn, a risk.Assessment) {
	m := meta(r)
	err := s.store.Record(r.Context(), account.Event{At: s.now(), Type: "mfa.risk_assessed", UserID: si.user.ID, Subject: a.Summary,
		IP: m.IP, UserAgent: m.UserAgent, RequestID: m.RequestID, Details: assessmentRecord(a)})
	if err != nil {
		s.logger(r.Context()).Error("audit log write failed", "event", "mfa.risk_assessed", "err", err)
	}
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
