package isolate

import (
	"errors"
	"fmt"
	"strings"

	"github.com/cilium/ebpf"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// hooks are the two clsact parents podguard uses.
var hooks = []struct {
	name   string
	parent uint32
}{
	{"ingress", netlink.HANDLE_MIN_INGRESS},
	{"egress", netlink.HANDLE_MIN_EGRESS},
}

func filterName(podUID string) string { return FilterName + ":" + podUID }

// podUIDOf returns the pod UID encoded in a podguard filter name.
func podUIDOf(name string) (string, bool) {
	uid, ok := strings.CutPrefix(name, FilterName+":")
	return uid, ok && uid != ""
}

// attachTC makes sure the link has a clsact qdisc and podguard's filter on
// both hooks: fromPod on ingress (what the pod sends), toPod on egress.
// Filters are replaced in place (same priority and handle), never added
// twice.
func attachTC(ifindex int, podUID string, fromPod, toPod *ebpf.Program) error {
	q := &netlink.Clsact{QdiscAttrs: netlink.QdiscAttrs{
		LinkIndex: ifindex,
		Handle:    netlink.MakeHandle(0xffff, 0),
		Parent:    netlink.HANDLE_CLSACT,
	}}
	if err := netlink.QdiscAdd(q); err != nil && !errors.Is(err, unix.EEXIST) {
		return fmt.Errorf("add clsact qdisc on ifindex %d: %w", ifindex, err)
	}
	progs := []*ebpf.Program{fromPod, toPod}
	for i, hk := range hooks {
		f := &netlink.BpfFilter{
			FilterAttrs: netlink.FilterAttrs{
				LinkIndex: ifindex,
				Parent:    hk.parent,
				Handle:    FilterHandle,
				Protocol:  unix.ETH_P_ALL,
				Priority:  FilterPriority,
			},
			Fd:           progs[i].FD(),
			Name:         filterName(podUID),
			DirectAction: true,
		}
		if err := netlink.FilterReplace(f); err != nil {
			return fmt.Errorf("attach %s filter on ifindex %d: %w", hk.name, ifindex, err)
		}
	}
	return nil
}

// tcFilters returns podguard's filters on the link, per hook.
func tcFilters(ifindex int) (map[string][]*netlink.BpfFilter, error) {
	link := &netlink.Dummy{LinkAttrs: netlink.LinkAttrs{Index: ifindex}}
	out := make(map[string][]*netlink.BpfFilter)
	for _, hk := range hooks {
		fs, err := netlink.FilterList(link, hk.parent)
		if err != nil {
			if errors.Is(err, unix.EINVAL) || errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ENODEV) {
				continue // no clsact qdisc, or the link is gone
			}
			return nil, fmt.Errorf("list %s filters on ifindex %d: %w", hk.name, ifindex, err)
		}
		for _, f := range fs {
			if bf, ok := f.(*netlink.BpfFilter); ok && strings.HasPrefix(bf.Name, FilterName) {
				out[hk.name] = append(out[hk.name], bf)
			}
		}
	}
	return out, nil
}

// hasTC reports whether both hooks of the link carry podguard's filter for
// the pod.
func hasTC(ifindex int, podUID string) bool {
	fs, err := tcFilters(ifindex)
	if err != nil {
		return false
	}
	for _, hk := range hooks {
		found := false
		for _, f := range fs[hk.name] {
			if f.Name == filterName(podUID) {
				found = true
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// detachTC removes podguard's filters from the link, and the clsact qdisc
// when no other filter is left on it. A missing link is not an error.
func detachTC(ifindex int) error {
	fs, err := tcFilters(ifindex)
	if err != nil {
		return err
	}
	for _, hk := range hooks {
		for _, f := range fs[hk.name] {
			if err := netlink.FilterDel(f); err != nil && !gone(err) {
				return fmt.Errorf("delete %s filter on ifindex %d: %w", hk.name, ifindex, err)
			}
		}
	}
	link := &netlink.Dummy{LinkAttrs: netlink.LinkAttrs{Index: ifindex}}
	for _, hk := range hooks {
		rest, err := netlink.FilterList(link, hk.parent)
		if err != nil || len(rest) > 0 {
			return nil // leave a qdisc someone else uses, or that is gone
		}
	}
	q := &netlink.Clsact{QdiscAttrs: netlink.QdiscAttrs{
		LinkIndex: ifindex,
		Handle:    netlink.MakeHandle(0xffff, 0),
		Parent:    netlink.HANDLE_CLSACT,
	}}
	if err := netlink.QdiscDel(q); err != nil && !gone(err) {
		return fmt.Errorf("delete clsact qdisc on ifindex %d: %w", ifindex, err)
	}
	return nil
}

func gone(err error) bool {
	return errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ENODEV) || errors.Is(err, unix.EINVAL)
}

// installedTC scans every host link for podguard filters.
func installedTC() ([]Attachment, error) {
	links, err := netlink.LinkList()
	if err != nil {
		return nil, fmt.Errorf("list host links: %w", err)
	}
	var out []Attachment
	for _, l := range links {
		fs, err := tcFilters(l.Attrs().Index)
		if err != nil {
			return nil, err
		}
		byUID := make(map[string]*Attachment)
		for _, hk := range hooks {
			for _, f := range fs[hk.name] {
				uid, _ := podUIDOf(f.Name)
				a := byUID[uid]
				if a == nil {
					a = &Attachment{PodUID: uid, IfIndex: l.Attrs().Index, IfName: l.Attrs().Name, Mode: ModeTC}
					byUID[uid] = a
				}
				if hk.name == "ingress" {
					a.Ingress = true
				} else {
					a.Egress = true
				}
			}
		}
		for _, a := range byUID {
			out = append(out, *a)
		}
	}
	return out, nil
}
