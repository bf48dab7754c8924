package mfa

import (
	"context"
	"fmt"
	"time"

	"github.com/gatehouse-id/gatehouse/limits"
)

// enrollLimits are the global_enroll limit: EnrollShare percent of each
// global budget that is on, never less than one send, so that a share
// rounding to nothing does not read as "no limit".
func (r Rules) enrollLimits() []limits.Limit {
	if r.EnrollShare <= 0 || r.EnrollShare >= 100 {
		return nil
	}
	var out []limits.Limit
	for _, l := range r.GlobalLimits {
		if !l.On() {
			continue
		}
		out = append(out, limits.Limit{Max: max(1, l.Max*r.EnrollShare/100), Window: l.Window})
	}
	return out
}

// BudgetUse is what the current window of one installation-wide budget has
// spent. The global budget counts every code; its enrollment share only codes
// to numbers being enrolled.
type BudgetUse struct {
	Limit     string // LimitGlobal or LimitGlobalEnroll
	Window    time.Duration
	WindowEnd time.Time
	Sent, Max int
}

// Budgets reports the current windows of the global budget and of its
// enrollment share, so that an admin facing an SMS-pumping attack sees which
// one is running out. Budgets that are off are left out.
func (s *Service) Budgets(ctx context.Context) ([]BudgetUse, error) {
	rules, now := s.rulesFor(ctx), s.now()
	cs := append(limits.Counters(LimitGlobal, globalKey, now, rules.GlobalLimits...),
		limits.Counters(LimitGlobalEnroll, globalEnrollKey, now, rules.enrollLimits()...)...)
	if len(cs) == 0 {
		return nil, nil
	}
	counts, err := s.store.ReadCounters(ctx, cs)
	if err != nil {
		return nil, fmt.Errorf("read sms budgets: %w", err)
	}
	out := make([]BudgetUse, len(cs))
	for i, c := range cs {
		out[i] = BudgetUse{Limit: c.Name, Window: c.WindowEnd.Sub(c.WindowStart), WindowEnd: c.WindowEnd,
			Sent: counts[i], Max: c.Max}
	}
	return out, nil
}
