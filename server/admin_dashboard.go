package server

import (
	"cmp"
	"context"
	"net/http"
	"slices"
	"strconv"

	"github.com/nyaruka/phonenumbers"
	"golang.org/x/text/language"
	"golang.org/x/text/language/display"

	"github.com/gatehouse-id/gatehouse/account"
	"github.com/gatehouse-id/gatehouse/mfa"
	"github.com/gatehouse-id/gatehouse/store"
)

// adminDashboardData is the console's front page: the last hour's, day's and
// week's logins, second factors, text messages and limit hits, how much of
// this hour's SMS budgets is spent, and the MFA policy and provider in force.
type adminDashboardData struct {
	Stats    []adminStat
	Budgets  []adminBudget
	Limits   []limitHits
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

// adminBudget is one installation-wide SMS budget's current window.
type adminBudget struct {
	mfa.BudgetUse
	Label   string
	Percent int    // of Max spent, at most 100
	Resets  string // when the window ends, "13:00 UTC"
}

// limitHits counts the refusals of one limit. Kind is the name admins filter
// the logs on: an mfa.limit_hit's details.limit, or "signup" for
// signup.limit_hit.
type limitHits struct {
	Kind, Label string
	store.Counts
}

// limitLabels name every limit that refuses sends or signups, in the order
// the dashboard lists them when none was hit.
var limitLabels = []struct{ kind, label string }{
	{mfa.LimitGlobal, "Codes in total"},
	{mfa.LimitGlobalEnroll, "Codes to new numbers, in total"},
	{mfa.LimitCountry, "Codes per country"},
	{mfa.LimitIP, "Codes per IP address"},
	{mfa.LimitUser, "Codes per user"},
	{mfa.LimitPhone, "Codes per phone number"},
	{signupLimitKind, "Signups per IP address"},
}

const signupLimitKind = "signup"

// limitHitsOf lists every limit with its refusals, those refusing most in the
// last hour first, so that an admin facing an attack sees at the top which
// limit is holding it back. Limit names in the audit log that are not among
// limitLabels are listed too, as "Other".
func limitHitsOf(a store.Activity) []limitHits {
	var out []limitHits
	known := map[string]bool{}
	for _, l := range limitLabels {
		known[l.kind] = true
		c := a.Limits[l.kind]
		if l.kind == signupLimitKind {
			c = a.Events[account.EventSignupLimitHit]
		}
		out = append(out, limitHits{Kind: l.kind, Label: l.label, Counts: c})
	}
	for kind, c := range a.Limits {
		if !known[kind] {
			out = append(out, limitHits{Kind: cmp.Or(kind, "unknown"), Label: "Other", Counts: c})
		}
	}
	order := func(x limitHits) int {
		if i := slices.IndexFunc(limitLabels, func(l struct{ kind, label string }) bool { return l.kind == x.Kind }); i >= 0 {
			return i
		}
		return len(limitLabels)
	}
	slices.SortFunc(out, func(x, y limitHits) int {
		return cmp.Or(cmp.Compare(y.Hour, x.Hour), cmp.Compare(y.Day, x.Day), cmp.Compare(y.Week, x.Week),
			cmp.Compare(order(x), order(y)), cmp.Compare(x.Kind, y.Kind))
	})
	return out
}

// budgetLabels name the installation-wide SMS budgets.
var budgetLabels = map[string]string{
	mfa.LimitGlobal:       "All codes",
	mfa.LimitGlobalEnroll: "Codes to new numbers (enrollment)",
}

// smsBudgets reads the current windows of the SMS budgets; none without SMS MFA.
func (s *Server) smsBudgets(ctx context.Context) ([]mfa.BudgetUse, error) {
	if s.mfa == nil {
		return nil, nil
	}
	return s.mfa.Budgets(ctx)
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
		budgets, err := s.smsBudgets(ctx)
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		snap, err := s.tenant(ctx)
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		d := adminDashboardData{Policy: snap.Policy(), Provider: "none", Limits: limitHitsOf(a)}
		if s.sms != nil {
			if sender, _, err := s.sms.Sender(ctx); err == nil {
				d.Provider = sender.Name()
			}
		}
		d.Stats = []adminStat{
			{"Logins succeeded", a.Events["login.succeeded"]},
			{"Logins failed", a.Events["login.failed"]},
			{"MFA challenges passed", a.Events["mfa.challenge_passed"]},
			{"Passkey sign-ins", a.Passkeys},
			{"MFA challenges failed", a.Events["mfa.challenge_failed"]},
		}
		for _, b := range budgets {
			d.Budgets = append(d.Budgets, adminBudget{BudgetUse: b, Label: budgetLabels[b.Limit],
				Percent: min(100, b.Sent*100/max(1, b.Max)), Resets: b.WindowEnd.UTC().Format("15:04 UTC")})
		}
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
