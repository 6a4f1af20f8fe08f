package node

import (
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// PodSpec describes a pod the way a kubelet would hand it to CRI.
type PodSpec struct {
	Name      string
	Namespace string            // "default" when empty
	Labels    map[string]string // the pod's own labels
	// Containers run the node image; at least one is needed.
	Containers []ContainerSpec
	// HostNetwork runs the pod in the node's network namespace (no veth,
	// no pod IP), like hostNetwork: true.
	HostNetwork bool
	// HostPID runs the pod's containers in the node's pid namespace, like
	// hostPID: true.
	HostPID bool
}

// ContainerSpec is one container of a pod.
type ContainerSpec struct {
	Name    string
	Command []string // ["sleep", "infinity"] when empty
	Env     map[string]string
	// MemoryVolumes are container paths of emptyDir volumes with
	// medium: Memory (a tmpfs each, exec allowed).
	MemoryVolumes []string
	// HostPaths are hostPath volumes: container path -> host path.
	HostPaths map[string]string
}

// Pod is a running pod on a node.
type Pod struct {
	Name, Namespace, UID string
	SandboxID            string
	Labels               map[string]string

	node        *Node
	tb          testing.TB
	ip          string
	netns       string
	hostNetwork bool
	hostPID     bool

	mu         sync.Mutex
	containers map[string]*container
	deleted    bool
}

type container struct {
	spec    ContainerSpec
	id      string
	attempt uint32
}

const criTimeout = 60 * time.Second

// CreatePod runs a pod sandbox with a kubelet-like cgroup parent
// (/kubepods/besteffort/pod<uid>) and CNI networking, then creates and starts
// its containers. The pod is deleted when tb ends.
func (n *Node) CreatePod(tb testing.TB, spec PodSpec) *Pod {
	tb.Helper()
	if spec.Namespace == "" {
		spec.Namespace = "default"
	}
	p := &Pod{Name: spec.Name, Namespace: spec.Namespace, UID: newUID(), Labels: spec.Labels,
		node: n, tb: tb, containers: map[string]*container{}, hostNetwork: spec.HostNetwork, hostPID: spec.HostPID}
	labels := map[string]string{
		"io.kubernetes.pod.name":      p.Name,
		"io.kubernetes.pod.namespace": p.Namespace,
		"io.kubernetes.pod.uid":       p.UID,
	}
	for k, v := range spec.Labels {
		labels[k] = v
	}
	logDir := filepath.Join(n.dir, "pods", p.UID)
	if err := os.MkdirAll(logDir, 0o755); err != nil {
		tb.Fatalf("create pod log dir: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), criTimeout)
	defer cancel()
	sbConfig := &runtime.PodSandboxConfig{
		Metadata:     &runtime.PodSandboxMetadata{Name: p.Name, Namespace: p.Namespace, Uid: p.UID},
		Hostname:     p.Name,
		LogDirectory: logDir,
		Labels:       labels,
		Annotations:  map[string]string{"kubernetes.io/config.source": "podguard-test"},
		Linux: &runtime.LinuxPodSandboxConfig{
			CgroupParent: "/kubepods/besteffort/pod" + p.UID,
			SecurityContext: &runtime.LinuxSandboxSecurityContext{
				NamespaceOptions: p.namespaces(),
			},
		},
	}
	if spec.HostNetwork {
		sbConfig.Hostname = "" // the node's UTS namespace, as kubelet does for host-network pods
	}
	resp, err := n.cri.RunPodSandbox(ctx, &runtime.RunPodSandboxRequest{Config: sbConfig})
	if err != nil {
		removePodCgroups(p.UID)
		tb.Fatalf("run pod %s/%s: %v", p.Namespace, p.Name, err)
	}
	p.SandboxID = resp.PodSandboxId
	n.mu.Lock()
	n.pods[p.SandboxID] = p
	n.mu.Unlock()
	tb.Cleanup(func() { p.Delete(tb) })

	if err := p.readSandboxStatus(ctx); err != nil {
		tb.Fatalf("pod %s status: %v", p.Name, err)
	}
	for _, cs := range spec.Containers {
		c := &container{spec: cs}
		p.mu.Lock()
		p.containers[cs.Name] = c
		p.mu.Unlock()
		if err := p.runContainer(ctx, sbConfig, c); err != nil {
			tb.Fatalf("pod %s: %v", p.Name, err)
		}
	}
	return p
}

func (p *Pod) sandboxConfig() *runtime.PodSandboxConfig {
	return &runtime.PodSandboxConfig{
		Metadata:     &runtime.PodSandboxMetadata{Name: p.Name, Namespace: p.Namespace, Uid: p.UID},
		LogDirectory: filepath.Join(p.node.dir, "pods", p.UID),
		Linux:        &runtime.LinuxPodSandboxConfig{CgroupParent: "/kubepods/besteffort/pod" + p.UID},
	}
}

func envs(m map[string]string) []*runtime.KeyValue {
	var out []*runtime.KeyValue
	for k, v := range m {
		out = append(out, &runtime.KeyValue{Key: k, Value: []byte(v)})
	}
	return out
}

// namespaces are the pod's namespace modes, as kubelet sets them.
func (p *Pod) namespaces() *runtime.NamespaceOption {
	netMode := runtime.NamespaceMode_POD
	if p.hostNetwork {
		netMode = runtime.NamespaceMode_NODE
	}
	pidMode := runtime.NamespaceMode_CONTAINER
	if p.hostPID {
		pidMode = runtime.NamespaceMode_NODE
	}
	return &runtime.NamespaceOption{Network: netMode, Pid: pidMode, Ipc: runtime.NamespaceMode_POD}
}

// runContainer creates and starts c in the pod, as kubelet does.
func (p *Pod) runContainer(ctx context.Context, sb *runtime.PodSandboxConfig, c *container) error {
	cmd := c.spec.Command
	if len(cmd) == 0 {
		cmd = []string{"sleep", "infinity"}
	}
	mounts, err := p.volumes(c)
	if err != nil {
		return err
	}
	cfg := &runtime.ContainerConfig{
		Metadata: &runtime.ContainerMetadata{Name: c.spec.Name, Attempt: c.attempt},
		Image:    &runtime.ImageSpec{Image: ImageRef},
		Command:  cmd,
		Labels: map[string]string{
			"io.kubernetes.container.name": c.spec.Name,
			"io.kubernetes.pod.name":       p.Name,
			"io.kubernetes.pod.namespace":  p.Namespace,
			"io.kubernetes.pod.uid":        p.UID,
		},
		Annotations: map[string]string{"io.kubernetes.container.restartCount": fmt.Sprint(c.attempt)},
		Envs:        envs(c.spec.Env),
		Mounts:      mounts,
		LogPath:     fmt.Sprintf("%s_%d.log", c.spec.Name, c.attempt),
		Linux: &runtime.LinuxContainerConfig{SecurityContext: &runtime.LinuxContainerSecurityContext{
			NamespaceOptions: p.namespaces(),
		}},
	}
	resp, err := p.node.cri.CreateContainer(ctx, &runtime.CreateContainerRequest{PodSandboxId: p.SandboxID, Config: cfg, SandboxConfig: sb})
	if err != nil {
		return fmt.Errorf("create container %s: %w", c.spec.Name, err)
	}
	p.mu.Lock()
	c.id = resp.ContainerId
	p.mu.Unlock()
	if _, err := p.node.cri.StartContainer(ctx, &runtime.StartContainerRequest{ContainerId: resp.ContainerId}); err != nil {
		return fmt.Errorf("start container %s: %w", c.spec.Name, err)
	}
	return nil
}

// RestartContainer kills a container and runs it again in the same pod, as
// kubelet does after a crash: the new container has a new id.
func (p *Pod) RestartContainer(tb testing.TB, name string) {
	tb.Helper()
	c := p.container(tb, name)
	ctx, cancel := context.WithTimeout(context.Background(), criTimeout)
	defer cancel()
	if _, err := p.node.cri.StopContainer(ctx, &runtime.StopContainerRequest{ContainerId: c.id, Timeout: 0}); err != nil {
		tb.Fatalf("stop container %s: %v", name, err)
	}
	if _, err := p.node.cri.RemoveContainer(ctx, &runtime.RemoveContainerRequest{ContainerId: c.id}); err != nil {
		tb.Fatalf("remove container %s: %v", name, err)
	}
	c.attempt++
	if err := p.runContainer(ctx, p.sandboxConfig(), c); err != nil {
		tb.Fatalf("restart: %v", err)
	}
}

// Delete stops and removes the pod, its network and its cgroups. It is
// called on cleanup too; calling it twice is fine.
func (p *Pod) Delete(tb testing.TB) {
	tb.Helper()
	p.mu.Lock()
	if p.deleted {
		p.mu.Unlock()
		return
	}
	p.deleted = true
	p.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), criTimeout)
	defer cancel()
	if err := p.node.removeSandbox(ctx, p.SandboxID, p.UID); err != nil {
		tb.Errorf("delete pod %s: %v", p.Name, err)
	}
}

// Exec runs cmd in a container of the pod and returns its standard output
// and exit code (CRI ExecSync, 60 s timeout).
func (p *Pod) Exec(tb testing.TB, containerName string, cmd ...string) (stdout string, exitCode int) {
	tb.Helper()
	out, _, code := p.ExecOutput(tb, containerName, cmd...)
	return out, code
}

// ExecOutput is Exec that also returns standard error.
func (p *Pod) ExecOutput(tb testing.TB, containerName string, cmd ...string) (stdout, stderr string, exitCode int) {
	tb.Helper()
	c := p.container(tb, containerName)
	ctx, cancel := context.WithTimeout(context.Background(), criTimeout+5*time.Second)
	defer cancel()
	resp, err := p.node.cri.ExecSync(ctx, &runtime.ExecSyncRequest{ContainerId: c.id, Cmd: cmd, Timeout: int64(criTimeout / time.Second)})
	if err != nil {
		tb.Fatalf("exec %q in %s/%s: %v", cmd, p.Name, containerName, err)
	}
	return string(resp.Stdout), string(resp.Stderr), int(resp.ExitCode)
}

func (p *Pod) container(tb testing.TB, name string) *container {
	tb.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	c, ok := p.containers[name]
	if !ok || c.id == "" {
		tb.Fatalf("pod %s has no container %q", p.Name, name)
	}
	return c
}

func newUID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}
