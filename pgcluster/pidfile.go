package pgcluster

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// postmasterPid is the lock file a running server keeps in its data dir.
// Its first line is the server's pid, its fourth the port it listens on.
const postmasterPid = "postmaster.pid"

type pidFile struct {
	pid, port int
}

func readPidFile(dir string) (pidFile, error) {
	b, err := os.ReadFile(filepath.Join(dir, postmasterPid))
	if err != nil {
		return pidFile{}, err
	}
	lines := strings.Split(string(b), "\n")
	if len(lines) < 4 {
		return pidFile{}, fmt.Errorf("pgcluster: %s: too short", postmasterPid)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(lines[0]))
	if err != nil {
		return pidFile{}, fmt.Errorf("pgcluster: %s: pid: %w", postmasterPid, err)
	}
	port, err := strconv.Atoi(strings.TrimSpace(lines[3]))
	if err != nil {
		return pidFile{}, fmt.Errorf("pgcluster: %s: port: %w", postmasterPid, err)
	}
	return pidFile{pid: pid, port: port}, nil
}

// postmaster returns the server running on c.dir, if any.
func (c *Cluster) postmaster() (pidFile, bool) {
	pf, err := readPidFile(c.dir)
	if err != nil {
		return pidFile{}, false
	}
	return pf, isPostgres(pf.pid)
}

// clearStalePidFile removes a lock file left by a server that died. PostgreSQL
// would refuse to start if the dead server's pid now belongs to another
// process of the same user, which is common in containers, where pids restart
// from 1 and are quickly reused.
func (c *Cluster) clearStalePidFile() error {
	path := filepath.Join(c.dir, postmasterPid)
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if pf, ok := c.postmaster(); ok {
		return fmt.Errorf("pgcluster: postgres (pid %d) is already running on %s", pf.pid, c.dir)
	}
	c.log.Info("removing stale lock file", "file", path)
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("pgcluster: remove stale %s: %w", postmasterPid, err)
	}
	return nil
}

// isPostgres reports whether pid is a live PostgreSQL process.
func isPostgres(pid int) bool {
	if pid <= 0 {
		return false
	}
	// EPERM: the process exists but belongs to a user we may not signal.
	if err := syscall.Kill(pid, 0); err != nil && !errors.Is(err, syscall.EPERM) {
		return false
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		// Without /proc we cannot tell a reused pid apart; assume the worst
		// rather than remove a live server's lock file.
		return true
	}
	name, state, ok := parseProcStat(string(stat))
	// A server that exited stays a zombie until init reaps it, which some
	// container inits do late.
	return ok && state != "Z" && (name == "postgres" || name == "postmaster")
}

// parseProcStat returns the command name and state from /proc/PID/stat,
// "PID (NAME) STATE ...", where NAME may itself hold spaces and parentheses.
func parseProcStat(stat string) (name, state string, ok bool) {
	open, end := strings.IndexByte(stat, '('), strings.LastIndexByte(stat, ')')
	if open < 0 || end < open {
		return "", "", false
	}
	fields := strings.Fields(stat[end+1:])
	if len(fields) == 0 {
		return "", "", false
	}
	return stat[open+1 : end], fields[0], true
}
