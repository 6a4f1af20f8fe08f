package isolate

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// Pin files under PinDir/<pod uid>/: cgroup_skb links of host-network pods
// and tcx links of pods whose veth is driven by a tcx CNI.
const (
	pinCgroupEgress  = "cgroup_egress"
	pinCgroupIngress = "cgroup_ingress"
	pinTCXIngress    = "tcx_ingress"
	pinTCXEgress     = "tcx_egress"
)

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

// pinDir makes (if needed) and returns the pod's pin directory.
func pinDir(podUID string) (string, error) {
	if err := ensureBPFFS(); err != nil {
		return "", err
	}
	dir := filepath.Join(PinDir, podUID)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("make pin dir: %w", err)
	}
	return dir, nil
}

// pinHook is one pinned link podguard keeps: its pin file name, attach
// type and program.
type pinHook struct {
	pin    string
	attach ebpf.AttachType
	prog   *ebpf.Program
}

// pinHooks makes sure each hook has a pinned link in dir running its
// program. An existing pinned link that fits is switched to the program in
// place (no second attach); one that does not fit is unpinned (detached)
// and replaced by a new link from attach, pinned.
func pinHooks(dir string, hooks []pinHook, fits func(link.Link) bool, attach func(pinHook) (link.Link, error)) error {
	for _, hk := range hooks {
		pin := filepath.Join(dir, hk.pin)
		kept, err := pinned(pin, func(l link.Link) (bool, error) {
			if !fits(l) {
				return false, nil
			}
			if err := l.Update(hk.prog); err != nil {
				return false, fmt.Errorf("update pinned link %s: %w", pin, err)
			}
			return true, nil
		})
		if err != nil {
			return err
		}
		if kept {
			continue
		}
		l, err := attach(hk)
		if err != nil {
			return err
		}
		err = l.Pin(pin)
		l.Close()
		if err != nil {
			return fmt.Errorf("pin link %s: %w", pin, err)
		}
	}
	return nil
}

// pinned runs the existing pinned link at pin through keep, which reports
// whether the link stays. A link keep rejects is unpinned and closed,
// which detaches it.
func pinned(pin string, keep func(link.Link) (bool, error)) (bool, error) {
	l, err := link.LoadPinnedLink(pin, nil)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("load pinned link %s: %w", pin, err)
	}
	defer l.Close()
	ok, err := keep(l)
	if err != nil || ok {
		return ok, err
	}
	if err := l.Unpin(); err != nil {
		return false, fmt.Errorf("unpin %s: %w", pin, err)
	}
	return false, nil
}

// hasPins reports whether all the named pins of the pod exist.
func hasPins(podUID string, names ...string) bool {
	for _, n := range names {
		if _, err := os.Stat(filepath.Join(PinDir, podUID, n)); err != nil {
			return false
		}
	}
	return true
}

// detachPins unpins and closes the pod's pinned links whose names start
// with prefix ("" for all), which detaches them, and removes the pod's pin
// directory once empty. Missing pins are not an error.
func detachPins(podUID, prefix string) error {
	dir := filepath.Join(PinDir, podUID)
	ents, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read pin dir: %w", err)
	}
	for _, e := range ents {
		if !strings.HasPrefix(e.Name(), prefix) {
			continue
		}
		pin := filepath.Join(dir, e.Name())
		if _, err := pinned(pin, func(link.Link) (bool, error) { return false, nil }); err != nil {
			return err
		}
		os.Remove(pin) // a pin that is not a link
	}
	if err := os.Remove(dir); err != nil && !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, unix.ENOTEMPTY) {
		return fmt.Errorf("remove pin dir: %w", err)
	}
	return nil
}

// installedPins lists the pods with pinned isolation links.
func installedPins() ([]Attachment, error) {
	ents, err := os.ReadDir(PinDir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read pin dir: %w", err)
	}
	var out []Attachment
	for _, e := range ents {
		if !e.IsDir() {
			continue
		}
		a := Attachment{PodUID: e.Name(), PinPath: filepath.Join(PinDir, e.Name()), Mode: ModeCgroup}
		if hasPins(a.PodUID, pinTCXIngress) || hasPins(a.PodUID, pinTCXEgress) {
			a.Mode = ModeTCX
			a.IfIndex = tcxIfIndex(a.PodUID)
			if l, err := netlink.LinkByIndex(a.IfIndex); a.IfIndex != 0 && err == nil {
				a.IfName = l.Attrs().Name
			}
			a.Ingress, a.Egress = hasPins(a.PodUID, pinTCXIngress), hasPins(a.PodUID, pinTCXEgress)
		} else {
			a.Egress, a.Ingress = hasPins(a.PodUID, pinCgroupEgress), hasPins(a.PodUID, pinCgroupIngress)
		}
		out = append(out, a)
	}
	return out, nil
}
