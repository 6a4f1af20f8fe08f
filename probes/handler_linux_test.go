//go:build linux && amd64

package probes

import (
	"os/exec"
	"path/filepath"
	"testing"
)

// TestHandler loads a second set of probes with Options.Handler: events
// arrive on the reader goroutine, in order, with every field, none
// through the Events channel, and each is counted as delivered.
func TestHandler(t *testing.T) {
	needRoot(t)
	if perfMode {
		t.Skip("the handler is transport-independent; run with the ring buffer")
	}
	r := &router{subs: map[uint64]chan *Record{}}
	p, err := Load(Options{Handler: func(ev *Record) {
		r.mu.Lock()
		ch, ok := r.subs[ev.CgroupID]
		r.mu.Unlock()
		if ok {
			cp := *ev // ev is reused once the handler returns
			ch <- &cp
		}
	}})
	if err != nil {
		t.Fatalf("load probes: %v", err)
	}
	r.p = p
	cg := r.newCgroup(t, KindsOf(KindExec, KindExit, KindOpen), 0)
	dir := realDir(t)
	cmd := exec.Command(triggerBin, "open-rel", "created.txt")
	cmd.Dir = dir
	if st := cg.run(t, cmd); !st.Success() {
		t.Fatalf("trigger: %v", st)
	}
	exe := cg.waitFor(t, "exec", func(e *Record) bool { return e.Kind == KindExec && e.Exe == triggerBin })
	open := cg.waitFor(t, "open", func(e *Record) bool { return e.Kind == KindOpen && e.RawPath == "created.txt" })
	exit := cg.waitFor(t, "exit", func(e *Record) bool { return e.Kind == KindExit && e.TGID == exe.TGID })
	if open.TGID != exe.TGID || open.Path != filepath.Join(dir, "created.txt") || exe.Args[0] != triggerBin {
		t.Errorf("open %+v after exec %+v: want the same process, path %s", open, exe, filepath.Join(dir, "created.txt"))
	}
	if !(exe.KTime < open.KTime && open.KTime <= exit.KTime) {
		t.Errorf("ktimes exec %d open %d exit %d: not in order", exe.KTime, open.KTime, exit.KTime)
	}
	st, err := p.Stats()
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []Kind{KindExec, KindOpen, KindExit} {
		if ks := st.Of(k); ks.Delivered == 0 || ks.QueueDrops != 0 {
			t.Errorf("%s: delivered %d, queue drops %d; want some delivered, no queue drops", k, ks.Delivered, ks.QueueDrops)
		}
	}
	p.Close()
	if ev, ok := <-p.Events(); ok {
		t.Errorf("Events channel carried %+v with a Handler set", ev)
	}
}
