//go:build !linux

package workload

import "errors"

func cgroupID(string, string) uint64 { return 0 }

func procCgroup(uint32) (ProcCgroup, error) { return ProcCgroup{}, errors.New("no /proc cgroups") }
