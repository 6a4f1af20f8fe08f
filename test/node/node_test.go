package node_test

import (
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vishvananda/netlink"

	"github.com/podguard/podguard/test/node"
)

func TestMain(m *testing.M) { os.Exit(node.RunTests(m)) }

func TestPodLifecycle(t *testing.T) {
	n := node.Start(t)
	p := n.CreatePod(t, node.PodSpec{
		Name:      "web",
		Namespace: "shop",
		Labels:    map[string]string{"app": "php"},
		Containers: []node.ContainerSpec{
			{Name: "app"},
			{Name: "side", Command: []string{"sh", "-c", "echo hi > /tmp/x; sleep infinity"}},
		},
	})
	out, code := p.Exec(t, "app", "sh", "-c", "echo hello; id -u")
	if code != 0 || out != "hello\n0\n" {
		t.Fatalf("exec: got %q exit %d, want \"hello\\n0\\n\" exit 0", out, code)
	}
	if _, code := p.Exec(t, "app", "sh", "-c", "exit 7"); code != 7 {
		t.Fatalf("exec exit code: got %d, want 7", code)
	}
	if out, _ := p.Exec(t, "side", "cat", "/tmp/x"); out != "hi\n" {
		t.Fatalf("side container file: got %q", out)
	}

	pid := p.ContainerPID("app")
	cg, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cgroup")
	if err != nil {
		t.Fatal(err)
	}
	want := "0::/kubepods/besteffort/pod" + p.UID + "/" + p.ContainerID("app")
	if !strings.Contains(string(cg), want+"\n") {
		t.Fatalf("cgroup of container pid %d: want line %q in\n%s", pid, want, cg)
	}
	if p.CgroupID("app") == p.CgroupID("side") || p.CgroupID("app") == p.SandboxCgroupID() {
		t.Fatal("containers of one pod share a cgroup id")
	}
	if !strings.HasPrefix(p.IP(), "10.88.") {
		t.Fatalf("pod ip %q not in node subnet %s", p.IP(), n.Subnet())
	}
	veth := p.HostVeth()
	if !strings.HasPrefix(veth, "veth") {
		t.Fatalf("host veth %q", veth)
	}
	t.Logf("pod %s uid %s ip %s netns %s veth %s cgroup %s", p.Name, p.UID, p.IP(), p.NetNS(), veth, p.CgroupPath("app"))

	cgdir := p.CgroupPath("app")
	p.Delete(t)
	if _, err := os.Stat(cgdir); !os.IsNotExist(err) {
		t.Fatalf("cgroup %s still there after delete: %v", cgdir, err)
	}
	if _, err := os.Stat(p.NetNS()); !os.IsNotExist(err) {
		t.Fatalf("netns %s still there after delete: %v", p.NetNS(), err)
	}
}

func TestContainerdRestartKeepsPods(t *testing.T) {
	n := node.Start(t)
	p := n.CreatePod(t, node.PodSpec{Name: "survivor", Containers: []node.ContainerSpec{{Name: "app"}}})
	pid := p.ContainerPID("app")
	n.StopContainerd(t)
	if _, err := os.Stat("/proc/" + strconv.Itoa(pid)); err != nil {
		t.Fatalf("container process %d gone while containerd was stopped: %v", pid, err)
	}
	n.StartContainerd(t)
	if out, code := p.Exec(t, "app", "echo", "back"); code != 0 || out != "back\n" {
		t.Fatalf("exec after restart: %q exit %d", out, code)
	}
	old := p.ContainerID("app")
	p.RestartContainer(t, "app")
	if p.ContainerID("app") == old {
		t.Fatal("restarted container kept its id")
	}
	if out, code := p.Exec(t, "app", "echo", "again"); code != 0 || out != "again\n" {
		t.Fatalf("exec after container restart: %q exit %d", out, code)
	}
	q := n.CreatePod(t, node.PodSpec{Name: "after", Containers: []node.ContainerSpec{{Name: "app"}}})
	if q.IP() == p.IP() {
		t.Fatalf("two pods share ip %s", p.IP())
	}
}

func TestPodsReachEachOtherOnTheBridge(t *testing.T) {
	n := node.Start(t)
	server := n.CreatePod(t, node.PodSpec{Name: "server", Containers: []node.ContainerSpec{
		{Name: "http", Command: []string{"sh", "-c", "mkdir -p /www && echo pong > /www/ping && httpd -f -p 8080 -h /www"}},
	}})
	client := n.CreatePod(t, node.PodSpec{Name: "client", Containers: []node.ContainerSpec{{Name: "app"}}})
	veth := server.HostVeth()
	link, err := netlink.LinkByName(veth)
	if err != nil {
		t.Fatal(err)
	}
	br, err := netlink.LinkByName(n.Bridge())
	if err != nil {
		t.Fatal(err)
	}
	if link.Attrs().MasterIndex != br.Attrs().Index {
		t.Fatalf("host veth %s is not on bridge %s", veth, n.Bridge())
	}
	var out string
	for i := 0; i < 50; i++ { // httpd may not listen yet
		out, _ = client.Exec(t, "app", "timeout", "5", "wget", "-q", "-O", "-", "http://"+server.IP()+":8080/ping")
		if out == "pong\n" {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if out != "pong\n" {
		t.Fatalf("client pod got %q from server pod %s", out, server.IP())
	}
	routes, code := client.Exec(t, "app", "ip", "route")
	if code != 0 || !strings.Contains(routes, "dev eth0") || strings.Contains(routes, "default") {
		t.Fatalf("pod routes (exit %d), want only the subnet:\n%s", code, routes)
	}
}
