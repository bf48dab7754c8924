package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/gatehouse-id/gatehouse/account"
	"github.com/gatehouse-id/gatehouse/roles"
)

func TestCustomClaimsReachTheTokensTheyAreMappedTo(t *testing.T) {
	w := newRBACWorld(t)
	c := w.h.newAPIClient(t, "deploy", "read:clients", "update:clients")
	path := "/api/admin/clients/" + spaID + "/claims"

	for name, body := range map[string]string{
		"a registered claim":          `{"claims":[{"claim":"permissions","source":"roles","token":"access_token"}]}`,
		"a plain name":                `{"claims":[{"claim":"roles","source":"roles","token":"both"}]}`,
		"a metadata path with no key": `{"claims":[{"claim":"https://example.com/roles","source":"app_metadata..roles","token":"both"}]}`,
		"an unknown source":           `{"claims":[{"claim":"https://example.com/pw","source":"password_hash","token":"both"}]}`,
		"a token that is not there":   `{"claims":[{"claim":"https://example.com/roles","source":"roles","token":"refresh_token"}]}`,
	} {
		r := c.call(t, "PUT", path, body)
		if r.status != 400 || r.body["errorCode"] != "invalid_claims" {
			t.Errorf("%s: %d %s, want 400 invalid_claims", name, r.status, r.raw)
		}
	}
	r := c.call(t, "PUT", path, `{"claims":[{"claim":"https://example.com/metadata","source":"app_metadata.","token":"both"}]}`)
	if !strings.Contains(r.raw, "not a metadata path") {
		t.Errorf("an empty metadata path is refused with %s; want it to say it is not a metadata path", r.raw)
	}
	c.call(t, "PUT", "/api/admin/clients/nobody/claims", `{"claims":[]}`).expect(t, 404, "not_found")
	c.call(t, "PUT", path, `{"claims":[
		{"claim":"https://example.com/roles","source":"roles","token":"both"},
		{"claim":"https://example.com/email","source":"email","token":"id_token"},
		{"claim":"https://example.com/permissions","source":"permissions","token":"access_token"}]}`).expect(t, 200, "")
	if r := c.call(t, "GET", path, ""); len(r.body["claims"].([]any)) != 3 {
		t.Fatalf("claims after PUT: %s", r.raw)
	}

	tok, access := w.tokenFor(t, "openid profile email")
	idt := jwtPayload(t, tok.Extra("id_token").(string))
	if got := toStrings(idt["https://example.com/roles"]); !slices.Equal(got, []string{"reader"}) {
		t.Errorf("ID token roles claim %v, want [reader]", idt["https://example.com/roles"])
	}
	if idt["https://example.com/email"] != "ann@example.com" || idt["https://example.com/permissions"] != nil {
		t.Errorf("ID token claims %v: want the email, not the access token's permissions", idt)
	}
	if got := toStrings(access["https://example.com/roles"]); !slices.Equal(got, []string{"reader"}) {
		t.Errorf("access token roles claim %v", access["https://example.com/roles"])
	}
	if got := toStrings(access["https://example.com/permissions"]); !slices.Equal(got, []string{"read:messages"}) {
		t.Errorf("access token permissions claim %v, want only this API's [read:messages]", access["https://example.com/permissions"])
	}
	if access["https://example.com/email"] != nil {
		t.Errorf("the ID-token-only claim is in the access token: %v", access)
	}
	if got := auditDetails(t, w.h, "admin.client_claims_updated"); len(got) != 1 || !strings.Contains(got[0], "api:deploy") {
		t.Errorf("audit: %v", got)
	}
}

func TestAnOversizedCustomClaimIsLeftOutAndTheTokenStillIssued(t *testing.T) {
	w := newRBACWorld(t)
	c := w.h.newAPIClient(t, "deploy", "update:clients")
	c.call(t, "PUT", "/api/admin/clients/"+spaID+"/claims", `{"claims":[
		{"claim":"https://example.com/roles","source":"roles","token":"both"},
		{"claim":"https://example.com/email","source":"email","token":"both"}]}`).expect(t, 200, "")
	ctx := context.Background()
	var ids []string
	for i := range 60 {
		r, err := w.roles.CreateRole(ctx, roles.Role{Name: fmt.Sprintf("%03d-%s", i, strings.Repeat("r", 90))}, account.Actor{Name: "test"}, account.Meta{})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, r.ID)
	}
	if err := w.roles.AddUserRoles(ctx, w.ann.ID, ids, account.Actor{Name: "test"}, account.Meta{}); err != nil {
		t.Fatal(err)
	}
	tok, access := w.tokenFor(t, "openid profile email")
	idt := jwtPayload(t, tok.Extra("id_token").(string))
	for name, claims := range map[string]map[string]any{"ID token": idt, "access token": access} {
		if claims["https://example.com/roles"] != nil {
			t.Errorf("%s carries the 6 KB roles claim", name)
		}
		if claims["https://example.com/email"] != "ann@example.com" {
			t.Errorf("%s lost the small claim too: %v", name, claims)
		}
	}
	if n := len(tok.Extra("id_token").(string)); n > 8192 {
		t.Errorf("the ID token is %d bytes", n)
	}
}

// The claim an Auth0 Action made from app_metadata.roles is a mapping: an
// imported user's metadata reaches their tokens as it is, and a change to it
// reaches the next token.
func TestCustomClaimsCarryTheUsersMetadata(t *testing.T) {
	w := newRBACWorld(t)
	ctx := context.Background()
	c := w.h.newAPIClient(t, "deploy", "update:clients")
	c.call(t, "PUT", "/api/admin/clients/"+spaID+"/claims", `{"claims":[
		{"claim":"https://example.com/roles","source":"app_metadata.roles","token":"both"},
		{"claim":"https://example.com/theme","source":"user_metadata.prefs.theme","token":"id_token"}]}`).expect(t, 200, "")
	setMetadata := func(user, app string) {
		t.Helper()
		if _, err := w.h.st.UpdateMetadata(ctx, w.ann.ID, func(json.RawMessage, json.RawMessage) (json.RawMessage, json.RawMessage, error) {
			return json.RawMessage(user), json.RawMessage(app), nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	setMetadata(`{"prefs":{"theme":"dark"}}`, `{"roles":["editor","billing"]}`)
	tok, access := w.tokenFor(t, "openid profile email")
	idt := jwtPayload(t, tok.Extra("id_token").(string))
	if got := toStrings(idt["https://example.com/roles"]); !slices.Equal(got, []string{"editor", "billing"}) || idt["https://example.com/theme"] != "dark" {
		t.Errorf("ID token custom claims: roles %v, theme %v", idt["https://example.com/roles"], idt["https://example.com/theme"])
	}
	if got := toStrings(access["https://example.com/roles"]); !slices.Equal(got, []string{"editor", "billing"}) || access["https://example.com/theme"] != nil {
		t.Errorf("access token custom claims: %v", access)
	}

	setMetadata(`{}`, `{"roles":["viewer"]}`)
	tok, access = w.tokenFor(t, "openid profile email")
	idt = jwtPayload(t, tok.Extra("id_token").(string))
	if got := toStrings(access["https://example.com/roles"]); !slices.Equal(got, []string{"viewer"}) {
		t.Errorf("after the metadata changed the access token says %v", access["https://example.com/roles"])
	}
	if _, ok := idt["https://example.com/theme"]; ok {
		t.Errorf("a path the metadata no longer has is still in the ID token: %v", idt["https://example.com/theme"])
	}
}
