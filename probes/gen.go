package probes

// The generated probe_x86_bpfel.{go,o} (ring buffer) and
// probe_perf_x86_bpfel.{go,o} (perf event array fallback, the same C built
// with -DPG_PERFBUF) are committed so that building podguard needs no
// clang. Regenerate with `go generate ./probes/...` (clang, llvm-strip and
// this module's cilium/ebpf version). The C includes only the vendored
// headers: libbpf's in bpf/vendor/libbpf, kernel types in bpf/vendor/vmlinux
// (each folder's README says where they come from).
//go:generate go run github.com/cilium/ebpf/cmd/bpf2go -cc clang -strip llvm-strip -target amd64 -type event_hdr -type exec_event -type file_event -type open_event -type net_event -type sys_event -type uring_event -type watch -type budget probe bpf/probes.c -- -O2 -g -Wall -Werror -I./bpf/vendor/libbpf -I./bpf/vendor/vmlinux
//go:generate go run github.com/cilium/ebpf/cmd/bpf2go -cc clang -strip llvm-strip -target amd64 -output-stem probe_perf probePerf bpf/probes.c -- -O2 -g -Wall -Werror -I./bpf/vendor/libbpf -I./bpf/vendor/vmlinux -DPG_PERFBUF
