package risk_test

import (
	"context"
	"reflect"
	"testing"

	"github.com/gatehouse-id/gatehouse/mfa/risk"
)

// fixed is a signal with a set answer, for testing how the Engine combines.
type fixed struct {
	name string
	f    risk.Finding
	err  error
}

func (s fixed) Name() string { return s.name }
func (s fixed) Assess(context.Context, risk.Attempt) (risk.Finding, error) {
	return s.f, s.err
}

func TestEngineCombinesFindings(t *testing.T) {
	none := func(n string) risk.Signal { return fixed{n, risk.Finding{Risk: risk.None, Reason: "ok"}, nil} }
	medium := func(n string) risk.Signal { return fixed{n, risk.Finding{Risk: risk.Medium, Reason: "hmm"}, nil} }
	high := func(n string) risk.Signal { return fixed{n, risk.Finding{Risk: risk.High, Reason: "no"}, nil} }
	off := func(n string) risk.Signal { return fixed{n, risk.Finding{Unavailable: true, Reason: "off"}, nil} }
	for _, tc := range []struct {
		name            string
		signals         []risk.Signal
		challengeMedium bool
		confidence      risk.Confidence
		challenge       bool
		summary         string
	}{
		{"nothing risky", []risk.Signal{none("a"), none("b")}, true, risk.ConfidenceHigh, false, "high confidence"},
		{"no signals", nil, true, risk.ConfidenceHigh, false, "high confidence"},
		{"one medium", []risk.Signal{none("a"), medium("new_device")}, false, risk.ConfidenceMedium, false, "medium confidence: new device"},
		{"one medium, challenged", []risk.Signal{medium("new_device")}, true, risk.ConfidenceMedium, true, "medium confidence: new device"},
		{"two mediums", []risk.Signal{medium("new_device"), none("x"), medium("new_country")}, false, risk.ConfidenceLow, true, "low confidence: new device, new country"},
		{"one high, riskiest first", []risk.Signal{medium("new_device"), high("impossible_travel")}, false, risk.ConfidenceLow, true, "low confidence: impossible travel, new device"},
		{"unavailable counts for nothing", []risk.Signal{off("impossible_travel"), off("new_country"), medium("new_device")}, false, risk.ConfidenceMedium, false,
			"medium confidence: new device; could not assess: impossible travel, new country"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := risk.NewEngine(tc.challengeMedium, tc.signals...).Assess(ctx, risk.Attempt{UserID: "ann", At: t0})
			if a.Confidence != tc.confidence || a.Challenge != tc.challenge || a.Summary != tc.summary {
				t.Errorf("got %s challenge=%v %q; want %s challenge=%v %q", a.Confidence, a.Challenge, a.Summary, tc.confidence, tc.challenge, tc.summary)
			}
			if len(a.Findings) != len(tc.signals) {
				t.Fatalf("%d findings for %d signals", len(a.Findings), len(tc.signals))
			}
			for i, s := range tc.signals {
				if a.Findings[i].Signal != s.Name() {
					t.Errorf("finding %d is from %q, want %q", i, a.Findings[i].Signal, s.Name())
				}
			}
		})
	}
}

// A signal that failed may have missed what would have challenged the login:
// it counts as High, the others still run, and the summary says it failed.
func TestEngineCountsAFailedSignalAsHighAndGoesOn(t *testing.T) {
	e := risk.NewEngine(false,
		fixed{name: "untrusted_ip", err: errDown},
		fixed{"new_device", risk.Finding{Risk: risk.Medium, Reason: "First login from this browser."}, nil})
	a := e.Assess(ctx, risk.Attempt{UserID: "ann", At: t0})
	want := []risk.Finding{
		{Signal: "untrusted_ip", Risk: risk.High, Failed: true, Reason: "could not run: database down"},
		{Signal: "new_device", Risk: risk.Medium, Reason: "First login from this browser."},
	}
	if !reflect.DeepEqual(a.Findings, want) {
		t.Fatalf("findings = %+v\nwant %+v", a.Findings, want)
	}
	if a.Confidence != risk.ConfidenceLow || !a.Challenge || a.Summary != "low confidence: untrusted ip (failed), new device" {
		t.Errorf("got %s %q", a.Confidence, a.Summary)
	}
}

func TestLevelString(t *testing.T) {
	for l, s := range map[risk.Level]string{risk.None: "none", risk.Medium: "medium", risk.High: "high", risk.Level(7): "Level(7)"} {
		if l.String() != s {
			t.Errorf("%d.String() = %q, want %q", int(l), l.String(), s)
		}
	}
	if !(risk.None < risk.Medium && risk.Medium < risk.High) {
		t.Error("levels out of order")
	}
}
