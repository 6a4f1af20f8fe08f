//go:build !linux

package probes

// ProbeFeatures reports nothing off Linux.
func ProbeFeatures() []Feature { return nil }

// ProbeHookSet is HookSetTracepoints off Linux (podguard does not load).
func ProbeHookSet() (HookSet, string) { return HookSetTracepoints, "not Linux" }
