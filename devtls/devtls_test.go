package devtls_test

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/devtls"
)

func pool(t *testing.T, b devtls.Bundle) *x509.CertPool {
	t.Helper()
	pem, err := os.ReadFile(b.CAPath)
	if err != nil {
		t.Fatal(err)
	}
	p := x509.NewCertPool()
	if !p.AppendCertsFromPEM(pem) {
		t.Fatalf("%s holds no certificate", b.CAPath)
	}
	return p
}

// leaf loads the server certificate the way a TLS server does.
func leaf(t *testing.T, b devtls.Bundle) (*x509.Certificate, tls.Certificate) {
	t.Helper()
	return load(t, b.CertPath, b.KeyPath)
}

// rsaLeaf loads the sample app's RSA certificate the same way.
func rsaLeaf(t *testing.T, b devtls.Bundle) (*x509.Certificate, tls.Certificate) {
	t.Helper()
	return load(t, b.RSACertPath, b.RSAKeyPath)
}

func load(t *testing.T, certPath, keyPath string) (*x509.Certificate, tls.Certificate) {
	t.Helper()
	pair, err := tls.LoadX509KeyPair(certPath, keyPath)
	if err != nil {
		t.Fatalf("the certificate and key do not load as a pair: %v", err)
	}
	c, err := x509.ParseCertificate(pair.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	return c, pair
}

func TestCertificateVerifiesForEachNameAgainstTheCA(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "tls")
	now := time.Now()
	b, err := devtls.Ensure(dir, append(devtls.DefaultHosts, "gatehouse.test"), now)
	if err != nil {
		t.Fatal(err)
	}
	if !b.CACreated || !b.CertCreated {
		t.Fatalf("first run created CA %v, certificate %v; want both", b.CACreated, b.CertCreated)
	}
	c, pair := leaf(t, b)
	if len(pair.Certificate) != 2 {
		t.Fatalf("certificate file holds %d certificates, want the server's and the CA's", len(pair.Certificate))
	}
	for _, name := range []string{"localhost", "127.0.0.1", "::1", "gatehouse.test"} {
		_, err := c.Verify(x509.VerifyOptions{DNSName: name, Roots: pool(t, b), CurrentTime: now, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}})
		if err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := c.Verify(x509.VerifyOptions{DNSName: "example.com", Roots: pool(t, b), CurrentTime: now}); err == nil {
		t.Error("the certificate verifies for example.com, a name it was not made for")
	}
	if c.NotAfter.Sub(now) < 360*24*time.Hour || c.NotAfter.Sub(now) > 366*24*time.Hour {
		t.Errorf("server certificate valid until %v, want about a year", c.NotAfter)
	}
	for _, f := range []string{"ca-key.pem", "key.pem", devtls.RSAKeyFile} {
		st, err := os.Stat(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v, want 0600", f, st.Mode().Perm())
		}
	}
}

// TestRSACertificateForTheSampleApp checks the certificate the sample app's
// dev server uses: RSA, signed by the same CA, for localhost only.
func TestRSACertificateForTheSampleApp(t *testing.T) {
	dir := t.TempDir()
	now := time.Now()
	b, err := devtls.Ensure(dir, append(devtls.DefaultHosts, "gatehouse.test"), now)
	if err != nil {
		t.Fatal(err)
	}
	if !b.RSACertCreated || b.RSACertPath != filepath.Join(dir, devtls.RSACertFile) {
		t.Fatalf("first run: RSA certificate created %v at %s", b.RSACertCreated, b.RSACertPath)
	}
	c, pair := rsaLeaf(t, b)
	if c.PublicKeyAlgorithm != x509.RSA || len(pair.Certificate) != 2 {
		t.Fatalf("RSA certificate: key %v, chain of %d; want RSA followed by the CA", c.PublicKeyAlgorithm, len(pair.Certificate))
	}
	for _, name := range devtls.DefaultHosts {
		if _, err := c.Verify(x509.VerifyOptions{DNSName: name, Roots: pool(t, b), CurrentTime: now, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := c.Verify(x509.VerifyOptions{DNSName: "gatehouse.test", Roots: pool(t, b), CurrentTime: now}); err == nil {
		t.Error("the sample app's certificate verifies for the issuer's host too; want localhost only")
	}
	if c.NotAfter.Sub(now) < 360*24*time.Hour || c.NotAfter.Sub(now) > 366*24*time.Hour {
		t.Errorf("RSA certificate valid until %v, want about a year", c.NotAfter)
	}
}

func TestASecondRunReusesBoth(t *testing.T) {
	dir := t.TempDir()
	now := time.Now()
	first, err := devtls.Ensure(dir, devtls.DefaultHosts, now)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := os.ReadFile(first.CAPath)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := os.ReadFile(first.CertPath)
	if err != nil {
		t.Fatal(err)
	}
	rsaCert, err := os.ReadFile(first.RSACertPath)
	if err != nil {
		t.Fatal(err)
	}
	// The same names in another order and spelling are the same set.
	second, err := devtls.Ensure(dir, []string{"[::1]", "LOCALHOST", "127.0.0.1", "localhost"}, now.Add(24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if second.CACreated || second.CertCreated || second.RSACertCreated {
		t.Fatalf("second run created CA %v, certificate %v, RSA certificate %v; want none", second.CACreated, second.CertCreated, second.RSACertCreated)
	}
	ca2, err := os.ReadFile(second.CAPath)
	if err != nil {
		t.Fatal(err)
	}
	cert2, err := os.ReadFile(second.CertPath)
	if err != nil {
		t.Fatal(err)
	}
	rsaCert2, err := os.ReadFile(second.RSACertPath)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(ca, ca2) || !bytes.Equal(cert, cert2) || !bytes.Equal(rsaCert, rsaCert2) {
		t.Fatal("the files changed although nothing needed renewing")
	}
}

func TestRenewal(t *testing.T) {
	now := time.Now()
	tests := []struct {
		name                    string
		hosts                   []string
		at                      time.Time
		wantCA, wantCe, wantRSA bool
	}{
		{"server certificates within a month of expiry", devtls.DefaultHosts, now.Add(340 * 24 * time.Hour), false, true, true},
		{"server certificates expired", devtls.DefaultHosts, now.Add(2 * 365 * 24 * time.Hour), false, true, true},
		// The RSA certificate is for localhost whatever the issuer's host.
		{"names changed", []string{"localhost", "gatehouse.test"}, now, false, true, false},
		{"CA expired", devtls.DefaultHosts, now.Add(11 * 365 * 24 * time.Hour), true, true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if _, err := devtls.Ensure(dir, devtls.DefaultHosts, now); err != nil {
				t.Fatal(err)
			}
			b, err := devtls.Ensure(dir, tt.hosts, tt.at)
			if err != nil {
				t.Fatal(err)
			}
			if b.CACreated != tt.wantCA || b.CertCreated != tt.wantCe || b.RSACertCreated != tt.wantRSA {
				t.Fatalf("created CA %v, certificate %v, RSA certificate %v; want %v, %v, %v",
					b.CACreated, b.CertCreated, b.RSACertCreated, tt.wantCA, tt.wantCe, tt.wantRSA)
			}
			c, _ := leaf(t, b)
			if _, err := c.Verify(x509.VerifyOptions{DNSName: tt.hosts[0], Roots: pool(t, b), CurrentTime: tt.at}); err != nil {
				t.Fatalf("renewed certificate does not verify at %v: %v", tt.at, err)
			}
			r, _ := rsaLeaf(t, b)
			if _, err := r.Verify(x509.VerifyOptions{DNSName: "localhost", Roots: pool(t, b), CurrentTime: tt.at}); err != nil {
				t.Fatalf("RSA certificate does not verify at %v: %v", tt.at, err)
			}
		})
	}
}

func TestAnUnreadableCAIsReplaced(t *testing.T) {
	dir := t.TempDir()
	if _, err := devtls.Ensure(dir, devtls.DefaultHosts, time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, devtls.CAFile), []byte("not a certificate"), 0o644); err != nil {
		t.Fatal(err)
	}
	b, err := devtls.Ensure(dir, devtls.DefaultHosts, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if !b.CACreated || !b.CertCreated || !b.RSACertCreated {
		t.Fatalf("created CA %v, certificate %v, RSA certificate %v; want all", b.CACreated, b.CertCreated, b.RSACertCreated)
	}
	c, _ := leaf(t, b)
	if _, err := c.Verify(x509.VerifyOptions{DNSName: "localhost", Roots: pool(t, b)}); err != nil {
		t.Fatal(err)
	}
}
