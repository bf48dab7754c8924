package claims_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/gatehouse-id/gatehouse/claims"
)

func TestValidate(t *testing.T) {
	ok := claims.Mapping{Claim: "https://example.com/roles", Source: "roles", Target: claims.Both}
	cases := []struct {
		name string
		m    claims.Mapping
		ok   bool
	}{
		{"a URL name and a known source", ok, true},
		{"http is a namespace too", claims.Mapping{Claim: "http://example.com/email", Source: "email", Target: claims.IDToken}, true},
		{"a registered claim is refused", claims.Mapping{Claim: "permissions", Source: "roles", Target: claims.AccessToken}, false},
		{"sub is refused", claims.Mapping{Claim: "sub", Source: "email", Target: claims.IDToken}, false},
		{"a plain name is refused", claims.Mapping{Claim: "roles", Source: "roles", Target: claims.Both}, false},
		{"a URN is refused", claims.Mapping{Claim: "urn:example:roles", Source: "roles", Target: claims.Both}, false},
		{"a URL without a host is refused", claims.Mapping{Claim: "https:///roles", Source: "roles", Target: claims.Both}, false},
		{"an unknown source is refused", claims.Mapping{Claim: "https://example.com/x", Source: "password", Target: claims.Both}, false},
		{"an unknown token is refused", claims.Mapping{Claim: "https://example.com/x", Source: "email", Target: "refresh_token"}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if err := claims.Validate([]claims.Mapping{c.m}); (err == nil) != c.ok {
				t.Fatalf("Validate = %v, want ok=%v", err, c.ok)
			}
		})
	}
	t.Run("a claim mapped twice is refused", func(t *testing.T) {
		if err := claims.Validate([]claims.Mapping{ok, ok}); err == nil {
			t.Fatal("accepted")
		}
	})
	t.Run("metadata paths are keys joined by dots", func(t *testing.T) {
		for src, ok := range map[string]bool{
			"app_metadata.roles":                             true,
			"user_metadata.preferences.theme":                true,
			"app_metadata.":                                  false,
			"app_metadata.a..b":                              false,
			"user_metadata.a.":                               false,
			"app_metadata." + strings.Repeat("k.", 10) + "k": false,
			"metadata.roles":                                 false,
		} {
			err := claims.Validate([]claims.Mapping{{Claim: "https://example.com/x", Source: src, Target: claims.Both}})
			if (err == nil) != ok {
				t.Errorf("%s: %v, want ok=%v", src, err, ok)
			}
		}
	})
	t.Run("at most MaxMappings", func(t *testing.T) {
		var ms []claims.Mapping
		for i := range claims.MaxMappings + 1 {
			ms = append(ms, claims.Mapping{Claim: "https://example.com/" + strings.Repeat("x", i+1), Source: "email", Target: claims.Both})
		}
		var ve *claims.ValidationError
		if err := claims.Validate(ms); !errors.As(err, &ve) {
			t.Fatalf("%d mappings: %v", len(ms), err)
		}
	})
}

func TestBuildKeepsEachTokensClaimsAndItsSizeLimit(t *testing.T) {
	ms := []claims.Mapping{
		{Claim: "https://example.com/email", Source: "email", Target: claims.IDToken},
		{Claim: "https://example.com/roles", Source: "roles", Target: claims.Both},
		{Claim: "https://example.com/permissions", Source: "permissions", Target: claims.AccessToken},
	}
	s := claims.Subject{Email: "ann@example.com", Roles: []string{"editor"}}
	id, _ := claims.Build(ms, claims.IDToken, s)
	if len(id) != 2 || id["https://example.com/email"] != "ann@example.com" {
		t.Errorf("ID token claims %v", id)
	}
	access, _ := claims.Build(ms, claims.AccessToken, s)
	if len(access) != 2 || len(access["https://example.com/permissions"].([]string)) != 0 {
		t.Errorf("access token claims %v: permissions without an API are an empty list", access)
	}

	var many []string
	for range 60 {
		many = append(many, strings.Repeat("r", 100))
	}
	big := claims.Subject{Email: "ann@example.com", Roles: many}
	got, dropped := claims.Build(ms, claims.IDToken, big)
	if len(dropped) != 1 || dropped[0] != "https://example.com/roles" || got["https://example.com/email"] == nil {
		t.Fatalf("oversized roles: kept %v, dropped %v; want the roles claim left out and the email kept", got, dropped)
	}
	b, err := json.Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) > claims.MaxBytes {
		t.Fatalf("custom claims are %d bytes, over %d", len(b), claims.MaxBytes)
	}
}

// An Action that copied app_metadata.roles into a namespaced claim becomes a
// mapping: the value is copied as it is (array, object, string), and a path
// the user lacks leaves the claim out rather than sending null.
func TestMetadataSourcesCopyTheValueAtTheirPath(t *testing.T) {
	s := claims.Subject{
		AppMetadata:  []byte(`{"roles":["admin","billing"],"plan":{"tier":"gold","seats":5},"gone":null}`),
		UserMetadata: []byte(`{"theme":"dark"}`),
	}
	ms := []claims.Mapping{
		{Claim: "https://example.com/roles", Source: "app_metadata.roles", Target: claims.Both},
		{Claim: "https://example.com/tier", Source: "app_metadata.plan.tier", Target: claims.Both},
		{Claim: "https://example.com/plan", Source: "app_metadata.plan", Target: claims.Both},
		{Claim: "https://example.com/theme", Source: "user_metadata.theme", Target: claims.IDToken},
		{Claim: "https://example.com/missing", Source: "app_metadata.plan.tier.name", Target: claims.Both},
		{Claim: "https://example.com/absent", Source: "user_metadata.locale", Target: claims.Both},
		{Claim: "https://example.com/null", Source: "app_metadata.gone", Target: claims.Both},
	}
	if err := claims.Validate(ms); err != nil {
		t.Fatal(err)
	}
	got, dropped := claims.Build(ms, claims.AccessToken, s)
	b, err := json.Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"https://example.com/plan":{"seats":5,"tier":"gold"},"https://example.com/roles":["admin","billing"],"https://example.com/tier":"gold"}`
	if string(b) != want || len(dropped) != 0 {
		t.Fatalf("access token claims %s (dropped %v), want %s", b, dropped, want)
	}
	got, _ = claims.Build(ms, claims.IDToken, claims.Subject{})
	if len(got) != 0 {
		t.Fatalf("a user without metadata got %v", got)
	}
}
