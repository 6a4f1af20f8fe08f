//go:build linux && amd64

package probes

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/podguard/podguard/test/cgrouptest"
)

// childCgroup makes a cgroup below parent (as a process in a container
// that can write its cgroupfs would) and removes it when tb ends, before
// parent goes.
func childCgroup(tb testing.TB, parent *cgrouptest.Cgroup, name string) *testCgroup {
	tb.Helper()
	dir := filepath.Join(parent.Dir, name)
	if err := os.Mkdir(dir, 0o755); err != nil {
		tb.Fatal(err)
	}
	fd, err := unix.Open(dir, unix.O_DIRECTORY|unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		tb.Fatal(err)
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { unix.Close(fd); unix.Rmdir(dir) })
	return &testCgroup{Cgroup: &cgrouptest.Cgroup{Dir: dir, ID: st.Ino, FD: fd}}
}

// TestChildCgroupStaysWatched: a cgroup made below a watched one (and one
// below that) is watched at once, its events carry the container's cgroup
// id, and its entry goes with the cgroup, or with the container's watch.
func TestChildCgroupStaysWatched(t *testing.T) {
	r := sharedProbes(t)
	cg := r.newCgroup(t, KindsOf(KindOpen), 0)
	child := childCgroup(t, cg.Cgroup, "escape")
	grandchild := childCgroup(t, child.Cgroup, "deeper")

	for _, c := range []*testCgroup{child, grandchild} {
		var w probeWatch
		if err := r.p.objs.Watched.Lookup(c.ID, &w); err != nil {
			t.Fatalf("cgroup %s (%d) is not watched: %v", c.Dir, c.ID, err)
		}
		if w.Root != cg.ID {
			t.Errorf("cgroup %s: root %d, want the container's %d", c.Dir, w.Root, cg.ID)
		}
	}
	target := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(target, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	grandchild.trigger(t, "", "storm-open", target, "1")
	ev := cg.waitFor(t, "open from the grandchild cgroup", func(e *Record) bool { return e.Kind == KindOpen && e.Path == target })
	if ev.CgroupID != cg.ID {
		t.Errorf("event cgroup %d, want the container's %d", ev.CgroupID, cg.ID)
	}

	// rmdir removes the child's entry
	if err := unix.Rmdir(grandchild.Dir); err != nil {
		t.Fatal(err)
	}
	var w probeWatch
	if err := r.p.objs.Watched.Lookup(grandchild.ID, &w); err == nil {
		t.Errorf("removed cgroup %d is still in watched", grandchild.ID)
	}
	// unwatching the container removes its children's entries
	if err := r.p.Unwatch(cg.ID); err != nil {
		t.Fatal(err)
	}
	if err := r.p.objs.Watched.Lookup(child.ID, &w); err == nil {
		t.Errorf("child cgroup %d of an unwatched container is still in watched", child.ID)
	}
	// a sibling of an unwatched cgroup's child is not tracked
	other := childCgroup(t, cg.Cgroup, "after")
	if err := r.p.objs.Watched.Lookup(other.ID, &w); err == nil {
		t.Errorf("child %d of an unwatched cgroup was added to watched", other.ID)
	}
}

// flood is one run of the fair-share scenario: nobody reads a 64 KiB
// ring while cgroup a opens a file 3000 times, then cgroup b opens
// another 20 times. It returns b's open events that reached the ring and
// a's loss counters.
func flood(t *testing.T, share Share, killA bool) (bDelivered int, aLost, bLost []Loss, aState *os.ProcessState) {
	needRoot(t)
	p, err := load(Options{RingSize: 16 * os.Getpagesize(), QueueLen: 1 << 14, Share: share,
		LossInterval: 100 * time.Millisecond, ForcePerfBuffer: perfMode})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	a := &testCgroup{Cgroup: cgrouptest.New(t, "podguard-flood-")}
	b := &testCgroup{Cgroup: cgrouptest.New(t, "podguard-victim-")}
	var kill KillSet
	if killA {
		kill = KillEventsLost
	}
	for _, c := range []struct {
		cg   *testCgroup
		kill KillSet
	}{{a, kill}, {b, 0}} {
		if err := p.SetWatched(c.cg.ID, KindsOf(KindOpen), c.kill); err != nil {
			t.Fatal(err)
		}
	}
	dir := t.TempDir()
	fa, fb := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	for _, f := range []string{fa, fb} {
		if err := os.WriteFile(f, nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	aState = a.run(t, exec.Command(triggerBin, "storm-open", fa, "3000"))
	b.trigger(t, "", "storm-open", fb, "20")
	if err := p.startReader(); err != nil {
		t.Fatal(err)
	}
	deadline := time.After(10 * time.Second)
	for {
		select {
		case ev := <-p.Events():
			switch {
			case ev.Kind == KindOpen && ev.Path == fb:
				bDelivered++
			case ev.Kind == KindEventsLost && ev.CgroupID == b.ID:
				bLost = append(bLost, ev.Lost...)
			case ev.Kind == KindEventsLost && ev.CgroupID == a.ID:
				aLost = append(aLost, ev.Lost...)
			}
		case <-deadline:
			return bDelivered, aLost, bLost, aState
		}
		if (bDelivered == 20 || len(bLost) > 0) && len(aLost) > 0 {
			return bDelivered, aLost, bLost, aState
		}
	}
}

func lostCount(ls []Loss, k Kind, r LossReason) uint64 {
	var n uint64
	for _, l := range ls {
		if l.Kind == k && l.Reason == r {
			n += l.Count
		}
	}
	return n
}

// TestFairShare: a cgroup flooding the buffer loses its own events beyond
// its share, the other cgroup loses none of its 20, and the flood's loss
// reaches userspace as an events_lost record attributed to its cgroup,
// with counts by kind and reason. Without the share (the control), the
// same flood fills the ring and the other cgroup loses events.
func TestFairShare(t *testing.T) {
	t.Run("share", func(t *testing.T) {
		got, lost, victimLost, st := flood(t, Share{Rate: 10000, Burst: 8192}, false)
		t.Logf("victim delivered %d/20; flood lost %v", got, lost)
		if got != 20 || len(victimLost) > 0 {
			t.Errorf("victim delivered %d of 20 opens, lost %v", got, victimLost)
		}
		if n := lostCount(lost, KindOpen, LossRateLimited); n == 0 {
			t.Errorf("no rate_limited open loss reported for the flood: %v", lost)
		}
		if !st.Success() {
			t.Errorf("flood without kill: %v", st)
		}
	})
	t.Run("no share", func(t *testing.T) {
		if perfMode {
			t.Skip("per-CPU perf buffers: the victim may run on a CPU whose buffer the flood did not fill")
		}
		got, lost, victimLost, _ := flood(t, Share{Rate: -1}, false)
		t.Logf("victim delivered %d/20, lost %v; flood lost %v", got, victimLost, lost)
		if got == 20 || lostCount(victimLost, KindOpen, LossRingFull) == 0 {
			t.Errorf("victim delivered %d/20 and lost %v without the share: the scenario does not flood the ring", got, victimLost)
		}
		if n := lostCount(lost, KindOpen, LossRingFull); n == 0 {
			t.Errorf("no ring_full open loss reported for the flood: %v", lost)
		}
	})
	t.Run("kill", func(t *testing.T) {
		got, _, _, st := flood(t, Share{Rate: 10000, Burst: 8192}, true)
		if !killedBySIGKILL(st) {
			t.Errorf("flood with KillEventsLost ended %v, want SIGKILL", st)
		}
		if got != 20 {
			t.Errorf("victim delivered %d of 20 opens", got)
		}
	})
}

// TestWatchDescendants: child cgroups made before the container was
// watched (before podguard started) are watched by WatchDescendants.
func TestWatchDescendants(t *testing.T) {
	r := sharedProbes(t)
	parent := cgrouptest.New(t, "podguard-before-")
	child := childCgroup(t, parent, "early")
	grandchild := childCgroup(t, child.Cgroup, "earlier")
	if err := r.p.SetWatched(parent.ID, KindsOf(KindOpen), 0); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.p.Unwatch(parent.ID) })
	root, err := cgrouptest.Root()
	if err != nil {
		t.Fatal(err)
	}
	if err := r.p.WatchDescendants(parent.ID, strings.TrimPrefix(parent.Dir, root)); err != nil {
		t.Fatal(err)
	}
	for _, c := range []*testCgroup{child, grandchild} {
		var w probeWatch
		if err := r.p.objs.Watched.Lookup(c.ID, &w); err != nil || w.Root != parent.ID {
			t.Errorf("cgroup %s: watch %+v, err %v; want root %d", c.Dir, w, err, parent.ID)
		}
	}
}
