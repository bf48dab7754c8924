package server

import (
	"html/template"
	"net/http"
	"regexp"

	"github.com/gatehouse-id/gatehouse/account"
	"github.com/gatehouse-id/gatehouse/mail"
	"github.com/gatehouse-id/gatehouse/mfa/sms"
)

// handlePlivoStatus takes Plivo's delivery reports. The signature is checked
// against the exact public URL Plivo was given; unsigned or forged reports
// are refused.
func (s *Server) handlePlivoStatus() http.Handler {
	public := s.cfg.Issuer.String() + "hooks/plivo/status"
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		plivo, ok := s.sms.Plivo(r.Context())
		if !ok {
			s.logger(r.Context()).Warn("plivo callback refused: Plivo is not the SMS provider now")
			http.Error(w, "Plivo is not the SMS provider", http.StatusForbidden)
			return
		}
		if err := plivo.VerifyCallback(r, public); err != nil {
			s.logger(r.Context()).Warn("plivo callback refused", "err", err)
			http.Error(w, "invalid signature", http.StatusForbidden)
			return
		}
		report, err := sms.ParseDeliveryReport(r)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		found, err := s.store.UpdateDelivery(r.Context(), "plivo", report.ProviderMessageID, report.Status, report.ErrorCode, s.now())
		if err != nil {
			s.logger(r.Context()).Error("record delivery report", "err", err)
			http.Error(w, "temporarily unavailable", http.StatusServiceUnavailable)
			return
		}
		if !found {
			s.logger(r.Context()).Warn("delivery report for an unknown message", "message_uuid", report.ProviderMessageID)
		}
		s.metrics.smsMessage("plivo", report.Status)
		if err := s.store.Record(r.Context(), account.Event{At: s.now(), Type: "sms." + report.Status, Subject: report.ProviderMessageID,
			Details: map[string]any{"provider": "plivo", "error_code": report.ErrorCode}}); err != nil {
			s.logger(r.Context()).Error("audit log write failed", "event", "sms."+report.Status, "err", err)
		}
		w.WriteHeader(http.StatusNoContent)
	})
}

var devOutboxPage = template.Must(template.New("outbox").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Dev outbox · Gatehouse</title><link rel="stylesheet" href="{{.Base}}static/style.css"></head>
<body><div class="page page-wide"><main class="card card-body" data-screen="dev-outbox"><h1>Dev outbox</h1>
<h2>Text messages</h2>
<p class="muted">Text messages the console sender would have sent, newest first.</p>
{{range .Sent}}<section class="section"><p class="muted">{{.At.Format "15:04:05"}} · to {{.To}} · {{.Purpose}}</p><pre class="pre">{{.Text}}</pre></section>
{{else}}<p>No messages yet.</p>{{end}}
<h2>Emails</h2>
<p class="muted">Emails the console mailer would have sent, newest first.</p>
{{range .Mails}}<section class="section" data-mail="{{.Purpose}}"><p class="muted">{{.At.Format "15:04:05"}} · to {{.To}} · {{.Subject}}</p>
{{range .Links}}<p><a href="{{.}}">{{.}}</a></p>{{end}}<pre class="pre">{{.Text}}</pre></section>
{{else}}<p>No emails yet.</p>{{end}}
</main></div></body></html>
`))

// handleDevOutbox lists the console sender's messages, so a person can log
// in with MFA in `gatehouse dev` without a phone.
func (s *Server) handleDevOutbox() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		data := map[string]any{"Base": s.base}
		if s.devOutbox != nil {
			data["Sent"] = s.devOutbox.Recent()
		}
		if s.devMail != nil {
			data["Mails"] = devMails(s.devMail.Recent())
		}
		devOutboxPage.Execute(w, data)
	})
}

type devMail struct {
	mail.Sent
	Links []string
}

var linkRE = regexp.MustCompile(`https?://[^\s<>"]+`)

// devMails pulls each mail's links out of its text, so that the dev outbox
// page can offer them as links.
func devMails(sent []mail.Sent) []devMail {
	out := make([]devMail, len(sent))
	for i, m := range sent {
		out[i] = devMail{Sent: m, Links: linkRE.FindAllString(m.Text, -1)}
	}
	return out
}
