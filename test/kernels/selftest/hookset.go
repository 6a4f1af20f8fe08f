//go:build linux && amd64

package main

import (
	"fmt"
	"strings"

	"github.com/podguard/podguard/probes"
)

// HookSetPrefix starts the line that says which hook set Load chose;
// TestKernels compares it with what each guest's command line should
// give.
const HookSetPrefix = "hook set: "

// hookSetCheck prints the hook set Load chose and checks it follows the
// BPF-LSM and fentry feature probes: the LSM set where a BPF-LSM program
// runs, else the fentry set where an fentry program runs, else the
// tracepoint set.
func hookSetCheck(p *probes.Probes, feats []probes.Feature) error {
	fmt.Printf("%s%s (%s)\n", HookSetPrefix, p.HookSet(), p.HookSetReason())
	present := map[string]bool{}
	for _, f := range feats {
		for _, name := range []string{"BPF-LSM", "fentry"} {
			if strings.HasPrefix(f.Name, name) {
				present[name] = f.Present
			}
		}
	}
	want := probes.HookSetTracepoints
	switch {
	case present["BPF-LSM"]:
		want = probes.HookSetLSM
	case present["fentry"]:
		want = probes.HookSetFentry
	}
	if p.HookSet() != want {
		return fmt.Errorf("features %v, but Load chose the %s set", present, p.HookSet())
	}
	return nil
}

// reportedBy says which path should report an open of an existing file
// and a connect: the programs of bpf/lsm.h with the LSM and fentry sets,
// else the syscall exit.
func reportedBy(p *probes.Probes) (byLSM bool, what string) {
	switch p.HookSet() {
	case probes.HookSetLSM:
		return true, "by lsm/"
	case probes.HookSetFentry:
		return true, "by fentry/security_"
	}
	return false, "at syscall exit, "
}
