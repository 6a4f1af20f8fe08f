//go:build !linux

package probes

// ProbeFeatures reports nothing off Linux.
func ProbeFeatures() []Feature { return nil }
