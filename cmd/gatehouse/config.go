package main

import (
	"crypto/tls"
	"encoding/base64"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/gatehouse-id/gatehouse/mfa"
)

// configError names the setting at fault and what a valid value looks like; it
// is printed as the one line an operator needs.
type configError struct {
	name    string
	problem string
	hint    string
}

func (e *configError) Error() string {
	return fmt.Sprintf("%s %s; %s", e.name, e.problem, e.hint)
}

// config is the server's configuration, from the environment with flags
// overriding.
type config struct {
	databaseURL    string
	issuer         *url.URL
	addr           string
	secretKey      []byte
	trustedProxies []netip.Prefix
	sms            smsConfig
	mail           mailConfig
	dev            bool // gatehouse dev: the dev outbox page may show the codes
	// tlsCert and tlsKey are PEM files to serve HTTPS with; both empty means
	// plain HTTP (TLS ends at a proxy in front).
	tlsCert, tlsKey string
	pprofAddr       string // loopback listener for net/http/pprof; "" serves none
	metricsAddr     string // listener for Prometheus; "" serves no metrics

	geoIPPath             string // MaxMind-format City database for the location signals
	adaptiveChallengeMore bool   // adaptive also challenges medium confidence
	rememberFor           time.Duration
}

const (
	defaultIssuer = "http://localhost:8080/"
	defaultAddr   = ":8080"

	hintDatabaseURL = "set it to a Postgres URL, e.g. postgres://gatehouse:secret@localhost:5432/gatehouse"
	hintSecretKey   = "set it to 32 random bytes in base64, e.g. the output of: openssl rand -base64 32"
	hintIssuer      = "set it to the public base URL ending in /, e.g. https://login.example.com/"
	hintAddr        = "set it to a listen address, e.g. :8080 or 127.0.0.1:8080"
	hintProxies     = "set it to comma-separated CIDRs, e.g. 10.0.0.0/8,192.168.1.10/32"
	hintTLS         = "set GATEHOUSE_TLS_CERT and GATEHOUSE_TLS_KEY to a PEM certificate chain and its private key, or neither for plain HTTP"
)

// parseTLSFiles takes the certificate and key paths, which come as a pair.
func parseTLSFiles(cert, key string) (string, string, error) {
	cert, key = strings.TrimSpace(cert), strings.TrimSpace(key)
	switch {
	case cert != "" && key == "":
		return "", "", &configError{"GATEHOUSE_TLS_KEY", "is not set but GATEHOUSE_TLS_CERT is", hintTLS}
	case cert == "" && key != "":
		return "", "", &configError{"GATEHOUSE_TLS_CERT", "is not set but GATEHOUSE_TLS_KEY is", hintTLS}
	case cert == "":
		return "", "", nil
	}
	// Read once here so a wrong path stops the start before anything else;
	// the server reads the files again whenever they change.
	if _, err := tls.LoadX509KeyPair(cert, key); err != nil {
		return "", "", &configError{"GATEHOUSE_TLS_CERT", fmt.Sprintf("cannot be used: %v", err), hintTLS}
	}
	return cert, key, nil
}

func parseDatabaseURL(name, v string) (string, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return "", &configError{name, "is not set", hintDatabaseURL}
	}
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return "", &configError{name, "is not a postgres:// URL", hintDatabaseURL}
	}
	return v, nil
}

func parseSecretKey(name, v string) ([]byte, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return nil, &configError{name, "is not set", hintSecretKey}
	}
	key, err := base64.StdEncoding.DecodeString(v)
	if err != nil {
		key, err = base64.RawStdEncoding.DecodeString(v)
	}
	if err != nil {
		return nil, &configError{name, "is not valid base64", hintSecretKey}
	}
	if len(key) != 32 {
		return nil, &configError{name, fmt.Sprintf("decodes to %d bytes, not 32", len(key)), hintSecretKey}
	}
	return key, nil
}

func parseIssuer(name, v string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimSpace(v))
	switch {
	case err != nil || u.Host == "" || u.User != nil:
		return nil, &configError{name, fmt.Sprintf("%q is not an absolute URL", v), hintIssuer}
	case u.Scheme != "https" && u.Scheme != "http":
		return nil, &configError{name, fmt.Sprintf("%q is not http or https", v), hintIssuer}
	case u.RawQuery != "" || u.Fragment != "":
		return nil, &configError{name, fmt.Sprintf("%q has a query or fragment", v), hintIssuer}
	case !strings.HasSuffix(u.Path, "/"):
		return nil, &configError{name, fmt.Sprintf("%q does not end in /", v), hintIssuer}
	}
	return u, nil
}

func parseAddr(name, v string) (string, error) {
	if _, port, err := net.SplitHostPort(v); err != nil || port == "" {
		return "", &configError{name, fmt.Sprintf("%q is not host:port", v), hintAddr}
	}
	return v, nil
}

func parseProxies(name, v string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.Split(v, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		p, err := netip.ParsePrefix(f)
		if err != nil {
			a, aerr := netip.ParseAddr(f)
			if aerr != nil {
				return nil, &configError{name, fmt.Sprintf("has %q, which is not a CIDR", f), hintProxies}
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

// settingName is how an error names a setting: by the flag when the flag set
// it, else by its environment variable.
func settingName(flag, flagVal, envName string) string {
	if flagVal != "" {
		return flag
	}
	return envName
}

// orDefault returns the flag value when given, else the variable, else def.
func orDefault(flagVal, envVal, def string) string {
	if flagVal != "" {
		return flagVal
	}
	if envVal != "" {
		return envVal
	}
	return def
}

// serverFlags are the flags serve and dev share. defaultIssuer and
// defaultAddr, when set, replace the package defaults (dev's HTTPS ones).
type serverFlags struct {
	databaseURL, issuer, addr  string
	defaultIssuer, defaultAddr string
}

// loadConfig builds the configuration. dev supplies its own database and key,
// and delivers SMS and mail to the console unless told otherwise; serve needs
// all of them set.
func loadConfig(e env, f serverFlags, dev bool) (config, error) {
	var c config
	var err error
	if !dev {
		if c.databaseURL, err = parseDatabaseURL(settingName("--database-url", f.databaseURL, "DATABASE_URL"), orDefault(f.databaseURL, e.getenv("DATABASE_URL"), "")); err != nil {
			return c, err
		}
		if c.secretKey, err = parseSecretKey("GATEHOUSE_SECRET_KEY", e.getenv("GATEHOUSE_SECRET_KEY")); err != nil {
			return c, err
		}
	}
	if c.issuer, err = parseIssuer(settingName("--issuer", f.issuer, "GATEHOUSE_ISSUER"), orDefault(f.issuer, e.getenv("GATEHOUSE_ISSUER"), orDefault(f.defaultIssuer, "", defaultIssuer))); err != nil {
		return c, err
	}
	if c.addr, err = parseAddr(settingName("--addr", f.addr, "GATEHOUSE_ADDR"), orDefault(f.addr, e.getenv("GATEHOUSE_ADDR"), orDefault(f.defaultAddr, "", defaultAddr))); err != nil {
		return c, err
	}
	if c.tlsCert, c.tlsKey, err = parseTLSFiles(e.getenv("GATEHOUSE_TLS_CERT"), e.getenv("GATEHOUSE_TLS_KEY")); err != nil {
		return c, err
	}
	if c.trustedProxies, err = parseProxies("GATEHOUSE_TRUSTED_PROXIES", e.getenv("GATEHOUSE_TRUSTED_PROXIES")); err != nil {
		return c, err
	}
	if c.sms, err = parseSMSConfig(e, c.issuer, dev); err != nil {
		return c, err
	}
	if c.mail, err = parseMailConfig(e, dev); err != nil {
		return c, err
	}
	if c.pprofAddr, err = parsePprofAddr("GATEHOUSE_PPROF_ADDR", e.getenv("GATEHOUSE_PPROF_ADDR")); err != nil {
		return c, err
	}
	if c.metricsAddr, err = parseMetricsAddr("GATEHOUSE_METRICS_ADDR", e.getenv("GATEHOUSE_METRICS_ADDR")); err != nil {
		return c, err
	}
	c.geoIPPath = strings.TrimSpace(e.getenv("GATEHOUSE_GEOIP_DB"))
	c.rememberFor = mfa.DefaultRules().TrustedBrowserFor
	if v := strings.TrimSpace(e.getenv("GATEHOUSE_REMEMBER_BROWSER_FOR")); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 || d > mfa.DefaultRules().TrustedBrowserMax {
			return c, &configError{"GATEHOUSE_REMEMBER_BROWSER_FOR", fmt.Sprintf("%q is not a duration between 0 and 2160h", v),
				"set it to e.g. 720h (30 days, the default), at most 2160h (90 days); 0 turns remembering off"}
		}
		c.rememberFor = d
	}
	switch v := strings.TrimSpace(e.getenv("GATEHOUSE_ADAPTIVE_CHALLENGE_MEDIUM")); v {
	case "", "true", "1", "yes":
		c.adaptiveChallengeMore = true
	case "false", "0", "no":
	default:
		return c, &configError{"GATEHOUSE_ADAPTIVE_CHALLENGE_MEDIUM", fmt.Sprintf("%q is not true or false", v), "set it to true (the default) or false"}
	}
	return c, nil
}
