package store

import (
	"context"
	"fmt"

	"github.com/gatehouse-id/gatehouse/account"
)

func (s *Store) Record(ctx context.Context, e account.Event) error {
	var userID any
	if validUUID(e.UserID) {
		userID = e.UserID
	}
	details := e.Details
	if details == nil {
		details = map[string]any{}
	}
	_, err := s.db(ctx).Exec(ctx, `
		insert into audit_log (at, event, user_id, subject, ip, user_agent, request_id, details)
		values ($1, $2, $3, $4, $5, $6, $7, $8)`,
		e.At, e.Type, userID, e.Subject, inet(e.IP), e.UserAgent, e.RequestID, details)
	if err != nil {
		return fmt.Errorf("insert audit event %s: %w", e.Type, err)
	}
	return nil
}
