// Package certreload serves a TLS certificate from files that an operator (or
// a tool such as certbot or cert-manager) replaces while the server runs.
// Each handshake checks the files' modification times and sizes and reads
// them again only when they changed, so a rotated certificate is in use from
// the next connection on, without a restart.
package certreload

import (
	"crypto/tls"
	"fmt"
	"os"
	"sync"
	"time"
)

// Loader hands out the certificate in a pair of PEM files.
type Loader struct {
	certPath, keyPath string
	// onError hears of a replaced pair that does not load; the previous
	// certificate stays in use meanwhile.
	onError func(error)

	mu              sync.Mutex
	cert            *tls.Certificate
	certVer, keyVer fileVersion
	// failed is the pair of versions that last failed to load, so a broken
	// rotation is reported once, not on every handshake.
	failed [2]fileVersion
}

// fileVersion tells whether a file changed since it was read.
type fileVersion struct {
	mod  time.Time
	size int64
}

// New reads the pair once, failing when it does not load, so a typo in a
// path stops the server at start rather than at the first connection.
// onError (may be nil) hears of later reloads that fail.
func New(certPath, keyPath string, onError func(error)) (*Loader, error) {
	l := &Loader{certPath: certPath, keyPath: keyPath, onError: onError}
	if _, err := l.current(); err != nil {
		return nil, err
	}
	return l, nil
}

// GetCertificate is for tls.Config.GetCertificate.
func (l *Loader) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	cert, err := l.current()
	if err != nil && cert == nil {
		return nil, err
	}
	return cert, nil
}

// TLSConfig is a server configuration that serves the loader's certificate.
func (l *Loader) TLSConfig() *tls.Config {
	return &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: l.GetCertificate}
}

// current returns the certificate, reloading it first when either file
// changed. When the reload fails it returns the previous certificate along
// with the error; a half-written rotation thus costs no connections.
func (l *Loader) current() (*tls.Certificate, error) {
	certVer, err := version(l.certPath)
	if err != nil {
		return l.keep(err)
	}
	keyVer, err := version(l.keyPath)
	if err != nil {
		return l.keep(err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.cert != nil && (certVer == l.certVer && keyVer == l.keyVer || l.failed == [2]fileVersion{certVer, keyVer}) {
		return l.cert, nil
	}
	cert, err := tls.LoadX509KeyPair(l.certPath, l.keyPath)
	if err != nil {
		err = fmt.Errorf("load TLS certificate %s with key %s: %w", l.certPath, l.keyPath, err)
		if l.cert != nil && l.onError != nil {
			l.onError(err)
		}
		l.failed = [2]fileVersion{certVer, keyVer}
		return l.cert, err
	}
	l.cert, l.certVer, l.keyVer = &cert, certVer, keyVer
	return l.cert, nil
}

func (l *Loader) keep(err error) (*tls.Certificate, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.cert != nil && l.onError != nil {
		l.onError(err)
	}
	return l.cert, err
}

func version(path string) (fileVersion, error) {
	st, err := os.Stat(path)
	if err != nil {
		return fileVersion{}, fmt.Errorf("TLS certificate file: %w", err)
	}
	return fileVersion{st.ModTime(), st.Size()}, nil
}
