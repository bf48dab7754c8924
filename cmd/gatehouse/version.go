package main

import (
	"context"
	"fmt"
	"runtime/debug"
)

// version is set at release build time with -ldflags "-X main.version=v1.2.3".
var version = "dev"

func runVersion(ctx context.Context, e env, args []string) error {
	fs := newFlagSet(e, "version", "Prints the version, the source revision and the Go version.")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, versionString())
	return nil
}

func versionString() string {
	rev, goVersion := "unknown revision", "unknown Go"
	if info, ok := debug.ReadBuildInfo(); ok {
		goVersion = info.GoVersion
		for _, s := range info.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				rev = s.Value[:12]
			}
		}
	}
	return fmt.Sprintf("gatehouse %s (%s, %s)", version, rev, goVersion)
}
