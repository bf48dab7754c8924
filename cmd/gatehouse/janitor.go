package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/gatehouse-id/gatehouse/account"
	"github.com/gatehouse-id/gatehouse/outbox"
	"github.com/gatehouse-id/gatehouse/settings"
	"github.com/gatehouse-id/gatehouse/store"
)

// janitorEvery is how often each replica tries a cleanup pass; the store's
// lease (janitor_lease) lets one of them at a time run it.
const janitorEvery = 10 * time.Minute

// loginHistoryRetention is how far back adaptive MFA remembers devices.
const loginHistoryRetention = 365 * 24 * time.Hour

// eventAuditPruned is the audit entry a pass leaves when the admin's
// retention removed older entries, so the trail says why it starts where it
// does.
const eventAuditPruned = "audit.pruned"

// runJanitor deletes what has expired or outlived its retention, now and
// every janitorEvery, until ctx ends.
func runJanitor(ctx context.Context, st *store.Store, tenant *settings.Service, log *slog.Logger) {
	t := time.NewTicker(janitorEvery)
	defer t.Stop()
	for {
		sweepOnce(ctx, st, tenant, log, time.Now())
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func sweepOnce(ctx context.Context, st *store.Store, tenant *settings.Service, log *slog.Logger, now time.Time) {
	c := store.Cleanup{Now: now, CounterAge: account.DefaultLimits().IPWindow + time.Hour,
		OutboxBefore: now.Add(-outbox.Retention), LoginHistoryBefore: now.Add(-loginHistoryRetention)}
	keep := time.Duration(0)
	if snap, err := tenant.Current(ctx); err != nil {
		log.Warn("reading the audit retention failed; this pass keeps the audit log", "err", err)
	} else if keep = snap.AuditRetention(); keep > 0 {
		c.AuditBefore = now.Add(-keep)
	}
	res, err := st.Sweep(ctx, c)
	took := time.Since(now)
	if n := res.RowsOf("audit_log"); n > 0 {
		err := st.Record(context.WithoutCancel(ctx), account.Event{At: time.Now(), Type: eventAuditPruned,
			Details: map[string]any{"rows": n, "before": c.AuditBefore.UTC().Format(time.RFC3339), "retention_days": int(keep / (24 * time.Hour))}})
		if err != nil {
			log.Error("audit log write failed", "event", eventAuditPruned, "err", err)
		}
	}
	switch {
	case err != nil && ctx.Err() == nil:
		log.Warn("cleanup pass failed; the next one continues where it stopped", "err", err, "rows", res.Rows())
	case res.Rows() > 0:
		log.Info("cleanup pass", "rows", res.Rows(), "audit_rows", res.RowsOf("audit_log"), "took", took.Round(time.Millisecond))
	}
}
