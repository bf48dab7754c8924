package pgcluster

import (
	"os"
	"path/filepath"
	"testing"
)

func TestNewestBinDirComparesVersionsNumerically(t *testing.T) {
	root := t.TempDir()
	for _, version := range []string{"9.6", "10", "beta"} {
		fakeBinaries(t, filepath.Join(root, version, "bin"))
	}
	// The newest version is skipped: it lacks the server binaries.
	if err := os.MkdirAll(filepath.Join(root, "16", "bin"), 0o755); err != nil {
		t.Fatal(err)
	}

	got, ok := newestBinDir(root)

	if want := filepath.Join(root, "10", "bin"); !ok || got != want {
		t.Errorf("newestBinDir = %q, %v; want %q", got, ok, want)
	}
}

func fakeBinaries(t *testing.T, dir string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"pg_ctl", "initdb", "postgres"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("#!/bin/sh\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
}
