package isolate

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
)

// testNet is a bridge in the host netns with a gateway address, and pods
// (netns + veth) plugged into it. Everything is removed in Cleanup.
type testNet struct {
	sfx    string
	bridge string
	gw     netip.Addr
	gw6    netip.Addr
	subnet [3]byte
	pods   int
}

type testPod struct {
	name     string
	ns       string
	nsPath   string
	addr     netip.Addr
	addr6    netip.Addr
	hostVeth string
}

func needRoot(tb testing.TB) {
	tb.Helper()
	if os.Geteuid() != 0 {
		tb.Skip("needs root: creates network namespaces, veths and BPF filters")
	}
}

func run(tb testing.TB, args ...string) {
	tb.Helper()
	out, err := exec.Command(args[0], args[1:]...).CombinedOutput()
	if err != nil {
		tb.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

func newTestNet(tb testing.TB) *testNet {
	tb.Helper()
	needRoot(tb)
	var b [3]byte
	rand.Read(b[:])
	n := &testNet{sfx: hex.EncodeToString(b[:2]), subnet: [3]byte{10, 231, b[2]}}
	n.bridge = "pgiso" + n.sfx + "br"
	n.gw = netip.AddrFrom4([4]byte{10, 231, b[2], 1})
	run(tb, "ip", "link", "add", n.bridge, "type", "bridge")
	tb.Cleanup(func() { exec.Command("ip", "link", "del", n.bridge).Run() })
	n.gw6 = netip.MustParseAddr("fd00:231:" + n.sfx + "::1")
	run(tb, "ip", "addr", "add", n.gw.String()+"/24", "dev", n.bridge)
	run(tb, "ip", "addr", "add", n.gw6.String()+"/64", "dev", n.bridge, "nodad")
	run(tb, "ip", "link", "set", n.bridge, "up")
	return n
}

// addPod makes a netns with eth0 whose host-side peer is on the bridge.
func (n *testNet) addPod(tb testing.TB, name string) *testPod {
	tb.Helper()
	n.pods++
	p := &testPod{
		name:     name,
		ns:       "pgiso-" + n.sfx + "-" + name,
		addr:     netip.AddrFrom4([4]byte{n.subnet[0], n.subnet[1], n.subnet[2], byte(10 + n.pods)}),
		addr6:    netip.MustParseAddr(fmt.Sprintf("fd00:231:%s::%d", n.sfx, 10+n.pods)),
		hostVeth: "pgiso" + n.sfx + name,
	}
	p.nsPath = "/var/run/netns/" + p.ns
	run(tb, "ip", "netns", "add", p.ns)
	tb.Cleanup(func() { exec.Command("ip", "netns", "del", p.ns).Run() })
	n.plug(tb, p)
	run(tb, "ip", "-n", p.ns, "link", "set", "lo", "up")
	return p
}

// plug (re)creates the pod's veth pair and addresses it.
func (n *testNet) plug(tb testing.TB, p *testPod) {
	tb.Helper()
	run(tb, "ip", "link", "add", p.hostVeth, "type", "veth", "peer", "name", "eth0", "netns", p.ns)
	tb.Cleanup(func() { exec.Command("ip", "link", "del", p.hostVeth).Run() })
	run(tb, "ip", "link", "set", p.hostVeth, "master", n.bridge, "up")
	run(tb, "ip", "-n", p.ns, "addr", "add", p.addr.String()+"/24", "dev", "eth0")
	run(tb, "ip", "-n", p.ns, "addr", "add", p.addr6.String()+"/64", "dev", "eth0", "nodad")
	run(tb, "ip", "-n", p.ns, "link", "set", "eth0", "up")
}

func (p *testPod) target(rule string) Target {
	return Target{PodUID: "uid-" + p.ns, PodName: p.name, Namespace: "test", Rule: rule, NetNSPath: p.nsPath}
}

// inNS runs fn on a thread in the netns at path ("" = the test's own).
// The thread goes back to the original netns; if it cannot, it stays
// locked and dies with its goroutine.
func inNS(path string, fn func() error) error {
	if path == "" {
		return fn()
	}
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := netns.Get()
		if err != nil {
			errc <- err
			return
		}
		defer orig.Close()
		ns, err := netns.GetFromPath(path)
		if err != nil {
			errc <- err
			return
		}
		defer ns.Close()
		if err := netns.Set(ns); err != nil {
			errc <- err
			return
		}
		err = fn()
		if netns.Set(orig) == nil {
			runtime.UnlockOSThread()
		}
		errc <- err
	}()
	return <-errc
}

// listen starts a TCP server on addr inside nsPath that accepts and closes.
func listen(tb testing.TB, nsPath string, addr netip.Addr) netip.AddrPort {
	tb.Helper()
	var l net.Listener
	err := inNS(nsPath, func() (err error) {
		l, err = net.Listen("tcp", netip.AddrPortFrom(addr, 0).String())
		return err
	})
	if err != nil {
		tb.Fatalf("listen on %s: %v", addr, err)
	}
	tb.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	return netip.MustParseAddrPort(l.Addr().String())
}

// connects reports whether a TCP connection from nsPath to dst succeeds.
func connects(nsPath string, dst netip.AddrPort, timeout time.Duration) bool {
	err := inNS(nsPath, func() error {
		c, err := net.DialTimeout("tcp", dst.String(), timeout)
		if err == nil {
			c.Close()
		}
		return err
	})
	return err == nil
}

// reach and noReach assert TCP reachability the way a user would check it.
// A reachable peer gets a few tries (ARP may have been failed by a drop).
func reach(tb testing.TB, what, from string, dst netip.AddrPort) {
	tb.Helper()
	for i := 0; i < 3; i++ {
		if connects(from, dst, 2*time.Second) {
			return
		}
	}
	tb.Errorf("%s: cannot connect to %s, want connected", what, dst)
}

func noReach(tb testing.TB, what, from string, dst netip.AddrPort) {
	tb.Helper()
	if connects(from, dst, 500*time.Millisecond) {
		tb.Errorf("%s: connected to %s, want dropped", what, dst)
	}
}

// udpDelivered sends datagrams from fromNS to a fresh socket on dst inside
// toNS and reports whether one arrived. Only one direction is exercised.
func udpDelivered(tb testing.TB, fromNS, toNS string, dst netip.Addr) bool {
	tb.Helper()
	var rc *net.UDPConn
	err := inNS(toNS, func() (err error) {
		rc, err = net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(dst, 0)))
		return err
	})
	if err != nil {
		tb.Fatalf("udp listen on %s: %v", dst, err)
	}
	defer rc.Close()
	to := rc.LocalAddr().(*net.UDPAddr).AddrPort()
	msg := []byte(fmt.Sprintf("pgiso-%d", time.Now().UnixNano()))
	err = inNS(fromNS, func() error {
		c, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(to))
		if err != nil {
			return err
		}
		defer c.Close()
		for i := 0; i < 3; i++ {
			c.Write(msg)
		}
		return nil
	})
	if err != nil {
		tb.Fatalf("udp send to %s: %v", to, err)
	}
	buf := make([]byte, 64)
	rc.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
	for {
		n, err := rc.Read(buf)
		if err != nil {
			return false
		}
		if bytes.Equal(buf[:n], msg) {
			return true
		}
	}
}

// podguardFilters counts the tc filters named for podguard on a host link,
// per hook, as `tc filter show dev X ingress|egress` would list them.
func podguardFilters(tb testing.TB, ifname string) (ingress, egress int) {
	tb.Helper()
	l, err := netlink.LinkByName(ifname)
	if err != nil {
		tb.Fatalf("link %s: %v", ifname, err)
	}
	count := func(parent uint32) int {
		fs, err := netlink.FilterList(l, parent)
		if err != nil {
			return 0
		}
		n := 0
		for _, f := range fs {
			if bf, ok := f.(*netlink.BpfFilter); ok && strings.HasPrefix(bf.Name, FilterName) {
				n++
			}
		}
		return n
	}
	return count(netlink.HANDLE_MIN_INGRESS), count(netlink.HANDLE_MIN_EGRESS)
}

func hasClsact(tb testing.TB, ifname string) bool {
	tb.Helper()
	l, err := netlink.LinkByName(ifname)
	if err != nil {
		tb.Fatalf("link %s: %v", ifname, err)
	}
	qs, err := netlink.QdiscList(l)
	if err != nil {
		tb.Fatalf("list qdiscs on %s: %v", ifname, err)
	}
	for _, q := range qs {
		if q.Type() == "clsact" {
			return true
		}
	}
	return false
}

func newIsolator(tb testing.TB, dir string, allow ...netip.Prefix) *Isolator {
	tb.Helper()
	iso, err := New(dir, allow, slog.New(slog.DiscardHandler))
	if err != nil {
		tb.Fatalf("New: %v", err)
	}
	tb.Cleanup(func() { iso.Close() })
	return iso
}
