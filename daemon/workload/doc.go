// Package workload tells which container and pod a kernel event came from.
//
// A Resolver watches one containerd (socket and namespace, "k8s.io" for CRI;
// connected through daemon/ctrd) and keeps an index: cgroup id → container {ID, Name, Image, InitPID,
// CgroupPath} → pod {Name, Namespace, UID, Labels}. It fills the index from a
// full listing, keeps it current from containerd's event stream and
// reconnects with backoff, then relists, when containerd restarts or its
// socket disappears. A container is indexed from /containers/create; its
// cgroup id is read from /tasks/create without a round trip to containerd,
// normally while runc's init still waits to exec the container's command
// (best effort: containerd does not wait for subscribers; events that come
// first are caught by Resolve's /proc fallback).
//
// Contract:
//   - The cgroup id is the inode of the container's cgroup v2 directory, which
//     is what bpf_get_current_cgroup_id() returns. The cgroup mode and the
//     cgroup2 mount come from probes/cgroupfs (Stats.CgroupMode is its word:
//     v2, hybrid or v1). Pure v2 (/sys/fs/cgroup) and hybrid
//     (/sys/fs/cgroup/unified) hosts resolve by cgroup id; both
//     cgroupfs (/kubepods/besteffort/pod<uid>/<id>) and systemd
//     (kubepods-besteffort-pod<uid>.slice:cri-containerd:<id>) cgroup paths
//     are understood.
//   - On cgroup v1-only hosts there is no v2 hierarchy and BPF's cgroup id
//     helper returns the id of the (unused) v2 root for every task, so cgroup
//     ids identify nothing: Container.CgroupID stays 0 and events resolve in
//     userspace from /proc/<pid>/cgroup (Resolve and LookupPID).
//   - Pod labels are the user's labels from the CRI sandbox container;
//     io.kubernetes.*, io.cri-containerd.* and io.containerd.* bookkeeping
//     labels are left out. Sandbox (pause) containers are reported as
//     KindSandbox and never as workloads.
//   - Resolve never drops an event: an unknown cgroup is resolved once more
//     from /proc/<pid>/cgroup and otherwise reported as KindHost or
//     KindUnknown.
package workload
