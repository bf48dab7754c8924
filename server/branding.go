package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/gatehouse-id/gatehouse/branding"
	"github.com/gatehouse-id/gatehouse/clients"
)

// brandView is what the layout draws of a brand: its stylesheet, its logo
// in the card's header, and (for the Content-Security-Policy only) the
// origin the logo loads from.
type brandView struct {
	StyleURL  string // the colours' stylesheet; "" keeps Gatehouse's
	LogoURL   string // "" shows Gatehouse's mark
	ImgOrigin string // an https origin the page may load images from; "" for none
}

// applyLook dresses a hosted page in the brand of the application whose
// login it is part of (the login transaction its return_to names), or in
// the tenant's. Failing to read a brand never fails the page: it is shown
// in the tenant's look, or Gatehouse's.
func (s *Server) applyLook(r *http.Request, v *view, status int) {
	if status >= http.StatusInternalServerError {
		return // the database may be why; ask it nothing more
	}
	look, logo := s.look(r.Context(), s.flowClient(r, v.ReturnTo))
	v.AppName = look.Name
	v.Brand = &brandView{StyleURL: s.styleURL(look, false), LogoURL: logo, ImgOrigin: look.LogoOrigin}
	if logo == "" && look.LogoURL != "" {
		v.Brand.LogoURL = look.LogoURL
	}
}

// flowClient is the client id of the login transaction that returnTo (or
// the request's return_to) resumes; "" when the page is not part of one.
func (s *Server) flowClient(r *http.Request, returnTo string) string {
	for _, rt := range []string{returnTo, r.URL.Query().Get("return_to"), r.PostForm.Get("return_to")} {
		rt = s.safeReturnTo(rt)
		if rt == "" {
			continue
		}
		u, err := url.Parse(rt)
		if err != nil || u.Path != s.base+"authorize/resume" {
			continue
		}
		tx, err := s.store.LoginTransaction(r.Context(), u.Query().Get("tx"), s.now())
		if err != nil {
			return ""
		}
		return tx.ClientID
	}
	return ""
}

// look resolves the brand of clientID ("" for the tenant's own) and the
// address of its uploaded logo, if it has one.
func (s *Server) look(ctx context.Context, clientID string) (branding.Look, string) {
	var defaults branding.Defaults
	if snap, err := s.tenant(ctx); err == nil {
		defaults = snap.Branding()
	} else {
		s.logger(ctx).Warn("tenant brand unreadable; showing the default look", "err", err)
	}
	var b branding.Brand
	var appName string
	if clientID != "" {
		var err error
		appName, b, err = s.store.ApplicationLook(ctx, clientID)
		if err != nil && !errors.Is(err, branding.ErrNotFound) && !errors.Is(err, clients.ErrNotFound) {
			s.logger(ctx).Warn("application brand unreadable; showing the tenant's", "client_id", clientID, "err", err)
		}
		if err != nil {
			b = branding.Brand{ClientID: clientID}
		}
	}
	look := branding.Resolve(b, appName, defaults, s.cfg.AppName)
	if look.Uploaded {
		return look, s.logoURL(clientID, b.LogoSum)
	}
	return look, ""
}

func (s *Server) logoURL(clientID, sum string) string {
	return s.base + "branding/logo/" + url.PathEscape(clientID) + "?v=" + url.QueryEscape(sum)
}

// styleURL is the address of the stylesheet of a look's colours, or "" when
// it sets none. preview scopes it to the console's preview box.
func (s *Server) styleURL(l branding.Look, preview bool) string {
	if !l.Styled() && !preview {
		return ""
	}
	q := url.Values{}
	if l.Primary != "" {
		q.Set("primary", strings.TrimPrefix(l.Primary, "#"))
	}
	if l.Background != "" {
		q.Set("background", strings.TrimPrefix(l.Background, "#"))
	}
	if preview {
		q.Set("scope", "preview")
	}
	return s.base + "branding/style.css?" + q.Encode()
}

// lightPalette is style.css's light scheme. A brand's colours were checked
// against it, so a branded page keeps it under a dark system theme too.
const lightPalette = `--bg: #f3f4f6; --surface: #ffffff; --text: #111827; --muted: #4b5563; --border: #e5e7eb;
  --input-border: #8b919c; --input-bg: #ffffff; --primary: #4338ca; --primary-hover: #3730a3; --primary-text: #ffffff;
  --secondary-bg: #ffffff; --secondary-hover: #f3f4f6; --link: #4338ca; --focus: #4338ca; --focus-halo: rgba(67, 56, 202, 0.25);
  --error-text: #991b1b; --error-bg: #fef2f2; --error-border: #dc2626; --notice-text: #166534; --notice-bg: #f0fdf4;
  --notice-border: #16a34a; --code-bg: #f3f4f6; color-scheme: light;`

// handleBrandStyle answers the stylesheet of the colours its query names
// (primary, background: six hex digits). Inline styles are outside the
// hosted pages' Content-Security-Policy, so colours come as a stylesheet of
// their own; its content is its address, so browsers may keep it for good.
func (s *Server) handleBrandStyle() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		colour := func(name string) (string, bool) {
			v := q.Get(name)
			if v == "" {
				return "", true
			}
			c, err := branding.ParseColour("#" + v)
			return c, err == nil && len(v) == 6
		}
		primary, ok1 := colour("primary")
		background, ok2 := colour("background")
		scope := q.Get("scope")
		if !ok1 || !ok2 || (scope != "" && scope != "preview") {
			http.Error(w, "colours must be six hex digits, scope empty or preview", http.StatusBadRequest)
			return
		}
		sel, footer := ":root", ".site-footer"
		if scope == "preview" {
			sel, footer = ".brand-preview", ".brand-preview .site-footer"
		}
		var css strings.Builder
		fmt.Fprintf(&css, "%s {\n  %s\n", sel, lightPalette)
		if primary != "" {
			r, g, b := rgb(primary)
			fmt.Fprintf(&css, "  --primary: %s; --primary-hover: %s; --link: %s; --focus: %s; --focus-halo: rgba(%d, %d, %d, 0.25);\n",
				primary, branding.Darken(primary, 0.15), primary, primary, r, g, b)
		}
		if background != "" {
			fmt.Fprintf(&css, "  --bg: %s;\n", background)
		}
		css.WriteString("}\n")
		if background != "" {
			// On narrow screens the card is the page and the footer sits on
			// the card's white, where the muted text stays.
			fmt.Fprintf(&css, "@media (min-width: 480px) {\n  %s { color: %s; }\n}\n", footer, branding.TextOn(background))
		}
		h := w.Header()
		h.Set("Content-Type", "text/css; charset=utf-8")
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
		w.Write([]byte(css.String()))
	})
}

func rgb(c string) (r, g, b int) {
	fmt.Sscanf(c, "#%02x%02x%02x", &r, &g, &b)
	return r, g, b
}

// handleBrandLogo serves an application's uploaded logo. Only PNG, JPEG and
// WebP are ever stored; the response still forbids sniffing and, were it
// opened as a document, any script or plugin (CSP sandbox).
func (s *Server) handleBrandLogo() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		img, sum, err := s.store.Logo(r.Context(), r.PathValue("client"))
		if errors.Is(err, branding.ErrNotFound) {
			http.Error(w, "no logo", http.StatusNotFound)
			return
		}
		if err != nil {
			s.logger(r.Context()).Error("read logo", "err", err)
			http.Error(w, "the logo cannot be read right now", http.StatusServiceUnavailable)
			return
		}
		h := w.Header()
		h.Set("Content-Type", img.Type)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
		h.Set("Cross-Origin-Resource-Policy", "same-origin")
		h.Set("Content-Disposition", "inline")
		h.Set("ETag", `"`+sum+`"`)
		if r.URL.Query().Get("v") == sum {
			// The address names this version: a new upload gets a new one.
			h.Set("Cache-Control", "public, max-age=31536000, immutable")
		} else {
			h.Set("Cache-Control", "public, max-age=300")
		}
		if r.Header.Get("If-None-Match") == `"`+sum+`"` {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Write(img.Data)
	})
}

// pagePolicy is a page's Content-Security-Policy: the hosted pages' own,
// with the passkey script where a ceremony runs, and with the origin of a
// linked logo added to img-src on the pages that show it (and only there).
// Scripts stay limited to the one passkey file either way.
func pagePolicy(data any) string {
	var b *brandView
	csp := contentSecurityPolicy
	if runsScript(data) {
		csp = contentSecurityPolicyWithScript
	}
	switch v := data.(type) {
	case view:
		b = v.Brand
	case adminView:
		b = v.Brand
	}
	if b == nil || b.ImgOrigin == "" {
		return csp
	}
	return strings.Replace(csp, "img-src 'self' data:", "img-src 'self' data: "+b.ImgOrigin, 1)
}

// logoUploadBodyBytes is the body limit of the two routes that take a logo:
// the largest logo and room for the console form's other fields.
const logoUploadBodyBytes = branding.MaxLogoBytes + 16<<10

// bodyLimit is the largest request body r may send.
func (s *Server) bodyLimit(r *http.Request) int64 {
	p := r.URL.Path
	upload := (r.Method == http.MethodPut && strings.HasPrefix(p, s.base+"api/admin/clients/") && strings.HasSuffix(p, "/branding/logo")) ||
		(r.Method == http.MethodPost && strings.HasPrefix(p, s.base+"admin/applications/") && strings.HasSuffix(p, "/branding"))
	if upload {
		return max(s.cfg.MaxBodyBytes, logoUploadBodyBytes)
	}
	return s.cfg.MaxBodyBytes
}
