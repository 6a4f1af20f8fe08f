package isolate

import (
	"fmt"
	"path/filepath"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
)

// tcxInUse reports whether the link has tcx programs attached (a CNI
// using tcx). Those run before any tc filter, and one that returns
// TCX_PASS or redirects would skip podguard's filter, so podguard then
// attaches through tcx itself, at the head of the chain.
func tcxInUse(ifindex int) bool {
	for _, at := range []ebpf.AttachType{ebpf.AttachTCXIngress, ebpf.AttachTCXEgress} {
		res, err := link.QueryPrograms(link.QueryOptions{Target: ifindex, Attach: at})
		if err == nil && len(res.Programs) > 0 {
			return true
		}
	}
	return false
}

// attachTCX puts the drop programs first in the link's tcx chains, as links
// pinned under PinDir/<pod uid>/ (a tcx link dies with its last reference).
// A pinned link on the same ifindex is updated in place; one left on a
// gone or other link is dropped and replaced.
func attachTCX(podUID string, ifindex int, fromPod, toPod *ebpf.Program) error {
	dir, err := pinDir(podUID)
	if err != nil {
		return err
	}
	hooks := []pinHook{
		{pinTCXIngress, ebpf.AttachTCXIngress, fromPod},
		{pinTCXEgress, ebpf.AttachTCXEgress, toPod},
	}
	onLink := func(l link.Link) bool { return linkIfIndex(l) == ifindex }
	return pinHooks(dir, hooks, onLink, func(hk pinHook) (link.Link, error) {
		l, err := link.AttachTCX(link.TCXOptions{Interface: ifindex, Program: hk.prog, Attach: hk.attach, Anchor: link.Head()})
		if err != nil {
			return nil, fmt.Errorf("attach %s on ifindex %d: %w", hk.pin, ifindex, err)
		}
		return l, nil
	})
}

// hasTCX reports whether both tcx links of the pod are pinned and attached
// to ifindex.
func hasTCX(podUID string, ifindex int) bool {
	for _, p := range []string{pinTCXIngress, pinTCXEgress} {
		l, err := link.LoadPinnedLink(filepath.Join(PinDir, podUID, p), nil)
		if err != nil {
			return false
		}
		idx := linkIfIndex(l)
		l.Close()
		if idx != ifindex {
			return false
		}
	}
	return true
}

// tcxIfIndex returns the ifindex of the pod's pinned tcx ingress link, 0
// when there is none or its device is gone.
func tcxIfIndex(podUID string) int {
	l, err := link.LoadPinnedLink(filepath.Join(PinDir, podUID, pinTCXIngress), nil)
	if err != nil {
		return 0
	}
	defer l.Close()
	return linkIfIndex(l)
}

func linkIfIndex(l link.Link) int {
	info, err := l.Info()
	if err != nil || info.TCX() == nil {
		return 0
	}
	return int(info.TCX().Ifindex)
}
