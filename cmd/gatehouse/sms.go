package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"strings"

	"github.com/gatehouse-id/gatehouse/mfa/sms"
	"github.com/gatehouse-id/gatehouse/settings"
)

// smsConfig is how Gatehouse delivers SMS.
type smsConfig struct {
	provider  string // console, plivo or webhook
	statusURL string // where Plivo posts delivery reports
	plivo     sms.PlivoConfig
	webhook   sms.WebhookConfig
}

const (
	hintProvider = "set it to plivo or webhook (with their settings), or to console to only write the codes to the log (unsafe in production)"
	hintPlivo    = "set PLIVO_AUTH_ID, PLIVO_AUTH_TOKEN and PLIVO_SRC (sender number in E.164, e.g. +14155550100, or a sender ID) from the Plivo console"
	hintWebhook  = "set GATEHOUSE_WEBHOOK_URL to your HTTPS endpoint and GATEHOUSE_WEBHOOK_SECRET to at least 32 random characters"
)

// parseSMSConfig reads the provider settings; the Plivo status callback is the
// issuer's hooks/plivo/status, the exact URL Plivo's signature covers. Only
// dev defaults to the console sender: anywhere else a console that writes
// every code to the log must be chosen, not fallen into because a variable
// was forgotten.
func parseSMSConfig(e env, issuer *url.URL, dev bool) (smsConfig, error) {
	c := smsConfig{provider: strings.TrimSpace(e.getenv("GATEHOUSE_SMS_PROVIDER")), statusURL: issuer.String() + "hooks/plivo/status"}
	if c.provider == "" && !dev {
		return c, &configError{"GATEHOUSE_SMS_PROVIDER", "is not set", hintProvider}
	}
	if c.provider == "" {
		c.provider = "console"
	}
	// Read whatever the provider: an admin may switch to Plivo in the console.
	c.plivo.APIURL = strings.TrimSpace(e.getenv("PLIVO_API_URL"))
	if c.plivo.APIURL != "" {
		if u, err := url.Parse(c.plivo.APIURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return c, &configError{"PLIVO_API_URL", fmt.Sprintf("%q is not an http(s) URL", c.plivo.APIURL), "leave it unset for Plivo's own API, or set e.g. https://api.plivo.com/"}
		}
	}
	switch c.provider {
	case "console":
	case "plivo":
		c.plivo = sms.PlivoConfig{
			AuthID:    strings.TrimSpace(e.getenv("PLIVO_AUTH_ID")),
			AuthToken: strings.TrimSpace(e.getenv("PLIVO_AUTH_TOKEN")),
			Src:       strings.TrimSpace(e.getenv("PLIVO_SRC")),
			APIURL:    c.plivo.APIURL,
			StatusURL: c.statusURL,
		}
		for name, v := range map[string]string{"PLIVO_AUTH_ID": c.plivo.AuthID, "PLIVO_AUTH_TOKEN": c.plivo.AuthToken, "PLIVO_SRC": c.plivo.Src} {
			if v == "" {
				return c, &configError{name, "is not set but GATEHOUSE_SMS_PROVIDER is plivo", hintPlivo}
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

// smsSender builds the SMS delivery: the provider the admin chose in the
// settings, else the one the environment configures. The console sender
// always exists, for the dev outbox and for an admin who picks it.
func smsSender(c smsConfig, tenant *settings.Service, log *slog.Logger) (*sms.Switch, *sms.Console, error) {
	console := sms.NewConsole(log, 50)
	var fallback sms.Sender = console
	var err error
	switch c.provider {
	case "plivo":
		fallback, err = sms.NewPlivo(c.plivo)
	case "webhook":
		fallback, err = sms.NewWebhook(c.webhook)
	}
	if err != nil {
		return nil, nil, err
	}
	choose := func(ctx context.Context) (sms.Choice, error) {
		snap, err := tenant.Current(ctx)
		if err != nil {
			return sms.Choice{}, err
		}
		p := snap.SMSProvider()
		return sms.Choice{
			Provider: p.Name,
			Voice:    p.Voice,
			Plivo: sms.PlivoConfig{AuthID: p.PlivoAuthID, AuthToken: p.PlivoAuthToken, Src: p.PlivoSrc,
				APIURL: c.plivo.APIURL, StatusURL: c.statusURL},
			Webhook: sms.WebhookConfig{URL: p.WebhookURL, Secret: p.WebhookSecret},
		}, nil
	}
	return sms.NewSwitch(choose, fallback, console), console, nil
}
