package test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/podguard/podguard/daemon/api"
	"github.com/podguard/podguard/test/node"
)

// inPod runs a command inside a container (its init pid and cgroup2
// directory) without containerd: it joins the container's cgroup and
// namespaces the way runc exec would.
func inPod(t testing.TB, pid int, cgroupDir string, cmd string) {
	t.Helper()
	script := fmt.Sprintf("echo $$ > %s/cgroup.procs && exec nsenter -t %d -m -u -i -n -p sh -c %q", cgroupDir, pid, cmd)
	out, err := exec.Command("sh", "-c", script).CombinedOutput()
	if err != nil && !strings.Contains(string(out), "") {
		t.Logf("inPod %q: %v %s", cmd, err, out)
	}
}

// TestContainerdRestart: while containerd is down, events of known pods are
// still attributed and a terminate that needs containerd fails with a
// clear result; once containerd is back, the next event of the incident
// terminates the pod and new pods resolve.
func TestContainerdRestart(t *testing.T) {
	n, in := guardedNode(t, "", map[string]string{"t.toml": "name = \"t\"\n[labels]\napp = \"php-ctrd\"\n[[rule]]\nid = \"shadow-file-read\"\nmitigation = \"terminate\"\n"})
	p := n.CreatePod(t, sleeper("ctrd-a", map[string]string{"app": "php-ctrd"}))
	in.waitStatus(t, 10*time.Second, "pod known", func(s api.Status) bool { return s.Containerd.Containers >= 1 })
	pid, cg, sandbox := p.ContainerPID("app"), p.CgroupPath("app"), p.SandboxPID()

	n.StopContainerd(t)
	in.waitStatus(t, 10*time.Second, "containerd seen down", func(s api.Status) bool { return !s.Containerd.Connected })
	inPod(t, pid, cg, "cat /etc/shadow")
	ev := in.waitEvent(t, p, "shadow-file-read")
	if ev.Pod.Name != "ctrd-a" || ev.Mitigation.Result != "failed" || !strings.Contains(ev.Mitigation.Error, "containerd") {
		t.Fatalf("event while containerd is down: pod %q mitigation %+v", ev.Pod.Name, ev.Mitigation)
	}

	n.StartContainerd(t)
	in.waitStatus(t, 30*time.Second, "containerd reconnected", func(s api.Status) bool { return s.Containerd.Connected })
	inPod(t, pid, cg, "cat /etc/shadow") // same incident, now mitigable
	deadline := time.Now().Add(15 * time.Second)
	for alive(sandbox) {
		if time.Now().After(deadline) {
			t.Fatalf("pod not terminated after containerd came back; events %s", summarize(in.events(t)))
		}
		time.Sleep(50 * time.Millisecond)
	}
	q := n.CreatePod(t, sleeper("ctrd-b", map[string]string{"app": "php-ctrd"}))
	q.Exec(t, "app", "cat", "/etc/shadow")
	if ev := in.waitEvent(t, q, "shadow-file-read"); ev.Pod.Name != "ctrd-b" || ev.Mitigation.Result != "applied" {
		t.Fatalf("new pod after restart: %+v", ev)
	}
}

// TestRulesDirectoryDeletedAndRecreated: rules stay in force while the
// directory is gone, and the new directory's rules apply when it returns.
func TestRulesDirectoryDeletedAndRecreated(t *testing.T) {
	in := newInstance(t, "")
	writeFile(t, filepath.Join(in.rules, "a.toml"), php("log"))
	in.start(t)
	in.waitStatus(t, reloadWithin, "php", func(s api.Status) bool { return activeSet(s) == "php" })
	if err := os.RemoveAll(in.rules); err != nil {
		t.Fatal(err)
	}
	st := in.waitStatus(t, reloadWithin, "directory gone noticed", func(s api.Status) bool {
		return strings.Contains(s.Rules.Note, "does not exist; keeping the rules in force")
	})
	if activeSet(st) != "php" {
		t.Fatalf("rules dropped with the directory: %q", activeSet(st))
	}
	os.Mkdir(in.rules, 0o755)
	writeFile(t, filepath.Join(in.rules, "b.toml"), strings.Replace(php("terminate"), `"php"`, `"php-b"`, 1))
	in.waitStatus(t, 2*reloadWithin, "recreated directory in force", func(s api.Status) bool { return activeSet(s) == "php-b" && s.Rules.Note == "" })
}

// TestEventsDiskFull: with the events file's disk full, detection and
// mitigation go on, the lost lines are counted, and the events are still
// served by the daemon.
func TestEventsDiskFull(t *testing.T) {
	n := node.Start(t)
	dir := filepath.Join(t.TempDir(), "small")
	os.Mkdir(dir, 0o755)
	if err := unix.Mount("tmpfs", dir, "tmpfs", 0, "size=64k"); err != nil {
		t.Fatalf("mount a small tmpfs: %v", err)
	}
	t.Cleanup(func() { unix.Unmount(dir, unix.MNT_DETACH) })
	filler, _ := os.Create(filepath.Join(dir, "filler"))
	for {
		if _, err := filler.Write(make([]byte, 4096)); err != nil {
			break // ENOSPC: the disk is full
		}
	}
	filler.Close()
	in := newInstance(t, fmt.Sprintf("[containerd]\naddress = %q\n", n.Socket()))
	cfg, _ := os.ReadFile(in.config)
	writeFile(t, in.config, strings.Replace(string(cfg), filepath.Join(in.dir, "events.jsonl"), filepath.Join(dir, "events.jsonl"), 1))
	for name, src := range isolateOnShadow("php-full") {
		writeFile(t, filepath.Join(in.rules, name), src)
	}
	in.start(t)
	in.waitStatus(t, 30*time.Second, "ready", func(s api.Status) bool { return s.Containerd.Connected })
	p := n.CreatePod(t, sleeper("full", map[string]string{"app": "php-full"}))
	p.Exec(t, "app", "cat", "/etc/shadow")
	st := in.waitStatus(t, eventWait, "isolation despite the full disk", func(s api.Status) bool {
		return len(s.Isolated) == 1 && s.Counters["events_file_write_lost"] >= 1
	})
	if reaches(t, p, gateway(t, n)) {
		t.Fatal("pod not isolated")
	}
	out, _, code := podguard(t, "events", "--config", in.config, "--json", "--rule", "shadow-file-read")
	if code != 0 || !strings.Contains(out, `"name":"full"`) {
		t.Fatalf("events from the daemon: code %d out %q (counters %v)", code, out, st.Counters)
	}
}

// TestForkBombOverload: a fork/exec bomb in a pod bounded by a pids limit,
// with every rule loaded: podguard stays up with bounded memory, counts
// whatever it drops, and still mitigates the pod.
func TestForkBombOverload(t *testing.T) {
	n, in := guardedNode(t, "", map[string]string{
		"all.toml": "name = \"all\"\n[labels]\napp = \"bomb\"\n[[rule]]\nid = \"*\"\nmitigation = \"log\"\n[[rule]]\nid = \"shadow-file-read\"\nmitigation = \"isolate\"\n"})
	// A shell as the container's init reaps the bomb's orphans, as a real
	// init would; without it zombies hold the pids limit forever.
	p := n.CreatePod(t, node.PodSpec{Name: "bomb", Labels: map[string]string{"app": "bomb"}, Containers: []node.ContainerSpec{
		{Name: "app", Command: []string{"sh", "-c", "while :; do sleep 1; done"}}}})
	pidsMax := filepath.Join("/sys/fs/cgroup/pids", strings.TrimPrefix(p.CgroupPath("app"), "/sys/fs/cgroup/unified"), "pids.max")
	if err := os.WriteFile(pidsMax, []byte("128"), 0o644); err != nil {
		// pure cgroup v2: the limit lives beside the cgroup id directory
		if err := os.WriteFile(filepath.Join(p.CgroupPath("app"), "pids.max"), []byte("128"), 0o644); err != nil {
			t.Fatalf("set pids limit: %v", err)
		}
	}
	st0, _ := in.statusErr()
	// Forks fail once the pids limit is reached; the inner shell then
	// exits and the outer loop starts another, until the time is up.
	p.Exec(t, "app", "sh", "-c", `timeout 10 sh -c 'while :; do sh -c "while :; do /bin/true & cat /etc/shadow >/dev/null & done" 2>/dev/null; done' >/dev/null 2>&1; true`)
	st := in.waitStatus(t, eventWait, "bomb pod isolated", func(s api.Status) bool { return len(s.Isolated) == 1 })
	rss := vmRSS(t, in.cmd.Process.Pid)
	execs := st.Probes.Events["exec"] - st0.Probes.Events["exec"]
	t.Logf("bomb: %d exec events delivered, drops %v, daemon RSS %d MiB", execs, st.Probes.Drops, rss>>20)
	if execs < 1000 {
		t.Fatalf("the bomb produced only %d exec events; the test did not load podguard", execs)
	}
	if rss > 200<<20 {
		t.Fatalf("daemon RSS %d MiB under the bomb", rss>>20)
	}
	for kind, d := range st.Probes.Drops {
		if d.Ring+d.Queue+d.Share == 0 {
			t.Errorf("drops listed for %s with zero count", kind)
		}
	}
	if in.cmd.ProcessState != nil {
		t.Fatal("podguard died under the bomb")
	}
}

func vmRSS(t *testing.T, pid int) int64 {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(data), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb << 10
		}
	}
	return 0
}
