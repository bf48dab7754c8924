package pgcluster

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// debianRoot is where Debian's postgresql-NN packages put their binaries,
// deliberately off PATH (only wrappers like pg_ctlcluster are on it).
const debianRoot = "/usr/lib/postgresql"

// BinDir returns the directory holding pg_ctl and initdb: the one pg_ctl on
// PATH lives in, else the newest /usr/lib/postgresql/*/bin.
func BinDir() (string, error) {
	if dir, ok := binDirFromPath(); ok {
		return dir, nil
	}
	if dir, ok := newestBinDir(debianRoot); ok {
		return dir, nil
	}
	return "", errors.New("pgcluster: no PostgreSQL server binaries (pg_ctl, initdb) on PATH or under " +
		debianRoot + "/*/bin; install them with: apt-get install -y postgresql")
}

func binDirFromPath() (string, bool) {
	p, err := exec.LookPath("pg_ctl")
	if err != nil {
		return "", false
	}
	// PATH often holds only symlinks (/usr/local/bin/pg_ctl ->
	// /usr/lib/postgresql/15/bin/pg_ctl), so prefer the real directory,
	// where initdb and postgres are sure to sit next to pg_ctl.
	if real, err := filepath.EvalSymlinks(p); err == nil && hasServerBinaries(filepath.Dir(real)) {
		return filepath.Dir(real), true
	}
	if dir, err := filepath.Abs(filepath.Dir(p)); err == nil && hasServerBinaries(dir) {
		return dir, true
	}
	return "", false
}

// newestBinDir picks root/VERSION/bin with the highest version, comparing
// versions numerically so that 10 beats 9.6.
func newestBinDir(root string) (string, bool) {
	dirs, err := filepath.Glob(filepath.Join(root, "*", "bin"))
	if err != nil {
		return "", false
	}
	slices.SortFunc(dirs, func(a, b string) int {
		return compareVersions(versionOf(b), versionOf(a))
	})
	for _, dir := range dirs {
		if hasServerBinaries(dir) {
			return dir, true
		}
	}
	return "", false
}

func versionOf(binDir string) string {
	return filepath.Base(filepath.Dir(binDir))
}

// compareVersions orders dotted versions numerically; a part that is not a
// number sorts below every number.
func compareVersions(a, b string) int {
	pa, pb := strings.Split(a, "."), strings.Split(b, ".")
	for i := range max(len(pa), len(pb)) {
		if d := versionPart(pa, i) - versionPart(pb, i); d != 0 {
			return d
		}
	}
	return 0
}

func versionPart(parts []string, i int) int {
	if i >= len(parts) {
		return 0
	}
	n, err := strconv.Atoi(parts[i])
	if err != nil {
		return -1
	}
	return n
}

// hasServerBinaries reports whether dir holds every program a Cluster runs.
func hasServerBinaries(dir string) bool {
	for _, name := range []string{"pg_ctl", "initdb", "postgres"} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil || !fi.Mode().IsRegular() || fi.Mode().Perm()&0o111 == 0 {
			return false
		}
	}
	return true
}
