package server

import (
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse-id/gatehouse/i18n"
)

// deviceView is one session or remembered browser on the security page.
type deviceView struct {
	ID       string
	Device   string // "Firefox on Linux"
	IP       string
	Place    string // "London, GB", or the address where the GeoIP database knows none
	LastSeen string
	Until    string
	Current  bool
}

// describeUserAgent names the browser and system a person would recognise;
// it needs to be right for the common cases, not for every agent.
func describeUserAgent(ua string) string {
	browser := "Unknown browser"
	for _, b := range []struct{ token, name string }{
		{"Edg/", "Edge"}, {"OPR/", "Opera"}, {"Firefox/", "Firefox"}, {"Chrome/", "Chrome"},
		{"Chromium/", "Chromium"}, {"Safari/", "Safari"}, {"curl/", "curl"},
	} {
		if strings.Contains(ua, b.token) {
			browser = b.name
			break
		}
	}
	system := ""
	for _, o := range []struct{ token, name string }{
		{"iPhone", "iPhone"}, {"iPad", "iPad"}, {"Android", "Android"}, {"Windows", "Windows"},
		{"Mac OS X", "macOS"}, {"CrOS", "ChromeOS"}, {"Linux", "Linux"},
	} {
		if strings.Contains(ua, o.token) {
			system = o.name
			break
		}
	}
	if system == "" {
		return browser
	}
	return browser + " on " + system
}

// ago says how long ago t was, in the words of an account page.
func ago(now, t time.Time) string {
	d := now.Sub(t)
	switch {
	case d < 2*time.Minute:
		return "just now"
	case d < time.Hour:
		return itoaUnit(int(d.Minutes()), "minute") + " ago"
	case d < 48*time.Hour:
		return itoaUnit(int(d.Hours()), "hour") + " ago"
	}
	return itoaUnit(int(d.Hours()/24), "day") + " ago"
}

// agoIn is ago in the words of the page's language.
func agoIn(loc *i18n.Localizer, now, t time.Time) string {
	d := now.Sub(t)
	switch {
	case d < 2*time.Minute:
		return loc.T("ago.just_now")
	case d < time.Hour:
		return loc.T("ago.minutes", "Count", int(d.Minutes()))
	case d < 48*time.Hour:
		return loc.T("ago.hours", "Count", int(d.Hours()))
	}
	return loc.T("ago.days", "Count", int(d.Hours()/24))
}

// longDate writes a day as people of the page's language do.
func longDate(loc *i18n.Localizer, t time.Time) string { return loc.LongDate(t) }

func itoaUnit(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return strconv.Itoa(n) + " " + unit + "s"
}

// requestCountry is the ISO 3166 country the request comes from, as far as
// the GeoIP database knows; "" without one.
func (s *Server) requestCountry(r *http.Request) string {
	if s.locator == nil {
		return ""
	}
	if p, ok := s.locator.Locate(clientIP(r.Context())); ok {
		return strings.ToUpper(p.Country)
	}
	return ""
}

// place says where an address is, as far as the GeoIP database knows, else
// the address itself.
func (s *Server) place(ip netip.Addr) string {
	if s.locator != nil {
		if p, ok := s.locator.Locate(ip); ok && (p.City != "" || p.Country != "") {
			if p.City == "" || p.Country == "" {
				return p.City + p.Country
			}
			return p.City + ", " + p.Country
		}
	}
	if !ip.IsValid() {
		return "an unknown address"
	}
	return ip.Unmap().String()
}
