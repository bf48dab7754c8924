package server

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"

	"golang.org/x/text/language"
	"golang.org/x/text/language/display"

	"github.com/gatehouse-id/gatehouse/account"

	"github.com/gatehouse-id/gatehouse/i18n"
)

// The language a page, text message or mail is in is chosen per request
// (see package i18n for the order). ui_locales lives on the authorization
// request, which the login transaction keeps; /authorize copies it into a
// short-lived cookie each time it dispatches, so every screen of the flow,
// and the POSTs they make, speak it. The user's own choice is a long-lived
// cookie written when they choose on the account page and when they log
// in.

type localizerKey struct{}

// withLanguage chooses the request's language once and puts it in the
// context, where the pages, and the text messages and mails the request
// causes, find it.
func (s *Server) withLanguage(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		loc := s.localizer(r)
		ctx := context.WithValue(i18n.NewContext(r.Context(), loc.Tag()), localizerKey{}, loc)
		r2 := r.WithContext(ctx)
		next.ServeHTTP(w, r2)
		// The mux names the route on the request it was given; the logging
		// and metrics around this read it from theirs.
		r.Pattern = r2.Pattern
	})
}

// localizer is the request's language.
func (s *Server) localizer(r *http.Request) *i18n.Localizer {
	if loc, ok := r.Context().Value(localizerKey{}).(*i18n.Localizer); ok {
		return loc
	}
	p := i18n.Preferences{AcceptLanguage: r.Header.Get("Accept-Language")}
	if c, err := r.Cookie(s.uiLocalesCookie()); err == nil {
		p.UILocales = c.Value
	}
	if c, err := r.Cookie(s.languageCookie()); err == nil {
		p.UserChoice = c.Value
	}
	var t i18n.Tenant
	if s.settings != nil {
		if snap, err := s.tenant(r.Context()); err == nil {
			t.Default, t.Enabled = snap.LanguageDefault(), snap.Languages()
		}
	}
	return s.catalog.Localizer(s.catalog.Choose(p, t))
}

func (s *Server) english() *i18n.Localizer { return s.catalog.Localizer(i18n.English) }

func (s *Server) uiLocalesCookie() string {
	if s.secure {
		return "__Host-gatehouse_ui_locales"
	}
	return "gatehouse_ui_locales"
}

func (s *Server) languageCookie() string {
	if s.secure {
		return "__Host-gatehouse_lang"
	}
	return "gatehouse_lang"
}

// maxUILocales bounds what a request's ui_locales may put in a cookie, and
// the tags read from a long list.
const maxUILocales = 8

// cleanLocales keeps the well-formed language tags of a space-separated
// list, at most maxUILocales of them, in their canonical spelling.
func cleanLocales(list string) string {
	var out []string
	for i, f := range strings.Fields(list) {
		if len(out) == maxUILocales || i == 4*maxUILocales {
			break
		}
		if len(f) > 35 {
			continue
		}
		if t, err := language.Parse(f); err == nil && !slices.Contains(out, t.String()) {
			out = append(out, t.String())
		}
	}
	return strings.Join(out, " ")
}

// carryUILocales makes the authorization request's ui_locales the language
// of the flow's screens, or forgets an earlier flow's when it names none.
func (s *Server) carryUILocales(w http.ResponseWriter, uiLocales string) {
	c := &http.Cookie{
		Name: s.uiLocalesCookie(), Path: "/", HttpOnly: true, Secure: s.secure, SameSite: s.sameSite(),
	}
	if v := cleanLocales(uiLocales); v != "" {
		c.Value, c.MaxAge = v, int(s.lifetimes.LoginFlow.Seconds())
	} else {
		c.MaxAge = -1
	}
	http.SetCookie(w, c)
}

// rememberLanguage stores the user's own choice in the browser; "" forgets it.
func (s *Server) rememberLanguage(w http.ResponseWriter, tag string) {
	c := &http.Cookie{
		Name: s.languageCookie(), Path: "/", HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteLaxMode,
	}
	if t, ok := s.catalog.Supported(tag); ok {
		c.Value, c.MaxAge = t.String(), 400*24*3600
	} else {
		c.MaxAge = -1
	}
	http.SetCookie(w, c)
}

// languageOption is one choice of the account page's language menu, named
// in its own language so that a person who cannot read the page finds theirs.
type languageOption struct {
	Tag      string
	Name     string
	Selected bool
}

// enabledLanguages are the tags the tenant lets the pages speak.
func (s *Server) enabledLanguages(r *http.Request) []language.Tag {
	var t i18n.Tenant
	if s.settings != nil {
		if snap, err := s.tenant(r.Context()); err == nil {
			t.Default, t.Enabled = snap.LanguageDefault(), snap.Languages()
		}
	}
	return s.catalog.Enabled(t)
}

// languageOptions lists the enabled languages, chosen marking the user's
// choice ("" for automatic).
func (s *Server) languageOptions(r *http.Request, chosen string) []languageOption {
	var out []languageOption
	for _, tag := range s.enabledLanguages(r) {
		out = append(out, languageOption{Tag: tag.String(), Name: display.Self.Name(tag), Selected: tag.String() == chosen})
	}
	return out
}

// errLanguageNotOffered refuses a language the tenant has not enabled.
var errLanguageNotOffered = errors.New("language not offered")

// handleChooseLanguage saves the language the user chose on the account
// page ("" for automatic: the application's, else the browser's) and
// shows the account page in it.
func (s *Server) handleChooseLanguage() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.parseForm(w, r) {
			return
		}
		si := mustSession(r)
		chosen, err := s.offeredLanguage(r, r.PostForm.Get("language"))
		if err != nil {
			v, verr := s.accountView(r, si)
			if verr != nil {
				s.serverError(w, r, verr)
				return
			}
			v.Error = "account.language_not_offered"
			s.render(w, r, http.StatusBadRequest, "account", v)
			return
		}
		if err := s.store.SetUserLanguage(r.Context(), si.user.ID, chosen); err != nil {
			s.serverError(w, r, err)
			return
		}
		s.rememberLanguage(w, chosen)
		// An explicit choice outlasts the last application's ui_locales.
		s.carryUILocales(w, "")
		http.Redirect(w, r, s.base+"account", http.StatusSeeOther)
	})
}

// offeredLanguage checks a posted language tag: "" (automatic) or one of the
// enabled languages, returned in its canonical spelling.
func (s *Server) offeredLanguage(r *http.Request, raw string) (string, error) {
	if raw == "" {
		return "", nil
	}
	if len(raw) > 35 {
		return "", errLanguageNotOffered
	}
	tag, ok := s.catalog.Supported(raw)
	if !ok {
		return "", errLanguageNotOffered
	}
	for _, e := range s.enabledLanguages(r) {
		if e == tag {
			return tag.String(), nil
		}
	}
	return "", errLanguageNotOffered
}

// rememberUserLanguage puts the user's stored choice in the browser at
// login, and forgets an earlier user's. The choice came with the user's row.
func (s *Server) rememberUserLanguage(w http.ResponseWriter, user account.User) {
	s.rememberLanguage(w, user.Language)
}
