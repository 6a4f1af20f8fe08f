package cgroupfs

import (
	"fmt"
	"path/filepath"
)

// Where cgroups are mounted: cgroup2 itself on a V2 host (v1 hierarchies
// below it on the others), and cgroup2 beside them on a Hybrid one.
const (
	Dir       = "/sys/fs/cgroup"
	HybridDir = "/sys/fs/cgroup/unified"
)

// superMagic is CGROUP2_SUPER_MAGIC (linux/magic.h): statfs's f_type of a
// cgroup2 mount.
const superMagic = 0x63677270

// Mode is how the host mounts cgroups.
type Mode int

const (
	// V1: cgroup v1 only. BPF's cgroup id helper returns the id of the
	// (unused) v2 root for every task, so cgroup ids identify nothing.
	V1 Mode = iota
	// Hybrid: v1 controllers plus cgroup2 at HybridDir (or a configured
	// root) while Dir itself is not cgroup2.
	Hybrid
	// V2: cgroup v2 only, at Dir.
	V2
)

// String is the mode as `podguard kernel` and `podguard status` print it.
func (m Mode) String() string {
	switch m {
	case V2:
		return "v2"
	case Hybrid:
		return "hybrid"
	}
	return "v1"
}

// Layout is the host's cgroup mode and its cgroup v2 hierarchy.
type Layout struct {
	Mode Mode
	Root string // cgroup2 mount point; "" in V1
}

// Detect finds the cgroup2 mount at Dir, else at HybridDir; without
// either the host is V1.
func Detect() Layout {
	l, _ := detect("", statfsType)
	return l
}

// DetectAt is Detect with a configured cgroup2 mount point: root must be
// a cgroup2 mount. The mode is V2 when Dir is cgroup2 too, else Hybrid.
// An empty root is Detect.
func DetectAt(root string) (Layout, error) {
	return detect(root, statfsType)
}

// IsCgroup2 reports whether path is on a cgroup2 mount; the error is
// statfs's.
func IsCgroup2(path string) (bool, error) {
	return isCgroup2(path, statfsType)
}

// fsTypeFunc is statfs(2)'s f_type of a path.
type fsTypeFunc func(path string) (int64, error)

func isCgroup2(path string, fsType fsTypeFunc) (bool, error) {
	t, err := fsType(path)
	if err != nil {
		return false, err
	}
	return t == superMagic, nil
}

// detect is the decision, on a given statfs.
func detect(root string, fsType fsTypeFunc) (Layout, error) {
	v2 := func(p string) bool { ok, _ := isCgroup2(p, fsType); return ok }
	if root != "" {
		if !v2(root) {
			return Layout{}, fmt.Errorf("cgroup root %s: not a cgroup2 mount", root)
		}
		if filepath.Clean(root) == Dir || v2(Dir) {
			return Layout{Mode: V2, Root: root}, nil
		}
		return Layout{Mode: Hybrid, Root: root}, nil
	}
	if v2(Dir) {
		return Layout{Mode: V2, Root: Dir}, nil
	}
	if v2(HybridDir) {
		return Layout{Mode: Hybrid, Root: HybridDir}, nil
	}
	return Layout{Mode: V1}, nil
}
