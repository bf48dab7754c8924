package loadgen

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"time"
)

// FetchProfile asks a replica's pprof endpoint for a CPU profile covering
// most of a run of length d, in the background, and writes it to path. The
// channel gives the outcome once the profile is written.
func FetchProfile(ctx context.Context, profileURL string, d time.Duration, path string) <-chan error {
	done := make(chan error, 1)
	go func() { done <- fetchProfile(ctx, profileURL, d, path) }()
	return done
}

func fetchProfile(ctx context.Context, profileURL string, d time.Duration, path string) error {
	u, err := url.Parse(profileURL)
	if err != nil {
		return fmt.Errorf("cpu profile: %w", err)
	}
	secs := max(1, int(d.Seconds())-1) // end before the run does, so only load is in it
	q := u.Query()
	q.Set("seconds", fmt.Sprint(secs))
	u.RawQuery = q.Encode()
	req, err := http.NewRequestWithContext(ctx, "GET", u.String(), nil)
	if err != nil {
		return fmt.Errorf("cpu profile: %w", err)
	}
	resp, err := (&http.Client{Timeout: d + 30*time.Second}).Do(req)
	if err != nil {
		return fmt.Errorf("cpu profile: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("cpu profile: %s answered %d", profileURL, resp.StatusCode)
	}
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("cpu profile: %w", err)
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return fmt.Errorf("cpu profile: %w", err)
	}
	return f.Close()
}
