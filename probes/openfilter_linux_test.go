//go:build linux && amd64

package probes

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/cilium/ebpf"
)

// TestOpenFilter: with a filter installed a watched cgroup's read opens
// arrive only when their path or basename has a listed prefix, while
// write and relative opens always do; replacing the filter drops the old
// prefixes, and clearing it lets every open through again. Each delivery
// is also checked against the Go mirror, OpenFilter.Passes.
func TestOpenFilter(t *testing.T) {
	r := sharedProbes(t)
	cg := r.newCgroup(t, KindsOf(KindOpen), 0)
	t.Cleanup(func() {
		if err := r.p.ClearOpenFilter(); err != nil {
			t.Errorf("clear: %v", err)
		}
	})
	dir := realDir(t)
	for _, d := range []string{"in", "out", "other"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	in := func(p string) string { return filepath.Join(dir, p) }

	// round opens reads (and writes) in the cgroup, then a barrier the
	// filter passes, and checks which arrived.
	round := func(name string, f *OpenFilter, reads, writes []string, want map[string]bool) {
		t.Helper()
		got := openRound(t, cg, dir, name, reads, writes)
		for p, w := range want {
			if got[p] != w {
				t.Errorf("%s: %q delivered = %v, want %v", name, p, got[p], w)
			}
		}
		for _, p := range reads {
			// the kernel judges the path it resolved from the opened file
			rp := filepath.Clean(p)
			if !filepath.IsAbs(p) {
				rp = filepath.Join(dir, p)
			}
			if got[p] != f.Passes(rp, 0) {
				t.Errorf("%s: %q delivered = %v, but the Go mirror says %v for %q", name, p, got[p], f.Passes(rp, 0), rp)
			}
		}
	}

	// judged on the opened file: each must exist; "rel/../in/hit2" is
	// relative and has "..", the kernel resolves it to in/hit2; a
	// directory opened as "out/" is judged as ".../out"
	reads := []string{in("out/miss"), in("in/hit"), in("out/pgkey_x"), in("out/x_pgkey"), "out/../in/hit2", in("other/o"), in("out") + "/", in("in") + "//../out/./pgkey_y"}
	for _, p := range []string{"out/miss", "in/hit", "in/hit2", "out/pgkey_x", "out/x_pgkey", "other/o", "out/pgkey_y"} {
		if err := os.WriteFile(in(p), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	f := &OpenFilter{PathPrefixes: []string{in("in/"), "/pg-nonexistent/"}, BasePrefixes: []string{"pgkey_"}}
	if err := r.p.SetOpenFilter(f); err != nil {
		t.Fatal(err)
	}
	round("filtered", f, reads, []string{in("out/w")}, map[string]bool{
		in("out/miss"):                  false, // no prefix matches
		in("in/hit"):                    true,  // path prefix
		in("out/pgkey_x"):               true,  // basename prefix
		in("out/x_pgkey"):               false, // a basename suffix is no prefix
		"out/../in/hit2":                true,  // relative with "..": resolved into in/
		in("other/o"):                   false,
		in("out") + "/":                 false, // the directory .../out: no prefix
		in("in") + "//../out/./pgkey_y": true,  // resolved .../out/pgkey_y: basename prefix
		in("out/w"):                     true,  // a write
	})

	g := &OpenFilter{PathPrefixes: []string{in("other/")}}
	if err := r.p.SetOpenFilter(g); err != nil {
		t.Fatal(err)
	}
	round("replaced", g, reads, nil, map[string]bool{
		in("in/hit"):      false,
		in("out/pgkey_x"): false,
		in("other/o"):     true,
		"out/../in/hit2":  false,
	})

	if err := r.p.ClearOpenFilter(); err != nil {
		t.Fatal(err)
	}
	var none *OpenFilter
	round("cleared", none, reads, nil, map[string]bool{
		in("out/miss"):    true,
		in("in/hit"):      true,
		in("out/x_pgkey"): true,
		in("other/o"):     true,
	})
	for _, m := range []struct {
		name string
		n    func() int
	}{{"open_prefixes", func() int { return countEntries(t, r.p.objs.OpenPrefixes) }}, {"open_basenames", func() int { return countEntries(t, r.p.objs.OpenBasenames) }},
		{"open_dirs", func() int { return countEntries(t, r.p.objs.OpenDirs) }}} {
		if n := m.n(); n != 0 {
			t.Errorf("%s holds %d entries after clear, want 0", m.name, n)
		}
	}
}

// openRound opens reads (and writes) from the cgroup, then a barrier the
// filter passes, and returns the raw paths of the opens that arrived.
func openRound(t *testing.T, cg *testCgroup, dir, name string, reads, writes []string) map[string]bool {
	t.Helper()
	barrier := filepath.Join(dir, "barrier-"+name) // a write: always passes
	if len(reads) > 0 {
		cg.trigger(t, dir, append([]string{"open-read"}, reads...)...)
	}
	cg.trigger(t, dir, append([]string{"open-write"}, append(writes, barrier)...)...)
	got := map[string]bool{}
	cg.waitFor(t, name+" barrier", func(e *Record) bool {
		if e.Kind == KindOpen && e.Comm == "trigger" {
			got[e.RawPath] = true
		}
		return e.Kind == KindOpen && e.RawPath == barrier
	})
	// perf buffers are per CPU: give stragglers a moment
	drain := time.After(200 * time.Millisecond)
	for {
		select {
		case e := <-cg.events:
			if e.Kind == KindOpen && e.Comm == "trigger" {
				got[e.RawPath] = true
			}
		case <-drain:
			return got
		}
	}
}

// TestOpenFilterQuietDirectories: a directory whose files no path prefix
// can match is remembered (dir_quiet), and later read-only opens in it
// are judged on their name alone: a basename prefix still passes. Once a
// watched task renames the directory to where a prefix matches, its files
// are judged on their new path again.
func TestOpenFilterQuietDirectories(t *testing.T) {
	r := sharedProbes(t)
	cg := r.newCgroup(t, KindsOf(KindOpen), 0)
	t.Cleanup(func() { r.p.ClearOpenFilter() })
	dir := realDir(t)
	in := func(p string) string { return filepath.Join(dir, p) }
	if err := os.Mkdir(in("q"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"q/f", "q/pgkey_1"} {
		if err := os.WriteFile(in(p), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.p.SetOpenFilter(&OpenFilter{PathPrefixes: []string{in("watched/")}, BasePrefixes: []string{"pgkey_"}}); err != nil {
		t.Fatal(err)
	}
	got := openRound(t, cg, dir, "quiet", []string{in("q/f"), in("q/f"), in("q/pgkey_1")}, nil)
	if got[in("q/f")] || !got[in("q/pgkey_1")] {
		t.Errorf("in a quiet directory: delivered %v, want only the basename match", got)
	}
	if n := countEntries(t, r.p.objs.DirQuiet); n == 0 {
		t.Error("no quiet directory remembered")
	}
	if st := cg.run(t, exec.Command("mv", in("q"), in("watched"))); !st.Success() {
		t.Fatalf("mv: %v", st)
	}
	got = openRound(t, cg, dir, "renamed", []string{in("watched/f")}, nil)
	if !got[in("watched/f")] {
		t.Errorf("after the directory was renamed under a path prefix: delivered %v, want watched/f", got)
	}
}

// countEntries counts a map's entries whatever its key and value types.
func countEntries(t *testing.T, m *ebpf.Map) int {
	t.Helper()
	k, v := make([]byte, m.KeySize()), make([]byte, m.ValueSize())
	n := 0
	it := m.Iterate()
	for it.Next(&k, &v) {
		n++
	}
	if err := it.Err(); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestOpenFilterValidate(t *testing.T) {
	r := sharedProbes(t)
	for _, f := range []*OpenFilter{
		{PathPrefixes: []string{"relative/"}},
		{PathPrefixes: []string{""}},
		{BasePrefixes: []string{"a/b"}},
		{BasePrefixes: []string{string(make([]byte, 300))}},
	} {
		if err := r.p.SetOpenFilter(f); err == nil {
			t.Errorf("SetOpenFilter(%+v) accepted", f)
			r.p.ClearOpenFilter()
		}
	}
	if gen, err := r.p.openFilterGen(); err != nil || gen != 0 {
		t.Errorf("generation after rejected filters = %d (%v), want 0", gen, err)
	}
}
