package pgcluster

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"
)

// account is the unprivileged user the binaries run as when we are root:
// initdb, pg_ctl and postgres all refuse to run as root.
type account struct {
	name     string
	uid, gid uint32
}

// chooseAccount returns nil when we are not root (run as ourselves). As root
// it keeps the owner of an existing cluster, whose files postgres insists on
// owning, and otherwise picks the Debian package's postgres user, or nobody.
func chooseAccount(dir string) (*account, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	if owner, ok := clusterOwner(dir); ok {
		return owner, nil
	}
	for _, name := range []string{"postgres", "nobody"} {
		if u, err := user.Lookup(name); err == nil {
			return accountOf(u)
		}
	}
	return nil, errors.New("pgcluster: running as root, and neither user postgres nor nobody exists to run PostgreSQL as")
}

func clusterOwner(dir string) (*account, bool) {
	fi, err := os.Stat(filepath.Join(dir, "PG_VERSION"))
	if err != nil {
		return nil, false
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok || st.Uid == 0 {
		return nil, false
	}
	name := strconv.FormatUint(uint64(st.Uid), 10)
	if u, err := user.LookupId(name); err == nil {
		name = u.Username
	}
	return &account{name: name, uid: st.Uid, gid: st.Gid}, true
}

func accountOf(u *user.User) (*account, error) {
	uid, err := strconv.ParseUint(u.Uid, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("pgcluster: user %s: uid %q: %w", u.Username, u.Uid, err)
	}
	gid, err := strconv.ParseUint(u.Gid, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("pgcluster: user %s: gid %q: %w", u.Username, u.Gid, err)
	}
	return &account{name: u.Username, uid: uint32(uid), gid: uint32(gid)}, nil
}

// credential makes a child process run as a, with no supplementary groups:
// it must not keep root's, and canSearch assumes none.
func (a *account) credential() *syscall.Credential {
	return &syscall.Credential{Uid: a.uid, Gid: a.gid}
}

func (a *account) chown(path string) error {
	if err := os.Chown(path, int(a.uid), int(a.gid)); err != nil {
		return fmt.Errorf("pgcluster: give %s to user %s: %w", path, a.name, err)
	}
	return nil
}

// checkReachable fails with ErrDirNotReachable, naming the directory, when a
// cannot traverse some existing parent of dir. Without this check the failure
// would surface as a bare "permission denied" from deep inside initdb or
// postgres. Missing parents are skipped: they are created open to all.
func (a *account) checkReachable(dir string) error {
	for p := filepath.Dir(dir); ; p = filepath.Dir(p) {
		fi, err := os.Stat(p)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("pgcluster: %w", err)
		}
		if err == nil && !a.canSearch(fi) {
			return fmt.Errorf("%w: user %s cannot enter %s (mode %04o); choose a data dir elsewhere or run chmod o+x %s",
				ErrDirNotReachable, a.name, p, fi.Mode().Perm(), p)
		}
		if p == filepath.Dir(p) {
			return nil
		}
	}
}

func (a *account) canSearch(fi fs.FileInfo) bool {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return true
	}
	perm := fi.Mode().Perm()
	switch {
	case st.Uid == a.uid:
		return perm&0o100 != 0
	case st.Gid == a.gid:
		return perm&0o010 != 0
	default:
		return perm&0o001 != 0
	}
}
