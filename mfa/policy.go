package mfa

import "fmt"

// Policy is the tenant's rule for when a login needs a second factor.
type Policy string

const (
	// PolicyNever never asks for a second factor, even from enrolled users.
	PolicyNever Policy = "never"
	// PolicyAlways asks every login for the SMS code, enrolling users who
	// have no phone yet.
	PolicyAlways Policy = "always"
	// PolicyAdaptive asks when the login's risk assessment has low
	// confidence (new device and country, impossible travel, untrusted IP…).
	PolicyAdaptive Policy = "adaptive"
)

// DefaultPolicy applies until an admin chooses.
const DefaultPolicy = PolicyNever

// PolicySettingKey names the policy in the settings table.
const PolicySettingKey = "mfa_policy"

// ParsePolicy reads a policy name as an admin types it.
func ParsePolicy(s string) (Policy, error) {
	switch p := Policy(s); p {
	case PolicyNever, PolicyAlways, PolicyAdaptive:
		return p, nil
	}
	return "", fmt.Errorf("unknown MFA policy %q: use never, adaptive or always", s)
}
