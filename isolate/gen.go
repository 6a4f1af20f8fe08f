package isolate

//go:generate go run github.com/cilium/ebpf/cmd/bpf2go -tags linux -target bpfel -type allow_key drop drop.c -- -O2 -g -Wall -Werror -I../probes/bpf/vendor/libbpf -I../probes/bpf/vendor/vmlinux
