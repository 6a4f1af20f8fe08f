package workload_test

import (
	"os"
	"testing"

	"github.com/podguard/podguard/daemon/workload"
	"github.com/podguard/podguard/probes/cgroupfs"
	"github.com/podguard/podguard/test/node"
)

func TestResolveNewPodByCgroupID(t *testing.T) {
	n := node.Start(t)
	r := startResolver(t, n)
	rec := subscribe(t, r)
	labels := map[string]string{"app": "php", "tier": "front"}
	p := n.CreatePod(t, node.PodSpec{Name: "web", Namespace: "shop", Labels: labels,
		Containers: []node.ContainerSpec{{Name: "app"}, {Name: "side"}}})

	cg := cgroupIDOfPID(t, p.ContainerPID("app"))
	if cg != p.CgroupID("app") {
		t.Fatalf("cgroup id from /proc/pid/cgroup %d != cgroup dir inode %d", cg, p.CgroupID("app"))
	}
	waitFor(t, "app container in index", lookup(r, cg))
	id, _ := r.Lookup(cg)
	if id.Kind != workload.KindWorkload || id.Container.ID != p.ContainerID("app") || id.Container.Name != "app" {
		t.Fatalf("Lookup(%d) = %+v, want workload container app %s", cg, id, p.ContainerID("app"))
	}
	if id.Pod.Name != "web" || id.Pod.Namespace != "shop" || id.Pod.UID != p.UID || !sameLabels(id.Pod.Labels, labels) {
		t.Fatalf("Lookup pod = %+v, want shop/web uid %s labels %v", id.Pod, p.UID, labels)
	}
	if id.Container.InitPID != uint32(p.ContainerPID("app")) || id.Container.Image != node.ImageRef {
		t.Fatalf("container = %+v, want init pid %d image %s", id.Container, p.ContainerPID("app"), node.ImageRef)
	}

	side := cgroupIDOfPID(t, p.ContainerPID("side"))
	waitFor(t, "side container in index", lookup(r, side))
	sid, _ := r.Lookup(side)
	if sid.Kind != workload.KindWorkload || sid.Container.Name != "side" || sid.Pod.UID != p.UID {
		t.Fatalf("second container: %+v, want side of pod %s", sid, p.UID)
	}

	sb, ok := r.Lookup(p.SandboxCgroupID())
	if !ok || sb.Kind != workload.KindSandbox || sb.Pod.UID != p.UID {
		t.Fatalf("sandbox cgroup: %+v %v, want sandbox of pod %s", sb, ok, p.UID)
	}
	if host, ok := r.LookupPID(uint32(os.Getpid())); !ok || host.Kind != workload.KindHost {
		t.Fatalf("LookupPID(test process) = %+v %v, want host", host, ok)
	}
	if byPID, ok := r.LookupPID(uint32(p.ContainerPID("side"))); !ok || byPID.Container.Name != "side" || byPID.Pod.Name != "web" {
		t.Fatalf("LookupPID(side) = %+v %v", byPID, ok)
	}
	// An unknown cgroup id falls back to the pid.
	if res := r.Resolve(1<<62, uint32(p.ContainerPID("app"))); res.Kind != workload.KindWorkload || res.Container.Name != "app" {
		t.Fatalf("Resolve(unknown cgroup, app pid) = %+v", res)
	}
	if res := r.Resolve(1<<62, uint32(os.Getpid())); res.Kind != workload.KindHost {
		t.Fatalf("Resolve(unknown cgroup, host pid) = %+v", res)
	}

	for _, name := range []string{"app", "side"} {
		got, ok := rec.get(true, p.ContainerID(name))
		if !ok || got.Container.CgroupID == 0 || got.Pod.UID != p.UID {
			t.Fatalf("subscriber: added %s = %+v %v", name, got, ok)
		}
	}
	if _, ok := rec.get(true, p.SandboxID); ok {
		t.Fatal("subscriber was handed the sandbox as a workload")
	}
	var mine int
	for _, w := range r.Workloads() {
		if w.Pod.UID == p.UID {
			mine++
			if w.Kind != workload.KindWorkload || !sameLabels(w.Pod.Labels, labels) {
				t.Fatalf("watched entry %+v", w)
			}
		}
	}
	if mine != 2 {
		t.Fatalf("watched set has %d containers of the pod, want 2", mine)
	}
	if pod, ok := r.PodByUID(p.UID); !ok || pod.SandboxID != p.SandboxID || pod.Name != "web" {
		t.Fatalf("PodByUID = %+v %v", pod, ok)
	}
	// The mode `podguard status` prints is the one `podguard kernel` prints.
	if st := r.Stats(); !st.Connected || st.Pods < 1 || st.Containers < 2 || st.CgroupMode != cgroupfs.Detect().Mode.String() {
		t.Fatalf("Stats = %+v, want cgroup mode %s", st, cgroupfs.Detect().Mode)
	}
}

func TestResolveExistingPodFromListing(t *testing.T) {
	n := node.Start(t)
	p := n.CreatePod(t, node.PodSpec{Name: "db", Namespace: "data", Labels: map[string]string{"app": "mysql"},
		Containers: []node.ContainerSpec{{Name: "mysql"}}})
	r := startResolver(t, n)
	// Right after sync, without waiting for any event.
	id, ok := r.Lookup(p.CgroupID("mysql"))
	if !ok || id.Kind != workload.KindWorkload || id.Pod.Name != "db" || id.Pod.Labels["app"] != "mysql" {
		t.Fatalf("Lookup after listing = %+v %v", id, ok)
	}
	var found bool
	for _, pod := range r.Pods() {
		found = found || pod.UID == p.UID
	}
	if !found {
		t.Fatalf("Pods() lacks %s: %+v", p.UID, r.Pods())
	}
}

func TestRestartedContainerKeepsPod(t *testing.T) {
	n := node.Start(t)
	r := startResolver(t, n)
	p := n.CreatePod(t, node.PodSpec{Name: "crashy", Labels: map[string]string{"app": "php"},
		Containers: []node.ContainerSpec{{Name: "app"}}})
	old := p.CgroupID("app")
	waitFor(t, "first container", lookup(r, old))
	p.RestartContainer(t, "app")
	cur := p.CgroupID("app")
	if cur == old {
		t.Fatal("restarted container kept its cgroup id")
	}
	waitFor(t, "restarted container", lookup(r, cur))
	id, _ := r.Lookup(cur)
	if id.Pod.UID != p.UID || id.Container.ID != p.ContainerID("app") || id.Pod.Labels["app"] != "php" {
		t.Fatalf("restarted container resolves to %+v, want pod %s", id, p.UID)
	}
	waitFor(t, "old cgroup id to leave the index", func() bool { _, ok := r.Lookup(old); return !ok })
}

func TestReconnectAfterContainerdRestart(t *testing.T) {
	n := node.Start(t)
	r := startResolver(t, n)
	before := n.CreatePod(t, node.PodSpec{Name: "before", Containers: []node.ContainerSpec{{Name: "app"}}})
	waitFor(t, "pod before restart", lookup(r, before.CgroupID("app")))

	n.StopContainerd(t)
	waitFor(t, "resolver to notice containerd is gone", func() bool { return !r.Stats().Connected })
	if st := r.Stats(); st.LastError == "" {
		t.Fatalf("no last error after containerd stopped: %+v", st)
	}
	n.StartContainerd(t)
	waitFor(t, "resolver to reconnect", func() bool { return r.Stats().Connected })

	after := n.CreatePod(t, node.PodSpec{Name: "after", Labels: map[string]string{"app": "new"},
		Containers: []node.ContainerSpec{{Name: "app"}}})
	waitFor(t, "pod created after restart", lookup(r, after.CgroupID("app")))
	id, _ := r.Lookup(after.CgroupID("app"))
	if id.Pod.Name != "after" || id.Pod.Labels["app"] != "new" {
		t.Fatalf("new pod resolves to %+v", id)
	}
	if id, ok := r.Lookup(before.CgroupID("app")); !ok || id.Pod.Name != "before" {
		t.Fatalf("pod from before the restart: %+v %v", id, ok)
	}
	if st := r.Stats(); st.Reconnects < 1 {
		t.Fatalf("Stats().Reconnects = %d, want >= 1", st.Reconnects)
	}
}

func TestDeletedPodLeavesNothing(t *testing.T) {
	n := node.Start(t)
	r := startResolver(t, n)
	rec := subscribe(t, r)
	p := n.CreatePod(t, node.PodSpec{Name: "gone", Labels: map[string]string{"app": "php"},
		Containers: []node.ContainerSpec{{Name: "a"}, {Name: "b"}}})
	a, b, sb := p.CgroupID("a"), p.CgroupID("b"), p.SandboxCgroupID()
	ida, idb := p.ContainerID("a"), p.ContainerID("b")
	waitFor(t, "pod in index", func() bool { return lookup(r, a)() && lookup(r, b)() && lookup(r, sb)() })
	p.Delete(t)
	waitFor(t, "pod to leave the index", func() bool {
		_, okPod := r.PodByUID(p.UID)
		return !lookup(r, a)() && !lookup(r, b)() && !lookup(r, sb)() && !okPod
	})
	for _, w := range r.Workloads() {
		if w.Pod.UID == p.UID {
			t.Fatalf("watched set still has %+v", w)
		}
	}
	for _, cid := range []string{ida, idb} {
		if got, ok := rec.get(false, cid); !ok || got.Pod.UID != p.UID {
			t.Fatalf("subscriber not told %s was removed: %+v %v", cid, got, ok)
		}
	}
}

func TestCgroupV1OnlyResolvesByPID(t *testing.T) {
	n := node.Start(t)
	r := startResolver(t, n, workload.ForceCgroupV1)
	if r.CgroupMode() != cgroupfs.V1 || r.Stats().CgroupMode != "v1" {
		t.Fatalf("mode %v", r.CgroupMode())
	}
	p := n.CreatePod(t, node.PodSpec{Name: "v1-only", Labels: map[string]string{"app": "php"},
		Containers: []node.ContainerSpec{{Name: "app"}}})
	pid := uint32(p.ContainerPID("app"))
	// On v1-only hosts BPF reports the v2 root's id for every task.
	waitFor(t, "container in index", func() bool { return r.Resolve(1, pid).Kind == workload.KindWorkload })
	id := r.Resolve(1, pid)
	if id.Container.ID != p.ContainerID("app") || id.Pod.UID != p.UID || id.Pod.Labels["app"] != "php" {
		t.Fatalf("Resolve by pid on v1 = %+v", id)
	}
	if _, ok := r.Lookup(p.CgroupID("app")); ok {
		t.Fatal("v1 mode resolved a cgroup id")
	}
	if sb := r.Resolve(1, uint32(p.SandboxPID())); sb.Kind != workload.KindSandbox {
		t.Fatalf("sandbox pid resolves to %+v", sb)
	}
	if host := r.Resolve(1, uint32(os.Getpid())); host.Kind != workload.KindHost {
		t.Fatalf("host pid resolves to %+v", host)
	}
	var watched bool
	for _, w := range r.Workloads() {
		if w.Container.ID == p.ContainerID("app") {
			watched = w.Container.CgroupID == 0 && w.Container.InitPID == pid
		}
	}
	if !watched {
		t.Fatalf("watched set lacks the container (with no cgroup id, init pid %d): %+v", pid, r.Workloads())
	}
}

func TestSubscribeStartsWithCurrentSet(t *testing.T) {
	n := node.Start(t)
	p := n.CreatePod(t, node.PodSpec{Name: "early", Labels: map[string]string{"app": "php"},
		Containers: []node.ContainerSpec{{Name: "app"}}})
	r := startResolver(t, n)
	rec := subscribe(t, r)
	got, ok := rec.get(true, p.ContainerID("app"))
	if !ok || got.Container.CgroupID != p.CgroupID("app") || got.Pod.Labels["app"] != "php" {
		t.Fatalf("first call of a new subscriber lacks the running container: %+v %v", got, ok)
	}
}
