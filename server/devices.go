package server

import (
	"strconv"
	"strings"
	"time"
)

// deviceView is one session or remembered browser on the account page.
type deviceView struct {
	ID       string
	Device   string // "Firefox on Linux"
	IP       string
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

func itoaUnit(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return strconv.Itoa(n) + " " + unit + "s"
}
