package loadgen

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"
)

// staticLoop returns the work of a virtual user that GETs path over and over
// on one keep-alive connection. It writes the request bytes and parses the
// response itself rather than going through http.Client, whose per-request
// bookkeeping would cost the shared cores about as much as the server's
// answer: the point is to measure the server. Each virtual user keeps to one
// replica, as a load balancer's connection would.
func (d *Driver) staticLoop(path string) func(ctx context.Context, vu int, st *Stats, until time.Time) int {
	return func(ctx context.Context, vu int, st *Stats, until time.Time) int {
		t := d.cfg.Targets[vu%len(d.cfg.Targets)]
		target := *t
		target.Path = t.Path + path[1:]
		req := []byte(fmt.Sprintf("GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: gatehouse-loadgen\r\n\r\n", target.RequestURI(), t.Host))
		step := path[1:]
		var conn net.Conn
		var rd *bufio.Reader
		defer func() {
			if conn != nil {
				conn.Close()
			}
		}()
		n := 0
		for ctx.Err() == nil && time.Now().Before(until) {
			if conn == nil {
				var err error
				dialer := net.Dialer{Timeout: d.cfg.Timeout}
				if conn, err = dialer.DialContext(ctx, "tcp", t.Host); err != nil {
					d.failed(st, &StepError{Step: step, Kind: classify(err), Err: err})
					time.Sleep(10 * time.Millisecond) // a refused dial returns at once: do not spin
					continue
				}
				rd = bufio.NewReaderSize(conn, 16<<10)
			}
			start := time.Now()
			conn.SetDeadline(start.Add(d.cfg.Timeout))
			status, keep, err := roundTrip(conn, rd, req)
			if err != nil {
				d.failed(st, &StepError{Step: step, Kind: classify(err), Err: err})
				conn.Close()
				conn = nil
				continue
			}
			if status != http.StatusOK {
				d.failed(st, &StepError{Step: step, Kind: fmt.Sprintf("HTTP %d", status)})
			} else {
				st.step(step, time.Since(start))
				n++
			}
			if !keep {
				conn.Close()
				conn = nil
			}
		}
		return n
	}
}

// roundTrip writes req and reads one response to its end.
func roundTrip(conn net.Conn, rd *bufio.Reader, req []byte) (status int, keepAlive bool, err error) {
	if _, err := conn.Write(req); err != nil {
		return 0, false, err
	}
	resp, err := http.ReadResponse(rd, nil)
	if err != nil {
		return 0, false, err
	}
	n, err := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if err != nil {
		return 0, false, err
	}
	if resp.StatusCode == http.StatusOK && n == 0 {
		return 0, false, fmt.Errorf("empty body")
	}
	return resp.StatusCode, !resp.Close, nil
}
