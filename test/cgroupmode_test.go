package test

import (
	"regexp"
	"testing"

	"github.com/podguard/podguard/probes/cgroupfs"
)

// TestStatusAndKernelAgreeOnCgroupMode: `podguard kernel` and `podguard
// status` name this machine's cgroup mode with the same word.
func TestStatusAndKernelAgreeOnCgroupMode(t *testing.T) {
	_, in := guardedNode(t, "", nil)
	want := cgroupfs.Detect().Mode.String()

	out, stderr, code := podguard(t, "kernel")
	m := regexp.MustCompile(`(?m)^cgroup v2 .*\bmode (\w+)`).FindStringSubmatch(out)
	if code != 0 || m == nil || m[1] != want {
		t.Fatalf("kernel: code %d, cgroup mode %q, want %q\n%s%s", code, m, want, out, stderr)
	}

	out, stderr, code = podguard(t, "status", "--config", in.config)
	m = regexp.MustCompile(`(?m)^containerd: .*; cgroups (\w+)$`).FindStringSubmatch(out)
	if code != 0 || m == nil || m[1] != want {
		t.Fatalf("status: code %d, cgroup mode %q, want %q\n%s%s", code, m, want, out, stderr)
	}
}
