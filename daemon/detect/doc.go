// Package detect turns kernel events into detection events and
// mitigations, and programs the kernel probes that feed it.
//
// A Detector owns the way of an event: probes → engine → folding of
// repeats → (bounded mitigation queue → mitigator) → output. The engine
// runs on the probes' reader goroutine and never waits: mitigations and
// outputs are queued, and what does not fit is counted. It also owns what
// is programmed into the loaded probes: the watched cgroups (the event
// kinds and in-kernel kills each container's rulesets need) and the open
// prefilter of the rules in force.
//
// Everything it works with is given to New as an input (rules, workload
// resolver, mitigator, output, settings); the daemon pushes new settings
// and rules as they change. It must not import package daemon or
// daemon/config.
package detect
