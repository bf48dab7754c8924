package store

import (
	"context"
	"fmt"

	"github.com/gatehouse-id/gatehouse/account"
)

// TakeSignups counts signups in the send counters the SMS and mail limits
// use, under keys of their own ("signup-ip:…"). Called inside InTx with the
// user's insert, so a signup that fails counts nowhere.
func (s *Store) TakeSignups(ctx context.Context, counters []account.SendCounter) ([]account.SendCounter, error) {
	exhausted, err := takeCounters(ctx, s, counters, func(c account.SendCounter) sendCounter {
		return sendCounter{c.Key, c.WindowStart, c.WindowEnd, c.Max}
	})
	if err != nil {
		return nil, fmt.Errorf("count signups: %w", err)
	}
	return exhausted, nil
}
