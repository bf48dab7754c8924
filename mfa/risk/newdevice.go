package risk

import "context"

// NewDevice is Medium when the browser has no device cookie or its cookie was
// never seen in the user's successful logins.
type NewDevice struct {
	History History
}

func (NewDevice) Name() string { return "new_device" }

func (s NewDevice) Assess(ctx context.Context, a Attempt) (Finding, error) {
	if a.DeviceHash == nil {
		return Finding{Risk: Medium, Reason: "The browser has no device cookie: first login from it, or its cookies were cleared."}, nil
	}
	seen, err := s.History.SeenDevice(ctx, a.UserID, a.DeviceHash)
	if err != nil {
		return Finding{}, err
	}
	if !seen {
		return Finding{Risk: Medium, Reason: "First login from this browser."}, nil
	}
	return Finding{Risk: None, Reason: "The user has logged in from this browser before."}, nil
}
