package workload

// Kind says what a cgroup or process belongs to.
type Kind int

const (
	// KindUnknown: not in the index and not provably the host, e.g. a
	// container containerd does not know (yet) or a process already gone.
	KindUnknown Kind = iota
	// KindHost: a process outside any container.
	KindHost
	// KindWorkload: a container of a pod (never a sandbox).
	KindWorkload
	// KindSandbox: a pod's sandbox (pause) container.
	KindSandbox
)

func (k Kind) String() string {
	switch k {
	case KindHost:
		return "host"
	case KindWorkload:
		return "workload"
	case KindSandbox:
		return "sandbox"
	}
	return "unknown"
}

// Container is a container known to containerd.
type Container struct {
	ID    string
	Name  string // CRI container name; "" for a sandbox
	Image string
	// InitPID is the host pid of the container's init process, 0 when it
	// has no running task.
	InitPID uint32
	// CgroupPath is the cgroup directory relative to a hierarchy's mount
	// point, e.g. "/kubepods/besteffort/pod<uid>/<id>".
	CgroupPath string
	// CgroupID is the inode of the cgroup v2 directory (what BPF reports);
	// 0 while the cgroup does not exist and always on v1-only hosts.
	CgroupID  uint64
	SandboxID string
}

// Pod is a pod as CRI recorded it on the node.
type Pod struct {
	Name, Namespace, UID string
	// Labels are the pod's own labels (no io.kubernetes.* bookkeeping).
	// The map is shared by every answer about the pod: read it, never
	// modify it (the index replaces it whole when the pod changes).
	Labels    map[string]string
	SandboxID string
	// From the sandbox: its task's pid (0 when not running), its network
	// namespace path ("" = the task's), whether it uses the host network,
	// and the pod's cgroup v2 directory, absolute ("" on v1-only hosts).
	SandboxPID  uint32
	NetNSPath   string
	HostNetwork bool
	CgroupPath  string
}

// Identity is the answer to "whose event is this".
type Identity struct {
	Kind      Kind
	Container Container // zero for KindHost
	Pod       Pod       // zero for KindHost; for KindUnknown may hold a UID parsed from the cgroup path
}
