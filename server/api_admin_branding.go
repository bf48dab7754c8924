package server

import (
	"errors"
	"io"
	"mime"
	"net/http"
	"time"

	"github.com/gatehouse-id/gatehouse/branding"
)

// brandJSON is an application's brand as the admin API shows it. Empty
// fields follow the tenant's defaults (the branding_* settings).
type brandJSON struct {
	ClientID        string     `json:"client_id"`
	Name            string     `json:"name"`
	LogoURL         string     `json:"logo_url"`
	LogoUploaded    bool       `json:"logo_uploaded"`
	LogoType        string     `json:"logo_type,omitempty"`
	PrimaryColor    string     `json:"primary_color"`
	BackgroundColor string     `json:"background_color"`
	UpdatedAt       *time.Time `json:"updated_at,omitempty"`
}

func toBrandJSON(b branding.Brand) brandJSON {
	out := brandJSON{ClientID: b.ClientID, Name: b.Name, LogoURL: b.LogoURL, LogoUploaded: b.LogoType != "",
		LogoType: b.LogoType, PrimaryColor: b.Primary, BackgroundColor: b.Background}
	if !b.UpdatedAt.IsZero() {
		out.UpdatedAt = &b.UpdatedAt
	}
	return out
}

// brandChange is the body of PATCH: absent fields stay, "" returns a field
// to the tenant's default.
type brandChange struct {
	Name            *string `json:"name"`
	LogoURL         *string `json:"logo_url"`
	PrimaryColor    *string `json:"primary_color"`
	BackgroundColor *string `json:"background_color"`
}

// brandAnswer writes a brand, or the API's error for err.
func (s *Server) brandAnswer(w http.ResponseWriter, r *http.Request, b branding.Brand, err error) {
	var v *branding.ValidationError
	switch {
	case err == nil:
		writeJSON(w, http.StatusOK, toBrandJSON(b))
	case errors.As(err, &v):
		apiError(w, http.StatusBadRequest, "invalid_branding", "The branding was not changed.", map[string]string{v.Field: v.Problem})
	case errors.Is(err, branding.ErrNoApp):
		apiError(w, http.StatusNotFound, "not_found", "No application has this client id.", nil)
	case errors.Is(err, branding.ErrBuiltIn):
		apiError(w, http.StatusConflict, "built_in", "Gatehouse manages this application itself.", nil)
	default:
		s.apiServerError(w, r, err)
	}
}

// handleAPIGetBranding: GET api/admin/clients/{id}/branding.
func (s *Server) handleAPIGetBranding() http.Handler {
	return s.requireAdminScope("read:clients", func(w http.ResponseWriter, r *http.Request, _ apiCaller) {
		b, err := s.brands.Get(r.Context(), r.PathValue("id"))
		s.brandAnswer(w, r, b, err)
	})
}

// handleAPIUpdateBranding: PATCH api/admin/clients/{id}/branding.
func (s *Server) handleAPIUpdateBranding() http.Handler {
	return s.requireAdminScope("update:clients", func(w http.ResponseWriter, r *http.Request, caller apiCaller) {
		var body brandChange
		if !decodeBody(w, r, &body) {
			return
		}
		ch := branding.Change{Name: body.Name, LogoURL: body.LogoURL, Primary: body.PrimaryColor, Background: body.BackgroundColor}
		b, err := s.brands.Update(r.Context(), r.PathValue("id"), ch, apiActor(caller), meta(r))
		s.brandAnswer(w, r, b, err)
	})
}

// handleAPIPutLogo: PUT api/admin/clients/{id}/branding/logo, the image as
// the body with its Content-Type (image/png, image/jpeg or image/webp).
func (s *Server) handleAPIPutLogo() http.Handler {
	return s.requireAdminScope("update:clients", func(w http.ResponseWriter, r *http.Request, caller apiCaller) {
		declared, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
		if err != nil {
			apiError(w, http.StatusUnsupportedMediaType, "unsupported_media_type",
				"Send the logo as the body with Content-Type image/png, image/jpeg or image/webp.", nil)
			return
		}
		data, err := io.ReadAll(io.LimitReader(r.Body, branding.MaxLogoBytes+1))
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) || len(data) > branding.MaxLogoBytes {
			apiError(w, http.StatusRequestEntityTooLarge, "body_too_large",
				"An uploaded logo may be at most 100 KiB.", map[string]string{"logo": "is larger than 100 KiB"})
			return
		}
		if err != nil {
			apiError(w, http.StatusBadRequest, "invalid_body", "The logo could not be read.", nil)
			return
		}
		b, err := s.brands.SetLogo(r.Context(), r.PathValue("id"), data, declared, apiActor(caller), meta(r))
		s.brandAnswer(w, r, b, err)
	})
}

// handleAPIDeleteLogo: DELETE api/admin/clients/{id}/branding/logo.
func (s *Server) handleAPIDeleteLogo() http.Handler {
	return s.requireAdminScope("update:clients", func(w http.ResponseWriter, r *http.Request, caller apiCaller) {
		b, err := s.brands.RemoveLogo(r.Context(), r.PathValue("id"), apiActor(caller), meta(r))
		s.brandAnswer(w, r, b, err)
	})
}
