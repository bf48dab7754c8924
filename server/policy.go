package server

import (
	"context"

	"github.com/gatehouse-id/gatehouse/settings"
)

// tenant returns the admin's settings as every replica sees them: read
// through a cache of at most settings.CacheTTL.
func (s *Server) tenant(ctx context.Context) (settings.Snapshot, error) {
	return s.settings.Current(ctx)
}
