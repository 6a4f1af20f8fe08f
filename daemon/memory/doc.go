// Package memory keeps podguard within the memory its unit grants it: it
// finds the limit of the cgroup the process runs in (cgroup v2 memory.max
// or v1 memory.limit_in_bytes), lets Go's garbage collector work harder
// before that limit (a soft limit at 90 %, unless GOMEMLIMIT is set), and
// reports the usage against the limit, with a warning when it nears it,
// so an operator hears of pressure before the kernel's OOM killer acts.
//
// It is a leaf: it imports only probes/cgroupfs (where cgroups are).
package memory
