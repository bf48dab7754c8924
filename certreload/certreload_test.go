package certreload_test

import (
	"bytes"
	"crypto/tls"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/certreload"
	"github.com/gatehouse-id/gatehouse/devtls"
)

// pair makes a certificate and key under a directory of its own.
func pair(t *testing.T, host string) devtls.Bundle {
	t.Helper()
	b, err := devtls.Ensure(t.TempDir(), []string{host}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// install copies a pair into place and dates it at, as a rotation would.
func install(t *testing.T, b devtls.Bundle, certPath, keyPath string, at time.Time) {
	t.Helper()
	for _, f := range [][2]string{{b.CertPath, certPath}, {b.KeyPath, keyPath}} {
		data, err := os.ReadFile(f[0])
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(f[1], data, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(f[1], at, at); err != nil {
			t.Fatal(err)
		}
	}
}

func served(t *testing.T, l *certreload.Loader) []byte {
	t.Helper()
	c, err := l.GetCertificate(&tls.ClientHelloInfo{})
	if err != nil {
		t.Fatal(err)
	}
	return c.Certificate[0]
}

func leafOf(t *testing.T, b devtls.Bundle) []byte {
	t.Helper()
	c, err := tls.LoadX509KeyPair(b.CertPath, b.KeyPath)
	if err != nil {
		t.Fatal(err)
	}
	return c.Certificate[0]
}

func TestARotatedCertificateIsServedFromTheNextHandshake(t *testing.T) {
	dir := t.TempDir()
	certPath, keyPath := filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	old, rotated := pair(t, "old.test"), pair(t, "new.test")
	start := time.Now().Add(-time.Hour)
	install(t, old, certPath, keyPath, start)

	var reported []error
	l, err := certreload.New(certPath, keyPath, func(err error) { reported = append(reported, err) })
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(served(t, l), leafOf(t, old)) {
		t.Fatal("not serving the installed certificate")
	}

	install(t, rotated, certPath, keyPath, start.Add(time.Minute))
	if !bytes.Equal(served(t, l), leafOf(t, rotated)) {
		t.Fatal("still serving the old certificate after rotation")
	}

	// A half-done rotation (a new certificate, the old key) keeps the last
	// good pair in service and is reported once.
	newer := pair(t, "newer.test")
	data, err := os.ReadFile(newer.CertPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(certPath, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(certPath, start.Add(2*time.Minute), start.Add(2*time.Minute)); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if !bytes.Equal(served(t, l), leafOf(t, rotated)) {
			t.Fatal("a mismatched pair replaced the good certificate")
		}
	}
	if len(reported) != 1 {
		t.Fatalf("%d errors reported, want 1: %v", len(reported), reported)
	}

	install(t, newer, certPath, keyPath, start.Add(3*time.Minute))
	if !bytes.Equal(served(t, l), leafOf(t, newer)) {
		t.Fatal("the completed rotation is not served")
	}
}

func TestNewRefusesAPairThatDoesNotLoad(t *testing.T) {
	b := pair(t, "localhost")
	if _, err := certreload.New(b.CertPath, filepath.Join(t.TempDir(), "missing.key"), nil); err == nil || !strings.Contains(err.Error(), "missing.key") {
		t.Fatalf("missing key: %v, want an error naming the file", err)
	}
	other := pair(t, "localhost")
	if _, err := certreload.New(b.CertPath, other.KeyPath, nil); err == nil {
		t.Fatal("a key of another certificate was accepted")
	}
}
