package api

import (
	"time"

	"github.com/podguard/podguard/daemon/rulesets"
	"github.com/podguard/podguard/daemon/tomlfile"
)

// Status is what the daemon reports over its API (`podguard status`).
type Status struct {
	Version    string           `json:"version"`
	PID        int              `json:"pid"`
	Started    time.Time        `json:"started"`
	Node       string           `json:"node"`
	Cluster    string           `json:"cluster,omitempty"`
	Enabled    bool             `json:"enabled"`
	DryRun     bool             `json:"dry_run"`
	Metrics    string           `json:"metrics,omitempty"` // address serving /metrics
	Config     ConfigStatus     `json:"config"`
	Rules      RulesStatus      `json:"rules"`
	Probes     ProbesStatus     `json:"probes"`
	Containerd ContainerdStatus `json:"containerd"`
	Isolated   []IsolatedPod    `json:"isolated"`
	// RejectedState are isolation records found in the state directory
	// at start whose integrity check failed: podguard did not write them
	// (or they were edited), so they were ignored.
	RejectedState []IsolatedPod     `json:"rejected_state,omitempty"`
	Counters      map[string]uint64 `json:"counters"`
	Memory        MemoryStatus      `json:"memory"`
}

// MemoryStatus is podguard's memory use against its cgroup's limit.
type MemoryStatus struct {
	Usage int64 `json:"usage_bytes"` // the cgroup's charge (0: unknown)
	Limit int64 `json:"limit_bytes"` // 0: no limit
	Near  bool  `json:"near_limit"`  // usage at 80 % of the limit or more
}

// ContainerdStatus is the workload resolver's view of containerd.
type ContainerdStatus struct {
	Address    string `json:"address"`
	Namespace  string `json:"namespace"`
	Connected  bool   `json:"connected"`
	LastError  string `json:"last_error,omitempty"`
	Pods       int    `json:"pods"`
	Containers int    `json:"containers"`
	CgroupMode string `json:"cgroup_mode"`
}

// IsolatedPod is a pod whose network podguard has cut.
type IsolatedPod struct {
	Pod    string    `json:"pod"` // namespace/name
	UID    string    `json:"uid"`
	Rule   string    `json:"rule"`
	Since  time.Time `json:"since"`
	Mode   string    `json:"mode"`
	HostIf string    `json:"host_interface,omitempty"`
}

// KindDrops counts lost kernel events of one kind.
type KindDrops struct {
	Ring  uint64 `json:"ring_buffer"`          // the kernel could not reserve room
	Queue uint64 `json:"queue"`                // the userspace queue was full
	Share uint64 `json:"fair_share,omitempty"` // the pod was beyond its fair share of the buffer
}

// ConfigStatus says which config file is in force and whether the latest
// version of it was accepted.
type ConfigStatus struct {
	File     string            `json:"file"` // "" = built-in defaults
	State    string            `json:"state"`
	Problems tomlfile.Problems `json:"problems,omitempty"`
}

// RulesStatus describes the rulesets in force.
type RulesStatus struct {
	Source        string                `json:"source"`
	Note          string                `json:"note,omitempty"`
	Generation    uint64                `json:"generation"`
	Active        []string              `json:"active"`
	Files         []rulesets.FileStatus `json:"files"`
	MissingPolicy []string              `json:"missing_policy,omitempty"`
}

// ProbesStatus lists the kernel probes attached.
type ProbesStatus struct {
	Attached []string `json:"attached"`
	Watched  int      `json:"watched_cgroups"`
	// Transport is the kernel event buffer: ring buffer or perf buffer.
	Transport string `json:"transport,omitempty"`
	// SyscallHook is how syscalls are hooked: a raw tracepoint, or a
	// tracepoint program on kernels that run raw ones preemptibly.
	SyscallHook string               `json:"syscall_hook,omitempty"`
	Events      map[string]uint64    `json:"events_by_kind,omitempty"`
	Drops       map[string]KindDrops `json:"drops,omitempty"`
	// Unreadable counts, per kind, events whose argument (a path, an
	// address) the kernel could not read: reported marked, never empty.
	Unreadable map[string]uint64 `json:"unreadable,omitempty"`
	Error      string            `json:"error,omitempty"`
	Note       string            `json:"note,omitempty"`

	// HookSet is how opens and connects are judged: "lsm" (BPF-LSM
	// programs on security_file_open and security_socket_connect) or
	// "tracepoints" (at syscall exit); HookSetReason says why.
	HookSet       string `json:"hook_set,omitempty"`
	HookSetReason string `json:"hook_set_reason,omitempty"`
}
