package mail

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"
)

// TLS modes of an SMTP connection.
const (
	TLSImplicit      = "implicit"      // smtps://: TLS from the first byte (port 465)
	TLSStartTLS      = "starttls"      // smtp://: STARTTLS required; a relay without it is refused
	TLSOpportunistic = "opportunistic" // smtp://…?starttls=opportunistic: STARTTLS when offered
	TLSNone          = "none"          // smtp://…?starttls=none: plain text, for a relay on loopback
)

// SMTPConfig is how to reach the relay; ParseSMTPURL builds it from
// GATEHOUSE_SMTP_URL.
type SMTPConfig struct {
	Host     string
	Port     int
	Username string // empty: no authentication
	Password string
	TLS      string
	From     string        // the From address, e.g. "Gatehouse <login@example.com>"
	Timeout  time.Duration // per attempt; default 15s
	// TLSConfig overrides the defaults (system roots, ServerName = Host);
	// tests use it to trust their own relay.
	TLSConfig *tls.Config
}

// ParseSMTPURL reads smtp://[user[:pass]@]host[:port][?starttls=required|opportunistic|none]
// or smtps://[user[:pass]@]host[:port]. The default port is 587 for smtp and
// 465 for smtps. The error says what is wrong in words for an operator.
func ParseSMTPURL(raw string) (SMTPConfig, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || u.Host == "" || u.Hostname() == "" {
		return SMTPConfig{}, errors.New("is not a URL with a host")
	}
	var c SMTPConfig
	switch u.Scheme {
	case "smtp":
		c.Port, c.TLS = 587, TLSStartTLS
		switch v := u.Query().Get("starttls"); v {
		case "", "required":
		case "opportunistic":
			c.TLS = TLSOpportunistic
		case "none":
			c.TLS = TLSNone
		default:
			return SMTPConfig{}, fmt.Errorf("has starttls=%q, not required, opportunistic or none", v)
		}
	case "smtps":
		c.Port, c.TLS = 465, TLSImplicit
		if u.Query().Has("starttls") {
			return SMTPConfig{}, errors.New("is smtps:// (implicit TLS) but also sets starttls")
		}
	default:
		return SMTPConfig{}, fmt.Errorf("has scheme %q, not smtp or smtps", u.Scheme)
	}
	for k := range u.Query() {
		if k != "starttls" {
			return SMTPConfig{}, fmt.Errorf("has the unknown query parameter %q", k)
		}
	}
	c.Host = u.Hostname()
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return SMTPConfig{}, fmt.Errorf("has port %q, not 1-65535", p)
		}
		c.Port = n
	}
	if u.User != nil {
		c.Username = u.User.Username()
		c.Password, _ = u.User.Password()
	}
	return c, nil
}

// SMTP sends through a relay, one connection per message: mails are rare
// (signups and resets), and a fresh connection never finds a stale one.
type SMTP struct {
	c       SMTPConfig
	fromDom string
}

var _ Sender = (*SMTP)(nil)

// NewSMTP checks the configuration; it does not connect.
func NewSMTP(c SMTPConfig) (*SMTP, error) {
	if c.Host == "" || c.Port == 0 {
		return nil, errors.New("mail: SMTP host and port are required")
	}
	probe := gomail.NewMsg()
	if err := probe.From(c.From); err != nil {
		return nil, fmt.Errorf("mail: from address %q: %w", c.From, err)
	}
	if c.Timeout <= 0 {
		c.Timeout = 15 * time.Second
	}
	from := probe.GetFromString()
	dom := "gatehouse.invalid"
	if len(from) > 0 {
		if at := strings.LastIndexByte(from[0], '@'); at >= 0 {
			dom = strings.Trim(from[0][at+1:], "> ")
		}
	}
	return &SMTP{c: c, fromDom: dom}, nil
}

func (s *SMTP) Name() string { return "smtp" }

// Send makes one delivery attempt. A relay refusing the sender or the
// recipient with a permanent (5xx) reply is a *PermanentError; everything
// else, refused connections and timeouts included, is worth retrying.
func (s *SMTP) Send(ctx context.Context, m Message) (Receipt, error) {
	msg := gomail.NewMsg()
	if err := msg.From(s.c.From); err != nil {
		return Receipt{}, &PermanentError{fmt.Errorf("from address: %w", err)}
	}
	if err := msg.To(m.To); err != nil {
		return Receipt{}, &PermanentError{fmt.Errorf("recipient: %w", err)}
	}
	id := m.ID + "@" + s.fromDom
	msg.SetMessageIDWithValue(id)
	msg.SetDate()
	msg.Subject(m.Subject)
	msg.SetBodyString(gomail.TypeTextPlain, m.Text)
	if m.HTML != "" {
		msg.AddAlternativeString(gomail.TypeTextHTML, m.HTML)
	}
	client, err := gomail.NewClient(s.c.Host, s.options()...)
	if err != nil {
		return Receipt{}, &PermanentError{fmt.Errorf("smtp client: %w", err)}
	}
	if err := client.DialAndSendWithContext(ctx, msg); err != nil {
		var se *gomail.SendError
		if errors.As(err, &se) && !se.IsTemp() && se.ErrorCode() >= 500 &&
			(se.Reason == gomail.ErrSMTPRcptTo || se.Reason == gomail.ErrSMTPMailFrom) {
			return Receipt{}, &PermanentError{err}
		}
		return Receipt{}, err
	}
	return Receipt{ProviderMessageID: id}, nil
}

func (s *SMTP) options() []gomail.Option {
	opts := []gomail.Option{gomail.WithPort(s.c.Port), gomail.WithTimeout(s.c.Timeout)}
	switch s.c.TLS {
	case TLSImplicit:
		opts = append(opts, gomail.WithSSL())
	case TLSOpportunistic:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSOpportunistic))
	case TLSNone:
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	default:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	}
	if s.c.TLSConfig != nil {
		opts = append(opts, gomail.WithTLSConfig(s.c.TLSConfig))
	}
	if s.c.Username != "" {
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover),
			gomail.WithUsername(s.c.Username), gomail.WithPassword(s.c.Password))
	}
	return opts
}
