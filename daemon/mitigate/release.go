package mitigate

import (
	"context"
	"fmt"
	"strings"

	containerd "github.com/containerd/containerd/v2/client"
	"github.com/containerd/containerd/v2/pkg/namespaces"

	"github.com/podguard/podguard/daemon/ctrd"
	"github.com/podguard/podguard/isolate"
)

// Isolated lists the isolated pods.
func (m *Mitigator) Isolated() []isolate.Record {
	if m.iso == nil {
		return nil
	}
	return m.iso.List()
}

// RejectedState returns the isolation records that failed their integrity
// check at start (forged or edited in the state directory): ignored.
func (m *Mitigator) RejectedState() []isolate.Record {
	if m.iso == nil {
		return nil
	}
	return m.iso.Rejected()
}

// Release lifts the isolation of the pod named by ref: a pod uid, a
// namespace/name or a name (which must be unambiguous). who is logged.
func (m *Mitigator) Release(ref, who string) (isolate.Record, error) {
	if m.iso == nil {
		return isolate.Record{}, fmt.Errorf("isolation unavailable: %w", m.isoErr)
	}
	var found []isolate.Record
	for _, r := range m.iso.List() {
		if r.PodUID == ref || r.Namespace+"/"+r.PodName == ref || r.PodName == ref {
			found = append(found, r)
		}
	}
	switch {
	case len(found) == 0:
		return isolate.Record{}, fmt.Errorf("no isolated pod matches %q; `podguard status` lists the isolated pods", ref)
	case len(found) > 1:
		var names []string
		for _, r := range found {
			names = append(names, r.Namespace+"/"+r.PodName+" ("+r.PodUID+")")
		}
		return isolate.Record{}, fmt.Errorf("%q matches %d isolated pods: %s; give namespace/name or the uid", ref, len(found), strings.Join(names, ", "))
	}
	if err := m.iso.Release(found[0].PodUID); err != nil {
		return found[0], err
	}
	m.log.Warn("pod isolation released", "pod", found[0].Namespace+"/"+found[0].PodName, "uid", found[0].PodUID, "by", who)
	return found[0], nil
}

// Reconcile brings isolation in line with the pods that exist now: kept
// (and re-attached if the veth changed) for live pods, removed for gone
// ones.
func (m *Mitigator) Reconcile(ctx context.Context) error {
	if m.iso == nil {
		return nil
	}
	return m.iso.Reconcile(func(uid string) (string, bool) {
		pod, ok := m.pods.PodByUID(uid)
		if !ok {
			return "", false
		}
		t, err := m.target(ctx, pod)
		if err != nil {
			m.log.Warn("reconcile: pod exists but its network cannot be found", "uid", uid, "err", err)
			return "", true
		}
		return t.NetNSPath, true
	})
}

// containerd returns the client mitigations share, connecting first if
// there is none. Concurrent kills connect concurrently, outside the lock,
// so a containerd that does not answer costs them one timeout, not one
// each; the first client stored wins.
func (m *Mitigator) containerd() (*containerd.Client, error) {
	m.mu.Lock()
	c := m.client
	m.mu.Unlock()
	if c != nil {
		return c, nil
	}
	c, err := ctrd.Connect(context.Background(), m.cfg.Address, m.cfg.Namespace, ctrd.MitigateTimeout)
	if err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.client != nil {
		c.Close()
		return m.client, nil
	}
	m.client = c
	return c, nil
}

func (m *Mitigator) dropClient() {
	m.mu.Lock()
	if m.client != nil {
		m.client.Close()
		m.client = nil
	}
	m.mu.Unlock()
}

func (m *Mitigator) nsContext(ctx context.Context) context.Context {
	return namespaces.WithNamespace(ctx, m.cfg.Namespace)
}
