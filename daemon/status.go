package daemon

import (
	"time"

	"github.com/podguard/podguard/daemon/rulesets"
	"github.com/podguard/podguard/daemon/tomlfile"
)

// Status is what the daemon reports over its API (`podguard status`).
type Status struct {
	Version  string            `json:"version"`
	PID      int               `json:"pid"`
	Started  time.Time         `json:"started"`
	Node     string            `json:"node"`
	Cluster  string            `json:"cluster,omitempty"`
	Enabled  bool              `json:"enabled"`
	DryRun   bool              `json:"dry_run"`
	Config   ConfigStatus      `json:"config"`
	Rules    RulesStatus       `json:"rules"`
	Probes   ProbesStatus      `json:"probes"`
	Counters map[string]uint64 `json:"counters"`
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
	Note     string   `json:"note,omitempty"`
}
