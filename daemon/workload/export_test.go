package workload

import "github.com/podguard/podguard/probes/cgroupfs"

// ForceCgroupV1 makes r behave as on a cgroup v1-only host: no cgroup
// ids, resolution from the v1 lines of /proc/<pid>/cgroup. Call before Run.
func ForceCgroupV1(r *Resolver) {
	r.fs = cgroupfs.Layout{Mode: cgroupfs.V1}
	r.stats.CgroupMode = r.fs.Mode.String()
}

// NoResync turns the periodic relisting off, so that tests see what the
// event stream alone keeps current. It affects every resolver of the process.
func NoResync() {
	firstResync = 1 << 62
	resyncEvery = 1 << 62
}
