package isolate

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	"golang.org/x/sys/unix"
)

// cgroupHooks pairs each cgroup_skb attach point with its pin file name.
var cgroupHooks = []struct {
	pin    string
	attach ebpf.AttachType
}{
	{"egress", ebpf.AttachCGroupInetEgress},
	{"ingress", ebpf.AttachCGroupInetIngress},
}

// ensureBPFFS mounts bpffs on /sys/fs/bpf when nothing is mounted there.
func ensureBPFFS() error {
	var st unix.Statfs_t
	if err := unix.Statfs("/sys/fs/bpf", &st); err != nil {
		return fmt.Errorf("statfs /sys/fs/bpf: %w", err)
	}
	if st.Type == unix.BPF_FS_MAGIC {
		return nil
	}
	if err := unix.Mount("bpf", "/sys/fs/bpf", "bpf", 0, "mode=0700"); err != nil {
		return fmt.Errorf("mount bpffs on /sys/fs/bpf: %w", err)
	}
	return nil
}

// attachCgroup drops the pod's traffic with cgroup_skb programs on its
// cgroup2 directory. The links are pinned under PinDir/<pod uid>/ so the
// isolation outlives podguard; an existing pin is updated to the given
// programs instead of attaching a second time.
func attachCgroup(podUID, cgroupPath string, egress, ingress *ebpf.Program) error {
	var st unix.Statfs_t
	if cgroupPath == "" {
		return ErrHostNetwork
	}
	if err := unix.Statfs(cgroupPath, &st); err != nil {
		return fmt.Errorf("cgroup %s: %w", cgroupPath, err)
	}
	if st.Type != unix.CGROUP2_SUPER_MAGIC {
		return fmt.Errorf("cgroup %s is not on cgroup2: %w", cgroupPath, ErrHostNetwork)
	}
	if err := ensureBPFFS(); err != nil {
		return err
	}
	dir := filepath.Join(PinDir, podUID)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("make pin dir: %w", err)
	}
	progs := []*ebpf.Program{egress, ingress}
	for i, hk := range cgroupHooks {
		pin := filepath.Join(dir, hk.pin)
		if l, err := link.LoadPinnedLink(pin, nil); err == nil {
			err = l.Update(progs[i])
			l.Close()
			if err != nil {
				return fmt.Errorf("update pinned cgroup %s link %s: %w", hk.pin, pin, err)
			}
			continue
		}
		l, err := link.AttachCgroup(link.CgroupOptions{Path: cgroupPath, Attach: hk.attach, Program: progs[i]})
		if err != nil {
			return fmt.Errorf("attach cgroup %s program to %s: %w", hk.pin, cgroupPath, err)
		}
		err = l.Pin(pin)
		if err != nil {
			l.Close()
			return fmt.Errorf("pin cgroup %s link: %w", hk.pin, err)
		}
		l.Close()
	}
	return nil
}

// hasCgroup reports whether both cgroup links of the pod are pinned.
func hasCgroup(podUID string) bool {
	for _, hk := range cgroupHooks {
		if _, err := os.Stat(filepath.Join(PinDir, podUID, hk.pin)); err != nil {
			return false
		}
	}
	return true
}

// detachCgroup unpins and closes the pod's cgroup links, which detaches
// them. Missing pins are not an error.
func detachCgroup(podUID string) error {
	dir := filepath.Join(PinDir, podUID)
	for _, hk := range cgroupHooks {
		pin := filepath.Join(dir, hk.pin)
		l, err := link.LoadPinnedLink(pin, nil)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf("load pinned cgroup link %s: %w", pin, err)
		}
		if err := l.Unpin(); err != nil {
			l.Close()
			return fmt.Errorf("unpin %s: %w", pin, err)
		}
		if err := l.Close(); err != nil {
			return fmt.Errorf("detach %s: %w", pin, err)
		}
	}
	if err := os.Remove(dir); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove pin dir: %w", err)
	}
	return nil
}

// installedCgroup lists the pod UIDs with pinned cgroup isolation.
func installedCgroup() ([]Attachment, error) {
	ents, err := os.ReadDir(PinDir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read pin dir: %w", err)
	}
	var out []Attachment
	for _, e := range ents {
		if e.IsDir() {
			out = append(out, Attachment{PodUID: e.Name(), PinPath: filepath.Join(PinDir, e.Name())})
		}
	}
	return out, nil
}
