package workload

import (
	"fmt"
	"strings"
	"testing"

	"github.com/podguard/podguard/probes/cgroupfs"
)

func sandboxRecord(id, name, uid string, labels map[string]string) record {
	l := map[string]string{labelKind: "sandbox", labelPodName: name, labelPodNamespace: "default", labelPodUID: uid}
	for k, v := range labels {
		l[k] = v
	}
	return record{id: id, labels: l, cgroupsPath: "/kubepods/besteffort/pod" + uid + "/" + id}
}

func containerRecord(id, name, sandbox, uid string) record {
	return record{id: id, labels: map[string]string{labelKind: "container", labelContainerName: name},
		annotations: map[string]string{annotationSandbox: sandbox, annotationName: name, annotationPodName: "web",
			annotationPodNS: "default", annotationPodUID: uid, annotationImage: "podguard.test/busybox:1"},
		cgroupsPath: "kubepods-besteffort-pod" + strings.ReplaceAll(uid, "-", "_") + ".slice:cri-containerd:" + id, pid: 42}
}

// The index's view of containerd records, without any cgroup filesystem
// (as on a v1-only host, where workloads with a task are watched).
func TestIndexRecords(t *testing.T) {
	r := New(Config{}, nil)
	r.fs = cgroupfs.Layout{Mode: cgroupfs.V1}
	var added, removed []Identity
	r.Subscribe(func(a, rm []Identity) { added, removed = append(added, a...), append(removed, rm...) })

	sb, c1 := fmt.Sprintf("%064x", 1), fmt.Sprintf("%064x", 2)
	// The workload first: its own annotations name the pod until the
	// sandbox is indexed.
	r.apply([]record{containerRecord(c1, "app", sb, uid)}, nil, false)
	id := r.identityOf(c1)
	if id.Kind != KindWorkload || id.Pod.Name != "web" || id.Pod.UID != uid || len(id.Pod.Labels) != 0 || id.Container.Name != "app" {
		t.Fatalf("workload before its sandbox: %+v", id)
	}
	if id.Container.CgroupPath != "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod"+strings.ReplaceAll(uid, "-", "_")+".slice/cri-containerd-"+c1+".scope" {
		t.Fatalf("cgroup path %q", id.Container.CgroupPath)
	}
	r.apply([]record{sandboxRecord(sb, "web", uid, map[string]string{"app": "php"})}, nil, false)
	if id := r.identityOf(c1); id.Pod.Labels["app"] != "php" || id.Pod.SandboxID != sb {
		t.Fatalf("workload after its sandbox: %+v", id)
	}
	if id := r.identityOf(sb); id.Kind != KindSandbox {
		t.Fatalf("sandbox: %+v", id)
	}
	if len(added) != 2 || added[1].Pod.Labels["app"] != "php" || len(removed) != 0 {
		t.Fatalf("changes: added %+v removed %+v", added, removed)
	}
	// Not made by CRI: not indexed.
	r.apply([]record{{id: fmt.Sprintf("%064x", 3), labels: map[string]string{"foo": "bar"}, pid: 7}}, nil, false)
	if st := r.Stats(); st.Pods != 1 || st.Containers != 1 {
		t.Fatalf("stats %+v", st)
	}
	// A full relisting without the pod drops it and tells subscribers.
	r.apply(nil, nil, true)
	if st := r.Stats(); st.Pods != 0 || st.Containers != 0 || len(removed) != 1 || removed[0].Container.ID != c1 {
		t.Fatalf("after relist: %+v, removed %+v", st, removed)
	}
}

func (r *Resolver) identityOf(cid string) Identity {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.identityLocked(cid)
}

func BenchmarkLookup(b *testing.B) {
	r := New(Config{}, nil)
	r.fs = cgroupfs.Layout{Mode: cgroupfs.V1}
	var recs []record
	for i := 0; i < 500; i++ {
		sb, c := fmt.Sprintf("%064x", 2*i), fmt.Sprintf("%064x", 2*i+1)
		u := fmt.Sprintf("00000000-0000-4000-8000-%012d", i)
		recs = append(recs, sandboxRecord(sb, fmt.Sprint("pod", i), u, map[string]string{"app": "php"}), containerRecord(c, "app", sb, u))
	}
	r.apply(recs, nil, true)
	r.mu.Lock()
	for i, c := range r.containers { // give each container a cgroup id
		c.CgroupID = uint64(len(r.byCgroup) + 1)
		r.byCgroup[c.CgroupID] = i
	}
	r.mu.Unlock()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, ok := r.Lookup(uint64(i%1000) + 1); !ok {
			b.Fatal("miss")
		}
	}
}
