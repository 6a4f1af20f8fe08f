package workload

import (
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// CgroupMode is the cgroup layout of the host.
type CgroupMode int

const (
	// CgroupLegacy: cgroup v1 only; cgroup ids identify nothing, events
	// resolve from /proc/<pid>/cgroup.
	CgroupLegacy CgroupMode = iota
	// CgroupHybrid: v1 hierarchies plus cgroup v2 at /sys/fs/cgroup/unified.
	CgroupHybrid
	// CgroupUnified: pure cgroup v2 at /sys/fs/cgroup.
	CgroupUnified
)

func (m CgroupMode) String() string {
	switch m {
	case CgroupHybrid:
		return "hybrid"
	case CgroupUnified:
		return "unified"
	}
	return "legacy"
}

// cgroupFS is where the cgroup v2 hierarchy lives.
type cgroupFS struct {
	mode CgroupMode
	root string // cgroup2 mount point; "" in legacy mode
}

// detectCgroups finds the cgroup v2 mount. A configured root wins.
func detectCgroups(root string) (cgroupFS, error) {
	if root != "" {
		if !isCgroup2(root) {
			return cgroupFS{}, fmt.Errorf("cgroup root %s: not a cgroup2 mount", root)
		}
		if filepath.Clean(root) == "/sys/fs/cgroup" {
			return cgroupFS{mode: CgroupUnified, root: root}, nil
		}
		return cgroupFS{mode: CgroupHybrid, root: root}, nil
	}
	if isCgroup2("/sys/fs/cgroup") {
		return cgroupFS{mode: CgroupUnified, root: "/sys/fs/cgroup"}, nil
	}
	if isCgroup2("/sys/fs/cgroup/unified") {
		return cgroupFS{mode: CgroupHybrid, root: "/sys/fs/cgroup/unified"}, nil
	}
	return cgroupFS{mode: CgroupLegacy}, nil
}

func isCgroup2(path string) bool {
	var st unix.Statfs_t
	return unix.Statfs(path, &st) == nil && st.Type == unix.CGROUP2_SUPER_MAGIC
}

// id returns the cgroup id of dir (relative to the v2 root): the inode of
// the directory, as bpf_get_current_cgroup_id() reports it. 0 when the
// directory does not exist or the host has no v2 hierarchy.
func (fs cgroupFS) id(dir string) uint64 {
	if fs.root == "" || dir == "" {
		return 0
	}
	var st unix.Stat_t
	if err := unix.Stat(filepath.Join(fs.root, dir), &st); err != nil {
		return 0
	}
	return st.Ino
}

// procCgroup reads /proc/<pid>/cgroup.
func procCgroup(pid uint32) (ProcCgroup, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid))
	if err != nil {
		return ProcCgroup{}, fmt.Errorf("read cgroup of pid %d: %w", pid, err)
	}
	return ParseProcCgroup(string(b)), nil
}
