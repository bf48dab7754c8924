package mail_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"math/big"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/gatehouse-id/gatehouse/mail"
)

func TestParseSMTPURL(t *testing.T) {
	tests := []struct {
		name, url string
		want      mail.SMTPConfig
		err       string
	}{
		{"submission with STARTTLS required by default", "smtp://u:p%40ss@mail.example.com",
			mail.SMTPConfig{Host: "mail.example.com", Port: 587, Username: "u", Password: "p@ss", TLS: mail.TLSStartTLS}, ""},
		{"opportunistic STARTTLS on port 25", "smtp://mail.example.com:25?starttls=opportunistic",
			mail.SMTPConfig{Host: "mail.example.com", Port: 25, TLS: mail.TLSOpportunistic}, ""},
		{"plain text to a local relay", "smtp://127.0.0.1:2525?starttls=none",
			mail.SMTPConfig{Host: "127.0.0.1", Port: 2525, TLS: mail.TLSNone}, ""},
		{"implicit TLS", "smtps://u:p@mail.example.com",
			mail.SMTPConfig{Host: "mail.example.com", Port: 465, Username: "u", Password: "p", TLS: mail.TLSImplicit}, ""},
		{"unknown scheme", "https://mail.example.com", mail.SMTPConfig{}, `has scheme "https", not smtp or smtps`},
		{"no host", "smtp://", mail.SMTPConfig{}, "is not a URL with a host"},
		{"bad port", "smtp://mail.example.com:0", mail.SMTPConfig{}, `has port "0"`},
		{"unknown starttls", "smtp://mail.example.com?starttls=yes", mail.SMTPConfig{}, `has starttls="yes"`},
		{"starttls with implicit TLS", "smtps://mail.example.com?starttls=none", mail.SMTPConfig{}, "implicit TLS"},
		{"unknown parameter", "smtp://mail.example.com?tls=1", mail.SMTPConfig{}, `unknown query parameter "tls"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := mail.ParseSMTPURL(tt.url)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want one containing %q", err, tt.err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("got %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}

// tlsRelay is a loopback SMTP server with a self-signed certificate that
// offers STARTTLS (unless plain) and PLAIN auth after it.
type tlsRelay struct {
	addr     string
	roots    *x509.CertPool
	received chan string // "user from to"
}

func newTLSRelay(t *testing.T, offerTLS bool) *tlsRelay {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(cert)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &tlsRelay{addr: l.Addr().String(), roots: roots, received: make(chan string, 4)}
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &authSession{r: r}, nil }))
	srv.Domain = "127.0.0.1"
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	srv.ErrorLog = quiet{}
	if offerTLS {
		srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}
	} else {
		srv.AllowInsecureAuth = true
	}
	go srv.Serve(l)
	t.Cleanup(func() {
		if err := srv.Close(); err != nil {
			t.Fatal(err)
		}
	})
	return r
}

type quiet struct{}

func (quiet) Printf(string, ...any) {}
func (quiet) Println(...any)        {}

type authSession struct {
	r          *tlsRelay
	user, from string
}

func (s *authSession) AuthMechanisms() []string { return []string{sasl.Plain} }
func (s *authSession) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if user != "gate" || pass != "s3cret" {
			return errors.New("bad credentials")
		}
		s.user = user
		return nil
	}), nil
}
func (s *authSession) Reset()                                      {}
func (s *authSession) Logout() error                               { return nil }
func (s *authSession) Mail(from string, _ *smtp.MailOptions) error { s.from = from; return nil }
func (s *authSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.r.received <- s.user + " " + s.from + " " + to
	return nil
}
func (s *authSession) Data(r io.Reader) error { _, err := io.Copy(io.Discard, r); return err }

func (r *tlsRelay) sender(t *testing.T, tlsMode string) *mail.SMTP {
	host, port, err := net.SplitHostPort(r.addr)
	if err != nil {
		t.Fatal(err)
	}
	p, err := strconv.Atoi(port)
	if err != nil {
		t.Fatal(err)
	}
	s, err := mail.NewSMTP(mail.SMTPConfig{Host: host, Port: p, Username: "gate", Password: "s3cret", TLS: tlsMode,
		From: "Gatehouse <login@example.com>", Timeout: 5 * time.Second,
		TLSConfig: &tls.Config{RootCAs: r.roots, ServerName: host}})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

var msg = mail.Message{ID: "0b9e6f2c-1111-4222-8333-444455556666", To: "ann@example.com", Subject: "Hello",
	Text: "a link", HTML: "<p>a link</p>", Purpose: mail.PurposeVerify}

func TestSMTPSendsOverSTARTTLSWithAuth(t *testing.T) {
	r := newTLSRelay(t, true)
	receipt, err := r.sender(t, mail.TLSStartTLS).Send(context.Background(), msg)
	if err != nil || receipt.ProviderMessageID != msg.ID+"@example.com" {
		t.Fatalf("send: %+v, %v", receipt, err)
	}
	select {
	case got := <-r.received:
		if got != "gate login@example.com ann@example.com" {
			t.Fatalf("relay saw %q", got)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("relay received nothing within 10s")
	}
}

func TestSMTPRefusesARelayWithoutSTARTTLSWhenRequired(t *testing.T) {
	r := newTLSRelay(t, false)
	if _, err := r.sender(t, mail.TLSStartTLS).Send(context.Background(), msg); err == nil || mail.IsPermanent(err) {
		t.Fatalf("err = %v, want a temporary failure (an operator can fix the relay)", err)
	}
	select {
	case got := <-r.received:
		t.Fatalf("relay received %q over plain text", got)
	default:
	}
}
