package node

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// ContainerID is the containerd (and CRI) id of a container of the pod.
func (p *Pod) ContainerID(name string) string { return p.container(p.tb, name).id }

// ContainerPID is the host pid of the container's init process.
func (p *Pod) ContainerPID(name string) int {
	p.tb.Helper()
	return p.pidOf(p.ContainerID(name), false)
}

// SandboxPID is the host pid of the pod's sandbox (pause) process.
func (p *Pod) SandboxPID() int {
	p.tb.Helper()
	return p.pidOf(p.SandboxID, true)
}

func (p *Pod) pidOf(id string, sandbox bool) int {
	p.tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), criTimeout)
	defer cancel()
	var info map[string]string
	if sandbox {
		resp, err := p.node.cri.PodSandboxStatus(ctx, &runtime.PodSandboxStatusRequest{PodSandboxId: id, Verbose: true})
		if err != nil {
			p.tb.Fatalf("pod %s status: %v", p.Name, err)
		}
		info = resp.Info
	} else {
		resp, err := p.node.cri.ContainerStatus(ctx, &runtime.ContainerStatusRequest{ContainerId: id, Verbose: true})
		if err != nil {
			p.tb.Fatalf("container %s status: %v", id, err)
		}
		info = resp.Info
	}
	var v struct {
		Pid int `json:"pid"`
	}
	if err := json.Unmarshal([]byte(info["info"]), &v); err != nil || v.Pid == 0 {
		p.tb.Fatalf("no pid for %s in status info (%v)", id, err)
	}
	return v.Pid
}

// CgroupPath is the container's cgroup v2 directory, e.g.
// /sys/fs/cgroup/unified/kubepods/besteffort/pod<uid>/<container-id>.
func (p *Pod) CgroupPath(name string) string {
	p.tb.Helper()
	return cgroupDirOf(p.tb, p.ContainerPID(name))
}

// CgroupID is the inode of the container's cgroup v2 directory, which is what
// bpf_get_current_cgroup_id() returns for its processes.
func (p *Pod) CgroupID(name string) uint64 {
	p.tb.Helper()
	return inode(p.tb, p.CgroupPath(name))
}

// SandboxCgroupID is the cgroup id of the pod's sandbox (pause) container.
func (p *Pod) SandboxCgroupID() uint64 {
	p.tb.Helper()
	return inode(p.tb, cgroupDirOf(p.tb, p.SandboxPID()))
}

func cgroupDirOf(tb testing.TB, pid int) string {
	tb.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid))
	if err != nil {
		tb.Fatalf("read cgroup of pid %d: %v", pid, err)
	}
	root := cgroup2Mount()
	for _, line := range strings.Split(string(b), "\n") {
		if rel, ok := strings.CutPrefix(line, "0::"); ok && root != "" {
			return filepath.Join(root, rel)
		}
	}
	tb.Fatalf("pid %d has no cgroup v2 path (no cgroup2 mounted?)", pid)
	return ""
}

func inode(tb testing.TB, path string) uint64 {
	tb.Helper()
	var st syscall.Stat_t
	if err := syscall.Stat(path, &st); err != nil {
		tb.Fatalf("stat %s: %v", path, err)
	}
	return st.Ino
}

// NetNS is the path of the pod's network namespace.
func (p *Pod) NetNS() string { return p.netns }

// IP is the pod's IPv4 address on the node's bridge subnet.
func (p *Pod) IP() string { return p.ip }

// HostVeth is the name of the host side of the pod's eth0 veth pair.
func (p *Pod) HostVeth() string {
	p.tb.Helper()
	ns, err := netns.GetFromPath(p.netns)
	if err != nil {
		p.tb.Fatalf("open netns %s: %v", p.netns, err)
	}
	defer ns.Close()
	h, err := netlink.NewHandleAt(ns)
	if err != nil {
		p.tb.Fatalf("netlink in %s: %v", p.netns, err)
	}
	defer h.Close()
	eth0, err := h.LinkByName("eth0")
	if err != nil {
		p.tb.Fatalf("find eth0 of pod %s: %v", p.Name, err)
	}
	peer, err := net.InterfaceByIndex(eth0.Attrs().ParentIndex)
	if err != nil {
		p.tb.Fatalf("find host veth of pod %s (ifindex %d): %v", p.Name, eth0.Attrs().ParentIndex, err)
	}
	return peer.Name
}

// readSandboxStatus fills the pod's IP and netns path.
func (p *Pod) readSandboxStatus(ctx context.Context) error {
	resp, err := p.node.cri.PodSandboxStatus(ctx, &runtime.PodSandboxStatusRequest{PodSandboxId: p.SandboxID, Verbose: true})
	if err != nil {
		return err
	}
	p.ip = resp.GetStatus().GetNetwork().GetIp()
	var info struct {
		NetNSPath   string `json:"netNamespacePath"`
		RuntimeSpec struct {
			Linux struct {
				Namespaces []struct{ Type, Path string } `json:"namespaces"`
			} `json:"linux"`
		} `json:"runtimeSpec"`
	}
	if err := json.Unmarshal([]byte(resp.Info["info"]), &info); err != nil {
		return fmt.Errorf("decode sandbox info: %w", err)
	}
	p.netns = info.NetNSPath
	for _, ns := range info.RuntimeSpec.Linux.Namespaces {
		if ns.Type == "network" && p.netns == "" {
			p.netns = ns.Path
		}
	}
	if !p.hostNetwork && (p.ip == "" || p.netns == "") {
		return fmt.Errorf("pod has no ip (%q) or netns (%q)", p.ip, p.netns)
	}
	return nil
}

// WriteFile writes a file into a running container's root file system
// (so on its writable layer, like a file the container itself wrote).
func (p *Pod) WriteFile(tb testing.TB, container, path string, data []byte, mode os.FileMode) {
	tb.Helper()
	full := "/proc/" + strconv.Itoa(p.ContainerPID(container)) + "/root" + path
	if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
		tb.Fatalf("write %s into %s/%s: %v", path, p.Name, container, err)
	}
	if err := os.WriteFile(full, data, mode); err != nil {
		tb.Fatalf("write %s into %s/%s: %v", path, p.Name, container, err)
	}
}
