package workload

import (
	"log/slog"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/podguard/podguard/probes/cgroupfs"
)

// Config says which containerd to watch.
type Config struct {
	// Address is containerd's gRPC socket ("/run/containerd/containerd.sock" when empty).
	Address string
	// Namespace is the containerd namespace of the pods ("k8s.io" when empty).
	Namespace string
	// CgroupRoot is the cgroup v2 mount point; detected when empty.
	CgroupRoot string
}

// Stats is the resolver's state for `podguard status`.
type Stats struct {
	Connected  bool
	LastError  string // last connection or event error; "" if none
	Reconnects int    // connections made after the first
	Pods       int
	Containers int // workload containers (sandboxes not counted)
	CgroupMode string
}

// Resolver maps cgroup ids and pids to containers and pods. Its methods are
// safe for concurrent use; Run must be running for it to know anything.
type Resolver struct {
	cfg Config
	log *slog.Logger
	fs  cgroupfs.Layout

	mu         sync.RWMutex
	containers map[string]*Container // by container id, sandboxes included
	sandboxes  map[string]bool       // container ids that are sandboxes
	pods       map[string]*Pod       // by sandbox id
	byCgroup   map[uint64]string     // cgroup id → container id
	hints      map[string]Pod        // pod named by a workload's own annotations
	watched    map[string]Identity   // workload containers reported to subscribers
	stats      Stats
	fsErr      error

	subMu  sync.Mutex
	subs   map[int]func(added, removed []Identity)
	nextID int

	kick     chan string // container ids seen in /proc but not in the index
	kickMu   sync.Mutex
	kicked   map[string]time.Time
	synced   chan struct{}
	syncOnce sync.Once
}

// New makes a resolver for cfg; call Run to connect. A nil logger logs to
// slog.Default().
func New(cfg Config, logger *slog.Logger) *Resolver {
	if cfg.Address == "" {
		cfg.Address = "/run/containerd/containerd.sock"
	}
	if cfg.Namespace == "" {
		cfg.Namespace = "k8s.io"
	}
	if logger == nil {
		logger = slog.Default()
	}
	fs, err := cgroupfs.DetectAt(cfg.CgroupRoot)
	r := &Resolver{
		cfg: cfg, log: logger.With("component", "workload"), fs: fs, fsErr: err,
		containers: map[string]*Container{}, sandboxes: map[string]bool{}, pods: map[string]*Pod{},
		byCgroup: map[uint64]string{}, hints: map[string]Pod{}, watched: map[string]Identity{},
		subs: map[int]func(added, removed []Identity){}, synced: make(chan struct{}),
		kick: make(chan string, 64), kicked: map[string]time.Time{},
	}
	r.stats.CgroupMode = fs.Mode.String()
	return r
}

// CgroupMode is the cgroup layout the resolver found. In cgroupfs.V1 mode
// cgroup ids identify nothing: resolve by pid.
func (r *Resolver) CgroupMode() cgroupfs.Mode { return r.fs.Mode }

// Synced is closed once the first full listing of containerd is indexed.
func (r *Resolver) Synced() <-chan struct{} { return r.synced }

// Lookup resolves a cgroup id (bpf_get_current_cgroup_id) to a workload or
// sandbox container and its pod.
func (r *Resolver) Lookup(cgroupID uint64) (Identity, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	id, ok := r.byCgroup[cgroupID]
	if !ok {
		return Identity{}, false
	}
	return r.identityLocked(id), true
}

// LookupPID resolves a process from its /proc/<pid>/cgroup. It reports
// KindHost for a process outside any container, and false when the process
// is gone or its container is not in the index (the Identity then has Kind
// KindUnknown with the container id and pod UID the path names).
func (r *Resolver) LookupPID(pid uint32) (Identity, bool) {
	pc, err := procCgroup(pid)
	if err != nil {
		return Identity{}, false
	}
	p := pc.ContainerPath(r.fs.Root != "")
	cid := ContainerIDFromPath(p)
	if cid == "" {
		if PodUIDFromPath(p) != "" {
			return Identity{Kind: KindUnknown, Pod: Pod{UID: PodUIDFromPath(p)}}, false
		}
		return Identity{Kind: KindHost}, true
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	if _, ok := r.containers[cid]; !ok {
		r.askRefresh(cid)
		return Identity{Kind: KindUnknown, Container: Container{ID: cid, CgroupPath: p}, Pod: Pod{UID: PodUIDFromPath(p)}}, false
	}
	return r.identityLocked(cid), true
}

// Resolve names the source of an event: by cgroup id first (unless the host
// is v1-only), then once more from /proc/<pid>/cgroup. It never fails: what
// it cannot place is KindUnknown.
func (r *Resolver) Resolve(cgroupID uint64, pid uint32) Identity {
	if r.fs.Root != "" {
		if id, ok := r.Lookup(cgroupID); ok {
			return id
		}
	}
	if pid == 0 {
		return Identity{Kind: KindUnknown}
	}
	id, _ := r.LookupPID(pid)
	return id
}

// askRefresh asks Run to read a container the index lacks, at most once a
// minute per container, so a later event of it resolves.
func (r *Resolver) askRefresh(cid string) {
	r.kickMu.Lock()
	defer r.kickMu.Unlock()
	now := time.Now()
	if t, ok := r.kicked[cid]; ok && now.Sub(t) < time.Minute {
		return
	}
	if len(r.kicked) > 1024 {
		r.kicked = map[string]time.Time{}
	}
	select {
	case r.kick <- cid:
		r.kicked[cid] = now
	default:
	}
}

// identityLocked builds the identity of a known container; r.mu is held.
func (r *Resolver) identityLocked(cid string) Identity {
	c := r.containers[cid]
	id := Identity{Kind: KindWorkload, Container: *c}
	if r.sandboxes[cid] {
		id.Kind = KindSandbox
	}
	if p, ok := r.pods[c.SandboxID]; ok {
		id.Pod = *p
	} else if h, ok := r.hints[cid]; ok {
		id.Pod = h // sandbox not indexed (yet): no labels
	}
	return id
}

// Pods lists the pods on the node, sorted by namespace and name.
func (r *Resolver) Pods() []Pod {
	r.mu.RLock()
	out := make([]Pod, 0, len(r.pods))
	for _, p := range r.pods {
		out = append(out, *p)
	}
	r.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool {
		if out[i].Namespace != out[j].Namespace {
			return out[i].Namespace < out[j].Namespace
		}
		return out[i].Name < out[j].Name
	})
	return out
}

// PodByUID returns the pod with the given UID.
func (r *Resolver) PodByUID(uid string) (Pod, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	for _, p := range r.pods {
		if p.UID == uid {
			return *p, true
		}
	}
	return Pod{}, false
}

// Workloads lists the watched set: every workload container whose task
// exists (with its cgroup id on cgroup v2 hosts) and its pod, sorted by
// container id.
func (r *Resolver) Workloads() []Identity {
	r.mu.RLock()
	out := make([]Identity, 0, len(r.watched))
	for _, id := range r.watched {
		out = append(out, id)
	}
	r.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool { return out[i].Container.ID < out[j].Container.ID })
	return out
}

// Subscribe calls fn with each change of the watched set, in order, from
// the resolver's goroutine (fn must not block for long). It first calls fn,
// from the caller's goroutine, with the current set as added. An Identity in
// added replaces any earlier one of the same container (its pod's labels or
// cgroup id may have changed); removing what is not there is a no-op, so a
// change that races with subscribing may be seen twice, harmlessly. The
// returned func cancels the subscription.
func (r *Resolver) Subscribe(fn func(added, removed []Identity)) (cancel func()) {
	r.subMu.Lock()
	defer r.subMu.Unlock()
	id := r.nextID
	r.nextID++
	r.subs[id] = fn
	if cur := r.Workloads(); len(cur) > 0 {
		fn(cur, nil)
	}
	return func() {
		r.subMu.Lock()
		delete(r.subs, id)
		r.subMu.Unlock()
	}
}

// Stats reports connection state and index size.
func (r *Resolver) Stats() Stats {
	r.mu.RLock()
	defer r.mu.RUnlock()
	s := r.stats
	s.Pods = len(r.pods)
	s.Containers = len(r.containers) - len(r.sandboxes)
	return s
}

func (r *Resolver) setConnected(connected bool, err error, at time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.stats.Connected = connected
	if err != nil {
		r.stats.LastError = at.UTC().Format(time.RFC3339) + " " + err.Error()
	}
}

// userLabels drops CRI and kubelet bookkeeping labels.
func userLabels(labels map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range labels {
		if strings.HasPrefix(k, "io.kubernetes.") || strings.HasPrefix(k, "io.cri-containerd.") || strings.HasPrefix(k, "io.containerd.") {
			continue
		}
		out[k] = v
	}
	return out
}
