package isolate

import (
	"fmt"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"

	"github.com/podguard/podguard/probes/cgroupfs"
)

// attachCgroup drops the pod's traffic with cgroup_skb programs on its
// cgroup2 directory. The links are pinned under PinDir/<pod uid>/ so the
// isolation outlives podguard; an existing pin is updated to the given
// programs instead of attaching a second time.
func attachCgroup(podUID, cgroupPath string, egress, ingress *ebpf.Program) error {
	if cgroupPath == "" {
		return ErrHostNetwork
	}
	v2, err := cgroupfs.IsCgroup2(cgroupPath)
	if err != nil {
		return fmt.Errorf("cgroup %s: %w", cgroupPath, err)
	}
	if !v2 {
		return fmt.Errorf("cgroup %s is not on cgroup2: %w", cgroupPath, ErrHostNetwork)
	}
	dir, err := pinDir(podUID)
	if err != nil {
		return err
	}
	hooks := []pinHook{
		{pinCgroupEgress, ebpf.AttachCGroupInetEgress, egress},
		{pinCgroupIngress, ebpf.AttachCGroupInetIngress, ingress},
	}
	always := func(link.Link) bool { return true }
	return pinHooks(dir, hooks, always, func(hk pinHook) (link.Link, error) {
		l, err := link.AttachCgroup(link.CgroupOptions{Path: cgroupPath, Attach: hk.attach, Program: hk.prog})
		if err != nil {
			return nil, fmt.Errorf("attach %s program to %s: %w", hk.pin, cgroupPath, err)
		}
		return l, nil
	})
}

// hasCgroup reports whether both cgroup links of the pod are pinned.
func hasCgroup(podUID string) bool {
	return hasPins(podUID, pinCgroupEgress, pinCgroupIngress)
}
