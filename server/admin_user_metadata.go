package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/gatehouse-id/gatehouse/account"
)

// handleAdminUserMetadata replaces a user's user_metadata and app_metadata
// with the JSON objects typed into the user page's form. A refused value
// shows the page again with what was typed and why.
func (s *Server) handleAdminUserMetadata() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, ok := s.adminTarget(w, r)
		if !ok {
			return
		}
		userText, appText := r.PostForm.Get("user_metadata"), r.PostForm.Get("app_metadata")
		si := mustSession(r)
		_, err := s.accounts.ChangeMetadata(r.Context(), u.ID, account.MetadataChange{ReplaceUser: []byte(userText),
			ReplaceApp: []byte(appText)}, account.Actor{UserID: si.user.ID, Name: actor(si)}, meta(r))
		var bad *account.MetadataError
		if errors.As(err, &bad) {
			field, _, _ := strings.Cut(bad.Field, ".")
			s.adminUserRefused(w, r, u, nil, func(d *adminUserData, v *adminView) {
				d.UserMetadataText, d.AppMetadataText = userText, appText
				v.Fields = map[string]string{field: "Not saved: " + bad.Error() + "."}
				v.Error = "Nothing was saved: the metadata is not valid."
			})
			return
		}
		if err != nil {
			s.adminUserRefused(w, r, u, err, nil)
			return
		}
		s.seeOther(w, r, "admin/users/"+u.ID, "Metadata saved.")
	})
}

// indentedJSON is stored metadata as an admin reads and edits it.
func indentedJSON(raw json.RawMessage) string {
	var buf bytes.Buffer
	if len(raw) == 0 || json.Indent(&buf, raw, "", "  ") != nil {
		return "{}"
	}
	return buf.String()
}
