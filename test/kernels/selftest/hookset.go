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
// BPF-LSM feature probe: the LSM set exactly where the kernel lets a
// BPF-LSM program attach.
func hookSetCheck(p *probes.Probes, feats []probes.Feature) error {
	fmt.Printf("%s%s (%s)\n", HookSetPrefix, p.HookSet(), p.HookSetReason())
	for _, f := range feats {
		if !strings.HasPrefix(f.Name, "BPF-LSM") {
			continue
		}
		if f.Present != (p.HookSet() == probes.HookSetLSM) {
			return fmt.Errorf("feature %q present %v, but Load chose the %s set", f.Name, f.Present, p.HookSet())
		}
		return nil
	}
	return fmt.Errorf("no BPF-LSM feature in probes.ProbeFeatures()")
}

// reportedBy says which path should report an open of an existing file
// and a connect: the BPF-LSM programs with the LSM set, else the syscall
// exit.
func reportedBy(p *probes.Probes) (byLSM bool, what string) {
	if p.HookSet() == probes.HookSetLSM {
		return true, "by lsm/"
	}
	return false, "at syscall exit, "
}
