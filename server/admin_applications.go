package server

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/gatehouse-id/gatehouse/account"
	"github.com/gatehouse-id/gatehouse/clients"
	"github.com/gatehouse-id/gatehouse/store"
)

// The Applications pages: the list with its create form, and one
// application's settings. The rules live in the clients package and the SQL
// in store; these handlers only read forms and show the outcome.

type adminAppsData struct {
	Apps  []clients.Client
	Types []clients.Type
	// The create form as submitted, when it was refused.
	Name, Type string
}

// adminAppData is one application's settings page. The list fields hold the
// textareas' text, which is what the admin typed when a save is refused.
type adminAppData struct {
	App    clients.Client
	Domain string // the issuer's host, what Auth0 calls the domain
	Issuer string
	// Secret is the client secret in the clear, set only on the page that
	// answers its creation or rotation.
	Secret                                    string
	Callbacks, LogoutURLs, WebOrigins         string
	IDToken, RefreshIdle, RefreshAbsolute     string
	TenantIDToken, TenantIdle, TenantAbsolute string
	TenantAccessToken, TenantReuse            string
	// Grants are what an m2m application may ask of each API.
	Grants []clients.Grant
}

func (s *Server) handleAdminApps() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.renderAdminApps(w, r, http.StatusOK, adminAppsData{}, nil)
	})
}

func (s *Server) renderAdminApps(w http.ResponseWriter, r *http.Request, status int, d adminAppsData, fields map[string]string) {
	list, err := s.clients.ListClients(r.Context())
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	d.Apps, d.Types = list, clients.Types
	v := s.newAdminView(r, "applications", "Applications")
	v.Data = &d
	if len(fields) > 0 {
		v.Fields = fields
		v.Error = "The application was not created: correct the fields marked below."
	}
	s.renderAdmin(w, r, status, "admin-applications", v)
}

// handleAdminAppCreate makes an application from a name and a type. A web or
// m2m application's secret is shown on the page that answers, and never
// again; a spa has none, so its settings page is simply the next one.
func (s *Server) handleAdminAppCreate() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name, typ := r.PostForm.Get("name"), r.PostForm.Get("type")
		c, secret, err := s.clientAdm.CreateClient(r.Context(), clients.Client{Name: name, Type: clients.Type(typ)}, adminActor(r), meta(r))
		if fields, ok := consoleFields(err); ok {
			s.renderAdminApps(w, r, http.StatusBadRequest, adminAppsData{Name: name, Type: typ}, fields)
			return
		}
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		if secret == "" {
			s.seeOther(w, r, "admin/applications/"+c.ID, "Application created. Add its callback URLs below.")
			return
		}
		s.renderAdminApp(w, r, http.StatusCreated, c, func(d *adminAppData, v *adminView) {
			d.Secret = secret
			v.Notice = "Application created. Copy its client secret now: it is shown only this once."
		})
	})
}

// adminApp loads the application the path names, or answers 404.
func (s *Server) adminApp(w http.ResponseWriter, r *http.Request) (clients.Client, bool) {
	c, err := s.clients.ClientByID(r.Context(), r.PathValue("id"))
	if errors.Is(err, clients.ErrNotFound) {
		s.renderMessage(w, r, http.StatusNotFound, "No such application",
			"This application does not exist, or was deleted.")
		return c, false
	}
	if err != nil {
		s.serverError(w, r, err)
		return c, false
	}
	return c, true
}

func (s *Server) handleAdminApp() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if c, ok := s.adminApp(w, r); ok {
			s.renderAdminApp(w, r, http.StatusOK, c, nil)
		}
	})
}

// renderAdminApp shows c's settings; edit, when set, adjusts the page (a
// refused form's text, a secret shown once) before it is written.
func (s *Server) renderAdminApp(w http.ResponseWriter, r *http.Request, status int, c clients.Client, edit func(*adminAppData, *adminView)) {
	var grants []clients.Grant
	if c.Type == clients.M2M {
		var err error
		if grants, err = s.store.GrantsOf(r.Context(), c.ID); err != nil {
			s.serverError(w, r, err)
			return
		}
	}
	absolute := s.cfg.Refresh.RefreshAbsoluteLifetime
	if absolute <= 0 {
		absolute = store.DefaultRefreshAbsoluteLifetime
	}
	d := adminAppData{
		App: c, Domain: s.cfg.Issuer.Host, Issuer: s.cfg.Issuer.String(), Grants: grants,
		Callbacks: strings.Join(c.Callbacks, "\n"), LogoutURLs: strings.Join(c.LogoutURLs, "\n"),
		WebOrigins: strings.Join(c.WebOrigins, "\n"),
		IDToken:    clients.FormatLifetime(c.Lifetimes.IDToken), RefreshIdle: clients.FormatLifetime(c.Lifetimes.RefreshIdle),
		RefreshAbsolute: clients.FormatLifetime(c.Lifetimes.RefreshAbsolute),
		TenantIDToken:   clients.FormatLifetime(s.lifetimes.IDToken), TenantIdle: clients.FormatLifetime(s.lifetimes.RefreshIdle),
		TenantAbsolute: clients.FormatLifetime(absolute), TenantAccessToken: clients.FormatLifetime(s.lifetimes.AccessToken),
		TenantReuse: clients.FormatLifetime(s.cfg.Refresh.RefreshReuseInterval),
	}
	if d.TenantReuse == "" {
		d.TenantReuse = "0s (strict)"
	}
	v := s.newAdminView(r, "applications", c.Name)
	if edit != nil {
		edit(&d, &v)
	}
	v.Data = &d
	s.renderAdmin(w, r, status, "admin-application", v)
}

// handleAdminAppSave saves the settings form. Every field is read and
// checked before anything is stored, so a refused save changes nothing and
// marks each bad field.
func (s *Server) handleAdminAppSave() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		before, ok := s.adminApp(w, r)
		if !ok || !s.refuseBuiltIn(w, r, before) {
			return
		}
		c, fields := appFromForm(before, r)
		var err error
		if len(fields) == 0 {
			c, err = s.clientAdm.UpdateClient(r.Context(), c, adminActor(r), meta(r))
			fields, _ = consoleFields(err)
		}
		if len(fields) > 0 {
			f := r.PostForm
			s.renderAdminApp(w, r, http.StatusBadRequest, before, func(d *adminAppData, v *adminView) {
				d.App.Name = f.Get("name")
				d.Callbacks, d.LogoutURLs, d.WebOrigins = f.Get("callbacks"), f.Get("logout_urls"), f.Get("web_origins")
				d.IDToken, d.RefreshIdle, d.RefreshAbsolute = f.Get("id_token_lifetime"), f.Get("refresh_idle_lifetime"), f.Get("refresh_absolute_lifetime")
				d.App.MFAPolicy = f.Get("mfa_policy")
				v.Fields = fields
				v.Error = "Nothing was saved: correct the fields marked below."
			})
			return
		}
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		s.seeOther(w, r, "admin/applications/"+c.ID, "Saved. The changes apply to the next login.")
	})
}

// appFromForm applies the settings form to c; fields names each form field
// that could not be read.
func appFromForm(c clients.Client, r *http.Request) (clients.Client, map[string]string) {
	f := r.PostForm
	fields := map[string]string{}
	c.Name = strings.TrimSpace(f.Get("name"))
	c.MFAPolicy = f.Get("mfa_policy")
	if c.Type == clients.M2M {
		return c, fields
	}
	for _, l := range []struct {
		field string
		dst   *[]string
	}{{"callbacks", &c.Callbacks}, {"logout_urls", &c.LogoutURLs}, {"web_origins", &c.WebOrigins}} {
		list, err := clients.ParseURLList(l.field, f.Get(l.field))
		if !addFieldError(fields, err) {
			*l.dst = list
		}
	}
	for _, l := range []struct {
		field string
		dst   *time.Duration
	}{{"id_token_lifetime", &c.Lifetimes.IDToken}, {"refresh_idle_lifetime", &c.Lifetimes.RefreshIdle},
		{"refresh_absolute_lifetime", &c.Lifetimes.RefreshAbsolute}} {
		d, err := clients.ParseLifetime(l.field, f.Get(l.field))
		if !addFieldError(fields, err) {
			*l.dst = d
		}
	}
	return c, fields
}

// addFieldError records a validation error against its field and reports
// whether there was one.
func addFieldError(fields map[string]string, err error) bool {
	var ve *clients.ValidationError
	if errors.As(err, &ve) {
		fields[ve.Field] = ve.Problem
		return true
	}
	return err != nil
}

// consoleFields turns a *clients.ValidationError into the console form's
// field messages; a missing or extra secret is a matter of the type chosen.
func consoleFields(err error) (map[string]string, bool) {
	var ve *clients.ValidationError
	if !errors.As(err, &ve) {
		return nil, false
	}
	field := ve.Field
	if field == "client_secret" {
		field = "type"
	}
	return map[string]string{field: ve.Problem}, true
}

// refuseBuiltIn answers a change to a built-in application and reports
// whether the change may go on.
func (s *Server) refuseBuiltIn(w http.ResponseWriter, r *http.Request, c clients.Client) bool {
	if !c.BuiltIn() {
		return true
	}
	s.renderMessage(w, r, http.StatusBadRequest, "Built-in application",
		"Gatehouse manages this application for the console's login test; it cannot be changed or deleted.")
	return false
}

// handleAdminAppRotate gives a web or m2m application a new secret, shown
// once; the old one stops working at once.
func (s *Server) handleAdminAppRotate() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, ok := s.adminApp(w, r)
		if !ok || !s.refuseBuiltIn(w, r, c) {
			return
		}
		c, secret, err := s.clientAdm.RotateSecret(r.Context(), c.ID, adminActor(r), meta(r))
		if _, bad := consoleFields(err); bad {
			s.renderMessage(w, r, http.StatusBadRequest, "No secret to rotate",
				"A single-page application is public and has no client secret.")
			return
		}
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		s.renderAdminApp(w, r, http.StatusOK, c, func(d *adminAppData, v *adminView) {
			d.Secret = secret
			v.Notice = "New secret made; the old one no longer works. Copy it now: it is shown only this once."
		})
	})
}

// handleAdminAppDelete deletes an application, with its codes and tokens,
// once the admin has typed its name.
func (s *Server) handleAdminAppDelete() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, ok := s.adminApp(w, r)
		if !ok || !s.refuseBuiltIn(w, r, c) {
			return
		}
		if r.PostForm.Get("confirm") != c.Name {
			s.renderAdminApp(w, r, http.StatusBadRequest, c, func(_ *adminAppData, v *adminView) {
				v.Fields = map[string]string{"confirm": "Type the application's name exactly to delete it."}
				v.Error = "The application was not deleted."
			})
			return
		}
		if err := s.clientAdm.DeleteClient(r.Context(), c.ID, adminActor(r), meta(r)); err != nil && !errors.Is(err, clients.ErrNotFound) {
			s.serverError(w, r, err)
			return
		}
		s.seeOther(w, r, "admin/applications", "Application "+c.Name+" deleted, with every token issued to it.")
	})
}

// adminActor is the signed-in admin as the domain services name who acted.
func adminActor(r *http.Request) account.Actor {
	si := mustSession(r)
	return account.Actor{UserID: si.user.ID, Name: actor(si)}
}
