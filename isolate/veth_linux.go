package isolate

import (
	"fmt"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// isHostNetNS reports whether path names the network namespace podguard
// itself runs in (the host's).
func isHostNetNS(path string) (bool, error) {
	var pod, self unix.Stat_t
	if err := unix.Stat(path, &pod); err != nil {
		return false, fmt.Errorf("stat netns %s: %w", path, err)
	}
	// thread-self: the netns of the thread running podguard's code, which
	// is the host's (podguard never moves its threads).
	if err := unix.Stat("/proc/thread-self/ns/net", &self); err != nil {
		return false, fmt.Errorf("stat own netns: %w", err)
	}
	return pod.Dev == self.Dev && pod.Ino == self.Ino, nil
}

// hostVeth finds the pod's interface inside the network namespace at
// nsPath and returns its peer in the host network namespace.
//
// The pod interface is eth0 if that is a veth, else the veth carrying the
// default route, else the only veth. Its IFLA_LINK names the peer's ifindex;
// the host link with that index must be a veth pointing back at the pod
// interface, or the peer lives in some other namespace (ErrNoVeth).
func hostVeth(nsPath string) (netlink.Link, error) {
	ns, err := netns.GetFromPath(nsPath)
	if err != nil {
		return nil, fmt.Errorf("open netns %s: %w", nsPath, err)
	}
	defer ns.Close()
	h, err := netlink.NewHandleAt(ns)
	if err != nil {
		return nil, fmt.Errorf("netlink in netns %s: %w", nsPath, err)
	}
	defer h.Close()

	pod, err := podInterface(h)
	if err != nil {
		return nil, fmt.Errorf("netns %s: %w", nsPath, err)
	}
	peer := pod.Attrs().ParentIndex
	host, err := netlink.LinkByIndex(peer)
	if err != nil {
		return nil, fmt.Errorf("netns %s: peer ifindex %d of %s: %w", nsPath, peer, pod.Attrs().Name, ErrNoVeth)
	}
	if host.Type() != "veth" || host.Attrs().ParentIndex != pod.Attrs().Index {
		return nil, fmt.Errorf("netns %s: host link %s (ifindex %d) is not the peer of %s: %w",
			nsPath, host.Attrs().Name, peer, pod.Attrs().Name, ErrNoVeth)
	}
	return host, nil
}

func podInterface(h *netlink.Handle) (netlink.Link, error) {
	links, err := h.LinkList()
	if err != nil {
		return nil, fmt.Errorf("list links: %w", err)
	}
	var veths []netlink.Link
	for _, l := range links {
		if l.Type() != "veth" || l.Attrs().ParentIndex == 0 {
			continue
		}
		if l.Attrs().Name == "eth0" {
			return l, nil
		}
		veths = append(veths, l)
	}
	if len(veths) == 0 {
		return nil, ErrNoVeth
	}
	if len(veths) > 1 {
		if idx := defaultRouteIfIndex(h); idx != 0 {
			for _, l := range veths {
				if l.Attrs().Index == idx {
					return l, nil
				}
			}
		}
	}
	return veths[0], nil
}

// defaultRouteIfIndex returns the ifindex of the first default route, or 0.
func defaultRouteIfIndex(h *netlink.Handle) int {
	routes, err := h.RouteList(nil, netlink.FAMILY_ALL)
	if err != nil {
		return 0
	}
	for _, r := range routes {
		if r.Dst == nil || r.Dst.IP.IsUnspecified() {
			if ones, _ := maskSize(r); ones == 0 && r.LinkIndex != 0 {
				return r.LinkIndex
			}
		}
	}
	return 0
}

func maskSize(r netlink.Route) (int, int) {
	if r.Dst == nil {
		return 0, 0
	}
	return r.Dst.Mask.Size()
}

// linkExists reports whether a host link with the index still exists.
func linkExists(ifindex int) bool {
	_, err := netlink.LinkByIndex(ifindex)
	return err == nil
}
