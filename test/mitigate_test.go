package test

import (
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vishvananda/netlink"

	"github.com/podguard/podguard/daemon/api"
	"github.com/podguard/podguard/test/node"
)

func isolateOnShadow(label string) map[string]string {
	return map[string]string{"php.toml": "name = \"php\"\n[labels]\napp = \"" + label + "\"\n[[rule]]\nid = \"shadow-file-read\"\nmitigation = \"isolate\"\n"}
}

// podguardFilters counts podguard's tc filters on a host link, per
// direction.
func podguardFilters(t *testing.T, ifname string) (ingress, egress int) {
	t.Helper()
	l, err := netlink.LinkByName(ifname)
	if err != nil {
		t.Fatalf("host veth %s: %v", ifname, err)
	}
	count := func(parent uint32) int {
		fs, err := netlink.FilterList(l, parent)
		if err != nil {
			t.Fatalf("list filters on %s: %v", ifname, err)
		}
		n := 0
		for _, f := range fs {
			if bf, ok := f.(*netlink.BpfFilter); ok && strings.HasPrefix(bf.Name, "podguard-isolate") {
				n++
			}
		}
		return n
	}
	return count(netlink.HANDLE_MIN_INGRESS), count(netlink.HANDLE_MIN_EGRESS)
}

// TestIsolateReleaseAndRestart: a labelled pod that reads /etc/shadow
// loses its network, an unlabelled pod doing the same keeps it; the
// isolation survives podguard being killed and restarted, without
// duplicate filters; `podguard release` gives the network back.
func TestIsolateReleaseAndRestart(t *testing.T) {
	n, in := guardedNode(t, "", isolateOnShadow("php-iso"))
	gw := gateway(t, n)
	a := n.CreatePod(t, sleeper("iso-a", map[string]string{"app": "php-iso"}))
	b := n.CreatePod(t, sleeper("iso-b", map[string]string{"app": "other"}))
	if !reaches(t, a, gw) || !reaches(t, b, gw) || !reaches(t, a, b.IP()) {
		t.Fatal("pods cannot reach the gateway or each other before any attack")
	}

	b.Exec(t, "app", "cat", "/etc/shadow")
	a.Exec(t, "app", "cat", "/etc/shadow")
	ev := in.waitEvent(t, a, "shadow-file-read")
	if ev.Mitigation.Action != "isolate" || ev.Mitigation.Result != "applied" {
		t.Fatalf("mitigation = %+v", ev.Mitigation)
	}
	if reaches(t, a, gw) || reaches(t, a, b.IP()) || reaches(t, b, a.IP()) {
		st, _ := in.statusErr()
		t.Fatalf("isolated pod still talks to the gateway or the other pod; event %+v; isolated %+v; veth %s", ev.Mitigation, st.Isolated, a.HostVeth())
	}
	if !reaches(t, b, gw) {
		t.Fatal("the unlabelled pod lost its network")
	}
	if got := rulesFor(in.events(t), b); len(got) != 0 {
		t.Fatalf("the unlabelled pod raised %v", got)
	}
	st, _ := in.statusErr()
	if len(st.Isolated) != 1 || st.Isolated[0].UID != a.UID || st.Isolated[0].Rule != "shadow-file-read" {
		t.Fatalf("status isolated = %+v", st.Isolated)
	}
	veth := a.HostVeth()
	if i, e := podguardFilters(t, veth); i != 1 || e != 1 {
		t.Fatalf("filters on %s: ingress %d egress %d, want 1 and 1", veth, i, e)
	}

	// Another event of the same incident does not isolate twice.
	a.Exec(t, "app", "cat", "/etc/shadow")

	// podguard dies hard; the isolation holds while it is down and after.
	in.cmd.Process.Signal(syscall.SIGKILL)
	in.cmd.Wait()
	if reaches(t, a, gw) {
		t.Fatal("isolation lifted while podguard was down")
	}
	in.start(t)
	restarted := time.Now()
	in.waitStatus(t, time.Second, "rules back after restart", func(s api.Status) bool { return len(s.Rules.Active) == 1 })
	t.Logf("rules in force %v after restart", time.Since(restarted))
	in.waitStatus(t, 30*time.Second, "isolation reconciled", func(s api.Status) bool {
		return s.Containerd.Connected && len(s.Isolated) == 1 && s.Isolated[0].UID == a.UID
	})
	if i, e := podguardFilters(t, veth); i != 1 || e != 1 {
		t.Fatalf("after restart filters on %s: ingress %d egress %d, want 1 and 1", veth, i, e)
	}
	if reaches(t, a, gw) {
		t.Fatal("isolation lost across a restart")
	}

	out, stderr, code := podguard(t, "release", "--config", in.config, "default/iso-a")
	if code != 0 || !strings.Contains(out, "released default/iso-a") {
		t.Fatalf("release: code %d out %q err %q", code, out, stderr)
	}
	if !reaches(t, a, gw) || !reaches(t, a, b.IP()) {
		t.Fatal("released pod still cut off")
	}
	if i, e := podguardFilters(t, veth); i != 0 || e != 0 {
		t.Fatalf("after release filters: ingress %d egress %d", i, e)
	}
	if _, stderr, code := podguard(t, "release", "--config", in.config, "iso-a"); code == 0 || !strings.Contains(stderr, "no isolated pod matches") {
		t.Fatalf("second release: code %d err %q", code, stderr)
	}
}

// TestTerminate: a terminate rule leaves no running task in the pod.
func TestTerminate(t *testing.T) {
	n, in := guardedNode(t, "", map[string]string{"t.toml": "name = \"t\"\n[labels]\napp = \"php-term\"\n[[rule]]\nid = \"cron-persistence\"\nmitigation = \"terminate\"\n"})
	p := n.CreatePod(t, node.PodSpec{Name: "term", Labels: map[string]string{"app": "php-term"}, Containers: []node.ContainerSpec{
		{Name: "app", Command: []string{"sleep", "infinity"}}, {Name: "side", Command: []string{"sleep", "infinity"}}}})
	pids := []int{p.ContainerPID("app"), p.ContainerPID("side"), p.SandboxPID()}
	p.Exec(t, "app", "sh", "-c", "crontab -l; true")
	ev := in.waitEvent(t, p, "cron-persistence")
	if ev.Mitigation.Action != "terminate" || ev.Mitigation.Result != "applied" {
		t.Fatalf("mitigation = %+v", ev.Mitigation)
	}
	deadline := time.Now().Add(10 * time.Second)
	for _, pid := range pids {
		for alive(pid) {
			if time.Now().After(deadline) {
				t.Fatalf("task pid %d of the pod still runs after terminate (%+v)", pid, ev.Mitigation)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

// alive reports whether pid runs (a zombie counts as dead).
func alive(pid int) bool {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	s := string(data)
	i := strings.LastIndexByte(s, ')')
	return i > 0 && len(s) > i+2 && s[i+2] != 'Z'
}

// TestDryRun: with dry_run the event says what would have happened and
// nothing happens.
func TestDryRun(t *testing.T) {
	n, in := guardedNode(t, "dry_run = true", isolateOnShadow("php-dry"))
	p := n.CreatePod(t, sleeper("dry", map[string]string{"app": "php-dry"}))
	p.Exec(t, "app", "cat", "/etc/shadow")
	ev := in.waitEvent(t, p, "shadow-file-read")
	if ev.Mitigation.Action != "isolate" || ev.Mitigation.Result != "dry-run" || !strings.Contains(ev.Mitigation.Detail, "would isolate pod default/dry") {
		t.Fatalf("mitigation = %+v", ev.Mitigation)
	}
	if !reaches(t, p, gateway(t, n)) {
		t.Fatal("dry run isolated the pod")
	}
	if st, _ := in.statusErr(); len(st.Isolated) != 0 || !st.DryRun {
		t.Fatalf("status: dry_run %v isolated %+v", st.DryRun, st.Isolated)
	}
}

// TestInKernelKill: with container-drift set to terminate, a binary
// written in the container is killed by the kernel at exec, before it
// runs an instruction, and then the pod is terminated.
func TestInKernelKill(t *testing.T) {
	n, in := guardedNode(t, "", map[string]string{"d.toml": "name = \"d\"\n[labels]\napp = \"php-kill\"\n[[rule]]\nid = \"container-drift\"\nmitigation = \"terminate\"\n"})
	p := n.CreatePod(t, sleeper("kill", map[string]string{"app": "php-kill"}))
	killedInKernel(t, in, p, "container-drift", "cp /bin/busybox /tmp/bb; /tmp/bb touch /tmp/marker")
}

// TestIsolateHostNetworkPod: a pod on the host network has no veth; its
// isolation drops its own traffic (cgroup_skb on the pod's cgroup) and
// nobody else's.
func TestIsolateHostNetworkPod(t *testing.T) {
	n, in := guardedNode(t, "", isolateOnShadow("php-hostnet"))
	p := n.CreatePod(t, node.PodSpec{Name: "hostnet", Labels: map[string]string{"app": "php-hostnet"}, HostNetwork: true,
		Containers: []node.ContainerSpec{{Name: "app", Command: []string{"sleep", "infinity"}}}})
	const gw = "127.0.0.1" // the node's own loopback, shared by a host-network pod
	if !reaches(t, p, gw) {
		out, stderr, code := p.ExecOutput(t, "app", "ping", "-c", "1", "-W", "1", gw)
		t.Fatalf("host-network pod cannot reach the node's loopback before any attack: %d %s %s", code, out, stderr)
	}
	p.Exec(t, "app", "cat", "/etc/shadow")
	ev := in.waitEvent(t, p, "shadow-file-read")
	if ev.Mitigation.Result != "applied" {
		t.Fatalf("mitigation %+v", ev.Mitigation)
	}
	if reaches(t, p, gw) {
		t.Fatal("isolated host-network pod still reaches the node's loopback")
	}
	if out, err := exec.Command("/bin/busybox", "ping", "-c", "1", "-W", "1", gw).CombinedOutput(); err != nil {
		t.Fatalf("the node itself lost its loopback: %v %s", err, out)
	}
	st, _ := in.statusErr()
	if len(st.Isolated) != 1 || st.Isolated[0].Mode != "cgroup" {
		t.Fatalf("status isolated %+v", st.Isolated)
	}
	if _, stderr, code := podguard(t, "release", "--config", in.config, p.UID); code != 0 {
		t.Fatalf("release: %s", stderr)
	}
	if !reaches(t, p, gw) {
		t.Fatal("released host-network pod still cut off")
	}
}
