package main

import (
	"net/url"
	"strings"
	"testing"
)

func TestSMSProviderSettings(t *testing.T) {
	issuer, err := url.Parse("https://id.example.com/")
	if err != nil {
		t.Fatal(err)
	}
	plivo := map[string]string{"GATEHOUSE_SMS_PROVIDER": "plivo", "PLIVO_AUTH_ID": "MA123", "PLIVO_AUTH_TOKEN": "tok", "PLIVO_SRC": "+14155550100"}
	with := func(base map[string]string, k, v string) map[string]string {
		m := map[string]string{}
		for a, b := range base {
			m[a] = b
		}
		m[k] = v
		return m
	}
	tests := []struct {
		name string
		vars map[string]string
		dev  bool
		want string // "" means accepted
	}{
		{"console by default in dev", map[string]string{}, true, ""},
		{"no default outside dev", map[string]string{}, false, "GATEHOUSE_SMS_PROVIDER is not set; set it to plivo or webhook"},
		{"console when chosen", map[string]string{"GATEHOUSE_SMS_PROVIDER": "console"}, false, ""},
		{"plivo complete", plivo, false, ""},
		{"unknown provider", map[string]string{"GATEHOUSE_SMS_PROVIDER": "twilio"}, false, `GATEHOUSE_SMS_PROVIDER "twilio" is not a provider`},
		{"plivo without token", with(plivo, "PLIVO_AUTH_TOKEN", ""), false, "PLIVO_AUTH_TOKEN is not set but GATEHOUSE_SMS_PROVIDER is plivo"},
		{"plivo API URL not a URL", with(plivo, "PLIVO_API_URL", "ftp://x"), false, `PLIVO_API_URL "ftp://x" is not an http(s) URL`},
		{"webhook without URL", map[string]string{"GATEHOUSE_SMS_PROVIDER": "webhook"}, false, "GATEHOUSE_WEBHOOK_URL"},
		{"webhook with a short secret", map[string]string{"GATEHOUSE_SMS_PROVIDER": "webhook", "GATEHOUSE_WEBHOOK_URL": "https://hooks.example.com/sms",
			"GATEHOUSE_WEBHOOK_SECRET": "short"}, false, "GATEHOUSE_WEBHOOK_SECRET is shorter than 32 characters"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := parseSMSConfig(env{getenv: func(k string) string { return tt.vars[k] }}, issuer, tt.dev)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				if c.provider == "plivo" && c.plivo.StatusURL != "https://id.example.com/hooks/plivo/status" {
					t.Fatalf("status callback URL %q", c.plivo.StatusURL)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}
