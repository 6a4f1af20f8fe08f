package events

import "time"

// Event is one detection, as written to the events file and stdout.
type Event struct {
	Time       time.Time      `json:"time"`
	Node       string         `json:"node"`
	Cluster    string         `json:"cluster,omitempty"`
	Rule       Rule           `json:"rule"`
	Ruleset    string         `json:"ruleset"`
	Mitigation Outcome        `json:"mitigation"`
	Pod        PodRef         `json:"pod"`
	Container  ContainerRef   `json:"container"`
	Process    Process        `json:"process"`
	Kind       string         `json:"event"`
	Details    map[string]any `json:"details,omitempty"`
	// Count is how many matches of this rule in this container the event
	// stands for: 1 for the first, more for a folded summary.
	Count int `json:"count"`
	// Folded marks a summary of repeats after the first event.
	Folded bool `json:"folded,omitempty"`
}

// Rule names the managed rule that matched.
type Rule struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	Tactic    string `json:"tactic"`
	Technique string `json:"technique"`
}

// Outcome is what podguard did about the event.
type Outcome struct {
	Action string `json:"action"` // log | isolate | terminate
	Result string `json:"result"` // applied | failed | dry-run
	Error  string `json:"error,omitempty"`
	Detail string `json:"detail,omitempty"`
	// AppliedAt is when the mitigation took effect (isolation filters in
	// the kernel, SIGKILL sent); zero for log and dry runs.
	AppliedAt time.Time `json:"applied_at,omitzero"`
}

// Results of a mitigation.
const (
	ResultApplied = "applied"
	ResultFailed  = "failed"
	ResultDryRun  = "dry-run"
)

// PodRef identifies the pod.
type PodRef struct {
	Name      string            `json:"name"`
	Namespace string            `json:"namespace"`
	UID       string            `json:"uid"`
	Labels    map[string]string `json:"labels"`
}

// ContainerRef identifies the container.
type ContainerRef struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Image string `json:"image"`
}

// Process is the process that broke the rule. Environment variables and
// file contents are never reported.
type Process struct {
	PID            uint32   `json:"pid"`
	PPID           uint32   `json:"ppid"`
	UID            uint32   `json:"uid"`
	Exe            string   `json:"exe"`
	Args           []string `json:"args"`
	ParentExe      string   `json:"parent_exe"`
	KilledInKernel bool     `json:"killed_in_kernel,omitempty"`
}
