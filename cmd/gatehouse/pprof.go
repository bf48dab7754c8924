package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"net/netip"
	"strings"
	"time"
)

const hintPprofAddr = "set it to a loopback address such as 127.0.0.1:6060, or leave it unset to serve no profiles"

// parsePprofAddr reads GATEHOUSE_PPROF_ADDR. Profiles show what a process
// holds in memory and cost CPU to take, so they are served only on their own
// listener, never on the public one, and only on a loopback address.
func parsePprofAddr(name, v string) (string, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return "", nil
	}
	host, port, err := net.SplitHostPort(v)
	if err != nil || port == "" {
		return "", &configError{name, fmt.Sprintf("%q is not host:port", v), hintPprofAddr}
	}
	if host == "localhost" {
		return v, nil
	}
	if a, err := netip.ParseAddr(host); err != nil || !a.IsLoopback() {
		return "", &configError{name, fmt.Sprintf("%q is not a loopback address", v), hintPprofAddr}
	}
	return v, nil
}

// servePprof serves net/http/pprof on addr until ctx ends.
func servePprof(ctx context.Context, addr string, log *slog.Logger) error {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return serveAside(ctx, "GATEHOUSE_PPROF_ADDR", addr, mux, log.With("listener", "profiles"))
}

// serveAside serves h on addr until ctx ends: a listener of its own for what
// only the operator should reach. setting names the variable in errors.
func serveAside(ctx context.Context, setting, addr string, h http.Handler, log *slog.Logger) error {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("%s: %w", setting, err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		<-ctx.Done()
		srv.Close()
	}()
	log.Info("serving", "addr", l.Addr().String())
	go func() {
		if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("listener stopped", "err", err)
		}
	}()
	return nil
}
