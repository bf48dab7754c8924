package main

import (
	"fmt"
	"log/slog"
	"net/url"
	"strings"

	"github.com/gatehouse-id/gatehouse/mfa/sms"
)

// smsConfig is how Gatehouse delivers SMS (DESIGN.md §3).
type smsConfig struct {
	provider string // console, plivo or webhook
	plivo    sms.PlivoConfig
	webhook  sms.WebhookConfig
}

const (
	hintProvider = "set it to console, plivo or webhook"
	hintPlivo    = "set PLIVO_AUTH_ID, PLIVO_AUTH_TOKEN and PLIVO_SRC (sender number in E.164, e.g. +14155550100, or a sender ID) from the Plivo console"
	hintWebhook  = "set GATEHOUSE_WEBHOOK_URL to your HTTPS endpoint and GATEHOUSE_WEBHOOK_SECRET to at least 32 random characters"
)

// parseSMSConfig reads the provider settings; the Plivo status callback is the
// issuer's hooks/plivo/status, the exact URL Plivo's signature covers.
func parseSMSConfig(e env, issuer *url.URL) (smsConfig, error) {
	c := smsConfig{provider: strings.TrimSpace(e.getenv("GATEHOUSE_SMS_PROVIDER"))}
	if c.provider == "" {
		c.provider = "console"
	}
	switch c.provider {
	case "console":
	case "plivo":
		c.plivo = sms.PlivoConfig{
			AuthID:    strings.TrimSpace(e.getenv("PLIVO_AUTH_ID")),
			AuthToken: strings.TrimSpace(e.getenv("PLIVO_AUTH_TOKEN")),
			Src:       strings.TrimSpace(e.getenv("PLIVO_SRC")),
			APIURL:    strings.TrimSpace(e.getenv("PLIVO_API_URL")),
			StatusURL: issuer.String() + "hooks/plivo/status",
		}
		for name, v := range map[string]string{"PLIVO_AUTH_ID": c.plivo.AuthID, "PLIVO_AUTH_TOKEN": c.plivo.AuthToken, "PLIVO_SRC": c.plivo.Src} {
			if v == "" {
				return c, &configError{name, "is not set but GATEHOUSE_SMS_PROVIDER is plivo", hintPlivo}
			}
		}
		if c.plivo.APIURL != "" {
			if u, err := url.Parse(c.plivo.APIURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
				return c, &configError{"PLIVO_API_URL", fmt.Sprintf("%q is not an http(s) URL", c.plivo.APIURL), "leave it unset for Plivo's own API, or set e.g. https://api.plivo.com/"}
			}
		}
	case "webhook":
		c.webhook = sms.WebhookConfig{URL: strings.TrimSpace(e.getenv("GATEHOUSE_WEBHOOK_URL")), Secret: e.getenv("GATEHOUSE_WEBHOOK_SECRET")}
		if u, err := url.Parse(c.webhook.URL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return c, &configError{"GATEHOUSE_WEBHOOK_URL", fmt.Sprintf("%q is not an http(s) URL", c.webhook.URL), hintWebhook}
		}
		if len(c.webhook.Secret) < 32 {
			return c, &configError{"GATEHOUSE_WEBHOOK_SECRET", "is shorter than 32 characters", hintWebhook}
		}
	default:
		return c, &configError{"GATEHOUSE_SMS_PROVIDER", fmt.Sprintf("%q is not a provider", c.provider), hintProvider}
	}
	return c, nil
}

// smsSender builds the configured sender. console is also returned on its own
// when it is the sender, for the dev outbox page.
func smsSender(c smsConfig, log *slog.Logger) (sms.Sender, *sms.Console, error) {
	switch c.provider {
	case "plivo":
		p, err := sms.NewPlivo(c.plivo)
		return p, nil, err
	case "webhook":
		w, err := sms.NewWebhook(c.webhook)
		return w, nil, err
	}
	console := sms.NewConsole(log, 50)
	return console, console, nil
}
