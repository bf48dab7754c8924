package server_test

import (
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
)

// The account+IP lockout allows 10 wrong passwords, then refuses before any
// hashing. A burst of wrong passwords sent in parallel must be counted and
// stopped exactly as the same guesses one after another are: at most 10 of
// them may be checked against the password, the rest are refused as locked.
// Otherwise a guesser who sends 200 at once gets 200 guesses per lockout
// window instead of 10.
func TestAParallelBurstOfWrongPasswordsIsStoppedByTheLockout(t *testing.T) {
	h := newHarness(t)
	signedInBrowser(t, h)
	const burst = 60
	var wg sync.WaitGroup
	statuses := make(chan int, burst)
	errs := make(chan error, burst)
	start := make(chan struct{})
	for i := range burst {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			form := url.Values{"email": {"ann@example.com"}, "password": {"wrong guess " + strings.Repeat("x", i)}}
			resp, err := http.PostForm(h.srv.URL+"/login", form)
			if err != nil {
				errs <- err
				return
			}
			if err := resp.Body.Close(); err != nil {
				errs <- err
				return
			}
			statuses <- resp.StatusCode
		}()
	}
	close(start)
	wg.Wait()
	close(statuses)
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	checked, locked := 0, 0
	for s := range statuses {
		switch s {
		case http.StatusUnauthorized:
			checked++
		case http.StatusTooManyRequests:
			locked++
		default:
			t.Errorf("a guess answered %d", s)
		}
	}
	if checked > 10 {
		t.Fatalf("%d of %d parallel wrong passwords were checked against the account (%d refused as locked), want at most 10",
			checked, burst, locked)
	}
}
