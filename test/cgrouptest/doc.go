// Package cgrouptest gives a test (or the kernel self-test) a cgroup v2
// directory of its own: made under the host's cgroup2 mount, its id (the
// inode number, what bpf_get_current_cgroup_id returns in it), commands
// born in it (clone3 CLONE_INTO_CGROUP), and its removal, leftovers killed.
//
// It imports nothing from podguard.
package cgrouptest
