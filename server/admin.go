package server

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"html/template"
	"io/fs"
	"maps"
	"net/http"
	"path"
	"slices"
	"strings"

	"github.com/gatehouse-id/gatehouse/account"
	"github.com/gatehouse-id/gatehouse/assurance"
	"github.com/gatehouse-id/gatehouse/clients"
	"github.com/gatehouse-id/gatehouse/i18n"
	"github.com/gatehouse-id/gatehouse/settings"
	"github.com/gatehouse-id/gatehouse/templates"
)

// The admin console lives under admin/. Every page is for admins only, and
// only once the session has passed a second factor, whatever the MFA policy
// says for end users: an admin's password alone never reaches it. Every
// form carries a CSRF token bound to the session, on top of the
// cross-origin check every POST passes.

// adminView is the data of an admin page: the common view plus the page's
// own Data.
type adminView struct {
	view
	Data any
	// Fields holds a message per form field that was refused.
	Fields map[string]string
	// Summary lists Fields at the top of a long page, in page order, each
	// linking to its field.
	Summary []fieldLink
}

// fieldLink is one refused field in an error summary: the id of the element
// to jump to, the field's name and the message.
type fieldLink struct{ ID, Label, Message string }

// errorSummary orders fields as the page shows them (order, by field name),
// naming each with label; fields missing from order come last.
func errorSummary(fields map[string]string, order []string, label func(string) string) []fieldLink {
	var out []fieldLink
	for _, k := range order {
		if msg, ok := fields[k]; ok {
			out = append(out, fieldLink{ID: k, Label: label(k), Message: msg})
		}
	}
	rest := slices.Sorted(maps.Keys(fields))
	for _, k := range rest {
		if !slices.Contains(order, k) {
			out = append(out, fieldLink{ID: k, Label: label(k), Message: fields[k]})
		}
	}
	return out
}

// adminPages parses each templates/pages/admin-*.html with the layout and
// the admin partials into its own set, named without the extension.
func adminPages(english *i18n.Localizer) (map[string]*template.Template, error) {
	names, err := fs.Glob(templates.FS, "pages/admin-*.html")
	if err != nil {
		return nil, err
	}
	pages := make(map[string]*template.Template, len(names))
	for _, name := range names {
		t, err := template.New("").Funcs(adminFuncs).Funcs(english.TemplateFuncs()).ParseFS(templates.FS, "layout.html", "admin.html", name)
		if err != nil {
			return nil, fmt.Errorf("parse admin page %s: %w", name, err)
		}
		pages[strings.TrimSuffix(path.Base(name), ".html")] = t
	}
	return pages, nil
}

var adminFuncs = template.FuncMap{
	// field returns the message for a refused form field, or "".
	"field":        func(fields map[string]string, name string) string { return fields[name] },
	"join":         strings.Join,
	"list":         func(v ...string) []string { return v },
	"has":          slices.Contains[[]string],
	"lifetimeText": clients.FormatLifetime,
	// urlList and lifetime gather what the url-list and lifetime partials
	// show for one field of a form.
	"urlList": func(v adminView, name, label, value, help string) formField {
		return formField{Name: name, Label: label, Value: value, Help: help, Error: v.Fields[name]}
	},
	"lifetime": func(v adminView, name, label, value, tenant, help string) formField {
		return formField{Name: name, Label: label, Value: value, Tenant: tenant, Help: help, Error: v.Fields[name]}
	},
	// settingInput gathers what the admin-setting-input partial shows for
	// one setting of a page whose Data is *adminMFAData.
	"settingInput": func(v adminView, key, typ string) (settingField, error) {
		d, ok := v.Data.(*adminMFAData)
		if !ok {
			return settingField{}, fmt.Errorf("settingInput: page data is %T", v.Data)
		}
		return settingField{Spec: d.Specs[key], Value: d.Values[key], SecretSet: d.SecretSet[key], Type: typ,
			Error: v.Fields[key]}, nil
	},

	"adminTime": adminTime,
}

// formField is one labelled input of an admin form.
type formField struct {
	Name, Label, Value, Help, Error string
	Tenant                          string // the tenant's value, for a field that may be left to it
}

type settingField struct {
	Spec      settings.Spec
	Value     string
	SecretSet bool
	Type      string
	Error     string
}

// adminPurpose is opening the console, with a passkey when the tenant asks
// admins for one.
func (s *Server) adminPurpose(r *http.Request) assurance.Purpose {
	p := assurance.Purpose{Action: assurance.AdminConsole}
	if t, err := s.tenant(r.Context()); err == nil {
		p.PhishingResistant = t.AdminPhishingResistant()
	} else {
		// Unreadable settings must not lower the bar.
		p.PhishingResistant = true
	}
	return p
}

// requireAdmin admits an admin whose session passed a second factor. Others
// are refused, or sent to log in or to the second factor and back. A POST
// must carry the session's CSRF token.
func (s *Server) requireAdmin(next http.Handler) http.Handler {
	return s.require(s.adminPurpose, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			if !s.parseForm(w, r) {
				return
			}
			if !hmac.Equal([]byte(r.PostForm.Get("csrf")), []byte(s.csrfToken(mustSession(r)))) {
				s.logger(r.Context()).Warn("admin form refused: CSRF token missing or wrong", "path", r.URL.Path)
				s.renderMessage(w, r, http.StatusForbidden, "This form has expired",
					"The page you submitted was too old or came from elsewhere. Go back, reload the page and try again.")
				return
			}
		}
		next.ServeHTTP(w, r)
	}))
}

// csrfToken is the admin forms' token: a MAC of the session, so it needs no
// storage and dies with the session.
func (s *Server) csrfToken(si signedIn) string {
	mac := hmac.New(sha256.New, s.cfg.SecretKey)
	mac.Write([]byte("gatehouse admin csrf v1\x00"))
	mac.Write(si.session.IDHash())
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// actor names the admin behind a change in the audit log and the settings history.
func actor(si signedIn) string { return "admin:" + si.user.Email }

// newAdminView starts an admin page's data; section picks the highlighted
// navigation entry.
func (s *Server) newAdminView(r *http.Request, section, title string) adminView {
	si := mustSession(r)
	v := s.newView(r, "admin-"+section, title)
	v.User = userView(si.user)
	v.Wide = true
	v.Section = section
	v.CSRF = s.csrfToken(si)
	return adminView{view: v}
}

// renderAdmin writes an admin page.
func (s *Server) renderAdmin(w http.ResponseWriter, r *http.Request, status int, page string, v adminView) {
	pages, err := s.adminPages()
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	t, ok := pages[page]
	if !ok {
		s.serverError(w, r, fmt.Errorf("no admin page %q", page))
		return
	}
	if v.Notice == "" && status < 300 {
		v.Notice = s.takeNotice(w, r)
	}
	s.execute(w, r, status, page, t, v)
}

// seeOther answers a successful admin POST by sending the browser to the
// page that shows the result, with a notice for it kept in a short-lived
// cookie: a notice never comes from the URL, so no link can put words on an
// admin page.
func (s *Server) seeOther(w http.ResponseWriter, r *http.Request, page, notice string) {
	if notice != "" {
		http.SetCookie(w, &http.Cookie{Name: noticeCookie, Value: base64.RawURLEncoding.EncodeToString([]byte(notice)),
			Path: s.base + "admin", MaxAge: 60, HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteStrictMode})
	}
	http.Redirect(w, r, s.base+page, http.StatusSeeOther)
}

const noticeCookie = "gatehouse_admin_notice"

// takeNotice reads and clears the notice seeOther left.
func (s *Server) takeNotice(w http.ResponseWriter, r *http.Request) string {
	c, err := r.Cookie(noticeCookie)
	if err != nil {
		return ""
	}
	http.SetCookie(w, &http.Cookie{Name: noticeCookie, Path: s.base + "admin", MaxAge: -1, HttpOnly: true,
		Secure: s.secure, SameSite: http.SameSiteStrictMode})
	b, err := base64.RawURLEncoding.DecodeString(c.Value)
	if err != nil || len(b) > 300 {
		return ""
	}
	return string(b)
}

// audit records an admin action with the request's address and id. The
// action has happened by now, so a failure to audit is logged, not shown.
func (s *Server) audit(r *http.Request, e account.Event) {
	m := meta(r)
	e.At, e.IP, e.UserAgent, e.RequestID = s.now(), m.IP, m.UserAgent, m.RequestID
	if err := s.store.Record(context.WithoutCancel(r.Context()), e); err != nil {
		s.logger(r.Context()).Error("audit log write failed", "event", e.Type, "err", err)
	}
}
