package cgroupfs

import (
	"os"
	"path/filepath"
	"testing"
)

// TestDetectHere: the detected root on this machine is a cgroup2 mount
// with processes in it, and a configured root names the same mode.
func TestDetectHere(t *testing.T) {
	l := Detect()
	t.Logf("cgroups %s, cgroup2 at %q", l.Mode, l.Root)
	if l.Mode == V1 {
		t.Skip("no cgroup2 mounted here")
	}
	if st, err := os.Stat(filepath.Join(l.Root, "cgroup.procs")); err != nil || st.IsDir() {
		t.Errorf("cgroup2 root %s has no cgroup.procs: %v", l.Root, err)
	}
	if ok, err := IsCgroup2(l.Root); !ok || err != nil {
		t.Errorf("IsCgroup2(%s) = %v, %v", l.Root, ok, err)
	}
	if ok, err := IsCgroup2(t.TempDir()); ok || err != nil {
		t.Errorf("IsCgroup2(temp dir) = %v, %v; want false, nil", ok, err)
	}
	if at, err := DetectAt(l.Root); err != nil || at != l {
		t.Errorf("DetectAt(%s) = %+v, %v; want %+v", l.Root, at, err, l)
	}
}
