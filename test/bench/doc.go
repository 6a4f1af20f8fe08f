// Package bench is podguard's benchmark harness (project issue #8): it runs
// workloads with a ground-truth operation count inside a pod of a private
// test node (package test/node), once with no agent and once each with
// auditd, bpftrace and podguard, and writes BENCHMARKS.md at the top of the
// repository.
//
// The harness is a test behind the "bench" build tag, so `go test ./...`
// never runs it:
//
//	go test -tags bench -count=1 -timeout 60m -v -run TestBenchmarks ./test/bench/
//
// Environment: BENCH_REPS (repetitions per cell, default 3), BENCH_OUT
// (report path, default ../../BENCHMARKS.md), BENCH_QUICK=1 (small counts,
// to check the harness).
//
// Workloads run as a child of the test binary placed in the container's
// cgroup v2 at birth (clone3 CLONE_INTO_CGROUP), chrooted into the
// container's root (/proc/<pid>/root) and, for network workloads, in the
// pod's network namespace; so agents see the container's cgroup, files and
// network. The child counts what it did and reports it as JSON.
package bench
