package cgrouptest

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/podguard/podguard/probes/cgroupfs"
)

// Cgroup is a cgroup v2 directory made for one test.
type Cgroup struct {
	Dir string
	ID  uint64 // inode number: the kernel's cgroup id
	FD  int    // open O_DIRECTORY, for CLONE_INTO_CGROUP
}

// ErrNoCgroup2 is returned by Root on a host without a cgroup v2 mount.
var ErrNoCgroup2 = errors.New("no cgroup2 mount at /sys/fs/cgroup or /sys/fs/cgroup/unified")

// Root returns the cgroup v2 mount (probes/cgroupfs): /sys/fs/cgroup on a
// pure v2 host, /sys/fs/cgroup/unified on a hybrid one.
func Root() (string, error) {
	if l := cgroupfs.Detect(); l.Root != "" {
		return l.Root, nil
	}
	return "", ErrNoCgroup2
}

// Make creates a cgroup named prefix plus a random suffix under Root.
// The caller removes it with Remove.
func Make(prefix string) (*Cgroup, error) {
	root, err := Root()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp(root, prefix)
	if err != nil {
		return nil, fmt.Errorf("create cgroup: %w", err)
	}
	fd, err := unix.Open(dir, unix.O_DIRECTORY|unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		unix.Rmdir(dir)
		return nil, fmt.Errorf("open cgroup: %w", err)
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		unix.Rmdir(dir)
		return nil, fmt.Errorf("stat cgroup: %w", err)
	}
	return &Cgroup{Dir: dir, ID: st.Ino, FD: fd}, nil
}

// New is Make for a test: it skips tb on a host without cgroup v2, fails
// it when the cgroup cannot be made, and removes the cgroup when tb ends.
func New(tb testing.TB, prefix string) *Cgroup {
	tb.Helper()
	cg, err := Make(prefix)
	if errors.Is(err, ErrNoCgroup2) {
		tb.Skip("needs cgroup v2:", err)
	}
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := cg.Remove(); err != nil {
			tb.Error(err)
		}
	})
	return cg
}

// Command returns a command that starts inside the cgroup.
func (cg *Cgroup) Command(name string, args ...string) *exec.Cmd {
	cmd := exec.Command(name, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{UseCgroupFD: true, CgroupFD: cg.FD}
	return cmd
}

// Remove kills what is left in the cgroup (cgroup.kill, Linux 5.14+; e.g.
// the tracee of a killed tracer), closes it and removes it, waiting up to
// two seconds for processes to finish exiting.
func (cg *Cgroup) Remove() error {
	os.WriteFile(filepath.Join(cg.Dir, "cgroup.kill"), []byte("1"), 0)
	unix.Close(cg.FD)
	var err error
	for i := 0; i < 100; i++ {
		if err = unix.Rmdir(cg.Dir); err == nil || errors.Is(err, unix.ENOENT) {
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("remove cgroup %s: %w", cg.Dir, err)
}
