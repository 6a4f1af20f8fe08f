//go:build !linux

package workload

import "errors"

// CgroupMode is the cgroup layout of the host.
type CgroupMode int

// CgroupLegacy is the only mode off Linux.
const CgroupLegacy CgroupMode = 0

func (m CgroupMode) String() string { return "legacy" }

type cgroupFS struct {
	mode CgroupMode
	root string
}

func detectCgroups(string) (cgroupFS, error) { return cgroupFS{}, nil }

func (cgroupFS) id(string) uint64 { return 0 }

func procCgroup(uint32) (ProcCgroup, error) { return ProcCgroup{}, errors.New("no /proc cgroups") }
