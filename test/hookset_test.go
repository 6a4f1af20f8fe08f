package test

import (
	"regexp"
	"testing"

	"github.com/podguard/podguard/probes"
)

// TestStatusAndKernelAgreeOnHookSet: `podguard kernel` says which hook set
// judges opens and connects on this machine, and a running daemon's
// `podguard status` names the same one, the one the BPF-LSM probe picks
// (on this build VM, without BPF-LSM: tracepoints, with the reason).
func TestStatusAndKernelAgreeOnHookSet(t *testing.T) {
	_, in := guardedNode(t, "", nil)
	want, why := probes.ProbeHookSet()
	line := regexp.MustCompile(`(?m)^\s*opens and connects judged by .*, hook set (\w+): [^(]* \((.+)\)$`)

	out, stderr, code := podguard(t, "kernel")
	m := line.FindStringSubmatch(out)
	if code != 0 || m == nil || m[1] != string(want) || m[2] != why {
		t.Fatalf("kernel: code %d, hook set line %q, want %q (%s)\n%s%s", code, m, want, why, out, stderr)
	}

	out, stderr, code = podguard(t, "status", "--config", in.config)
	m = line.FindStringSubmatch(out)
	if code != 0 || m == nil || m[1] != string(want) || m[2] == "" {
		t.Fatalf("status: code %d, hook set line %q, want %q with a reason\n%s%s", code, m, want, out, stderr)
	}
}
