package isolate

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/features"
	"github.com/cilium/ebpf/link"
	"github.com/vishvananda/netlink"
)

// cniTCX attaches a stand-in for a tcx CNI on both tcx hooks of the link:
// a program that returns TCX_PASS, which ends the tcx chain and skips tc.
func cniTCX(tb testing.TB, ifname string) {
	tb.Helper()
	if err := features.HaveProgramType(ebpf.SchedCLS); err != nil {
		tb.Skipf("needs sched_cls programs: %v", err)
	}
	prog, err := ebpf.NewProgram(&ebpf.ProgramSpec{
		Type:         ebpf.SchedCLS,
		License:      "MIT",
		Instructions: asm.Instructions{asm.Mov.Imm(asm.R0, 0), asm.Return()}, // TCX_PASS
	})
	if err != nil {
		tb.Fatalf("load pass program: %v", err)
	}
	tb.Cleanup(func() { prog.Close() })
	l, err := netlink.LinkByName(ifname)
	if err != nil {
		tb.Fatal(err)
	}
	for _, at := range []ebpf.AttachType{ebpf.AttachTCXIngress, ebpf.AttachTCXEgress} {
		tl, err := link.AttachTCX(link.TCXOptions{Interface: l.Attrs().Index, Program: prog, Attach: at})
		if err != nil {
			tb.Skipf("tcx not available: %v", err)
		}
		tb.Cleanup(func() { tl.Close() })
	}
}

func tcxPrograms(tb testing.TB, ifname string, at ebpf.AttachType) int {
	tb.Helper()
	l, err := netlink.LinkByName(ifname)
	if err != nil {
		tb.Fatal(err)
	}
	res, err := link.QueryPrograms(link.QueryOptions{Target: l.Attrs().Index, Attach: at})
	if err != nil {
		tb.Fatalf("query tcx programs: %v", err)
	}
	return len(res.Programs)
}

// TestTCXCNI isolates a pod whose veth carries a tcx CNI program that
// passes everything: podguard must go first in the tcx chain.
func TestTCXCNI(t *testing.T) {
	n := newTestNet(t)
	a := n.addPod(t, "a")
	gwSrv := listen(t, "", n.gw)
	aSrv := listen(t, a.nsPath, a.addr)
	cniTCX(t, a.hostVeth)
	reach(t, "a->gw with the tcx CNI", a.nsPath, gwSrv)

	dir := t.TempDir()
	uid := a.target("").PodUID
	t.Cleanup(func() { detachPins(uid, "") })
	iso := newIsolator(t, dir)
	for i, want := range []bool{true, false} {
		applied, err := iso.Apply(a.target("tcx"))
		if err != nil || applied != want {
			t.Fatalf("Apply %d = %v, %v; want %v, nil", i, applied, err, want)
		}
	}
	if recs := iso.List(); len(recs) != 1 || recs[0].Mode != ModeTCX {
		t.Fatalf("List = %+v, want one record in mode tcx", recs)
	}
	noReach(t, "a->gw isolated over a tcx CNI", a.nsPath, gwSrv)
	att, err := Installed()
	if err != nil {
		t.Fatalf("Installed: %v", err)
	}
	found := false
	for _, x := range att {
		if x.PodUID == uid {
			found = x.Mode == ModeTCX && x.IfName == a.hostVeth && x.Ingress && x.Egress
		}
	}
	if !found {
		t.Errorf("Installed = %+v, want a tcx attachment of %s on %s", att, uid, a.hostVeth)
	}
	noReach(t, "gw->a isolated over a tcx CNI", "", aSrv)

	iso.Close()
	second := newIsolator(t, dir)
	if err := second.Reconcile(func(u string) (string, bool) { return "", u == uid }); err != nil {
		t.Fatalf("Reconcile: %v", err)
	}
	for _, at := range []ebpf.AttachType{ebpf.AttachTCXIngress, ebpf.AttachTCXEgress} {
		if got := tcxPrograms(t, a.hostVeth, at); got != 2 {
			t.Errorf("tcx programs on %s %v after Apply twice and Reconcile: %d, want 2 (CNI + podguard)", a.hostVeth, at, got)
		}
	}
	if in, eg := podguardFilters(t, a.hostVeth); in+eg != 0 {
		t.Errorf("tc filters in tcx mode: ingress %d egress %d, want none", in, eg)
	}
	noReach(t, "a->gw after restart", a.nsPath, gwSrv)

	if err := second.Release(uid); err != nil {
		t.Fatalf("Release: %v", err)
	}
	if _, err := os.Stat(filepath.Join(PinDir, uid)); !os.IsNotExist(err) {
		t.Errorf("pin dir after Release: %v, want gone", err)
	}
	if got := tcxPrograms(t, a.hostVeth, ebpf.AttachTCXIngress); got != 1 {
		t.Errorf("tcx ingress programs after Release: %d, want 1 (the CNI's)", got)
	}
	reach(t, "a->gw released", a.nsPath, gwSrv)
	reach(t, "gw->a released", "", aSrv)
}
