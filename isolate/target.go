package isolate

import (
	"errors"
	"time"
)

// FilterName prefixes the name of every tc filter podguard attaches; the pod
// UID follows a colon ("podguard-isolate:<pod uid>"), so filters can be found
// and attributed on the host links even when the state file is lost.
const FilterName = "podguard-isolate"

// FilterPriority is the tc priority of podguard's filters on both clsact
// hooks. 1 is the first slot, so the drop runs before any CNI filter.
const FilterPriority = 1

// FilterHandle is the tc handle of podguard's filters.
const FilterHandle = 0x0d06

// PinDir holds the pinned cgroup links of isolated host-network pods, one
// directory per pod UID.
const PinDir = "/sys/fs/bpf/podguard/isolate"

var (
	// ErrHostNetwork means a host-network pod cannot be isolated: it has no
	// veth, and no cgroup2 path was given (or cgroup2 is unavailable).
	ErrHostNetwork = errors.New("host-network pod cannot be isolated: no veth and no usable cgroup2 path")
	// ErrNoVeth means the pod's network namespace has no veth interface
	// whose peer lives in the host network namespace.
	ErrNoVeth = errors.New("no veth with a host-side peer in pod network namespace")
	// ErrNotIsolated is returned by Release for a pod that is not isolated.
	ErrNotIsolated = errors.New("pod is not isolated")
)

// Mode says how a pod is isolated.
type Mode string

const (
	// ModeTC: tc filters on the host-side veth's clsact qdisc (the default).
	ModeTC Mode = "tc"
	// ModeTCX: tcx links, pinned, first in the host-side veth's tcx chains;
	// chosen when the veth already has tcx programs (a tcx CNI).
	ModeTCX Mode = "tcx"
	// ModeCgroup: cgroup_skb links, pinned, on a host-network pod's cgroup.
	ModeCgroup Mode = "cgroup"
)

// Target names the pod to isolate and says why.
type Target struct {
	PodUID    string
	PodName   string
	Namespace string
	// Rule is the id of the rule whose verdict asked for isolation.
	Rule string
	// NetNSPath is the pod sandbox's network namespace, e.g.
	// /proc/<sandbox pid>/ns/net or /var/run/netns/cni-<id>.
	NetNSPath string
	// HostNetwork pods share the host's network namespace and are isolated
	// with cgroup_skb programs on CgroupPath instead of tc filters.
	HostNetwork bool
	// CgroupPath is the pod's cgroup2 directory (absolute filesystem path,
	// e.g. /sys/fs/cgroup/kubepods/besteffort/pod<uid>); used only for
	// host-network pods.
	CgroupPath string
}

// Record is one isolated pod, as kept in the state file.
type Record struct {
	PodUID    string    `json:"pod_uid"`
	PodName   string    `json:"pod_name,omitempty"`
	Namespace string    `json:"namespace,omitempty"`
	Rule      string    `json:"rule,omitempty"`
	Since     time.Time `json:"since"`
	// InPlace is when the drop took effect in the kernel (before the
	// state file was written).
	InPlace   time.Time `json:"in_place,omitzero"`
	Mode      Mode      `json:"mode"`
	NetNSPath string    `json:"netns_path,omitempty"`
	// HostIfName and HostIfIndex name the host-side veth carrying the
	// filters (empty for host-network pods).
	HostIfName  string `json:"host_if_name,omitempty"`
	HostIfIndex int    `json:"host_if_index,omitempty"`
	HostNetwork bool   `json:"host_network,omitempty"`
	CgroupPath  string `json:"cgroup_path,omitempty"`
	// Recovered is set when the record was rebuilt from the kernel (filters
	// or pins found without a state entry); Rule and Since are then unknown.
	Recovered bool `json:"recovered,omitempty"`
	// MAC is the record's HMAC under the state key (see loadState): a
	// record without a valid one is ignored and reported.
	MAC string `json:"mac,omitempty"`
}

// Attachment is one podguard isolation found in the kernel.
type Attachment struct {
	PodUID string
	// IfIndex and IfName name the host link carrying the filters or tcx
	// links (for tcx, 0 and empty once the link is gone); zero and empty
	// for a cgroup isolation.
	IfIndex int
	IfName  string
	// Ingress and Egress say which hooks carry podguard's program (for
	// tc and tcx the host link's ingress is what the pod sends).
	Ingress, Egress bool
	Mode            Mode
	// PinPath is the pin directory of a tcx or cgroup isolation.
	PinPath string
}
