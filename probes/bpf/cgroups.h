// SPDX-License-Identifier: GPL-2.0
// Child cgroups of watched containers stay watched: a cgroup made below a
// watched cgroup (a process moving itself into it, a nested container)
// gets an entry in watched that points at the container (struct watch,
// root), and loses it when the cgroup is removed. The entry makes the
// child's events count as the container's, with no ancestor walk per
// syscall: an unwatched host cgroup still costs one missed lookup.
#pragma once

#include "common.h"

/* cgroup_v2_id returns cg's id (its cgroupfs directory's inode number,
 * what bpf_get_current_cgroup_id returns) when cg is on the cgroup v2
 * hierarchy, else 0 (a cgroup v1 hierarchy, whose ids are another
 * kernfs's inode numbers and may collide). */
static __always_inline __u64 cgroup_v2_id(struct cgroup *cg)
{
	if (!cg || BPF_CORE_READ(cg, root, hierarchy_id) != 0)
		return 0;
	return BPF_CORE_READ(cg, kn, id);
}

SEC("raw_tracepoint/cgroup_mkdir")
int cgroup_mkdir(struct bpf_raw_tracepoint_args *ctx)
{
	struct cgroup *cg = (struct cgroup *)ctx->args[0];
	__u64 id = cgroup_v2_id(cg);
	if (!id)
		return 0;
	__u64 parent = BPF_CORE_READ(cg, self.parent, cgroup, kn, id);
	struct watch *pw = bpf_map_lookup_elem(&watched, &parent);
	if (!pw || !pw->root)
		return 0;
	struct watch child = {.root = pw->root};
	bpf_map_update_elem(&watched, &id, &child, BPF_NOEXIST);
	return 0;
}

SEC("raw_tracepoint/cgroup_rmdir")
int cgroup_rmdir(struct bpf_raw_tracepoint_args *ctx)
{
	__u64 id = cgroup_v2_id((struct cgroup *)ctx->args[0]);
	if (!id)
		return 0;
	struct watch *w = bpf_map_lookup_elem(&watched, &id);
	if (w && w->root && w->root != id) /* a child's; containers are the loader's */
		bpf_map_delete_elem(&watched, &id);
	return 0;
}
