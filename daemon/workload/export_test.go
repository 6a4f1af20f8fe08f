package workload

// ForceCgroupLegacy makes r behave as on a cgroup v1-only host: no cgroup
// ids, resolution from the v1 lines of /proc/<pid>/cgroup. Call before Run.
func ForceCgroupLegacy(r *Resolver) {
	r.fs = cgroupFS{mode: CgroupLegacy}
	r.stats.CgroupMode = r.fs.mode.String()
}
