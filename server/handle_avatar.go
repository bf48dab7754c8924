package server

import (
	"fmt"
	"hash/fnv"
	"html"
	"net/http"
	"strings"
	"unicode/utf8"
)

// avatarColors are backgrounds with white text at WCAG AA contrast.
var avatarColors = []string{"#4338ca", "#0f766e", "#b91c1c", "#7e22ce", "#1d4ed8", "#a16207", "#be185d", "#15803d"}

// handleAvatar draws the default profile picture: initials on a colour
// chosen from them, so no third-party image host learns who logs in.
func (s *Server) handleAvatar() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		letters := strings.TrimSuffix(r.PathValue("file"), ".svg")
		if letters == "" || utf8.RuneCountInString(letters) > 2 || !strings.HasSuffix(r.PathValue("file"), ".svg") {
			s.renderError(w, r, http.StatusNotFound)
			return
		}
		h := fnv.New32a()
		h.Write([]byte(letters))
		color := avatarColors[h.Sum32()%uint32(len(avatarColors))]
		w.Header().Set("Content-Type", "image/svg+xml")
		w.Header().Set("Cache-Control", "public, max-age=86400")
		w.Header().Set("Access-Control-Allow-Origin", "*")
		w.Header().Set("Cross-Origin-Resource-Policy", "cross-origin")
		fmt.Fprintf(w, `<svg xmlns="http://www.w3.org/2000/svg" width="128" height="128" viewBox="0 0 128 128">`+
			`<rect width="128" height="128" fill="%s"/><text x="64" y="64" dy=".35em" text-anchor="middle" `+
			`font-family="system-ui,-apple-system,Segoe UI,Roboto,sans-serif" font-size="52" font-weight="600" fill="#fff">%s</text></svg>`,
			color, html.EscapeString(letters))
	})
}
