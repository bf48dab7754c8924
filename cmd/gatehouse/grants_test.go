package main

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2/clientcredentials"

	"github.com/gatehouse-id/gatehouse/store/storetest"
)

// An operator sets up a deployment tool from the command line alone: an m2m
// application, a grant of admin API scopes, and the tool then calls the API.
func TestGrantAdminAPIScopesFromTheCommandLine(t *testing.T) {
	addr := "127.0.0.1:" + freePort(t)
	issuer := "http://" + addr + "/"
	vars := withConsoleDelivery(map[string]string{
		"DATABASE_URL":         storetest.NewEmptyDatabase(t),
		"GATEHOUSE_SECRET_KEY": testKey,
		"GATEHOUSE_ADDR":       addr,
		"GATEHOUSE_ISSUER":     issuer,
	})
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan result, 1)
	go func() { done <- gatehouse(ctx, vars, "", "serve") }()
	defer func() {
		stop()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			t.Error("serve did not stop")
		}
	}()
	waitReady(t, issuer+"readyz", done)

	created := gatehouse(context.Background(), vars, "", "clients", "create", "--name", "Deploy", "--type", "m2m", "--client-id", "deploy")
	if created.code != 0 {
		t.Fatalf("clients create: %d %s", created.code, created.stderr)
	}
	secret := strings.TrimSpace(strings.TrimPrefix(strings.Split(created.stdout, "\n")[1], "client_secret:"))

	refusals := []struct {
		name string
		args []string
		want string
	}{
		{"unknown scope", []string{"--api", "admin", "--scope", "read:everything"}, `"read:everything" is not a scope of this API`},
		{"unknown API", []string{"--api", "https://nowhere.example/", "--scope", "all"}, "no API has the identifier"},
		{"no API named", []string{"--scope", "all"}, "--api is required"},
	}
	for _, tc := range refusals {
		t.Run(tc.name, func(t *testing.T) {
			r := gatehouse(context.Background(), vars, "", append([]string{"clients", "grant", "deploy"}, tc.args...)...)
			if r.code == 0 || !strings.Contains(r.stderr, tc.want) {
				t.Errorf("exit %d, stderr %q; want a refusal with %q", r.code, r.stderr, tc.want)
			}
		})
	}

	if r := gatehouse(context.Background(), vars, "", "clients", "grant", "deploy", "--api", "admin", "--scope", "read:settings,read:logs"); r.code != 0 {
		t.Fatalf("clients grant: %d %s", r.code, r.stderr)
	}
	cc := clientcredentials.Config{ClientID: "deploy", ClientSecret: secret, TokenURL: issuer + "oauth/token",
		EndpointParams: map[string][]string{"audience": {issuer + "api/admin/"}}}
	call := func() int {
		tok, err := cc.Token(context.Background())
		if err != nil {
			return 0
		}
		req, _ := http.NewRequest("GET", issuer+"api/admin/settings", nil)
		req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := call(); got != http.StatusOK {
		t.Fatalf("admin API with the grant: %d", got)
	}
	if r := gatehouse(context.Background(), vars, "", "clients", "revoke-grant", "deploy", "--api", "admin"); r.code != 0 {
		t.Fatalf("clients revoke-grant: %d %s", r.code, r.stderr)
	}
	if got := call(); got != 0 {
		t.Fatalf("a token was issued after the grant was revoked (admin API answered %d)", got)
	}
}
