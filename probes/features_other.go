//go:build !linux

package probes

// ProbeFeatures reports nothing off Linux.
func ProbeFeatures() []Feature { return nil }

// CgroupMode reports "none" off Linux.
func CgroupMode() (mode, cgroup2 string) { return "none", "" }
