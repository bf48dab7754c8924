package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"syscall"
	"time"

	"github.com/gatehouse-id/gatehouse/bench/loadgen"
)

// runStartup starts the command after "--" -n times with GATEHOUSE_ADDR set,
// and times each from process start to the first 200 on /readyz, polling
// every millisecond; then it stops the process with SIGTERM.
func runStartup(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("loadgen startup", flag.ContinueOnError)
	n := fs.Int("n", 5, "starts to time")
	label := fs.String("label", "serve", "what the measurement is called in the output")
	limit := fs.Duration("timeout", 30*time.Second, "give up on one start after this long")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cmdArgs := fs.Args()
	if len(cmdArgs) == 0 {
		return errors.New("usage: loadgen startup [-n N] -- gatehouse serve [flags]")
	}
	var took []time.Duration
	for range *n {
		port, err := freePort()
		if err != nil {
			return err
		}
		d, err := timeStart(ctx, cmdArgs, fmt.Sprintf("127.0.0.1:%d", port), *limit)
		if err != nil {
			return err
		}
		took = append(took, d)
	}
	slices.Sort(took)
	ms := make([]string, len(took))
	for i, d := range took {
		ms[i] = fmt.Sprintf("%.0f", float64(d.Microseconds())/1000)
	}
	fmt.Printf("start to ready (%s): median %.0f ms, runs %v ms, loadavg %s\n", *label,
		float64(took[len(took)/2].Microseconds())/1000, ms, loadgen.LoadAvg())
	return nil
}

func timeStart(ctx context.Context, args []string, addr string, limit time.Duration) (time.Duration, error) {
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	cmd.Env = append(os.Environ(), "GATEHOUSE_ADDR="+addr)
	cmd.Stderr = nil // the server's log is not the measurement
	client := &http.Client{Timeout: time.Second}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	stop := func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(20 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
	}
	deadline := start.Add(limit)
	for time.Now().Before(deadline) {
		select {
		case err := <-exited:
			return 0, fmt.Errorf("%s exited before it was ready: %v", args[0], err)
		default:
		}
		resp, err := client.Get("http://" + addr + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				took := time.Since(start)
				stop()
				return took, nil
			}
		}
		time.Sleep(time.Millisecond)
	}
	stop()
	return 0, fmt.Errorf("%s was not ready within %s", args[0], limit)
}

// runFreePorts prints n free loopback ports, one a line. Another process
// could take one before it is used; on loopback in a test run it does not.
func runFreePorts(args []string) error {
	fs := flag.NewFlagSet("loadgen freeports", flag.ContinueOnError)
	n := fs.Int("n", 1, "ports to print")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	for range *n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		ls = append(ls, l) // held open until all are picked, so none repeats
		fmt.Println(l.Addr().(*net.TCPAddr).Port)
	}
	return nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
