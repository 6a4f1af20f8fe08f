// Package cgroupfs tells how the host mounts cgroups and where the cgroup
// v2 hierarchy is: the one answer that `podguard kernel`, the workload
// resolver (`podguard status`) and isolation all use.
//
// It owns the mode vocabulary, named as Kubernetes and distributions name
// it: "v2" (pure cgroup v2 at /sys/fs/cgroup), "hybrid" (cgroup v1
// controllers, cgroup2 at /sys/fs/cgroup/unified) and "v1" (no cgroup2:
// cgroup ids identify nothing). "cgroupfs" here is the mounted cgroup
// filesystem, not the kubelet's cgroupfs cgroup driver.
//
// It is a leaf: it imports no podguard package, so probes, isolate and
// daemon/workload can all use it.
package cgroupfs
