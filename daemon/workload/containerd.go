package workload

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	apievents "github.com/containerd/containerd/api/events"
	"github.com/containerd/containerd/api/services/tasks/v1"
	"github.com/containerd/containerd/api/types/task"
	containerd "github.com/containerd/containerd/v2/client"
	"github.com/containerd/containerd/v2/core/containers"
	"github.com/containerd/errdefs"
	"github.com/containerd/errdefs/pkg/errgrpc"
	"github.com/containerd/typeurl/v2"

	"github.com/podguard/podguard/daemon/ctrd"
)

const (
	minBackoff = 100 * time.Millisecond
	maxBackoff = 5 * time.Second
	// The event stream is set up just before the first listing, but the
	// server registers it asynchronously; a second listing shortly after
	// and a periodic one catch anything that fell between.
)

// Resync intervals; variables so tests can show that events alone suffice.
var (
	firstResync = 2 * time.Second
	resyncEvery = time.Minute
)

// Run connects to containerd, indexes all containers and follows its events
// until ctx ends. When containerd goes away it reconnects with backoff
// (100 ms doubling to 5 s) and relists. It returns nil when ctx ends, or an
// error when the resolver cannot work at all (bad cgroup root).
func (r *Resolver) Run(ctx context.Context) error {
	if r.fsErr != nil {
		return r.fsErr
	}
	r.log.Info("resolving workloads", "address", r.cfg.Address, "namespace", r.cfg.Namespace,
		"cgroup_mode", r.fs.Mode.String(), "cgroup_root", r.fs.Root)
	backoff := minBackoff
	for sessions := 0; ; sessions++ {
		started := time.Now()
		err := r.session(ctx, sessions > 0)
		if ctx.Err() != nil {
			r.setConnected(false, nil, time.Now())
			return nil
		}
		r.setConnected(false, err, time.Now())
		if time.Since(started) > 30*time.Second {
			backoff = minBackoff
		}
		r.log.Warn("containerd connection lost, reconnecting", "error", err, "retry_in", backoff)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, maxBackoff)
	}
}

// session is one connection: subscribe, relist, follow events until an
// error or ctx ends.
func (r *Resolver) session(ctx context.Context, reconnect bool) error {
	client, err := ctrd.Connect(ctx, r.cfg.Address, r.cfg.Namespace, ctrd.ResolverTimeout)
	if err != nil {
		return err
	}
	defer client.Close()
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ns := fmt.Sprintf("namespace==%q", r.cfg.Namespace)
	evs, errs := client.Subscribe(sctx, ns+`,topic~="^/tasks/"`, ns+`,topic~="^/containers/"`)
	if err := r.relist(sctx, client); err != nil {
		return err
	}
	r.mu.Lock()
	r.stats.Connected = true
	if reconnect {
		r.stats.Reconnects++
	}
	r.mu.Unlock()
	r.syncOnce.Do(func() { close(r.synced) })
	st := r.Stats()
	r.log.Info("containerd indexed", "pods", st.Pods, "containers", st.Containers, "reconnect", reconnect)
	resync := time.NewTimer(firstResync)
	defer resync.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-resync.C:
			if err := r.relist(sctx, client); err != nil {
				return err
			}
			resync.Reset(resyncEvery)
		case id := <-r.kick:
			if err := r.refresh(sctx, client, id); err != nil {
				return err
			}
		case err := <-errs:
			if err == nil {
				err = errors.New("event stream closed")
			}
			return fmt.Errorf("containerd events: %w", err)
		case env := <-evs:
			if env == nil {
				continue
			}
			if err := r.handle(sctx, client, env.Topic, env.Event); err != nil {
				return err
			}
		}
	}
}

// relist replaces the index with a full listing of containers and tasks.
func (r *Resolver) relist(ctx context.Context, client *containerd.Client) error {
	list, err := client.ContainerService().List(ctx)
	if err != nil {
		return fmt.Errorf("list containers: %w", err)
	}
	resp, err := client.TaskService().List(ctx, &tasks.ListTasksRequest{})
	if err != nil {
		return fmt.Errorf("list tasks: %w", err)
	}
	pids := map[string]uint32{}
	for _, t := range resp.Tasks {
		if t.Status != task.Status_STOPPED {
			pids[t.ID] = t.Pid
		}
	}
	recs := make([]record, 0, len(list))
	for _, c := range list {
		recs = append(recs, toRecord(c, pids[c.ID]))
	}
	r.apply(recs, nil, true)
	return nil
}

// handle applies one event. It returns an error only when containerd cannot
// be asked (the connection is then rebuilt).
func (r *Resolver) handle(ctx context.Context, client *containerd.Client, topic string, event typeurl.Any) error {
	if event == nil {
		return nil
	}
	v, err := typeurl.UnmarshalAny(event)
	if err != nil {
		r.log.Debug("undecodable containerd event", "topic", topic, "error", err)
		return nil
	}
	var id string
	switch e := v.(type) {
	case *apievents.ContainerDelete:
		r.apply(nil, []string{e.ID}, false)
		return nil
	case *apievents.ContainerCreate:
		id = e.ID
	case *apievents.ContainerUpdate:
		id = e.ID
	case *apievents.TaskCreate:
		if r.taskCreated(e.ContainerID, e.Pid) {
			return nil
		}
		id = e.ContainerID
	case *apievents.TaskStart:
		if r.taskCreated(e.ContainerID, e.Pid) {
			return nil
		}
		id = e.ContainerID
	case *apievents.TaskExit:
		if e.ID != e.ContainerID {
			return nil // an exec'd process, not the container's init
		}
		id = e.ContainerID
	case *apievents.TaskDelete:
		id = e.ContainerID
	default:
		return nil
	}
	return r.refresh(ctx, client, id)
}

// refresh re-reads one container and its task from containerd.
func (r *Resolver) refresh(ctx context.Context, client *containerd.Client, id string) error {
	c, err := client.ContainerService().Get(ctx, id)
	if errdefs.IsNotFound(err) {
		r.apply(nil, []string{id}, false)
		return nil
	}
	if err != nil {
		return fmt.Errorf("get container %s: %w", id, err)
	}
	var pid uint32
	t, err := client.TaskService().Get(ctx, &tasks.GetRequest{ContainerID: id})
	switch {
	case err == nil:
		if t.Process.GetStatus() != task.Status_STOPPED {
			pid = t.Process.GetPid()
		}
	case errdefs.IsNotFound(errgrpc.ToNative(err)):
	default:
		return fmt.Errorf("get task %s: %w", id, err)
	}
	r.apply([]record{toRecord(c, pid)}, nil, false)
	return nil
}

// toRecord reads the parts of a container record the index needs.
func toRecord(c containers.Container, pid uint32) record {
	rec := record{id: c.ID, labels: c.Labels, image: c.Image, pid: pid}
	if c.Spec != nil {
		var spec struct {
			Annotations map[string]string `json:"annotations"`
			Linux       *struct {
				CgroupsPath string `json:"cgroupsPath"`
				Namespaces  []struct {
					Type string `json:"type"`
					Path string `json:"path"`
				} `json:"namespaces"`
			} `json:"linux"`
		}
		if err := json.Unmarshal(c.Spec.GetValue(), &spec); err == nil {
			rec.annotations = spec.Annotations
			if spec.Linux != nil {
				rec.cgroupsPath = spec.Linux.CgroupsPath
				rec.hostNetwork = true
				for _, ns := range spec.Linux.Namespaces {
					if ns.Type == "network" {
						rec.hostNetwork, rec.netnsPath = false, ns.Path
					}
				}
			}
		}
	}
	return rec
}
