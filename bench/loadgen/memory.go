package loadgen

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// PeakRSS reads a process's peak resident set size (VmHWM) in bytes: the
// highest since it started or since ResetPeakRSS.
func PeakRSS(pid int) (int64, error) { return statusBytes(pid, "VmHWM") }

// RSS reads a process's resident set size now, in bytes: all of it (VmRSS),
// its anonymous memory (RssAnon: heap, stacks, mappings such as argon2id's
// block arrays) and its file pages (RssFile: mostly the binary's text and
// read-only data, which the kernel can drop and read back).
func RSS(pid int) (total, anon, file int64, err error) {
	if total, err = statusBytes(pid, "VmRSS"); err != nil {
		return 0, 0, 0, err
	}
	if anon, err = statusBytes(pid, "RssAnon"); err != nil {
		return 0, 0, 0, err
	}
	if file, err = statusBytes(pid, "RssFile"); err != nil {
		return 0, 0, 0, err
	}
	return total, anon, file, nil
}

// ResetPeakRSS sets a process's VmHWM back to its RSS now, so that a peak
// read later is that of what ran in between and not of the process's whole
// life (Linux 4.0 and later; the caller must own the process or be root).
func ResetPeakRSS(pid int) error {
	if err := os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", pid), []byte("5"), 0); err != nil {
		return fmt.Errorf("resetting the peak RSS of pid %d: %w", pid, err)
	}
	return nil
}

// statusBytes reads a "Name:  N kB" line of /proc/<pid>/status.
func statusBytes(pid int, name string) (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), name+":"); ok {
			f := strings.Fields(v) // "12345 kB"
			if len(f) != 2 || f[1] != "kB" {
				return 0, fmt.Errorf("pid %d: %s line %q", pid, name, sc.Text())
			}
			kb, err := strconv.ParseInt(f[0], 10, 64)
			return kb << 10, err
		}
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	return 0, fmt.Errorf("pid %d: no %s in /proc/%d/status", pid, name, pid)
}

// RSSBound is the memory a replica may hold under a login flood: 64 MiB for
// everything but hashing, plus one argon2id block array per hash slot.
func RSSBound(hashSlots int, argonKiB uint32) int64 {
	return 64<<20 + int64(hashSlots)*int64(argonKiB)<<10
}

// clockTicks is USER_HZ, the unit of /proc/<pid>/stat's CPU times: 100 on
// every Linux architecture Go supports.
const clockTicks = 100

// ProcCPU reads the CPU time (user + system) a process has used so far,
// with that of its children: the live ones, read one by one, and the ended
// ones its kernel totals keep. pid 0 is this process. For a Postgres
// postmaster that is the whole server, backends included.
func ProcCPU(pid int) (time.Duration, error) {
	if pid == 0 {
		pid = os.Getpid()
	}
	own, reaped, err := procStat(pid)
	if err != nil {
		return 0, err
	}
	sum := own + reaped
	kids, _ := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", pid, pid))
	for _, k := range strings.Fields(string(kids)) {
		if kid, err := strconv.Atoi(k); err == nil {
			if c, err := ProcCPU(kid); err == nil {
				sum += c
			}
		}
	}
	return sum, nil
}

// procStat returns a process's own CPU time and that of its ended children.
func procStat(pid int) (own, reaped time.Duration, err error) {
	path := fmt.Sprintf("/proc/%d/stat", pid)
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, 0, err
	}
	// The command name, field 2, may hold spaces; it ends at the last ')'.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, 0, fmt.Errorf("%s: no command name", path)
	}
	f := strings.Fields(s[i+1:]) // f[0] is field 3 (state)
	if len(f) < 15 {
		return 0, 0, fmt.Errorf("%s: %d fields", path, len(f))
	}
	var t [4]int64 // utime, stime, cutime, cstime: fields 14 to 17
	for j := range t {
		if t[j], err = strconv.ParseInt(f[11+j], 10, 64); err != nil {
			return 0, 0, fmt.Errorf("%s: field %d: %w", path, 14+j, err)
		}
	}
	tick := time.Second / clockTicks
	return time.Duration(t[0]+t[1]) * tick, time.Duration(t[2]+t[3]) * tick, nil
}

// cpuOf sums the CPU time of pids, skipping any that cannot be read.
func cpuOf(pids []int) time.Duration {
	var sum time.Duration
	for _, p := range pids {
		if d, err := ProcCPU(p); err == nil {
			sum += d
		}
	}
	return sum
}
