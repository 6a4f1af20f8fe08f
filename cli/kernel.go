package cli

import (
	"context"
	"fmt"

	"golang.org/x/sys/unix"

	"github.com/podguard/podguard/probes"
)

// cmdKernel lists the kernel features podguard probes for; it fails when
// one it cannot do without is missing.
func cmdKernel(_ context.Context, c *call) error {
	feats := probes.ProbeFeatures()
	if c.asJSON() {
		return c.printJSON(feats)
	}
	var uts unix.Utsname
	unix.Uname(&uts)
	fmt.Fprintf(c.Stdout, "kernel %s\n\n", unix.ByteSliceToString(uts.Release[:]))
	tw := c.table()
	fmt.Fprintln(tw, "FEATURE\tPRESENT\tDETAIL\tWITHOUT IT")
	missingRequired := false
	for _, f := range feats {
		present := "yes"
		if !f.Present {
			present = "NO"
			missingRequired = missingRequired || f.Fallback == ""
		}
		fallback := f.Fallback
		if fallback == "" {
			fallback = "(required)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", f.Name, present, f.Detail, fallback)
	}
	tw.Flush()
	set, why := probes.ProbeHookSet()
	fmt.Fprintf(c.Stdout, "\nopens and connects judged by %s (%s)\n", hookSetName(string(set)), why)
	if missingRequired {
		return fmt.Errorf("a required kernel feature is missing: podguard cannot run here")
	}
	return nil
}

// hookSetName says what a probes.HookSet means, for `podguard kernel` and
// `podguard status`.
func hookSetName(set string) string {
	switch probes.HookSet(set) {
	case probes.HookSetLSM:
		return "BPF-LSM, hook set lsm: security_file_open and security_socket_connect"
	case probes.HookSetFentry:
		return "fentry, hook set fentry: security_file_open and security_socket_connect"
	case probes.HookSetTracepoints:
		return "syscall exit, hook set tracepoints: raw_syscalls:sys_exit"
	}
	return set
}
