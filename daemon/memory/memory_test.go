package memory

import (
	"bytes"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestFind(t *testing.T) {
	v2 := t.TempDir()
	os.MkdirAll(filepath.Join(v2, "system.slice", "podguard.service"), 0o755)
	os.WriteFile(filepath.Join(v2, "system.slice", "podguard.service", "memory.current"), []byte("1\n"), 0o644)
	for name, c := range map[string]struct {
		proc, v2root string
		want         string
		ok           bool
	}{
		"v2":                      {"0::/system.slice/podguard.service\n", v2, filepath.Join(v2, "system.slice/podguard.service/memory.max"), true},
		"hybrid, memory on v1":    {"4:memory:/process_api/x\n0::/\n", v2, "/sys/fs/cgroup/memory/process_api/x/memory.limit_in_bytes", true},
		"v1, joined controllers":  {"5:cpu,memory:/kubepods/p\n1:name=systemd:/\n", "", "/sys/fs/cgroup/memory/kubepods/p/memory.limit_in_bytes", true},
		"v2 without memory files": {"0::/elsewhere\n", v2, "", false},
		"nothing":                 {"", "", "", false},
	} {
		cg, ok := find([]byte(c.proc), c.v2root, "/sys/fs/cgroup")
		if ok != c.ok || cg.limit != c.want {
			t.Errorf("%s: %+v %v, want limit file %q %v", name, cg, ok, c.want, c.ok)
		}
	}
}

func TestReadBytes(t *testing.T) {
	dir := t.TempDir()
	for content, want := range map[string]int64{"max\n": 0, "268435456\n": 268435456, "9223372036854771712\n": 0} {
		p := filepath.Join(dir, "f")
		os.WriteFile(p, []byte(content), 0o644)
		if got, ok := readBytes(p); !ok || got != want {
			t.Errorf("%q = %d %v, want %d", content, got, ok, want)
		}
	}
}

// TestNearLimit: crossing 80 % of the limit is logged once, and falling
// back below it too.
func TestNearLimit(t *testing.T) {
	dir := t.TempDir()
	var logs bytes.Buffer
	g := &Guard{cg: cgroup{limit: filepath.Join(dir, "max"), usage: filepath.Join(dir, "cur")}, found: true,
		log: slog.New(slog.NewTextHandler(io.MultiWriter(&logs), nil))}
	os.WriteFile(g.cg.limit, []byte("1000\n"), 0o644)
	for _, u := range []string{"500", "850", "900", "700"} {
		os.WriteFile(g.cg.usage, []byte(u+"\n"), 0o644)
		g.sample()
	}
	if n := strings.Count(logs.String(), "near the limit"); n != 1 {
		t.Errorf("near-limit warnings: %d, want 1:\n%s", n, logs.String())
	}
	if !strings.Contains(logs.String(), "below the limit again") {
		t.Errorf("no all-clear:\n%s", logs.String())
	}
	if u, l, near := g.Stats(); u != 700 || l != 1000 || near {
		t.Errorf("stats %d %d %v", u, l, near)
	}
}
