package isolate

import (
	"os"
	"path/filepath"
	"testing"
)

// TestReconcileWithoutState loses the state file (as after a crash while
// writing it, or a wiped state dir) and finds the isolation in the kernel.
func TestReconcileWithoutState(t *testing.T) {
	n := newTestNet(t)
	a := n.addPod(t, "a")
	gwSrv := listen(t, "", n.gw)
	dir := t.TempDir()
	uid := a.target("").PodUID

	first := newIsolator(t, dir)
	if _, err := first.Apply(a.target("lost")); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	first.Close()
	if err := os.Remove(filepath.Join(dir, stateFile)); err != nil {
		t.Fatal(err)
	}

	att, err := Installed()
	if err != nil {
		t.Fatalf("Installed: %v", err)
	}
	var mine []Attachment
	for _, x := range att {
		if x.PodUID == uid {
			mine = append(mine, x)
		}
	}
	if len(mine) != 1 || mine[0].IfName != a.hostVeth || !mine[0].Ingress || !mine[0].Egress {
		t.Fatalf("Installed for %s = %+v, want ingress+egress on %s", uid, mine, a.hostVeth)
	}

	second := newIsolator(t, dir)
	if got := second.List(); len(got) != 0 {
		t.Fatalf("List without state = %+v, want empty", got)
	}
	// Other pods' isolation (from other tests or a real podguard) is left
	// alone: only this test's pod is reported to exist or be gone.
	alive := true
	lookup := func(u string) (string, bool) {
		if u == uid {
			return a.nsPath, alive
		}
		return "", true
	}
	if err := second.Reconcile(lookup); err != nil {
		t.Fatalf("Reconcile: %v", err)
	}
	var rec *Record
	for _, r := range second.List() {
		if r.PodUID == uid {
			rec = &r
		}
	}
	if rec == nil || !rec.Recovered || rec.HostIfName != a.hostVeth {
		t.Fatalf("record after Reconcile = %+v, want recovered on %s", rec, a.hostVeth)
	}
	if in, eg := podguardFilters(t, a.hostVeth); in != 1 || eg != 1 {
		t.Fatalf("filters after Reconcile: ingress %d egress %d, want 1 and 1", in, eg)
	}
	noReach(t, "a->gw after recovery", a.nsPath, gwSrv)

	// The next verdict for the pod fills in who and why, without a
	// second filter.
	if applied, err := second.Apply(a.target("again")); err != nil || applied {
		t.Fatalf("Apply on recovered pod = %v, %v; want false, nil", applied, err)
	}
	for _, r := range second.List() {
		if r.PodUID == uid && (r.Recovered || r.Rule != "again" || r.PodName != a.name) {
			t.Errorf("record after Apply = %+v, want rule again, pod %s, not recovered", r, a.name)
		}
	}
	if in, eg := podguardFilters(t, a.hostVeth); in != 1 || eg != 1 {
		t.Fatalf("filters after Apply on recovered pod: ingress %d egress %d, want 1 and 1", in, eg)
	}

	alive = false
	if err := second.Reconcile(lookup); err != nil {
		t.Fatalf("Reconcile gone pod: %v", err)
	}
	if in, eg := podguardFilters(t, a.hostVeth); in+eg != 0 {
		t.Errorf("gone pod: filters ingress %d egress %d, want none", in, eg)
	}
	reach(t, "a->gw after release of recovered pod", a.nsPath, gwSrv)
}

// TestReconcileVethChanged replaces the pod's veth (as a CNI re-add would)
// and checks the isolation moves to the new one.
func TestReconcileVethChanged(t *testing.T) {
	n := newTestNet(t)
	a := n.addPod(t, "a")
	gwSrv := listen(t, "", n.gw)
	iso := newIsolator(t, t.TempDir())
	if _, err := iso.Apply(a.target("moved")); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	old := iso.List()[0].HostIfIndex

	run(t, "ip", "link", "del", a.hostVeth)
	n.plug(t, a)
	reach(t, "a->gw on a new, unfiltered veth", a.nsPath, gwSrv)

	uid := a.target("").PodUID
	err := iso.Reconcile(func(u string) (string, bool) { return "", u == uid })
	if err != nil {
		t.Fatalf("Reconcile: %v", err)
	}
	recs := iso.List()
	if len(recs) != 1 || recs[0].HostIfIndex == old || recs[0].HostIfName != a.hostVeth {
		t.Fatalf("List = %+v, want the record moved from ifindex %d to the new %s", recs, old, a.hostVeth)
	}
	if in, eg := podguardFilters(t, a.hostVeth); in != 1 || eg != 1 {
		t.Fatalf("filters on new veth: ingress %d egress %d, want 1 and 1", in, eg)
	}
	noReach(t, "a->gw after Reconcile on new veth", a.nsPath, gwSrv)
}
