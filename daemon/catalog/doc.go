// Package catalog lists podguard's managed rules: the detections that ship
// in the binary, each with a stable id, an operator-facing name and
// description, its MITRE ATT&CK tactic and technique, the kernel events it
// needs, and the mitigation suggested for it. It also owns Mitigation.
//
// The catalog is data. Each rule is defined once, in package engine, next
// to its condition; rules.json is generated from those definitions (go
// generate ./daemon/engine, checked by the engine's tests) and embedded
// here, so that ruleset validation and `podguard rules` know ids and
// metadata without linking the engine.
//
// It imports only the standard library: never engine, probes, or anything
// else that would link the conditions or the kernel side.
package catalog
