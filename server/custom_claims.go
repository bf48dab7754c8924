package server

import (
	"context"
	"fmt"

	"github.com/gatehouse-id/gatehouse/account"
	"github.com/gatehouse-id/gatehouse/claims"
)

// An application's custom claims (package claims) are worked out for the ID
// token when the authorization request is answered, and for the access
// token at every token request, like its permissions.

// customClaims builds the custom claims of the client's token of kind t
// for the user user loads, called only when the application maps some; nil
// when it maps none.
func (s *Server) customClaims(ctx context.Context, clientID string, user func() (account.User, error), audiences []string, t claims.Target) (map[string]any, error) {
	if s.claims == nil || s.roles == nil {
		return nil, nil
	}
	ms, err := s.claims.Of(ctx, clientID)
	if err != nil {
		return nil, fmt.Errorf("custom claims of %s: %w", clientID, err)
	}
	var wanted []claims.Mapping
	for _, m := range ms {
		if m.In(t) {
			wanted = append(wanted, m)
		}
	}
	if len(wanted) == 0 {
		return nil, nil
	}
	u, err := user()
	if err != nil {
		return nil, err
	}
	subj := claims.Subject{UserID: subjectOf(u), Email: u.Email, EmailVerified: u.EmailVerified, Name: u.Name,
		UserMetadata: u.UserMetadata, AppMetadata: u.AppMetadata}
	held, err := s.roles.UserRoles(ctx, u.ID)
	if err != nil {
		return nil, fmt.Errorf("roles for custom claims: %w", err)
	}
	for _, r := range held {
		subj.Roles = append(subj.Roles, r.Name)
	}
	if subj.Permissions, err = s.roles.HeldOn(ctx, u.ID, audiences); err != nil {
		return nil, fmt.Errorf("permissions for custom claims: %w", err)
	}
	out, dropped := claims.Build(wanted, t, subj)
	if len(dropped) > 0 {
		s.log.WarnContext(ctx, "custom claims left out of a token: they would pass the size limit",
			"client_id", clientID, "user_id", u.ID, "token", string(t), "claims", dropped, "limit_bytes", claims.MaxBytes)
	}
	return out, nil
}
