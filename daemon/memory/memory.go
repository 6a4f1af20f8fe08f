package memory

import (
	"bufio"
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/podguard/podguard/probes/cgroupfs"
)

// Near is the share of the limit at which usage is reported as near it.
const Near = 0.8

// cgroup names the files that hold a cgroup's memory limit and usage.
type cgroup struct {
	limit, usage string
}

// find returns the memory files of the cgroup described by procCgroup
// (/proc/self/cgroup), under v2root (the cgroup2 mount, "" if none) and
// v1root (where v1 hierarchies are mounted). ok is false when the
// process's cgroup has no memory accounting podguard can read.
func find(procCgroup []byte, v2root, v1root string) (cgroup, bool) {
	sc := bufio.NewScanner(bytes.NewReader(procCgroup))
	var v1, v2 string
	hasV2 := false
	for sc.Scan() {
		parts := strings.SplitN(sc.Text(), ":", 3)
		if len(parts) != 3 {
			continue
		}
		if parts[0] == "0" && parts[1] == "" {
			v2, hasV2 = parts[2], true
			continue
		}
		for _, c := range strings.Split(parts[1], ",") {
			if c == "memory" {
				v1 = parts[2]
			}
		}
	}
	if hasV2 && v2root != "" {
		dir := filepath.Join(v2root, v2)
		if _, err := os.Stat(filepath.Join(dir, "memory.current")); err == nil {
			return cgroup{limit: filepath.Join(dir, "memory.max"), usage: filepath.Join(dir, "memory.current")}, true
		}
	}
	if v1 != "" {
		dir := filepath.Join(v1root, "memory", v1)
		return cgroup{limit: filepath.Join(dir, "memory.limit_in_bytes"), usage: filepath.Join(dir, "memory.usage_in_bytes")}, true
	}
	return cgroup{}, false
}

// readBytes reads a cgroup memory file: a byte count, 0 for "max" or a
// v1 "unlimited" (a page-rounded value near 2^63).
func readBytes(path string) (int64, bool) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, false
	}
	s := strings.TrimSpace(string(b))
	if s == "max" {
		return 0, true
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return 0, false
	}
	if n >= 1<<62 {
		return 0, true
	}
	return n, true
}

// Guard watches podguard's memory against its cgroup's limit.
type Guard struct {
	cg    cgroup
	found bool
	log   *slog.Logger
	limit atomic.Int64 // 0: no limit
	usage atomic.Int64
	near  atomic.Bool
}

// New finds the process's cgroup memory files and, when there is a limit,
// sets Go's soft memory limit to 90 % of it unless GOMEMLIMIT is set.
func New(log *slog.Logger) *Guard {
	g := &Guard{log: log}
	data, err := os.ReadFile("/proc/self/cgroup")
	if err == nil {
		g.cg, g.found = find(data, cgroupfs.Detect().Root, cgroupfs.Dir)
	}
	g.sample()
	if l := g.limit.Load(); l > 0 {
		if os.Getenv("GOMEMLIMIT") == "" {
			debug.SetMemoryLimit(l / 10 * 9)
		}
		log.Info("memory limit", "limit_bytes", l, "usage_bytes", g.usage.Load(), "file", g.cg.limit)
	}
	return g
}

// sample reads limit and usage, and logs when usage crosses Near of the
// limit (and when it falls back below).
func (g *Guard) sample() {
	if !g.found {
		return
	}
	l, _ := readBytes(g.cg.limit)
	u, ok := readBytes(g.cg.usage)
	if !ok {
		return
	}
	g.limit.Store(l)
	g.usage.Store(u)
	near := l > 0 && float64(u) >= Near*float64(l)
	if near != g.near.Swap(near) {
		if near {
			g.log.Warn("memory use is near the limit; raise MemoryMax or find the cause (podguard status shows the counters)",
				"usage_bytes", u, "limit_bytes", l, "file", g.cg.limit)
		} else {
			g.log.Info("memory use is below the limit again", "usage_bytes", u, "limit_bytes", l)
		}
	}
}

// Run samples every interval until ctx ends.
func (g *Guard) Run(ctx context.Context, interval time.Duration) {
	if !g.found {
		return
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			g.sample()
		}
	}
}

// Stats are the latest usage and limit in bytes (limit 0: none) and
// whether usage is near the limit.
func (g *Guard) Stats() (usage, limit int64, near bool) {
	return g.usage.Load(), g.limit.Load(), g.near.Load()
}
