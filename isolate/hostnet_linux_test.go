package isolate

import (
	"bufio"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"

	"github.com/podguard/podguard/test/cgrouptest"
)

// TestMain turns the test binary into a helper process when asked: the
// host-network "pod" is a process started inside a test cgroup.
func TestMain(m *testing.M) {
	switch mode, arg, _ := strings.Cut(os.Getenv("PGISO_HELPER"), " "); mode {
	case "dial":
		c, err := net.DialTimeout("tcp", arg, time.Second)
		if err != nil {
			os.Exit(1)
		}
		c.Close()
		os.Exit(0)
	case "listen":
		l, err := net.Listen("tcp", arg)
		if err != nil {
			os.Exit(2)
		}
		fmt.Println(l.Addr().String())
		for {
			c, err := l.Accept()
			if err != nil {
				os.Exit(3)
			}
			c.Close()
		}
	}
	os.Exit(m.Run())
}

// helper returns a command running this binary's TestMain helper inside
// the cgroup.
func helper(cg *cgrouptest.Cgroup, mode, arg string) *exec.Cmd {
	cmd := cg.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "PGISO_HELPER="+mode+" "+arg)
	return cmd
}

// cgroupDials reports whether a process in the cgroup can connect to dst.
func cgroupDials(tb testing.TB, cg *cgrouptest.Cgroup, dst netip.AddrPort) bool {
	tb.Helper()
	err := helper(cg, "dial", dst.String()).Run()
	if ee, ok := err.(*exec.ExitError); ok && ee.ExitCode() == 1 {
		return false
	}
	if err != nil {
		tb.Fatalf("dial helper: %v", err)
	}
	return true
}

// cgroupListen starts a listener process in the cgroup.
func cgroupListen(tb testing.TB, cg *cgrouptest.Cgroup, addr netip.Addr) netip.AddrPort {
	tb.Helper()
	cmd := helper(cg, "listen", netip.AddrPortFrom(addr, 0).String())
	out, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		tb.Fatalf("listen helper: %v", err)
	}
	tb.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		tb.Fatalf("listen helper: %v", err)
	}
	return netip.MustParseAddrPort(strings.TrimSpace(line))
}

// cgroupPrograms counts the programs attached to the cgroup on a hook.
func cgroupPrograms(tb testing.TB, cg *cgrouptest.Cgroup, attach ebpf.AttachType) int {
	tb.Helper()
	res, err := link.QueryPrograms(link.QueryOptions{Target: cg.FD, Attach: attach})
	if err != nil {
		tb.Fatalf("query cgroup programs: %v", err)
	}
	return len(res.Programs)
}

func TestHostNetworkCgroup(t *testing.T) {
	n := newTestNet(t)
	b := n.addPod(t, "b")
	cg := cgrouptest.New(t, "pgiso-"+n.sfx+"-")
	bSrv := listen(t, b.nsPath, b.addr)
	hostSrv := cgroupListen(t, cg, n.gw) // a server of the host-network pod

	if !cgroupDials(t, cg, bSrv) {
		t.Fatal("host-network pod cannot reach b before isolation")
	}
	reach(t, "b->host-network pod before", b.nsPath, hostSrv)

	tgt := Target{PodUID: "uid-pgiso-" + n.sfx + "-hostnet", PodName: "hostnet", Namespace: "test",
		Rule: "hostnet", HostNetwork: true, CgroupPath: cg.Dir}
	dir := t.TempDir()
	iso := newIsolator(t, dir)
	t.Cleanup(func() { detachPins(tgt.PodUID, "") }) // a failed test leaves no pins
	for i, want := range []bool{true, false} {
		applied, err := iso.Apply(tgt)
		if err != nil || applied != want {
			t.Fatalf("Apply %d = %v, %v; want %v, nil", i, applied, err, want)
		}
	}
	if cgroupDials(t, cg, bSrv) {
		t.Error("isolated host-network pod connected to b (egress), want dropped")
	}
	noReach(t, "b->isolated host-network pod (ingress)", b.nsPath, hostSrv)
	reach(t, "test process (outside the pod cgroup) -> b", "", bSrv)

	iso.Close()
	second := newIsolator(t, dir)
	if err := second.Reconcile(func(u string) (string, bool) { return "", true }); err != nil {
		t.Fatalf("Reconcile: %v", err)
	}
	for _, at := range []ebpf.AttachType{ebpf.AttachCGroupInetEgress, ebpf.AttachCGroupInetIngress} {
		if got := cgroupPrograms(t, cg, at); got != 1 {
			t.Errorf("programs on cgroup hook %v after Apply twice and Reconcile: %d, want 1", at, got)
		}
	}
	if cgroupDials(t, cg, bSrv) {
		t.Error("host-network pod connected to b after restart, want dropped")
	}

	if err := second.Release(tgt.PodUID); err != nil {
		t.Fatalf("Release: %v", err)
	}
	if _, err := os.Stat(filepath.Join(PinDir, tgt.PodUID)); !os.IsNotExist(err) {
		t.Errorf("pin dir after Release: %v, want gone", err)
	}
	if !cgroupDials(t, cg, bSrv) {
		t.Error("host-network pod cannot reach b after Release")
	}
	reach(t, "b->host-network pod after Release", b.nsPath, hostSrv)
}

func TestHostNetworkWithoutCgroup(t *testing.T) {
	needRoot(t)
	iso := newIsolator(t, t.TempDir())
	_, err := iso.Apply(Target{PodUID: "uid-pgiso-nocg", HostNetwork: true})
	if err == nil || !strings.Contains(err.Error(), ErrHostNetwork.Error()) {
		t.Fatalf("Apply host-network pod without cgroup = %v, want ErrHostNetwork", err)
	}
	_, err = iso.Apply(Target{PodUID: "uid-pgiso-hostns", NetNSPath: "/proc/self/ns/net"})
	if err == nil || !strings.Contains(err.Error(), ErrHostNetwork.Error()) {
		t.Fatalf("Apply pod in the host netns without cgroup = %v, want ErrHostNetwork", err)
	}
}
