// Package daemon wires podguard together and owns its lifecycle: config,
// rulesets with hot reload, the local API that the CLI talks to, and (as
// they are enabled) probes, workload identity and mitigations.
//
// Run blocks until its context ends. Ordering is config → single-instance
// lock → rules → API → watchers → ready; teardown is the reverse.
package daemon
