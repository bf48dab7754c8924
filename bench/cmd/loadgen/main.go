// Command loadgen drives Gatehouse replicas on loopback and reports rates,
// latencies and errors next to the machine's own crypto bounds. bench/run.sh
// runs it end to end; its subcommands are:
//
//	loadgen run       run modes against running replicas, with its own fake Plivo
//	loadgen oidc      password-only logins against any OpenID provider
//	loadgen startup   time `gatehouse serve` from process start to the first 200 on /readyz
//	loadgen freeports print free loopback ports
//	loadgen setup     raise the tenant's SMS limits so one machine's load is not refused
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if len(os.Args) < 2 {
		usage()
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "run":
		err = runLoad(ctx, os.Args[2:])
	case "oidc":
		err = runOIDC(ctx, os.Args[2:])
	case "startup":
		err = runStartup(ctx, os.Args[2:])
	case "freeports":
		err = runFreePorts(os.Args[2:])
	case "setup":
		err = runSetup(ctx, os.Args[2:])
	default:
		usage()
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "loadgen %s: %v\n", os.Args[1], err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: loadgen run|oidc|startup|freeports|setup [flags]   (loadgen CMD -h for the flags)")
}
