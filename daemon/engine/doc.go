// Package engine decides which managed rules an event breaks.
//
// Handle takes decoded kernel events in order, from one goroutine. It keeps
// a table of the processes of watched containers (from exec, fork and exit
// events, so each event knows its process's executable, arguments, parent
// and ancestors, whether it entered the container through an exec from
// outside and whether its executable came from the image), resolves the
// event's pod through a Resolver, picks the rules the pod's rulesets
// select (strongest mitigation wins, cached per pod and rules generation,
// indexed by event kind) and evaluates only those rules' conditions.
//
// Processes that have not executed anything since they entered the
// container (the runtime's own init, e.g. runc:[2:INIT], setting the
// container up) are not judged: their mounts and namespace calls are the
// runtime's. Processes that were already running when podguard started are
// read from /proc on first sight.
//
// Each managed rule is defined once, in a rules_*.go file (definition):
// its catalog metadata, its condition, the in-kernel kill that can decide
// it and the opens it needs. Everything else is derived from that list:
// the catalog (daemon/catalog/rules.json, written by go generate), the
// dispatch of conditions by event kind, the kinds and kills the kernel is
// asked for (KernelNeeds) and the kernel's open prefilter (OpenFilter).
// TestDerivedTablesAgree checks that they agree; TestAddingARule shows a
// new rule reaching all of them.
//
// The engine decides; it does not act. Mitigation and output are the
// caller's. It imports catalog, rulesets, workload and probes, never
// package daemon or anything above it.
package engine
