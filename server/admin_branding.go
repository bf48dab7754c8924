package server

import (
	"errors"
	"io"
	"net/http"

	"github.com/gatehouse-id/gatehouse/branding"
	"github.com/gatehouse-id/gatehouse/clients"
)

// The Branding page of an application: its display name, logo and colours,
// with a preview of its login card drawn by the server, so that it needs no
// script. The rules live in the branding package; this reads the form.

type adminBrandData struct {
	App   clients.Client
	Brand branding.Brand // as stored
	// The form as shown: the stored values, or what was typed.
	Name, LogoURL, Primary, Background string
	Look                               branding.Look // the preview's
	PreviewLogo                        string        // the preview's logo address; "" for none
	Previewing                         bool          // the preview shows values not yet saved
	Tenant                             branding.Defaults
	TenantName                         string
	MaxKiB                             int
}

// brandFields are the form's fields in page order, with their labels.
var brandFields = []string{"name", "logo_url", "logo", "primary_color", "background_color"}

var brandLabels = map[string]string{"name": "Display name", "logo_url": "Logo URL", "logo": "Logo file",
	"primary_color": "Primary colour", "background_color": "Page background"}

func (s *Server) handleAdminBranding() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, ok := s.adminApp(w, r)
		if !ok {
			return
		}
		b, err := s.brands.Get(r.Context(), c.ID)
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		d := adminBrandData{Name: b.Name, LogoURL: b.LogoURL, Primary: b.Primary, Background: b.Background}
		s.renderAdminBranding(w, r, http.StatusOK, c, b, d, nil)
	})
}

// handleAdminBrandingSave answers the form's three buttons: preview (shows
// the typed values, saves nothing), save (the text fields, then a chosen
// file) and remove-logo.
func (s *Server) handleAdminBrandingSave() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, ok := s.adminApp(w, r)
		if !ok || !s.refuseBuiltIn(w, r, c) {
			return
		}
		f := r.PostForm
		d := adminBrandData{Name: f.Get("name"), LogoURL: f.Get("logo_url"), Primary: f.Get("primary_color"), Background: f.Get("background_color")}
		ch := branding.Change{Name: &d.Name, LogoURL: &d.LogoURL, Primary: &d.Primary, Background: &d.Background}
		file, declared, fileErr := brandUpload(r)
		ctx, by, m := r.Context(), adminActor(r), meta(r)
		var b branding.Brand
		var err error
		switch f.Get("action") {
		case "remove-logo":
			if b, err = s.brands.RemoveLogo(ctx, c.ID, by, m); err == nil {
				s.seeOther(w, r, "admin/applications/"+c.ID+"/branding", "Logo removed.")
				return
			}
		case "preview":
			b, err = s.brands.Check(ctx, c.ID, ch)
			d.Previewing = err == nil
		default:
			switch {
			case fileErr != nil:
				err = fileErr
			case file != nil && d.LogoURL != "":
				err = &branding.ValidationError{Field: "logo", Problem: "choose a file or give a logo URL, not both"}
			case file != nil:
				if _, err = branding.CheckImage(file, declared); err == nil {
					if _, err = s.brands.Update(ctx, c.ID, ch, by, m); err == nil {
						_, err = s.brands.SetLogo(ctx, c.ID, file, declared, by, m)
					}
				}
			default:
				_, err = s.brands.Update(ctx, c.ID, ch, by, m)
			}
			if err == nil {
				s.seeOther(w, r, "admin/applications/"+c.ID+"/branding", "Branding saved.")
				return
			}
		}
		var ve *branding.ValidationError
		if errors.As(err, &ve) {
			if b, err = s.brands.Get(ctx, c.ID); err == nil {
				s.renderAdminBranding(w, r, http.StatusBadRequest, c, b, d, map[string]string{ve.Field: ve.Problem})
				return
			}
		}
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		s.renderAdminBranding(w, r, http.StatusOK, c, b, d, nil)
	})
}

// brandUpload is the form's logo file, if one was chosen.
func brandUpload(r *http.Request) ([]byte, string, error) {
	if r.MultipartForm == nil {
		return nil, "", nil
	}
	f, h, err := r.FormFile("logo")
	if errors.Is(err, http.ErrMissingFile) {
		return nil, "", nil
	}
	if err != nil {
		return nil, "", &branding.ValidationError{Field: "logo", Problem: "could not be read; choose the file again"}
	}
	defer f.Close()
	if h.Size == 0 && h.Filename == "" {
		return nil, "", nil
	}
	data, err := io.ReadAll(io.LimitReader(f, branding.MaxLogoBytes+1))
	if err != nil {
		return nil, "", &branding.ValidationError{Field: "logo", Problem: "could not be read; choose the file again"}
	}
	return data, h.Header.Get("Content-Type"), nil
}

// renderAdminBranding shows the page; b is the stored brand (or the
// previewed one), d the form's values.
func (s *Server) renderAdminBranding(w http.ResponseWriter, r *http.Request, status int, c clients.Client, b branding.Brand, d adminBrandData, fields map[string]string) {
	snap, err := s.tenant(r.Context())
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	d.App, d.Brand, d.Tenant, d.MaxKiB = c, b, snap.Branding(), branding.MaxLogoBytes>>10
	d.TenantName = branding.Resolve(branding.Brand{}, "", d.Tenant, s.cfg.AppName).Name
	d.Look = branding.Resolve(b, c.Name, d.Tenant, s.cfg.AppName)
	if d.Look.Uploaded {
		d.PreviewLogo = s.logoURL(c.ID, b.LogoSum)
	} else {
		d.PreviewLogo = d.Look.LogoURL
	}
	v := s.newAdminView(r, "applications", "Branding · "+c.Name)
	v.Brand = &brandView{StyleURL: s.styleURL(d.Look, true), ImgOrigin: d.Look.LogoOrigin}
	if len(fields) > 0 {
		v.Fields = fields
		v.Error = "The branding was not saved: correct the fields marked below."
		v.Summary = errorSummary(fields, brandFields, func(k string) string { return brandLabels[k] })
	}
	v.Data = &d
	s.renderAdmin(w, r, status, "admin-branding", v)
}
