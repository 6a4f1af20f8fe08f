package workload

// ForceCgroupLegacy makes r behave as on a cgroup v1-only host: no cgroup
// ids, resolution from the v1 lines of /proc/<pid>/cgroup. Call before Run.
func ForceCgroupLegacy(r *Resolver) {
	r.fs = cgroupFS{mode: CgroupLegacy}
	r.stats.CgroupMode = r.fs.mode.String()
}

// NoResync turns the periodic relisting off, so that tests see what the
// event stream alone keeps current. It affects every resolver of the process.
func NoResync() {
	firstResync = 1 << 62
	resyncEvery = 1 << 62
}
