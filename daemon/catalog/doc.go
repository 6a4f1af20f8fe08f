// Package catalog holds podguard's managed rules: the detections that ship in
// the binary, each with a stable id, an operator-facing name and description,
// its MITRE ATT&CK tactic and technique, the kernel events it needs, and the
// mitigation suggested for it.
//
// The catalog is data: rulesets refer to rules by id, and the engine looks
// conditions up by the same id. Nothing here touches the kernel.
package catalog
