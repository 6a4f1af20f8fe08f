package mitigate

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"strconv"
	"sync"
	"syscall"
	"time"

	containerd "github.com/containerd/containerd/v2/client"
	"github.com/containerd/errdefs"

	"github.com/podguard/podguard/daemon/catalog"
	"github.com/podguard/podguard/daemon/workload"
	"github.com/podguard/podguard/isolate"
)

// Pods lists the workload containers the node runs.
type Pods interface {
	Workloads() []workload.Identity
	PodByUID(uid string) (workload.Pod, bool)
}

// Config configures a Mitigator.
type Config struct {
	Address, Namespace string // containerd
	StateDir           string
	Allow              []netip.Prefix
}

// Mitigator applies mitigations. Its methods are safe for concurrent use.
type Mitigator struct {
	cfg    Config
	pods   Pods
	log    *slog.Logger
	iso    *isolate.Isolator
	isoErr error

	mu     sync.Mutex
	client *containerd.Client
}

// New makes a mitigator. Isolation that cannot be set up (no BPF, not
// root) is reported by every isolate attempt rather than failing here.
func New(cfg Config, pods Pods, log *slog.Logger) *Mitigator {
	m := &Mitigator{cfg: cfg, pods: pods, log: log.With("component", "mitigate")}
	m.iso, m.isoErr = isolate.New(cfg.StateDir, cfg.Allow, log.With("component", "isolate"))
	if m.isoErr != nil {
		m.log.Error("network isolation unavailable", "err", m.isoErr)
	}
	return m
}

// Close releases handles; isolation stays in the kernel by design.
func (m *Mitigator) Close() {
	if m.iso != nil {
		m.iso.Close()
	}
	m.mu.Lock()
	if m.client != nil {
		m.client.Close()
	}
	m.mu.Unlock()
}

// Result says how a mitigation went.
type Result int

const (
	// Applied: the mitigation is in place (Outcome.Acted says whether
	// this call put it there), or the action was log.
	Applied Result = iota
	// Failed: it could not be applied; Outcome.Err says why.
	Failed
	// DryRun: nothing was applied; Outcome.Detail says what would have been.
	DryRun
)

// Outcome is what Apply did.
type Outcome struct {
	Result Result
	Detail string
	Err    error // set when Result is Failed
	// Acted is true when Apply changed something (isolation newly in
	// place, SIGKILL sent, or an attempt that failed), false when the
	// incident's mitigation was already in place, or nothing was to do.
	Acted bool
	// AppliedAt is when the mitigation took effect (isolation filters in
	// the kernel, SIGKILL sent); zero unless Acted without error.
	AppliedAt time.Time
}

// Apply carries out action for the pod of id because of rule.
func (m *Mitigator) Apply(ctx context.Context, action catalog.Mitigation, id workload.Identity, rule string, dryRun bool) Outcome {
	if action == catalog.Log {
		return Outcome{Result: Applied}
	}
	if dryRun {
		return Outcome{Result: DryRun, Detail: fmt.Sprintf("dry run: would %s pod %s/%s", action, id.Pod.Namespace, id.Pod.Name)}
	}
	var o Outcome
	var err error
	switch action {
	case catalog.Isolate:
		o.Detail, o.Acted, err = m.isolate(ctx, id, rule)
	case catalog.Terminate:
		o.Detail, o.Acted, err = m.terminate(ctx, id)
	default:
		err = fmt.Errorf("unknown mitigation %v", action)
	}
	if err != nil {
		m.log.Error("mitigation failed", "action", action, "pod", id.Pod.Namespace+"/"+id.Pod.Name, "rule", rule, "err", err)
		return Outcome{Result: Failed, Detail: o.Detail, Err: err, Acted: true}
	}
	if o.Acted {
		o.AppliedAt = time.Now().UTC()
		if action == catalog.Isolate {
			for _, r := range m.iso.List() {
				if r.PodUID == id.Pod.UID && !r.InPlace.IsZero() {
					o.AppliedAt = r.InPlace // the drop, not the state file after it
				}
			}
		}
	}
	return o
}

func (m *Mitigator) isolate(ctx context.Context, id workload.Identity, rule string) (string, bool, error) {
	if m.iso == nil {
		return "", false, fmt.Errorf("isolation unavailable: %w", m.isoErr)
	}
	for _, r := range m.iso.List() {
		if r.PodUID == id.Pod.UID {
			return "already isolated since " + r.Since.Format(time.RFC3339), false, nil
		}
	}
	t, err := m.target(ctx, id.Pod)
	if err != nil {
		return "", false, err
	}
	t.Rule = rule
	applied, err := m.iso.Apply(t)
	if err != nil {
		return "", applied, err
	}
	if !applied {
		return "already isolated", false, nil
	}
	m.log.Warn("pod isolated", "pod", id.Pod.Namespace+"/"+id.Pod.Name, "uid", id.Pod.UID, "rule", rule)
	return "network cut in both directions", true, nil
}

// target describes the pod's network for isolate: from what the resolver
// already knows of the sandbox (no round trip), else from containerd.
func (m *Mitigator) target(ctx context.Context, pod workload.Pod) (isolate.Target, error) {
	t := isolate.Target{PodUID: pod.UID, PodName: pod.Name, Namespace: pod.Namespace}
	switch {
	case pod.HostNetwork:
		t.HostNetwork, t.CgroupPath = true, pod.CgroupPath
		return t, nil
	case pod.NetNSPath != "":
		t.NetNSPath = pod.NetNSPath
		return t, nil
	case pod.SandboxPID != 0:
		t.NetNSPath = "/proc/" + strconv.Itoa(int(pod.SandboxPID)) + "/ns/net"
		return t, nil
	}
	c, err := m.containerd()
	if err != nil {
		return t, err
	}
	ctx = m.nsContext(ctx)
	sb, err := c.LoadContainer(ctx, pod.SandboxID)
	if err != nil {
		return t, fmt.Errorf("load pod sandbox %s: %w", pod.SandboxID, err)
	}
	spec, err := sb.Spec(ctx)
	if err != nil {
		return t, fmt.Errorf("read pod sandbox spec: %w", err)
	}
	t.HostNetwork = true
	if spec.Linux != nil {
		for _, ns := range spec.Linux.Namespaces {
			if ns.Type == "network" {
				t.HostNetwork = false
			}
		}
	}
	task, err := sb.Task(ctx, nil)
	if err != nil {
		return t, fmt.Errorf("pod sandbox has no running task: %w", err)
	}
	t.NetNSPath = "/proc/" + strconv.Itoa(int(task.Pid())) + "/ns/net"
	return t, nil
}

// terminate kills every running task of the pod. Every verdict is acted
// on: a kill is idempotent (a task that is not running is left alone), so
// a container the kubelet restarts is killed again at its next offence,
// with no quiet window after the first kill. Acted is true when a running
// task was killed.
func (m *Mitigator) terminate(ctx context.Context, id workload.Identity) (string, bool, error) {
	ids := []string{}
	for _, w := range m.pods.Workloads() {
		if w.Pod.UID == id.Pod.UID {
			ids = append(ids, w.Container.ID)
		}
	}
	if id.Container.ID != "" && !contains(ids, id.Container.ID) {
		ids = append(ids, id.Container.ID)
	}
	if id.Pod.SandboxID != "" {
		ids = append(ids, id.Pod.SandboxID) // last: it holds the pod's network
	}
	var errs []error
	killed := 0
	for attempt := 0; attempt < 3; attempt++ {
		var n int
		errs, n = m.killAll(ctx, ids)
		killed += n
		if len(errs) == 0 {
			break
		}
		time.Sleep(time.Duration(attempt+1) * 200 * time.Millisecond)
	}
	if len(errs) > 0 {
		return "", killed > 0, errors.Join(errs...)
	}
	if killed == 0 {
		return "no running task left in the pod: already terminated", false, nil
	}
	m.log.Warn("pod terminated", "pod", id.Pod.Namespace+"/"+id.Pod.Name, "uid", id.Pod.UID, "tasks", killed)
	return fmt.Sprintf("SIGKILL sent to %d running task(s) of the pod", killed), true, nil
}

// killAll kills the containers' tasks concurrently: one containerd round
// trip of latency for the whole pod.
func (m *Mitigator) killAll(ctx context.Context, ids []string) ([]error, int) {
	type result struct {
		killed bool
		err    error
	}
	rc := make(chan result, len(ids))
	for _, cid := range ids {
		go func() {
			k, err := m.kill(ctx, cid)
			if err != nil {
				err = fmt.Errorf("container %s: %w", short(cid), err)
			}
			rc <- result{k, err}
		}()
	}
	var errs []error
	killed := 0
	for range ids {
		r := <-rc
		if r.err != nil {
			errs = append(errs, r.err)
		} else if r.killed {
			killed++
		}
	}
	return errs, killed
}

// kill sends SIGKILL to every process of a container's task and reports
// whether the task was running. A container without a running task is
// already stopped: nothing to do.
func (m *Mitigator) kill(ctx context.Context, id string) (bool, error) {
	c, err := m.containerd()
	if err != nil {
		return false, err
	}
	ctx = m.nsContext(ctx)
	ctr, err := c.LoadContainer(ctx, id)
	if errdefs.IsNotFound(err) {
		return false, nil
	}
	if err != nil {
		m.dropClient()
		return false, err
	}
	task, err := ctr.Task(ctx, nil)
	if errdefs.IsNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if st, err := task.Status(ctx); err == nil && st.Status == containerd.Stopped {
		return false, nil
	}
	if err := task.Kill(ctx, syscall.SIGKILL, containerd.WithKillAll); err != nil {
		if errdefs.IsNotFound(err) {
			return false, nil
		}
		return false, err
	}
	return true, nil
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func short(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}
