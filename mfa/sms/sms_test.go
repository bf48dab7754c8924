package sms_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/gatehouse-id/gatehouse/mfa/sms"
)

func TestText(t *testing.T) {
	tests := []struct {
		name, host, wantLast string
	}{
		{"bare host", "id.example.com", "@id.example.com #123456"},
		{"host with port", "id.example.com:8443", "@id.example.com #123456"},
		{"whole issuer URL", "https://id.example.com:8443/", "@id.example.com #123456"},
		{"upper case folded", "ID.Example.COM", "@id.example.com #123456"},
		{"localhost with port", "localhost:8080", "@localhost #123456"},
		{"ipv6 with port", "[::1]:8080", "@[::1] #123456"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := sms.Text("Acme", "123456", tt.host)
			want := "Your Acme verification code is 123456\n\n" + tt.wantLast
			if got != want {
				t.Errorf("Text(%q) = %q, want %q", tt.host, got, want)
			}
		})
	}
}

func TestIsPermanent(t *testing.T) {
	base := errors.New("invalid number")
	perm := &sms.PermanentError{Err: base}
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"plain error", base, false},
		{"permanent", perm, true},
		{"wrapped permanent", fmt.Errorf("outbox: %w", perm), true},
	}
	for _, tt := range tests {
		if got := sms.IsPermanent(tt.err); got != tt.want {
			t.Errorf("%s: IsPermanent = %v, want %v", tt.name, got, tt.want)
		}
	}
	if !errors.Is(perm, base) || perm.Error() != base.Error() {
		t.Errorf("PermanentError should unwrap to and read as its cause, got %q", perm.Error())
	}
}
