package risk

import (
	"cmp"
	"context"
	"log/slog"
	"slices"
	"strings"
)

// Confidence is how sure the Engine is that the attempt is the user's.
type Confidence string

const (
	ConfidenceHigh   Confidence = "high"
	ConfidenceMedium Confidence = "medium"
	ConfidenceLow    Confidence = "low"
)

// Assessment is the Engine's verdict on one attempt, with every finding.
type Assessment struct {
	Findings   []Finding // one per signal, in the Engine's order
	Confidence Confidence
	Challenge  bool   // ask for the second factor
	Summary    string // e.g. "low confidence: impossible travel, new device"
}

// Engine runs a set of signals and combines their findings.
type Engine struct {
	challengeMedium bool
	mediumFrom      func(context.Context) bool
	signals         []Signal
	log             *slog.Logger
}

// NewEngine assesses with the signals in this order. Low confidence always
// asks for the second factor; medium does when challengeMedium is set.
func NewEngine(challengeMedium bool, signals ...Signal) *Engine {
	return &Engine{challengeMedium: challengeMedium, signals: signals, log: slog.New(slog.DiscardHandler)}
}

// LogTo logs the signals that fail to l; without it they are reported only in
// the assessment.
func (e *Engine) LogTo(l *slog.Logger) *Engine {
	if l != nil {
		e.log = l
	}
	return e
}

// ChallengeMediumFrom makes the medium-confidence rule follow f, a setting an
// admin changes at run time, instead of the value given to NewEngine.
func (e *Engine) ChallengeMediumFrom(f func(context.Context) bool) *Engine {
	e.mediumFrom = f
	return e
}

// ChallengesMedium reports whether medium confidence is challenged now: the
// run-time setting when one is followed, else the value given to NewEngine.
func (e *Engine) ChallengesMedium(ctx context.Context) bool {
	if e.mediumFrom != nil {
		return e.mediumFrom(ctx)
	}
	return e.challengeMedium
}

// Assess runs every signal. A signal that fails becomes a failed finding of
// High risk, logged: an assessment never fails the login, and never lets it
// through on a check it could not make (a block list it could not read).
func (e *Engine) Assess(ctx context.Context, a Attempt) Assessment {
	findings := make([]Finding, 0, len(e.signals))
	for _, s := range e.signals {
		f, err := s.Assess(ctx, a)
		if err != nil {
			e.log.ErrorContext(ctx, "risk signal failed; counted as high risk", "signal", s.Name(), "user", a.UserID, "err", err)
			f = Finding{Risk: High, Failed: true, Reason: "could not run: " + err.Error()}
		}
		f.Signal = s.Name()
		findings = append(findings, f)
	}
	c := combine(findings)
	challengeMedium := e.ChallengesMedium(ctx)
	return Assessment{
		Findings:   findings,
		Confidence: c,
		Challenge:  c == ConfidenceLow || (c == ConfidenceMedium && challengeMedium),
		Summary:    summary(c, findings),
	}
}

// combine: any High, or two Mediums, is low confidence; one Medium is medium.
func combine(findings []Finding) Confidence {
	var medium int
	for _, f := range findings {
		switch {
		case f.Unavailable:
		case f.Risk >= High:
			return ConfidenceLow
		case f.Risk == Medium:
			medium++
		}
	}
	switch {
	case medium >= 2:
		return ConfidenceLow
	case medium == 1:
		return ConfidenceMedium
	}
	return ConfidenceHigh
}

// summary names the risky signals, riskiest first, and those that could not run.
func summary(c Confidence, findings []Finding) string {
	var risky []Finding
	var notRun []string
	for _, f := range findings {
		switch {
		case f.Unavailable:
			notRun = append(notRun, readable(f.Signal))
		case f.Failed:
			risky = append(risky, Finding{Signal: f.Signal + " (failed)", Risk: f.Risk})
		case f.Risk > None:
			risky = append(risky, f)
		}
	}
	slices.SortStableFunc(risky, func(x, y Finding) int { return cmp.Compare(y.Risk, x.Risk) })
	var b strings.Builder
	b.WriteString(string(c) + " confidence")
	for i, f := range risky {
		if i == 0 {
			b.WriteString(": ")
		} else {
			b.WriteString(", ")
		}
		b.WriteString(readable(f.Signal))
	}
	if len(notRun) > 0 {
		b.WriteString("; could not assess: " + strings.Join(notRun, ", "))
	}
	return b.String()
}

func readable(signal string) string { return strings.ReplaceAll(signal, "_", " ") }
