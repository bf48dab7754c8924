package mfa

import "fmt"

// ChallengePhone opens the number a challenge was sent to, e.g. to enroll it
// once its code has passed.
func (s *Service) ChallengePhone(c Challenge) (Phone, error) {
	e164, err := s.vault.Open(c.PhoneSealed)
	if err != nil {
		return Phone{}, fmt.Errorf("open challenge phone: %w", err)
	}
	return phoneFromE164(e164)
}
