//go:build linux && amd64

package probes

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"

	"github.com/podguard/podguard/probes/cgroupfs"
)

// lossState is the reader's memory of the kernel's per-container loss
// counters (the budgets map): what it reported last, and when.
type lossState struct {
	interval time.Duration
	share    Share
	next     time.Time
	seen     map[uint64]*probeBudget // by container cgroup id: counters last reported
}

// addBudget gives a newly watched container its fair share and zeroed
// loss counters; a container already watched keeps its budget.
func (p *Probes) addBudget(root uint64) error {
	cost, cap := p.loss.share.costCap()
	b := probeBudget{Credit: cap, Cost: cost, Cap: cap}
	err := p.objs.Budgets.Update(root, &b, ebpf.UpdateNoExist)
	if err != nil && !errors.Is(err, ebpf.ErrKeyExist) {
		return fmt.Errorf("budget for cgroup %d: %w", root, err)
	}
	return nil
}

// forgetRoot removes what the kernel keeps for an unwatched container:
// its budget and the entries of its child cgroups (which cgroup_rmdir
// would remove only when they go).
func (p *Probes) forgetRoot(root uint64) error {
	err := p.objs.Budgets.Delete(root)
	if err != nil && !errors.Is(err, ebpf.ErrKeyNotExist) {
		return fmt.Errorf("forget budget of cgroup %d: %w", root, err)
	}
	var (
		cg       uint64
		w        probeWatch
		children []uint64
	)
	it := p.objs.Watched.Iterate()
	for it.Next(&cg, &w) {
		if w.Root == root && cg != root {
			children = append(children, cg)
		}
	}
	if err := it.Err(); err != nil {
		return fmt.Errorf("list child cgroups of %d: %w", root, err)
	}
	for _, c := range children {
		if err := p.objs.Watched.Delete(c); err != nil && !errors.Is(err, ebpf.ErrKeyNotExist) {
			return fmt.Errorf("unwatch child cgroup %d of %d: %w", c, root, err)
		}
	}
	return nil
}

// pollLosses hands one KindEventsLost record per container that lost
// events since the last poll to deliver, once per interval (the reader
// calls it between batches).
func (p *Probes) pollLosses(now time.Time, deliver func(*Record)) {
	l := &p.loss
	if now.Before(l.next) {
		return
	}
	l.next = now.Add(l.interval)
	var (
		cg  uint64
		b   probeBudget
		got = map[uint64]bool{}
	)
	it := p.objs.Budgets.Iterate()
	for it.Next(&cg, &b) {
		got[cg] = true
		last := l.seen[cg]
		if last == nil {
			last = new(probeBudget)
			l.seen[cg] = last
		}
		if lost := lossDiff(&b, last); len(lost) > 0 {
			deliver(&Record{Kind: KindEventsLost, KTime: monotonicNow(), CgroupID: cg, Lost: lost})
		}
		last.RingFull, last.RateLimited = b.RingFull, b.RateLimited
	}
	if err := it.Err(); err != nil {
		p.log.Warn("read loss counters", "err", err)
	}
	for cg := range l.seen {
		if !got[cg] {
			delete(l.seen, cg)
		}
	}
}

// lossDiff lists the counts that grew from last to now (the kernel's
// counters are 32 bits and wrap: the difference is modulo 2^32).
func lossDiff(now, last *probeBudget) []Loss {
	var out []Loss
	for k := range now.RingFull {
		if d := now.RingFull[k] - last.RingFull[k]; d != 0 {
			out = append(out, Loss{Kind: Kind(k), Reason: LossRingFull, Count: uint64(d)})
		}
		if d := now.RateLimited[k] - last.RateLimited[k]; d != 0 {
			out = append(out, Loss{Kind: Kind(k), Reason: LossRateLimited, Count: uint64(d)})
		}
	}
	return out
}

// monotonicNow is CLOCK_MONOTONIC in ns, the clock of Record.KTime.
func monotonicNow() uint64 {
	var ts unix.Timespec
	unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts)
	return uint64(ts.Nano())
}

// WatchDescendants watches the cgroups that already exist below the
// watched container root (cgroupPath: its directory relative to the
// cgroup v2 mount, e.g. workload.Container.CgroupPath) as its children,
// for what cgroup_mkdir did not see: cgroups made before podguard
// started. It walks at most 8 levels and 1024 directories.
func (p *Probes) WatchDescendants(root uint64, cgroupPath string) error {
	mount := cgroupfs.Detect().Root
	if mount == "" || root == hostKey {
		return nil
	}
	seen := 0
	var walk func(dir string, depth int) error
	walk = func(dir string, depth int) error {
		ents, err := os.ReadDir(dir)
		if err != nil || depth == 8 {
			return nil // gone, or deep enough
		}
		for _, e := range ents {
			if !e.IsDir() || seen >= 1024 {
				continue
			}
			seen++
			sub := filepath.Join(dir, e.Name())
			var st unix.Stat_t
			if unix.Stat(sub, &st) != nil {
				continue
			}
			err := p.objs.Watched.Update(st.Ino, probeWatch{Root: root}, ebpf.UpdateNoExist)
			if err != nil && !errors.Is(err, ebpf.ErrKeyExist) {
				return fmt.Errorf("watch child cgroup %s: %w", sub, err)
			}
			if err := walk(sub, depth+1); err != nil {
				return err
			}
		}
		return nil
	}
	return walk(filepath.Join(mount, cgroupPath), 0)
}
