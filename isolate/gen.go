package isolate

//go:generate go run github.com/cilium/ebpf/cmd/bpf2go -tags linux -target bpfel -type allow_key drop drop.c -- -O2 -g -Wall -I/usr/include/x86_64-linux-gnu
