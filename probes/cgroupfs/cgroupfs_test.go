package cgroupfs

import (
	"io/fs"
	"strings"
	"testing"
)

const (
	tmpfsMagic    = 0x01021994
	cgroup1Magic  = 0x0027e0eb
	notCgroupPath = "/no/such/dir"
)

// fakeStatfs answers statfs from a table of mounts; other paths do not exist.
func fakeStatfs(tb testing.TB, mounts map[string]int64) fsTypeFunc {
	tb.Helper()
	return func(path string) (int64, error) {
		if t, ok := mounts[path]; ok {
			return t, nil
		}
		return 0, fs.ErrNotExist
	}
}

func TestDetect(t *testing.T) {
	for _, tc := range []struct {
		name   string
		mounts map[string]int64
		root   string // configured
		want   Layout
	}{
		{"v2", map[string]int64{Dir: superMagic}, "", Layout{V2, Dir}},
		{"v2 with a stray unified dir", map[string]int64{Dir: superMagic, HybridDir: superMagic}, "", Layout{V2, Dir}},
		{"hybrid", map[string]int64{Dir: tmpfsMagic, Dir + "/cpu": cgroup1Magic, HybridDir: superMagic}, "", Layout{Hybrid, HybridDir}},
		{"v1", map[string]int64{Dir: tmpfsMagic, Dir + "/cpu": cgroup1Magic}, "", Layout{V1, ""}},
		{"v1 with a unified dir that is not cgroup2", map[string]int64{Dir: tmpfsMagic, HybridDir: tmpfsMagic}, "", Layout{V1, ""}},
		{"no cgroups mounted", nil, "", Layout{V1, ""}},
		{"configured v2 root at a non-standard path", map[string]int64{Dir: superMagic, "/run/cg2": superMagic}, "/run/cg2", Layout{V2, "/run/cg2"}},
		{"configured cgroup2 beside v1", map[string]int64{Dir: tmpfsMagic, "/run/cg2": superMagic}, "/run/cg2", Layout{Hybrid, "/run/cg2"}},
		{"configured standard root spelled with a slash", map[string]int64{Dir + "/": superMagic}, Dir + "/", Layout{V2, Dir + "/"}},
		{"configured hybrid root", map[string]int64{Dir: tmpfsMagic, HybridDir: superMagic}, HybridDir, Layout{Hybrid, HybridDir}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := detect(tc.root, fakeStatfs(t, tc.mounts))
			if err != nil || got != tc.want {
				t.Fatalf("detect(%q) = %+v, %v; want %+v", tc.root, got, err, tc.want)
			}
		})
	}
}

func TestDetectRejectsARootThatIsNotCgroup2(t *testing.T) {
	for _, root := range []string{Dir + "/cpu", notCgroupPath} {
		mounts := map[string]int64{Dir: tmpfsMagic, Dir + "/cpu": cgroup1Magic, HybridDir: superMagic}
		_, err := detect(root, fakeStatfs(t, mounts))
		if err == nil || !strings.Contains(err.Error(), root) || !strings.Contains(err.Error(), "not a cgroup2 mount") {
			t.Errorf("detect(%q): %v, want an error naming the root", root, err)
		}
	}
}

// TestModeWords: the one vocabulary both `podguard kernel` and `podguard
// status` print.
func TestModeWords(t *testing.T) {
	for m, want := range map[Mode]string{V2: "v2", Hybrid: "hybrid", V1: "v1"} {
		if m.String() != want {
			t.Errorf("%d prints %q, want %q", m, m.String(), want)
		}
	}
	if (Layout{}).Mode != V1 {
		t.Error("the zero Layout is not V1")
	}
}
