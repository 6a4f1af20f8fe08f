package workload_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/podguard/podguard/daemon/workload"
	"github.com/podguard/podguard/test/node"
)

func TestMain(m *testing.M) {
	workload.NoResync() // what the tests check must come from listing and events
	os.Exit(node.RunTests(m))
}

// startResolver runs a resolver against the node until the test ends.
func startResolver(t *testing.T, n *node.Node, setup ...func(*workload.Resolver)) *workload.Resolver {
	t.Helper()
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	r := workload.New(workload.Config{Address: n.Socket(), Namespace: n.Namespace()}, log)
	for _, f := range setup {
		f(r)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	select {
	case <-r.Synced():
	case err := <-done:
		t.Fatalf("Run ended before sync: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatalf("resolver did not sync with containerd at %s: %+v", n.Socket(), r.Stats())
	}
	return r
}

// waitFor polls cond until it holds; it is a wait, not a timing assertion.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); !cond(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// cgroupIDOfPID is what bpf_get_current_cgroup_id() returns for pid: the
// inode of its cgroup v2 directory, found from /proc/<pid>/cgroup.
func cgroupIDOfPID(t *testing.T, pid int) uint64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid))
	if err != nil {
		t.Fatal(err)
	}
	var rel string
	for _, line := range strings.Split(string(b), "\n") {
		if p, ok := strings.CutPrefix(line, "0::"); ok {
			rel = p
		}
	}
	root := "/sys/fs/cgroup/unified"
	if _, err := os.Stat(root); err != nil {
		root = "/sys/fs/cgroup"
	}
	var st syscall.Stat_t
	if err := syscall.Stat(filepath.Join(root, rel), &st); err != nil {
		t.Fatal(err)
	}
	return st.Ino
}

func lookup(r *workload.Resolver, id uint64) func() bool {
	return func() bool { _, ok := r.Lookup(id); return ok }
}

func sameLabels(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// recorder keeps the watched-set changes a subscriber saw.
type recorder struct {
	mu             sync.Mutex
	added, removed map[string]workload.Identity // by container id
}

func subscribe(t *testing.T, r *workload.Resolver) *recorder {
	rec := &recorder{added: map[string]workload.Identity{}, removed: map[string]workload.Identity{}}
	cancel := r.Subscribe(func(added, removed []workload.Identity) {
		rec.mu.Lock()
		defer rec.mu.Unlock()
		for _, id := range added {
			rec.added[id.Container.ID] = id
		}
		for _, id := range removed {
			rec.removed[id.Container.ID] = id
		}
	})
	t.Cleanup(cancel)
	return rec
}

func (rec *recorder) get(added bool, containerID string) (workload.Identity, bool) {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	m := rec.removed
	if added {
		m = rec.added
	}
	id, ok := m[containerID]
	return id, ok
}
