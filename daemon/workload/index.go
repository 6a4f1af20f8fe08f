package workload

import (
	"path"
	"reflect"
)

// record is what containerd tells about one container.
type record struct {
	id          string
	labels      map[string]string
	image       string
	annotations map[string]string
	cgroupsPath string
	pid         uint32 // pid of the running task's init process, 0 if none
	// The network namespace (sandboxes): the path CRI pinned it at, or
	// "" to use the task's; hostNetwork when the spec has none.
	netnsPath   string
	hostNetwork bool
}

// CRI's marks on the containers it makes.
const (
	labelKind          = "io.cri-containerd.kind"
	annotationType     = "io.kubernetes.cri.container-type"
	annotationSandbox  = "io.kubernetes.cri.sandbox-id"
	annotationName     = "io.kubernetes.cri.container-name"
	annotationImage    = "io.kubernetes.cri.image-name"
	annotationPodName  = "io.kubernetes.cri.sandbox-name"
	annotationPodNS    = "io.kubernetes.cri.sandbox-namespace"
	annotationPodUID   = "io.kubernetes.cri.sandbox-uid"
	labelPodName       = "io.kubernetes.pod.name"
	labelPodNamespace  = "io.kubernetes.pod.namespace"
	labelPodUID        = "io.kubernetes.pod.uid"
	labelContainerName = "io.kubernetes.container.name"
)

// entry turns a record into the index's view of it. ok is false for
// containers CRI did not make (they belong to no pod).
func (r *Resolver) entry(rec record) (c *Container, sandbox bool, pod *Pod, ok bool) {
	kind := rec.labels[labelKind]
	if kind == "" {
		kind = rec.annotations[annotationType]
	}
	if kind != "sandbox" && kind != "container" {
		return nil, false, nil, false
	}
	c = &Container{ID: rec.id, Image: rec.image, InitPID: rec.pid, CgroupPath: CgroupDir(rec.cgroupsPath)}
	c.CgroupID = cgroupID(r.fs.Root, c.CgroupPath)
	pod = &Pod{
		Name:      first(rec.labels[labelPodName], rec.annotations[annotationPodName]),
		Namespace: first(rec.labels[labelPodNamespace], rec.annotations[annotationPodNS]),
		UID:       first(rec.labels[labelPodUID], rec.annotations[annotationPodUID]),
	}
	if kind == "sandbox" {
		c.SandboxID = rec.id
		pod.SandboxID = rec.id
		pod.Labels = userLabels(rec.labels)
		pod.SandboxPID, pod.HostNetwork, pod.NetNSPath = rec.pid, rec.hostNetwork, rec.netnsPath
		if r.fs.Root != "" && c.CgroupPath != "" {
			pod.CgroupPath = path.Join(r.fs.Root, path.Dir(c.CgroupPath))
		}
		return c, true, pod, true
	}
	c.SandboxID = rec.annotations[annotationSandbox]
	c.Name = first(rec.annotations[annotationName], rec.labels[labelContainerName])
	c.Image = first(rec.annotations[annotationImage], rec.image)
	pod.SandboxID = c.SandboxID
	return c, false, pod, true
}

func first(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// change is a batch of watched-set changes to hand to subscribers.
type change struct{ added, removed []Identity }

// upsertLocked puts one container into the index; r.mu is held.
func (r *Resolver) upsertLocked(rec record) {
	c, sandbox, pod, ok := r.entry(rec)
	r.removeLocked(rec.id)
	if !ok {
		return
	}
	r.containers[c.ID] = c
	if c.CgroupID != 0 {
		r.byCgroup[c.CgroupID] = c.ID
	}
	if sandbox {
		r.sandboxes[c.ID] = true
		r.pods[c.ID] = pod
	} else {
		r.hints[c.ID] = *pod
	}
}

// removeLocked drops a container (and its pod, for a sandbox); r.mu is held.
func (r *Resolver) removeLocked(id string) {
	c, ok := r.containers[id]
	if !ok {
		return
	}
	if c.CgroupID != 0 && r.byCgroup[c.CgroupID] == id {
		delete(r.byCgroup, c.CgroupID)
	}
	delete(r.containers, id)
	delete(r.hints, id)
	if r.sandboxes[id] {
		delete(r.sandboxes, id)
		delete(r.pods, id)
	}
}

// diffWatchedLocked recomputes the watched set and returns what changed;
// r.mu is held.
func (r *Resolver) diffWatchedLocked() change {
	var ch change
	now := map[string]Identity{}
	for id, c := range r.containers {
		if r.sandboxes[id] || (c.CgroupID == 0 && (r.fs.Root != "" || c.InitPID == 0)) {
			continue
		}
		now[id] = r.identityLocked(id)
	}
	for id, old := range r.watched {
		cur, ok := now[id]
		if !ok || cur.Container.CgroupID != old.Container.CgroupID {
			ch.removed = append(ch.removed, old)
		}
	}
	for id, cur := range now {
		if old, ok := r.watched[id]; !ok || !reflect.DeepEqual(old, cur) {
			ch.added = append(ch.added, cur)
		}
	}
	r.watched = now
	return ch
}

// notify hands a change to the subscribers, outside r.mu.
func (r *Resolver) notify(ch change) {
	if len(ch.added) == 0 && len(ch.removed) == 0 {
		return
	}
	r.subMu.Lock()
	defer r.subMu.Unlock()
	for _, fn := range r.subs {
		fn(ch.added, ch.removed)
	}
}

// apply upserts records and removes ids, then notifies subscribers. With
// replace, everything not in recs is dropped (a full relisting).
func (r *Resolver) apply(recs []record, removed []string, replace bool) {
	r.mu.Lock()
	if replace {
		r.containers = map[string]*Container{}
		r.sandboxes = map[string]bool{}
		r.pods = map[string]*Pod{}
		r.byCgroup = map[uint64]string{}
		r.hints = map[string]Pod{}
	}
	for _, id := range removed {
		r.removeLocked(id)
	}
	for _, rec := range recs {
		r.upsertLocked(rec)
	}
	ch := r.diffWatchedLocked()
	r.mu.Unlock()
	r.notify(ch)
}

// taskCreated is the fast path of /tasks/create and /tasks/start for a
// container already indexed from /containers/create: the cgroup now exists,
// so its id is read without asking containerd, while runc's init still
// waits to exec the container's command. It reports false when the
// container is not indexed.
func (r *Resolver) taskCreated(id string, pid uint32) bool {
	r.mu.Lock()
	c, ok := r.containers[id]
	if !ok {
		r.mu.Unlock()
		return false
	}
	if c.CgroupID != 0 && r.byCgroup[c.CgroupID] == id {
		delete(r.byCgroup, c.CgroupID)
	}
	c.InitPID = pid
	c.CgroupID = cgroupID(r.fs.Root, c.CgroupPath)
	if c.CgroupID != 0 {
		r.byCgroup[c.CgroupID] = id
	}
	ch := r.diffWatchedLocked()
	r.mu.Unlock()
	r.notify(ch)
	return true
}
