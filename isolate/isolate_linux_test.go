package isolate

import (
	"errors"
	"net/netip"
	"testing"
)

func TestApplyAndRelease(t *testing.T) {
	n := newTestNet(t)
	a, b := n.addPod(t, "a"), n.addPod(t, "b")
	gwSrv := listen(t, "", n.gw)
	aSrv := listen(t, a.nsPath, a.addr)
	bSrv := listen(t, b.nsPath, b.addr)

	reach(t, "a->gw before", a.nsPath, gwSrv)
	reach(t, "gw->a before", "", aSrv)
	reach(t, "a->b before", a.nsPath, bSrv)
	reach(t, "b->a before", b.nsPath, aSrv)

	iso := newIsolator(t, t.TempDir())
	applied, err := iso.Apply(a.target("test-rule"))
	if err != nil || !applied {
		t.Fatalf("Apply = %v, %v; want true, nil", applied, err)
	}
	noReach(t, "a->gw isolated", a.nsPath, gwSrv)
	noReach(t, "gw->a isolated", "", aSrv)
	noReach(t, "a->b isolated", a.nsPath, bSrv)
	noReach(t, "b->a isolated", b.nsPath, aSrv)
	reach(t, "b->gw while a isolated", b.nsPath, gwSrv)

	applied, err = iso.Apply(a.target("test-rule"))
	if err != nil || applied {
		t.Fatalf("second Apply = %v, %v; want false, nil", applied, err)
	}
	if in, eg := podguardFilters(t, a.hostVeth); in != 1 || eg != 1 {
		t.Fatalf("filters on %s after two Applies: ingress %d egress %d, want 1 and 1", a.hostVeth, in, eg)
	}
	recs := iso.List()
	if len(recs) != 1 || recs[0].PodUID != a.target("").PodUID || recs[0].HostIfName != a.hostVeth ||
		recs[0].Rule != "test-rule" || recs[0].Since.IsZero() {
		t.Fatalf("List = %+v, want one record for %s on %s", recs, a.name, a.hostVeth)
	}

	if err := iso.Release(a.target("").PodUID); err != nil {
		t.Fatalf("Release: %v", err)
	}
	if hasClsact(t, a.hostVeth) {
		t.Errorf("clsact qdisc still on %s after Release", a.hostVeth)
	}
	if in, eg := podguardFilters(t, a.hostVeth); in+eg != 0 {
		t.Errorf("filters left after Release: ingress %d egress %d", in, eg)
	}
	if got := iso.List(); len(got) != 0 {
		t.Errorf("List after Release = %+v, want empty", got)
	}
	reach(t, "a->gw released", a.nsPath, gwSrv)
	reach(t, "gw->a released", "", aSrv)
	reach(t, "a->b released", a.nsPath, bSrv)
	if err := iso.Release(a.target("").PodUID); !errors.Is(err, ErrNotIsolated) {
		t.Errorf("second Release = %v, want ErrNotIsolated", err)
	}
}

// TestEachDirection sends one-way UDP with static neighbour entries, so each
// datagram crosses exactly one of the two filters.
func TestEachDirection(t *testing.T) {
	n := newTestNet(t)
	a, b := n.addPod(t, "a"), n.addPod(t, "b")
	run(t, "ip", "-n", a.ns, "neigh", "replace", n.gw.String(), "lladdr", mac(t, "", n.bridge), "dev", "eth0", "nud", "permanent")
	run(t, "ip", "neigh", "replace", a.addr.String(), "lladdr", mac(t, a.nsPath, "eth0"), "dev", n.bridge, "nud", "permanent")

	if !udpDelivered(t, a.nsPath, "", n.gw) || !udpDelivered(t, "", a.nsPath, a.addr) {
		t.Fatal("udp between a and gw not delivered before isolation")
	}
	iso := newIsolator(t, t.TempDir())
	if _, err := iso.Apply(a.target("dir")); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	if udpDelivered(t, a.nsPath, "", n.gw) {
		t.Error("pod egress (host-side ingress): a->gw datagram delivered, want dropped")
	}
	if udpDelivered(t, "", a.nsPath, a.addr) {
		t.Error("pod ingress (host-side egress): gw->a datagram delivered, want dropped")
	}
	if !udpDelivered(t, b.nsPath, "", n.gw) {
		t.Error("b->gw datagram not delivered while only a is isolated")
	}
}

func TestAllowList(t *testing.T) {
	n := newTestNet(t)
	a, b := n.addPod(t, "a"), n.addPod(t, "b")
	gwSrv := listen(t, "", n.gw)
	aSrv := listen(t, a.nsPath, a.addr)
	bSrv := listen(t, b.nsPath, b.addr)

	iso := newIsolator(t, t.TempDir(), netip.PrefixFrom(n.gw, 32), netip.MustParsePrefix("fd00:dead::/32"))
	if _, err := iso.Apply(a.target("allow")); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	// No static neighbours: ARP to and from the allowed gateway must pass.
	reach(t, "a->gw allow-listed", a.nsPath, gwSrv)
	reach(t, "gw->a allow-listed", "", aSrv)
	noReach(t, "a->b not allow-listed", a.nsPath, bSrv)
	noReach(t, "b->a not allow-listed", b.nsPath, aSrv)
}

func TestRestartAndReconcile(t *testing.T) {
	n := newTestNet(t)
	a := n.addPod(t, "a")
	gwSrv := listen(t, "", n.gw)
	dir := t.TempDir()

	first := newIsolator(t, dir)
	if _, err := first.Apply(a.target("restart")); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	first.Close() // podguard stops; the filters stay in the kernel
	noReach(t, "a->gw after podguard stopped", a.nsPath, gwSrv)

	second := newIsolator(t, dir)
	recs := second.List()
	if len(recs) != 1 || recs[0].Rule != "restart" || recs[0].HostIfName != a.hostVeth {
		t.Fatalf("List after restart = %+v, want the record of %s", recs, a.name)
	}
	uid := a.target("").PodUID
	exists := map[string]string{uid: ""}
	lookup := func(u string) (string, bool) { p, ok := exists[u]; return p, ok }
	for i := 0; i < 2; i++ {
		if err := second.Reconcile(lookup); err != nil {
			t.Fatalf("Reconcile %d: %v", i, err)
		}
	}
	if in, eg := podguardFilters(t, a.hostVeth); in != 1 || eg != 1 {
		t.Fatalf("filters after Reconcile: ingress %d egress %d, want 1 and 1", in, eg)
	}
	noReach(t, "a->gw after Reconcile", a.nsPath, gwSrv)

	delete(exists, uid)
	if err := second.Reconcile(lookup); err != nil {
		t.Fatalf("Reconcile gone pod: %v", err)
	}
	if in, eg := podguardFilters(t, a.hostVeth); in+eg != 0 || hasClsact(t, a.hostVeth) {
		t.Errorf("gone pod: filters ingress %d egress %d, clsact %v; want none", in, eg, hasClsact(t, a.hostVeth))
	}
	if got := second.List(); len(got) != 0 {
		t.Errorf("List after pod gone = %+v, want empty", got)
	}
	reach(t, "a->gw after its isolation was reconciled away", a.nsPath, gwSrv)
}

// TestAllowListIPv6 checks an allow-listed IPv6 gateway stays reachable,
// with neighbour discovery (solicitations judged by their target address).
func TestAllowListIPv6(t *testing.T) {
	n := newTestNet(t)
	a, b := n.addPod(t, "a"), n.addPod(t, "b")
	gwSrv := listen(t, "", n.gw6)
	aSrv := listen(t, a.nsPath, a.addr6)
	bSrv := listen(t, b.nsPath, b.addr6)

	iso := newIsolator(t, t.TempDir(), netip.PrefixFrom(n.gw6, 128))
	if _, err := iso.Apply(a.target("allow6")); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	reach(t, "a->gw6 allow-listed", a.nsPath, gwSrv)
	reach(t, "gw6->a allow-listed", "", aSrv)
	noReach(t, "a->b6 not allow-listed", a.nsPath, bSrv)
	noReach(t, "b6->a not allow-listed", b.nsPath, aSrv)
	reach(t, "b6->gw6 not isolated", b.nsPath, gwSrv)
}
