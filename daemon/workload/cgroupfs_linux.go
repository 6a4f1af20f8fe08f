package workload

import (
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// cgroupID returns the cgroup id of dir, relative to the cgroup v2 root:
// the inode of the directory, as bpf_get_current_cgroup_id() reports it.
// 0 when the directory does not exist or the host has no v2 hierarchy
// (root "").
func cgroupID(root, dir string) uint64 {
	if root == "" || dir == "" {
		return 0
	}
	var st unix.Stat_t
	if err := unix.Stat(filepath.Join(root, dir), &st); err != nil {
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
