package clients_test

import (
	"slices"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/clients"
)

func TestParseURLListReadsLinesAndCommasAndNamesTheBadEntry(t *testing.T) {
	tests := []struct {
		name, field, text string
		want              []string
		wantErr           string
	}{
		{"one a line", "callbacks", "https://a.example.com/cb\r\nhttp://localhost:3000/cb\n", []string{"https://a.example.com/cb", "http://localhost:3000/cb"}, ""},
		{"commas and blanks", "logout_urls", " https://a.example.com/ ,, \n\nhttps://b.example.com/", []string{"https://a.example.com/", "https://b.example.com/"}, ""},
		{"repeats kept once", "web_origins", "https://a.example.com\nhttps://a.example.com", []string{"https://a.example.com"}, ""},
		{"empty is no URL", "callbacks", "  \n", nil, ""},
		{"bad callback named", "callbacks", "https://a.example.com/cb\nhttp://evil.example.com/cb", nil, `"http://evil.example.com/cb" must be an https URL`},
		{"origin with a path named", "web_origins", "https://a.example.com/app", nil, `"https://a.example.com/app" must be an origin`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := clients.ParseURLList(tt.field, tt.text)
			if tt.wantErr != "" {
				checkValidation(t, err, tt.field, tt.wantErr)
				return
			}
			if err != nil || !slices.Equal(got, tt.want) {
				t.Fatalf("got %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestParseLifetimeRoundTripsWithFormatLifetime(t *testing.T) {
	for text, want := range map[string]time.Duration{"": 0, "3600": time.Hour, "90m": 90 * time.Minute, "12h": 12 * time.Hour, "30d": 30 * 24 * time.Hour} {
		got, err := clients.ParseLifetime("x", text)
		if err != nil || got != want {
			t.Errorf("ParseLifetime(%q) = %v, %v; want %v", text, got, err, want)
		}
		if back, err := clients.ParseLifetime("x", clients.FormatLifetime(got)); err != nil || back != got {
			t.Errorf("FormatLifetime(%v) = %q does not read back: %v, %v", got, clients.FormatLifetime(got), back, err)
		}
	}
	_, err := clients.ParseLifetime("id_token_lifetime", "a day")
	checkValidation(t, err, "id_token_lifetime", "not a duration")
}

func TestRotateSecretReplacesAConfidentialClientsSecret(t *testing.T) {
	spa := spa()
	if _, err := spa.RotateSecret(); err == nil {
		t.Error("a spa's secret was rotated")
	}
	old, hash := clients.NewSecret()
	web := web()
	web.SecretHash = hash
	fresh, err := web.RotateSecret()
	if err != nil || !web.VerifySecret(fresh) || web.VerifySecret(old) {
		t.Fatalf("after rotation the new secret verifies: %v, the old one: %v (%v)", web.VerifySecret(fresh), web.VerifySecret(old), err)
	}
}

func TestNewAPIsNeedAnAbsoluteURIIdentifier(t *testing.T) {
	for id, want := range map[string]string{
		"https://api.example.com": "", "urn:example:orders": "",
		"orders-api": "absolute URI", "/orders": "absolute URI", "https://api.example.com/#x": "fragment",
	} {
		err := clients.API{Identifier: id, Name: "Orders", TokenLifetime: time.Hour}.ValidateNew()
		if want == "" {
			if err != nil {
				t.Errorf("%q: %v", id, err)
			}
			continue
		}
		checkValidation(t, err, "identifier", want)
	}
}

func TestParseScopeListReadsScopeColonDescription(t *testing.T) {
	got, err := clients.ParseScopeList("read:users: Read users\r\n\nwrite:users Change users\nadmin\n")
	want := []clients.Scope{{"read:users", "Read users"}, {"write:users", "Change users"}, {"admin", ""}}
	if err != nil || !slices.Equal(got, want) {
		t.Fatalf("got %+v, %v; want %+v", got, err, want)
	}
	if back, err := clients.ParseScopeList(clients.FormatScopeList(got)); err != nil || !slices.Equal(back, want) {
		t.Errorf("FormatScopeList does not read back: %+v, %v", back, err)
	}
	_, err = clients.ParseScopeList("read:users\nread:users: again")
	checkValidation(t, err, "scopes", "listed twice")
	_, err = clients.ParseScopeList("read!users: x")
	checkValidation(t, err, "scopes", "is not a scope")
}
