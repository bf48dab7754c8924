package sms_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/gatehouse-id/gatehouse/mfa/sms"
)

func ids(sent []sms.Sent) []string {
	out := []string{}
	for _, s := range sent {
		out = append(out, s.ID)
	}
	return out
}

func TestConsoleKeepsNewestFirst(t *testing.T) {
	tests := []struct {
		keep, send int
		want       []string
	}{
		{3, 0, []string{}},
		{3, 2, []string{"m2", "m1"}},
		{3, 3, []string{"m3", "m2", "m1"}},
		{3, 5, []string{"m5", "m4", "m3"}},
		{3, 7, []string{"m7", "m6", "m5"}},
		{1, 4, []string{"m4"}},
		{0, 2, []string{}},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("keep %d send %d", tt.keep, tt.send), func(t *testing.T) {
			c := sms.NewConsole(slog.New(slog.DiscardHandler), tt.keep)
			for i := 1; i <= tt.send; i++ {
				m := message()
				m.ID = fmt.Sprintf("m%d", i)
				if _, err := c.Send(t.Context(), m); err != nil {
					t.Fatal(err)
				}
			}
			if got := ids(c.Recent()); !slices.Equal(got, tt.want) {
				t.Errorf("Recent = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestConsoleLogs(t *testing.T) {
	var buf bytes.Buffer
	c := sms.NewConsole(slog.New(slog.NewTextHandler(&buf, nil)), 10)
	rec, err := c.Send(t.Context(), message())
	if err != nil || rec.ProviderMessageID != "msg-1" || c.Name() != "console" {
		t.Fatalf("Send = %+v, %v", rec, err)
	}
	for _, want := range []string{"level=INFO", "to=+447700900123", "purpose=challenge", `#123456`} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("log %q lacks %q", buf.String(), want)
		}
	}
	got := c.Recent()[0]
	if got.Message != message() || got.At.IsZero() {
		t.Errorf("Recent()[0] = %+v", got)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := c.Send(ctx, message()); err == nil {
		t.Error("Send with an ended context succeeded")
	}
}

func TestConsoleConcurrent(t *testing.T) {
	c := sms.NewConsole(slog.New(slog.DiscardHandler), 5)
	var wg sync.WaitGroup
	for i := range 50 {
		wg.Go(func() {
			m := message()
			m.ID = fmt.Sprint(i)
			if _, err := c.Send(t.Context(), m); err != nil {
				t.Error(err)
			}
			c.Recent()
		})
	}
	wg.Wait()
	if n := len(c.Recent()); n != 5 {
		t.Errorf("kept %d, want 5", n)
	}
}
