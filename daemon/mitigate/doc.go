// Package mitigate applies what a ruleset asks for when a rule matches:
// log (nothing to do), isolate (cut the pod's network through package
// isolate) or terminate (SIGKILL every task of the pod — all its
// containers and its sandbox — through containerd).
//
// Isolation is applied once per incident and lasts until released; every
// terminate verdict kills whatever task of the pod is running (idempotent,
// no quiet window: a restarted container is killed at its next offence).
// In dry-run mode nothing is applied and the result says what would have
// happened.
//
// Apply reports its own Outcome; how an outcome is written into a
// detection event is the caller's business. It must not import the event
// schema (daemon/events) or package daemon.
package mitigate
