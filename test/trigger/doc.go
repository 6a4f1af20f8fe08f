// Package trigger makes the kernel actions podguard's tests watch for: file
// operations, connects, ptrace, module loads, namespace changes, fileless
// exec, privilege changes, storms of opens and execs. Each action is a
// short, named system-call sequence run in the calling process, so that a
// test can start it in a cgroup or container of its own and check what the
// probes report about that process.
//
// One implementation serves every caller: cmd/trigger (a static binary the
// probes tests run on the host, as a 32-bit build too, and the end-to-end
// tests copy into pods) and the kernel self-test, whose binary runs the
// same actions when started with an action name (Has, Main).
//
// Usage: trigger <action> [args...] [then <action> [args...]]...
// (see Actions). It imports nothing from podguard.
package trigger
