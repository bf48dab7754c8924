package server

import (
	"cmp"
	"net/http"
	"slices"
	"strconv"

	"github.com/nyaruka/phonenumbers"
	"golang.org/x/text/language"
	"golang.org/x/text/language/display"

	"github.com/gatehouse-id/gatehouse/mfa"
	"github.com/gatehouse-id/gatehouse/store"
)

// adminDashboardData is the console's front page: the last day's and
// week's logins, second factors, text messages and limit hits, and the MFA
// policy and provider in force.
type adminDashboardData struct {
	Stats    []adminStat
	Limits   []adminStat
	SMS      []adminCountrySMS
	Policy   mfa.Policy
	Provider string
}

type adminStat struct {
	Label string
	store.Counts
}

type adminCountrySMS struct {
	Dial, Region string
	store.CountrySMS
}

// handleAdminHome is the dashboard.
func (s *Server) handleAdminHome() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		a, err := s.store.Activity(ctx, s.now())
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		snap, err := s.tenant(ctx)
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		d := adminDashboardData{Policy: snap.Policy(), Provider: "none"}
		if s.sms != nil {
			if sender, _, err := s.sms.Sender(ctx); err == nil {
				d.Provider = sender.Name()
			}
		}
		for _, st := range []struct{ event, label string }{
			{"login.succeeded", "Logins succeeded"}, {"login.failed", "Logins failed"},
			{"mfa.challenge_passed", "MFA challenges passed"}, {"mfa.challenge_failed", "MFA challenges failed"},
		} {
			d.Stats = append(d.Stats, adminStat{Label: st.label, Counts: a.Events[st.event]})
		}
		for kind, c := range a.Limits {
			d.Limits = append(d.Limits, adminStat{Label: cmp.Or(kind, "unknown"), Counts: c})
		}
		slices.SortFunc(d.Limits, func(x, y adminStat) int { return cmp.Or(cmp.Compare(y.Week, x.Week), cmp.Compare(x.Label, y.Label)) })
		for _, c := range a.SMS {
			d.SMS = append(d.SMS, adminCountrySMS{Dial: "+" + strconv.Itoa(c.CountryCode), Region: callingCodeRegion(c.CountryCode), CountrySMS: c})
		}
		v := s.newAdminView(r, "dashboard", "Dashboard")
		v.Data = &d
		s.renderAdmin(w, r, http.StatusOK, "admin-dashboard", v)
	})
}

var regionNames = display.English.Regions()

// callingCodeRegion names the main region of a calling code, as
// libphonenumber knows it ("United Kingdom" for 44; "United States" for 1,
// which Canada and much of the Caribbean share).
func callingCodeRegion(cc int) string {
	code := phonenumbers.GetRegionCodeForCountryCode(cc)
	if r, err := language.ParseRegion(code); err == nil && code != "ZZ" && code != "001" {
		if name := regionNames.Name(r); name != "" {
			return name
		}
	}
	if cc == 0 {
		return "Unknown"
	}
	return "International"
}
