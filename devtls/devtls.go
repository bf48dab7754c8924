// Package devtls gives `gatehouse dev` HTTPS without a public certificate: a
// local certificate authority and a server certificate it signs for the names
// a developer browses to (localhost, 127.0.0.1, ::1 and the issuer's host).
// The CA also signs an RSA certificate for localhost, for the sample app's
// dev server: served over HTTPS on localhost it is the same site as
// Gatehouse, and some dev servers refuse an ECDSA key.
//
// All live as PEM files in one directory and are reused across runs, so a
// browser or Node.js told to trust the CA once keeps trusting every later
// server certificate. A server certificate is made again when it nears
// expiry, when the names change or when the CA is replaced; the CA is made
// again only when it nears expiry or cannot be read.
package devtls

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// File names inside the directory.
const (
	CAFile       = "ca.pem"
	caKeyFile    = "ca-key.pem"
	CertFile     = "cert.pem"
	KeyFile      = "key.pem"
	RSACertFile  = "localhost-rsa.pem"
	RSAKeyFile   = "localhost-rsa-key.pem"
	caLifetime   = 10 * 365 * 24 * time.Hour
	leafLifetime = 365 * 24 * time.Hour
	// renewBefore is how long before expiry a certificate is replaced, so a
	// dev server started today still has a valid one next week.
	renewBefore = 30 * 24 * time.Hour
)

// DefaultHosts are the names every dev certificate covers.
var DefaultHosts = []string{"localhost", "127.0.0.1", "::1"}

// Bundle names the files of a ready CA and server certificate.
type Bundle struct {
	CAPath   string // the CA certificate to trust (NODE_EXTRA_CA_CERTS, browser import)
	CertPath string // server certificate followed by the CA, for the TLS handshake
	KeyPath  string // the server certificate's private key
	// RSACertPath and RSAKeyPath are the RSA certificate for DefaultHosts
	// (followed by the CA) and its key, for the sample app's dev server.
	RSACertPath, RSAKeyPath string
	// CACreated, CertCreated and RSACertCreated say what this call made
	// anew, for the caller's message to the developer.
	CACreated, CertCreated, RSACertCreated bool
}

// Ensure makes sure dir holds a CA valid at now, a server certificate it
// signed for exactly hosts (host names or IP addresses; order and duplicates
// do not matter) and an RSA certificate it signed for DefaultHosts, creating
// or replacing what is missing, expiring or wrong.
func Ensure(dir string, hosts []string, now time.Time) (Bundle, error) {
	b := Bundle{
		CAPath:      filepath.Join(dir, CAFile),
		CertPath:    filepath.Join(dir, CertFile),
		KeyPath:     filepath.Join(dir, KeyFile),
		RSACertPath: filepath.Join(dir, RSACertFile),
		RSAKeyPath:  filepath.Join(dir, RSAKeyFile),
	}
	hosts = normalise(hosts)
	if len(hosts) == 0 {
		return b, errors.New("devtls: no host names for the certificate")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return b, fmt.Errorf("devtls: create %s: %w", dir, err)
	}
	ca, caKey, err := loadPair(b.CAPath, filepath.Join(dir, caKeyFile))
	if err != nil || !ca.IsCA || expiring(ca, now) {
		if ca, caKey, err = newCA(now); err != nil {
			return b, err
		}
		if err := writePair(b.CAPath, filepath.Join(dir, caKeyFile), caKey, ca); err != nil {
			return b, err
		}
		b.CACreated = true
	}
	issuer := signer{ca: ca, key: caKey, now: now, renew: b.CACreated}
	if b.CertCreated, err = issuer.ensureLeaf(b.CertPath, b.KeyPath, hosts, ecdsaKey); err != nil {
		return b, err
	}
	if b.RSACertCreated, err = issuer.ensureLeaf(b.RSACertPath, b.RSAKeyPath, normalise(DefaultHosts), rsaKey); err != nil {
		return b, err
	}
	return b, nil
}

// signer is the CA as it issues leaf certificates; renew says it is new, so
// every leaf must be issued again.
type signer struct {
	ca    *x509.Certificate
	key   crypto.Signer
	now   time.Time
	renew bool
}

// ensureLeaf keeps the certificate at certPath when it is signed by the CA,
// names exactly hosts, holds a key of the wanted kind and is not near
// expiry; otherwise it issues one with a fresh key, and says so.
func (s signer) ensureLeaf(certPath, keyPath string, hosts []string, kind keyKind) (bool, error) {
	leaf, _, err := loadPair(certPath, keyPath)
	if !s.renew && err == nil && !expiring(leaf, s.now) && signedBy(leaf, s.ca, s.now) && slices.Equal(names(leaf), hosts) &&
		leaf.PublicKeyAlgorithm == kind.algorithm {
		return false, nil
	}
	key, err := kind.generate()
	if err != nil {
		return false, fmt.Errorf("devtls: server key: %w", err)
	}
	if leaf, err = newLeaf(s.ca, s.key, key, hosts, s.now); err != nil {
		return false, err
	}
	if err := writePair(certPath, keyPath, key, leaf, s.ca); err != nil {
		return false, err
	}
	return true, nil
}

type keyKind struct {
	algorithm x509.PublicKeyAlgorithm
	generate  func() (crypto.Signer, error)
}

var (
	ecdsaKey = keyKind{x509.ECDSA, func() (crypto.Signer, error) { return ecdsa.GenerateKey(elliptic.P256(), rand.Reader) }}
	rsaKey   = keyKind{x509.RSA, func() (crypto.Signer, error) { return rsa.GenerateKey(rand.Reader, 2048) }}
)

func expiring(c *x509.Certificate, now time.Time) bool {
	return now.Before(c.NotBefore) || now.Add(renewBefore).After(c.NotAfter)
}

func signedBy(leaf, ca *x509.Certificate, now time.Time) bool {
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	_, err := leaf.Verify(x509.VerifyOptions{Roots: pool, CurrentTime: now, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}})
	return err == nil
}

// normalise sorts hosts and drops duplicates and blanks, so the same set of
// names compares equal however it was given; IP addresses take their
// canonical form (::1, not 0:0:0:0:0:0:0:1).
func normalise(hosts []string) []string {
	var out []string
	for _, h := range hosts {
		h = strings.ToLower(strings.Trim(strings.TrimSpace(h), "[]"))
		if ip := net.ParseIP(h); ip != nil {
			h = ip.String()
		}
		if h != "" {
			out = append(out, h)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// names is the certificate's subject alternative names, normalised.
func names(c *x509.Certificate) []string {
	out := slices.Clone(c.DNSNames)
	for _, ip := range c.IPAddresses {
		out = append(out, ip.String())
	}
	return normalise(out)
}

func newCA(now time.Time) (*x509.Certificate, *ecdsa.PrivateKey, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("devtls: CA key: %w", err)
	}
	// A random suffix tells this machine's CA from another's in a browser's
	// list of trusted authorities.
	tag := make([]byte, 4)
	rand.Read(tag)
	tmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{Organization: []string{"Gatehouse development"}, CommonName: "Gatehouse development CA " + hex.EncodeToString(tag)},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(caLifetime),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, nil, fmt.Errorf("devtls: sign CA: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	return cert, key, err
}

func newLeaf(ca *x509.Certificate, caKey, key crypto.Signer, hosts []string, now time.Time) (*x509.Certificate, error) {
	tmpl := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{Organization: []string{"Gatehouse development"}, CommonName: hosts[0]},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(leafLifetime),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	if _, ok := key.(*rsa.PrivateKey); ok {
		// TLS 1.2 clients without forward secrecy encrypt to an RSA key.
		tmpl.KeyUsage |= x509.KeyUsageKeyEncipherment
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, key.Public(), caKey)
	if err != nil {
		return nil, fmt.Errorf("devtls: sign server certificate: %w", err)
	}
	return x509.ParseCertificate(der)
}

func serial() *big.Int {
	n, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	return n
}

// loadPair reads a certificate (the first of a chain) and its private key.
func loadPair(certPath, keyPath string) (*x509.Certificate, crypto.Signer, error) {
	certPEM, err := os.ReadFile(certPath)
	if err != nil {
		return nil, nil, err
	}
	keyPEM, err := os.ReadFile(keyPath)
	if err != nil {
		return nil, nil, err
	}
	cb, _ := pem.Decode(certPEM)
	kb, _ := pem.Decode(keyPEM)
	if cb == nil || kb == nil {
		return nil, nil, fmt.Errorf("devtls: %s or %s is not PEM", certPath, keyPath)
	}
	cert, err := x509.ParseCertificate(cb.Bytes)
	if err != nil {
		return nil, nil, err
	}
	k, err := x509.ParsePKCS8PrivateKey(kb.Bytes)
	if err != nil {
		return nil, nil, err
	}
	signer, ok := k.(crypto.Signer)
	if !ok {
		return nil, nil, fmt.Errorf("devtls: %s holds no signing key", keyPath)
	}
	pub, ok := signer.Public().(interface{ Equal(crypto.PublicKey) bool })
	if !ok || !pub.Equal(cert.PublicKey) {
		return nil, nil, fmt.Errorf("devtls: %s does not match %s", keyPath, certPath)
	}
	return cert, signer, nil
}

// writePair writes the key (0600) and then the certificate chain, each by
// rename, so a server reading them never sees half a file; the key goes
// first so a reader that sees the new certificate finds its key.
func writePair(certPath, keyPath string, key crypto.Signer, chain ...*x509.Certificate) error {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return fmt.Errorf("devtls: encode key: %w", err)
	}
	if err := writeFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		return err
	}
	var certs bytes.Buffer
	for _, c := range chain {
		pem.Encode(&certs, &pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
	}
	return writeFile(certPath, certs.Bytes(), 0o644)
}

func writeFile(path string, data []byte, mode os.FileMode) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("devtls: write %s: %w", path, err)
	}
	defer os.Remove(f.Name())
	if err := f.Chmod(mode); err != nil {
		f.Close()
		return fmt.Errorf("devtls: write %s: %w", path, err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("devtls: write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("devtls: write %s: %w", path, err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("devtls: write %s: %w", path, err)
	}
	return nil
}
