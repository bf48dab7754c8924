package risk_test

import (
	"testing"

	"github.com/gatehouse-id/gatehouse/mfa/risk"
)

func TestNewDevice(t *testing.T) {
	history := []risk.Login{{UserID: "ann", At: t0.Add(-time24), IP: london, DeviceHash: deviceA}}
	for _, tc := range []struct {
		name    string
		device  []byte
		history []risk.Login
		err     error
		want    want
	}{
		{"seen browser", deviceA, history, nil, want{risk: risk.None, reason: "The user has logged in from this browser before."}},
		{"unseen browser", deviceB, history, nil, want{risk: risk.Medium, reason: "First login from this browser."}},
		{"first login ever", deviceA, nil, nil, want{risk: risk.Medium, reason: "First login from this browser."}},
		{"no device cookie", nil, history, nil, want{risk: risk.Medium, reason: "The browser has no device cookie: first login from it, or its cookies were cleared."}},
		{"storage fails", deviceA, history, errDown, want{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := risk.NewDevice{History: &fakeHistory{logins: tc.history, err: tc.err}}
			check(t, s, risk.Attempt{UserID: "ann", IP: london, DeviceHash: tc.device, At: t0}, tc.want, tc.err != nil)
		})
	}
}
