package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/devtls"
	"github.com/gatehouse-id/gatehouse/store/storetest"
)

// trusting is an HTTP client that trusts only the CA in caPath.
func trusting(t *testing.T, caPath string) *http.Client {
	t.Helper()
	pem, err := os.ReadFile(caPath)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		t.Fatalf("%s holds no certificate", caPath)
	}
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
}

// serveTLS runs `gatehouse serve` over HTTPS with a certificate from a fresh
// test CA and returns its base URL (the issuer), the CA's path and the
// environment it runs with.
func serveTLS(t *testing.T) (base, caPath string, vars map[string]string) {
	t.Helper()
	bundle, err := devtls.Ensure(filepath.Join(t.TempDir(), "tls"), devtls.DefaultHosts, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	addr := "127.0.0.1:" + freePort(t)
	base = "https://" + addr + "/"
	vars = withConsoleDelivery(map[string]string{
		"DATABASE_URL":         storetest.NewDatabase(t),
		"GATEHOUSE_SECRET_KEY": testKey,
		"GATEHOUSE_ADDR":       addr,
		"GATEHOUSE_ISSUER":     base,
		"GATEHOUSE_TLS_CERT":   bundle.CertPath,
		"GATEHOUSE_TLS_KEY":    bundle.KeyPath,
	})
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan result, 1)
	go func() { done <- gatehouse(ctx, vars, "", "serve") }()
	t.Cleanup(func() {
		stop()
		select {
		case r := <-done:
			if r.code != 0 {
				t.Errorf("serve exit %d, stderr %s", r.code, r.stderr)
			}
		case <-time.After(20 * time.Second):
			t.Error("serve did not stop within 20s of its context ending")
		}
	})
	waitReadyWith(t, trusting(t, bundle.CAPath), base+"readyz", done)
	return base, bundle.CAPath, vars
}

func TestServeOverHTTPS(t *testing.T) {
	base, ca, _ := serveTLS(t)
	client := trusting(t, ca)
	resp, err := client.Get(base + ".well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var disc struct {
		Issuer  string `json:"issuer"`
		JWKSURI string `json:"jwks_uri"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&disc); err != nil {
		t.Fatal(err)
	}
	if disc.Issuer != base || !strings.HasPrefix(disc.JWKSURI, base) {
		t.Fatalf("discovery over https: issuer %q, jwks_uri %q; want both under %q", disc.Issuer, disc.JWKSURI, base)
	}
	// Plain HTTP on the HTTPS port gets no page.
	if resp, err := http.Get(strings.Replace(base, "https:", "http:", 1) + "readyz"); err == nil && resp.StatusCode == http.StatusOK {
		t.Fatal("the HTTPS listener answered plain HTTP with 200")
	}
}
