// Package isolate cuts a pod off the network and keeps it cut off across
// podguard restarts.
//
// A pod with its own network namespace is isolated on the host side of its
// veth: a clsact qdisc with one BPF direct-action filter on ingress (what
// the pod sends) and one on egress (what the pod receives). The filters
// drop every packet whose peer address is not in the allow list (an LPM
// trie of IPv4/IPv6 prefixes, empty by default); allowed packets continue
// to the next filter (TC_ACT_UNSPEC), so a CNI's own filters still run.
//
// Modes. By default (ModeTC) the filters are netlink tc filters: they live
// in the kernel until removed, so isolation survives a podguard crash
// without bpffs. tcx links (kernel >= 6.6, verified to work on the build
// VM's 6.18) die with the process unless pinned, so they are not the
// default. But tcx programs run before tc filters, and a tcx CNI program
// returning TCX_PASS or redirecting skips every tc filter (verified: a tc
// filter under a passing tcx program drops nothing). So when the veth
// already has tcx programs, podguard attaches through tcx itself (ModeTCX):
// links at the head of both tcx chains, pinned under PinDir/<pod uid>/.
//
// tc filters use priority FilterPriority (1, first) and handle
// FilterHandle, and are named "podguard-isolate:<pod uid>", so isolation
// can be found and attributed from the kernel alone (Installed), as can
// the pin directories, named by pod UID.
//
// Peer address: the destination of what the pod sends, the source of what
// it receives. ARP (Ethernet/IPv4) passes only when the sender or target
// protocol address on the peer side is allowed, so an allow-listed gateway
// stays resolvable; IPv6 neighbour solicitations from the pod are judged by
// their target address. Everything else (other ethertypes, VLAN-tagged,
// multicast and link-local peers unless allowed) is dropped.
//
// Host-network pods have no veth: they are isolated with cgroup_skb
// programs on the pod's cgroup2 directory (Target.CgroupPath; on a hybrid
// node the one under /sys/fs/cgroup/unified; probes/cgroupfs judges what
// is cgroup2), attached as BPF links pinned
// under PinDir/<pod uid>/ so they outlive podguard (ModeCgroup). For pins,
// bpffs is mounted on /sys/fs/bpf if nothing is. Without a cgroup2 path
// (e.g. a cgroup v1 only node) the error is ErrHostNetwork. Loopback
// traffic of such a pod is dropped too, unless allow-listed.
//
// Release removes podguard's filters or links and the clsact qdisc when no
// other filter is left on it.
//
// State: one JSON file in the state directory, written atomically (temp
// file, fsync, rename, fsync of the directory), records who was isolated,
// by which rule, when, and on which host link. Reconcile brings the kernel
// in line with the pods that still exist after a restart; it replaces the
// filters in place (never duplicates them) so they use the current
// process's programs and allow list.
//
// The allow list is fixed per Isolator: changing it means a new Isolator
// (a restart) followed by Reconcile.
//
// All functions need CAP_NET_ADMIN and CAP_BPF (root in practice) and must
// run in the host network namespace. Tests: `go test ./isolate/` as root
// (unprivileged, the kernel tests skip); `go test -run '^$' -bench Apply
// ./isolate/` for the apply-to-drop latency.
package isolate
