package main

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"
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
	// The Management API has a word of its own too.
	if r := gatehouse(context.Background(), vars, "", "clients", "grant", "deploy", "--api", "management", "--scope", "all"); r.code != 0 ||
		!strings.Contains(r.stdout, issuer+"api/v2/ with: read:users update:users") {
		t.Fatalf("clients grant --api management: %d %s%s", r.code, r.stdout, r.stderr)
	}
	cc := clientcredentials.Config{ClientID: "deploy", ClientSecret: secret, TokenURL: issuer + "oauth/token",
		EndpointParams: map[string][]string{"audience": {issuer + "api/admin/"}}}
	// call answers the admin API's status, or the token endpoint's refusal.
	call := func() (int, error) {
		tok, err := cc.Token(context.Background())
		if err != nil {
			return 0, err
		}
		req, err := http.NewRequest("GET", issuer+"api/admin/settings", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		if err := drainAndClose(resp.Body); err != nil {
			t.Fatalf("reading the admin API's answer: %v", err)
		}
		return resp.StatusCode, nil
	}
	if got, err := call(); err != nil || got != http.StatusOK {
		t.Fatalf("admin API with the grant: %d, %v", got, err)
	}
	if r := gatehouse(context.Background(), vars, "", "clients", "revoke-grant", "deploy", "--api", "admin"); r.code != 0 {
		t.Fatalf("clients revoke-grant: %d %s", r.code, r.stderr)
	}
	got, err := call()
	var refusal *oauth2.RetrieveError
	if !errors.As(err, &refusal) || refusal.ErrorCode != "access_denied" {
		t.Fatalf("after the grant was revoked: admin API answered %d, token error %v; want the token refused with access_denied", got, err)
	}
}

// drainAndClose reads what is left of a response body and closes it, so that
// its connection can serve the next request.
func drainAndClose(body io.ReadCloser) error {
	_, err := io.Copy(io.Discard, body)
	if cerr := body.Close(); err == nil {
		err = cerr
	}
	return err
}
